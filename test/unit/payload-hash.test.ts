import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MirroredDecision } from '../../src/contracts/decision-contracts.js';
import { canonicalJson } from '../../src/contracts/canonical-json.js';
import { payloadHash, payloadHashes } from '../../src/ingest/payload-hash.js';

/** Key-order-independent copy of a JSON value: the definition's sorted rebuild. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The definition stored hashes were made with: a retry must keep matching them. */
function definitionHash(d: MirroredDecision): string {
  const payload = { input: d.input, context: d.context ?? {}, human: d.human ? d.human.decision : null };
  return createHash('sha256')
    .update(JSON.stringify(canonical(payload)))
    .digest('hex');
}

/** A small deterministic generator (no dependency): the same values on every run. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KEYS = [
  'a',
  'b',
  'B',
  'aa',
  '0',
  '1',
  '2',
  '10',
  '01',
  '-1',
  '1.5',
  '4294967294',
  '4294967295',
  'é',
  '"q"',
  '',
  'z\\',
  '🚀',
  '__proto__',
];
const STRINGS = [
  '',
  'x',
  'tab\there',
  'quote " and \\ backslash',
  'line\nbreak',
  'ünïcødé',
  '🚀 pair',
  '\u2028',
];
const NUMBERS = [0, -0, 1, -1, 1.5, 1e21, 1e-7, 12345678901234567000, Number.MAX_SAFE_INTEGER, 0.1 + 0.2];

function value(next: () => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const kind = depth > 3 ? Math.floor(next() * 4) : Math.floor(next() * 6);
  switch (kind) {
    case 0:
      return pick(STRINGS);
    case 1:
      return pick(NUMBERS);
    case 2:
      return pick([true, false]);
    case 3:
      return null;
    case 4:
      return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
    default: {
      // Built the way JSON.parse builds objects: own data properties, in the order they come.
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 6); i > 0; i--) {
        Object.defineProperty(out, pick(KEYS), {
          value: value(next, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}

describe('payload hash', () => {
  it('when decisions of every JSON shape are hashed, then the hash and the hash without the human side are the ones their stored definition gives', () => {
    const next = random(7);
    for (let i = 0; i < 3000; i++) {
      const context = next() < 0.3 ? undefined : (value(next, 3) as Record<string, never>);
      const d = {
        useCase: 'u',
        requestId: `r-${i}`,
        input: value(next, 0),
        ...(context && typeof context === 'object' && !Array.isArray(context) ? { context } : {}),
        ...(next() < 0.5 ? { human: { decision: value(next, 1), decidedBy: 'clerk' } } : {}),
      } as MirroredDecision;
      expect(payloadHash(d)).toBe(definitionHash(d));
      // The bare hash a mirror adding only the human side must match: the payload without it.
      const hashes = payloadHashes(d);
      expect({ full: hashes.full, bare: hashes.bare() }).toEqual({
        full: definitionHash(d),
        bare: definitionHash({ ...d, human: undefined }),
      });
    }
  });

  it('when keys look like integers, then they come first in numeric order, as a rebuilt object lists them', () => {
    const parsed = JSON.parse('{"b":1,"10":2,"2":3,"a":4,"01":5,"4294967295":6,"4294967294":7}');
    expect(canonicalJson(parsed, 'integers-first')).toBe(JSON.stringify(canonical(parsed)));
    expect(canonicalJson(parsed, 'integers-first')).toBe(
      '{"2":3,"10":2,"4294967294":7,"01":5,"4294967295":6,"a":4,"b":1}',
    );
  });

  it('when key order differs, then the hash is the same; when a value differs, it is not', () => {
    const a = {
      useCase: 'u',
      requestId: 'r',
      input: { x: 1, y: [1, { p: 1, q: 2 }] },
      context: { t: 'a', s: 1 },
    };
    const b = {
      useCase: 'u',
      requestId: 'r',
      input: { y: [1, { q: 2, p: 1 }], x: 1 },
      context: { s: 1, t: 'a' },
    };
    expect(payloadHash(a as MirroredDecision)).toBe(payloadHash(b as MirroredDecision));
    expect(payloadHash({ ...a, input: { x: 2 } } as MirroredDecision)).not.toBe(
      payloadHash(a as MirroredDecision),
    );
  });
});
