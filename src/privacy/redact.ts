import { maskPatterns, type PatternName } from './redaction-patterns.js';

/**
 * The plan's `redact` rules as a pure function over JSON values: the value at each listed path
 * is replaced by `[redacted]` and pattern matches inside every string by their marker. A new
 * value is returned; the argument is never changed.
 */

export interface RedactionRules {
  /**
   * Dot paths into the value. A plan's paths are rooted at `input` or `context`
   * (`input.customer.email`, `context.accountId`), so the plan's rules apply to `{input, context}`.
   */
  fields?: readonly string[];
  patterns?: readonly PatternName[];
}

export const REDACTED = '[redacted]';
export const REDACT_ROOTS = ['input', 'context'] as const;
export type RedactRoot = (typeof REDACT_ROOTS)[number];

const SEGMENT = /^(?:\*|[A-Za-z0-9_$-]+)$/;

/**
 * What is wrong with a redaction path, or null. A path is a root (`input` or `context`) and at
 * least one segment; a segment is a key, an array index, or `*` (every key or element). A key
 * applied to an array applies to each element, so `input.lines.iban` reaches every line's IBAN.
 */
export function redactPathProblem(path: string): string | null {
  const [root, ...rest] = path.split('.');
  if (!REDACT_ROOTS.includes(root as RedactRoot)) {
    return `expected a path starting with input. or context., got "${path}"`;
  }
  if (rest.length === 0) {
    return root === 'input'
      ? 'names the whole input: use storeInput: none (or hash) instead'
      : 'names the whole context: name the fields to redact (segments are read from the context)';
  }
  const bad = rest.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) {
    return bad === ''
      ? `"${path}" has an empty segment (two dots, or a dot at an end)`
      : `"${path}": segment "${bad}" may hold only letters, digits, _, $ and -, or be *`;
  }
  return null;
}

/** `value` with the fields of `rules` masked and the patterns applied to every string. */
export function redact(value: unknown, rules: RedactionRules): unknown {
  let out = value;
  for (const field of rules.fields ?? []) out = maskPath(out, field.split('.'));
  const patterns = rules.patterns ?? [];
  return patterns.length > 0 ? maskStrings(out, patterns) : out;
}

function maskPath(value: unknown, path: readonly string[]): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return REDACTED;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(head)) {
      const i = Number(head);
      if (i >= value.length) return value;
      return value.map((item, j) => (j === i ? maskPath(item, rest) : item));
    }
    // `*` and a key both reach into every element (a key names a field of each element).
    return value.map((item) => maskPath(item, head === '*' ? rest : path));
  }
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (head === '*') {
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, maskPath(v, rest)]));
  }
  if (!Object.hasOwn(record, head)) return value;
  return { ...record, [head]: maskPath(record[head], rest) };
}

function maskStrings(value: unknown, patterns: readonly PatternName[]): unknown {
  if (typeof value === 'string') return maskPatterns(value, patterns);
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, patterns));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskStrings(v, patterns)]),
  );
}
