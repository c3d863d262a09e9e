import { MAX_BATCH } from '@shadowgate/sdk/wire';
import { describe, expect, it } from 'vitest';
import {
  decisionBatchSchema,
  mirroredDecisionSchema,
  plainDecision,
  plainDecisionBatch,
} from '../../src/contracts/decision-contracts.js';
import { findUnstorable } from '../../src/contracts/storable-json.js';

/** What the route accepted before the fast path: storable, then valid by the schema. */
function fullCheck(schema: typeof decisionBatchSchema | typeof mirroredDecisionSchema, body: unknown) {
  if (findUnstorable(body)) return { ok: false as const };
  const parsed = schema.safeParse(body);
  return parsed.success ? { ok: true as const, data: parsed.data } : { ok: false as const };
}

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const decision = (i: number) => ({
  useCase: 'invoice-approval',
  requestId: `req-${i}`,
  input: { invoiceId: `INV-${i}`, amount: 1141.11, lines: [{ sku: 'a', qty: 2 }], note: null, ok: true },
  context: { region: 'APAC', riskTier: 'low', score: 3, flagged: false, none: null },
  human: { decision: { label: 'approve', reasons: ['po-match'] }, decidedBy: 'clerk-7', handlingMs: 30_000 },
});

/** Values that break some rule of the schemas or of storability, and a few that are fine. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x'.repeat(65),
  'x'.repeat(201),
  'x'.repeat(1001),
  'UPPER',
  'a--b',
  '-a',
  'tab\there',
  'nul\u0000',
  'lone \uD800',
  'pair 🚀',
  'del\u007f',
  -1,
  1.5,
  2 ** 53,
  30 * 24 * 3600 * 1000 + 1,
  30 * 24 * 3600 * 1000,
  0,
  true,
  [],
  [1, [2, [3]]],
  {},
  { a: 1 },
  JSON.parse('{"__proto__":{"x":1}}'),
  { '': 1 },
  { ['k'.repeat(65)]: 1 },
  Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])),
  { nested: { deeper: [{ deepest: 'x' }] } },
  JSON.parse('['.repeat(70) + ']'.repeat(70)),
  JSON.parse('['.repeat(30) + ']'.repeat(30)),
];
const PATHS: string[][] = [
  [],
  ['decisions'],
  ['decisions', '0'],
  ['decisions', '0', 'useCase'],
  ['decisions', '0', 'requestId'],
  ['decisions', '0', 'input'],
  ['decisions', '0', 'input', 'note'],
  ['decisions', '0', 'input', 'lines', '0', 'qty'],
  ['decisions', '0', 'context'],
  ['decisions', '0', 'context', 'region'],
  ['decisions', '0', 'context', 'extra'],
  ['decisions', '0', 'human'],
  ['decisions', '0', 'human', 'decision'],
  ['decisions', '0', 'human', 'decidedBy'],
  ['decisions', '0', 'human', 'handlingMs'],
  ['decisions', '0', 'human', 'extra'],
  ['decisions', '1', 'extra'],
  ['extra'],
];

function mutate(body: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  if (path.length === 0) return value;
  if (typeof copy !== 'object' || copy === null) return copy;
  let at: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) return copy;
    at = at[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete at[last];
  else if (last === '__proto__') Object.defineProperty(at, last, { value, enumerable: true });
  else at[last] = value;
  return copy;
}

describe('the decision fast path', () => {
  it('when a batch is plainly valid, then the fast path takes it as the schema would', () => {
    const body = { decisions: Array.from({ length: MAX_BATCH }, (_, i) => decision(i)) };
    const fast = plainDecisionBatch(body);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(fullCheck(decisionBatchSchema, body).data);
    expect(plainDecision(decision(1))).toEqual(mirroredDecisionSchema.parse(decision(1)));
  });

  it('when any field of a batch is odd, then the fast path accepts only what the full check accepts, with the same data', () => {
    const base = { decisions: [decision(0), decision(1)] };
    let accepted = 0;
    let refused = 0;
    for (const path of PATHS) {
      for (const value of ODD_VALUES) {
        const body = mutate(base, path, value);
        const full = fullCheck(decisionBatchSchema, body);
        const fast = plainDecisionBatch(body);
        if (fast) {
          expect(full.ok, `${path.join('.')} = ${JSON.stringify(value)}`).toBe(true);
          expect(fast).toEqual(full.data);
          accepted++;
        } else refused++;
        const item = (body as { decisions?: unknown[] })?.decisions?.[0];
        const single = plainDecision(item);
        if (single) expect(single).toEqual(fullCheck(mirroredDecisionSchema, item).data);
      }
    }
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(200);
  });

  it('when batches of random odd fields are checked, then the fast path never accepts what the full check refuses', () => {
    const next = random(11);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    for (let i = 0; i < 3000; i++) {
      let body: unknown = { decisions: [decision(0), decision(1)] };
      for (let k = Math.floor(next() * 3) + 1; k > 0; k--) body = mutate(body, pick(PATHS), pick(ODD_VALUES));
      if (plainDecisionBatch(body)) expect(fullCheck(decisionBatchSchema, body).ok).toBe(true);
    }
  });

  it('when a batch is empty or too large, then the fast path leaves it to the full check', () => {
    expect(plainDecisionBatch({ decisions: [] })).toBeNull();
    expect(
      plainDecisionBatch({ decisions: Array.from({ length: MAX_BATCH + 1 }, (_, i) => decision(i)) }),
    ).toBeNull();
  });
});
