import { MAX_BATCH } from '@shadowgate/sdk/wire';
import { z } from 'zod';
import { hasControls, oneLine } from './safe-text.js';

/**
 * The controller's checks of the decision wire (`@shadowgate/sdk/wire`): its types are what these
 * schemas produce (src/contracts/wire-checks.ts holds them to it), with the limits the types cannot say.
 */

export const useCaseIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a use case id: lowercase letters, digits and single dashes');

export const requestIdSchema = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'printable characters only');

const scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

/** Context fields drive segments and the autonomy boundary: flat scalars only. */
export const contextSchema = z
  .record(z.string().min(1).max(64), scalar)
  .refine((c) => Object.keys(c).length <= 64, 'at most 64 context fields');

const jsonValue = z.json();

/** The longest handling time, in ms (about 24.8 days): the largest a PostgreSQL integer holds. */
export const MAX_HANDLING_MS = 2 ** 31 - 1;

export const humanSideSchema = z.strictObject({
  decision: jsonValue.refine((v) => v !== null, 'a decision, not null'),
  /** A name shown to people: control characters are dropped (line breaks become spaces), not refused. */
  decidedBy: z.string().max(200).overwrite(oneLine).min(1).optional(),
  handlingMs: z.number().int().nonnegative().max(MAX_HANDLING_MS).optional(),
});
export type HumanSide = z.infer<typeof humanSideSchema>;

export const mirroredDecisionSchema = z.strictObject({
  useCase: useCaseIdSchema,
  requestId: requestIdSchema,
  input: jsonValue.refine((v) => v !== undefined, 'required'),
  context: contextSchema.optional(),
  human: humanSideSchema.optional(),
});
export type MirroredDecision = z.infer<typeof mirroredDecisionSchema>;

export const decisionBatchSchema = z.strictObject({
  decisions: z
    .array(mirroredDecisionSchema)
    .min(1, 'at least one decision')
    .max(MAX_BATCH, `at most ${MAX_BATCH} decisions per batch`),
});

export const lateHumanSchema = humanSideSchema;

/** The answer to a mirrored decision or batch (202). */
export const ingestResultSchema = z.strictObject({
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  aiCallsOwed: z.number().int().nonnegative(),
});

/** The answer to a late human decision. */
export const lateHumanAnswerSchema = z.strictObject({
  useCase: z.string(),
  requestId: z.string(),
  status: z.enum(['recorded', 'duplicate']),
  score: z.number().nullable(),
  compared: z.boolean(),
});

/**
 * The ingest fast path: a batch whose every item is plainly valid, checked in one walk without
 * zod (whose validation and copying were the largest cost of a batch after the insert). Anything
 * unusual gives null, and the caller validates with the schemas above, which accept or name every
 * problem; so this check may refuse more than the schemas but must never accept what they refuse,
 * nor anything `findUnstorable` refuses (test/unit/decision-fast-path.test.ts holds both).
 * Keep it in step with the schemas when they change.
 */
export function plainDecisionBatch(body: unknown): { decisions: MirroredDecision[] } | null {
  if (!isRecord(body)) return null;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'decisions') return null;
  const items = body.decisions;
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH) return null;
  for (const item of items) if (!isPlainDecision(item)) return null;
  return { decisions: items as MirroredDecision[] };
}

/** One decision, as `plainDecisionBatch` checks each item. */
export function plainDecision(body: unknown): MirroredDecision | null {
  return isPlainDecision(body) ? (body as MirroredDecision) : null;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: what cannot be stored (NUL, any surrogate) sends the batch to the full check
const NOT_PLAIN_TEXT = /[\u0000\uD800-\uDFFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what requestIdSchema refuses
const NOT_PLAIN_ID = /[\u0000-\u001f\u007f\uD800-\uDFFF]/;
const USE_CASE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Far below MAX_JSON_DEPTH, where the full check starts refusing. */
const PLAIN_DEPTH = 24;
/** A `__proto__` member (JSON.parse keeps it as data): zod's copy drops it, so the full check decides. */
const PROTO = '__proto__';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text = (value: unknown, min: number, max: number): value is string =>
  typeof value === 'string' && value.length >= min && value.length <= max && !NOT_PLAIN_TEXT.test(value);

function isPlainDecision(item: unknown): boolean {
  if (!isRecord(item)) return false;
  let required = 0;
  for (const key of Object.keys(item)) {
    const value = item[key];
    switch (key) {
      case 'useCase':
        if (typeof value !== 'string' || value.length < 1 || value.length > 64 || !USE_CASE_ID.test(value))
          return false;
        required++;
        break;
      case 'requestId':
        if (typeof value !== 'string' || value.length < 1 || value.length > 200 || NOT_PLAIN_ID.test(value))
          return false;
        required++;
        break;
      case 'input':
        if (value === undefined || !isPlainJson(value, 0)) return false;
        required++;
        break;
      case 'context':
        if (!isPlainContext(value)) return false;
        break;
      case 'human':
        if (!isPlainHuman(value)) return false;
        break;
      default:
        return false;
    }
  }
  return required === 3;
}

function isPlainContext(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  if (keys.length > 64) return false;
  for (const key of keys) {
    if (key === PROTO || !text(key, 1, 64)) return false;
    const v = value[key];
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'number' ? !Number.isFinite(v) : !text(v, 0, 1000)) return false;
  }
  return true;
}

function isPlainHuman(value: unknown): boolean {
  if (!isRecord(value)) return false;
  let decision = false;
  for (const key of Object.keys(value)) {
    const v = value[key];
    switch (key) {
      case 'decision':
        if (v === null || v === undefined || !isPlainJson(v, 0)) return false;
        decision = true;
        break;
      case 'decidedBy':
        // One the schema would change (control characters) goes to the full check.
        if (!text(v, 1, 200) || hasControls(v)) return false;
        break;
      case 'handlingMs':
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_HANDLING_MS) return false;
        break;
      default:
        return false;
    }
  }
  return decision;
}

function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !NOT_PLAIN_TEXT.test(value);
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth >= PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        for (const v of value) if (!isPlainJson(v, depth + 1)) return false;
        return true;
      }
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (key === PROTO || NOT_PLAIN_TEXT.test(key) || !isPlainJson(record[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
