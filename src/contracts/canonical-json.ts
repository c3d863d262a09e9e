/**
 * The one canonical JSON: equal values give equal text, whatever order their keys came in.
 *
 * Stored hashes were made with two key orders, and each must stay byte-identical forever:
 * - `integers-first`: keys that are array indices (canonical integers below 2^32 - 1) first in
 *   numeric order, then the others sorted by UTF-16 code units. It is what
 *   `JSON.stringify` writes for an object rebuilt with sorted keys, since an object lists its
 *   index keys first. Decision payload hashes use it.
 * - `code-units`: every key sorted by UTF-16 code units, index-like keys included. AI
 *   configuration keys and the `{sha256}` of an input kept as a hash use it.
 *
 * Otherwise the text is `JSON.stringify`'s: members whose value is `undefined`, a function or a
 * symbol are left out of objects and written `null` in arrays, and a value with no JSON form
 * (`undefined` itself) is `null`. `toJSON` is not called: the values hashed are parsed JSON.
 */
export type KeyOrder = 'integers-first' | 'code-units';

export function canonicalJson(value: unknown, order: KeyOrder): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i === 0 ? '' : ',') + (omitted(item) ? 'null' : canonicalJson(item, order));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record, order);
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (omitted(item)) continue;
    out += `${out.length === 1 ? '' : ','}${quoted(key)}:${canonicalJson(item, order)}`;
  }
  return `${out}}`;
}

/** What JSON.stringify writes as `null` in an array, and omits from an object. */
const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function sortedKeys(record: Record<string, unknown>, order: KeyOrder): string[] {
  const keys = Object.keys(record);
  if (order === 'code-units') return keys.sort();
  // `Object.keys` already lists the index keys first, in numeric order: sort only the rest.
  let indices = 0;
  while (indices < keys.length && isArrayIndex(keys[indices]!)) indices++;
  if (indices === 0) return keys.sort();
  keys.splice(indices, keys.length - indices, ...keys.slice(indices).sort());
  return keys;
}

/**
 * Keys as JSON strings, remembered: the same few keys come in every decision of a workflow, and
 * hashing is the ingest path's largest own cost. Bounded, so a client sending ever new keys costs
 * memory only up to the bound.
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
