import type { LocatedProblem, PathSegment } from './validation-problems.js';

/**
 * What PostgreSQL can store and our own (recursive) validation can walk, checked before either
 * sees a value: text without NUL characters (PostgreSQL refuses U+0000 in `text` and `jsonb`) and
 * without unpaired UTF-16 surrogates (not Unicode; `jsonb` refuses them), and JSON nested no deeper
 * than `MAX_JSON_DEPTH` (deeper values overflow the stack of zod and of the comparators).
 * The walk is iterative, so it is itself safe on any depth.
 */

/** Objects and arrays within each other; far beyond any decision input seen in practice. */
export const MAX_JSON_DEPTH = 64;

/** A depth problem names the path down to this many segments, not the whole chain. */
const DEPTH_PATH_SEGMENTS = 3;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what is refused
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Null when the text can be stored, else what is wrong with it. */
export function unstorableTextProblem(text: string): string | null {
  if (NUL.test(text)) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'contains an unpaired UTF-16 surrogate, which is not valid Unicode';
  return null;
}

/** Where a value sits: its key in its parent, linked up to the root (a path is built only for a problem). */
interface Place {
  parent: Place | null;
  key: PathSegment;
}

/**
 * A field named `__proto__`: JSON.parse keeps it as data, but zod copies objects by assignment, which
 * sets the copy's prototype instead, so validation would drop the field without a word. Request
 * bodies refuse it; `constructor` and `prototype` are plain fields and kept as sent.
 */
export const PROTO_FIELD = '__proto__';
export const PROTO_FIELD_PROBLEM = `field name "${PROTO_FIELD}" is not accepted`;

export interface UnstorableOptions {
  maxDepth?: number;
  /** Refuse `__proto__` fields (request bodies, which zod validates). AI answers keep them as data. */
  refuseProtoFields?: boolean;
}

/** The first problem found (field names included), with the path to it; null when there is none. */
export function findUnstorable(value: unknown, options: UnstorableOptions = {}): LocatedProblem | null {
  const { maxDepth = MAX_JSON_DEPTH, refuseProtoFields = false } = options;
  const pathOf = (place: Place | null): PathSegment[] => {
    const segments: PathSegment[] = [];
    for (let p = place; p !== null; p = p.parent) segments.unshift(p.key);
    return segments;
  };
  const stack: Array<{ value: unknown; place: Place | null; depth: number }> = [
    { value, place: null, depth: 0 },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: v, place, depth } = item;
    if (typeof v === 'string') {
      const problem = unstorableTextProblem(v);
      if (problem) return { segments: pathOf(place), problem };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > maxDepth) {
      return {
        segments: pathOf(place).slice(0, DEPTH_PATH_SEGMENTS),
        problem: `nested deeper than ${maxDepth} levels of objects and arrays`,
      };
    }
    const push = (key: PathSegment, child: unknown): void => {
      if (typeof child === 'string' || (typeof child === 'object' && child !== null)) {
        stack.push({ value: child, place: { parent: place, key }, depth: depth + 1 });
      }
    };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) push(i, v[i]);
      continue;
    }
    const entries = Object.entries(v);
    for (const [key] of entries) {
      if (refuseProtoFields && key === PROTO_FIELD) {
        return { segments: pathOf({ parent: place, key }), problem: PROTO_FIELD_PROBLEM };
      }
      const keyProblem = unstorableTextProblem(key);
      if (keyProblem) {
        return { segments: pathOf({ parent: place, key }), problem: `field name ${keyProblem}` };
      }
    }
    for (let i = entries.length - 1; i >= 0; i--) push(...(entries[i] as [string, unknown]));
  }
  return null;
}
