import { createHash } from 'node:crypto';
import { canonicalJson } from '../contracts/canonical-json.js';
import { maskPatterns } from './redaction-patterns.js';
import { type RedactionRules, redact } from './redact.js';

/**
 * What a decision keeps of its request, by the plan's `storeInput` and `redact`:
 *
 * - `input`: the input as sent (`full`), redacted (`redacted`), `{sha256}` of its canonical
 *   JSON (`hash`) or null (`none`);
 * - `context`: always redacted by the rules, which name only what the plan chose (segments
 *   are read from the context);
 * - the raw input, kept apart only while an AI call is owed and only when `input` is not
 *   already the raw input (the AI must be asked with what the workflow sent, even after a restart).
 */

export const STORE_INPUT_MODES = ['full', 'redacted', 'hash', 'none'] as const;
export type StoreInput = (typeof STORE_INPUT_MODES)[number];

export interface DataPolicy {
  storeInput: StoreInput;
  redact?: RedactionRules | undefined;
}

export interface StoredForms {
  input: unknown;
  context: Record<string, unknown>;
  /** The raw input to keep while the AI call is owed; undefined when nothing need be kept. */
  pendingInput: unknown;
}

export function hashInput(input: unknown): { sha256: string } {
  return { sha256: createHash('sha256').update(canonicalJson(input, 'code-units')).digest('hex') };
}

/** The stored form of an input under `policy` (never the argument itself when it differs). */
export function storedInput(input: unknown, policy: DataPolicy): unknown {
  switch (policy.storeInput) {
    case 'full':
      return input;
    case 'redacted':
      return (redact({ input }, policy.redact ?? {}) as { input: unknown }).input;
    case 'hash':
      return hashInput(input);
    case 'none':
      return null;
  }
}

export function storedContext(context: Record<string, unknown>, policy: DataPolicy): Record<string, unknown> {
  return (redact({ context }, policy.redact ?? {}) as { context: Record<string, unknown> }).context;
}

/** Free text the workflow or the AI sent (a clerk's id, an AI error excerpt), with the plan's patterns masked. */
export function storedText(text: string, policy: Pick<DataPolicy, 'redact'>): string {
  const patterns = policy.redact?.patterns ?? [];
  return patterns.length > 0 ? maskPatterns(text, patterns) : text;
}

/**
 * The text kept of a failed AI call in `decisions.ai_error`: its kind and our own message (all
 * that is logged of it). What the AI system sent (an error body may echo the request) is added
 * only under `storeInput: full`, where the input itself is kept as sent. Under `redacted`, `hash`
 * and `none` nothing of it is kept: an echo need not have the input's shape, so no `redact.fields`
 * rule could be trusted to find its values.
 */
export function storedAiError(
  error: { kind: string; message: string; upstreamText: string | null },
  policy: DataPolicy,
  /** Who sent it, after the error's own message: the AI system, or a judge. */
  source = 'AI system',
): string {
  const own = `${error.kind}: ${error.message}`;
  if (policy.storeInput !== 'full' || error.upstreamText === null) return own;
  // A plan that stores inputs in full has no patterns today; if one had, they would apply.
  return `${own}; from the ${source}: ${storedText(error.upstreamText, policy)}`;
}

export function storedForms(
  input: unknown,
  context: Record<string, unknown>,
  policy: DataPolicy,
  owesAiCall: boolean,
): StoredForms {
  return {
    input: storedInput(input, policy),
    context: storedContext(context, policy),
    pendingInput: owesAiCall && policy.storeInput !== 'full' ? input : undefined,
  };
}
