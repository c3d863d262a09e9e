import { createHash } from 'node:crypto';
import type { MirroredDecision } from '../contracts/decision-contracts.js';

/**
 * The hash a retry must match: the payload as the workflow sent it, before any redaction.
 * Of the human side only the decision counts: who decided and how long it took are
 * circumstances a retry may measure again, not a different decision (the first ones are kept).
 *
 * Stored hashes must stay comparable forever, so the text hashed is exactly what
 * `JSON.stringify(canonical(payload))` (decision-store.ts) gives; `canonicalText` writes it in
 * one pass instead of building the sorted copy first (hashing was the ingest path's largest own cost).
 */
export function payloadHash(d: MirroredDecision): string {
  const text =
    `{"context":${canonicalText(d.context ?? {})},` +
    `"human":${d.human ? canonicalText(d.human.decision) : 'null'},` +
    `"input":${canonicalText(d.input)}}`;
  return createHash('sha256').update(text).digest('hex');
}

/** What JSON.stringify writes in place of a value it cannot represent (in an array), or omits (in an object). */
const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * `JSON.stringify(canonical(value))` without the copy. `canonical` rebuilds objects with their
 * keys sorted, and an object lists integer keys (array indices) first, in numeric order, whatever
 * the order they were added in: so do we. `Object.keys` already lists them that way.
 */
export function canonicalText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i === 0 ? '' : ',') + (omitted(item) ? 'null' : canonicalText(item));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let indices = 0;
  while (indices < keys.length && isArrayIndex(keys[indices]!)) indices++;
  if (indices === 0) keys.sort();
  else keys.splice(indices, keys.length - indices, ...keys.slice(indices).sort());
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (omitted(item)) continue;
    out += `${out.length === 1 ? '' : ','}${quoted(key)}:${canonicalText(item)}`;
  }
  return `${out}}`;
}

/**
 * Keys as JSON strings, remembered: the same few keys come in every decision of a workflow.
 * Bounded, so a client sending ever new keys costs memory only up to the bound.
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_KEPT = 10_000;

function quoted(key: string): string {
  let out = quotedKeys.get(key);
  if (out === undefined) {
    out = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_KEYS_KEPT && key.length <= 64) quotedKeys.set(key, out);
  }
  return out;
}

/** A key an object orders before the others: a canonical unsigned integer below 2^32 - 1. */
function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57) return false;
  if (key.length > 10 || (key.length > 1 && c === 48)) return false;
  for (let i = 1; i < key.length; i++) {
    const d = key.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return Number(key) < 2 ** 32 - 1;
}
