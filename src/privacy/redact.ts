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
  const fields = rules.fields ?? [];
  const out = fields.length > 0 ? maskFields(value, new Set([pathTree(fields)])) : value;
  const patterns = rules.patterns ?? [];
  return patterns.length > 0 ? maskStrings(out, patterns) : out;
}

/**
 * The paths as a tree of segments, walked once with the value: the work is linear in the value
 * times the paths that can be at one place at once (usually one), not in the value times the
 * number of paths, which a plan could make large. Index and `*` segments consume an array level,
 * a key does not (`keys` is the view of a node that passes its key segments through arrays).
 */
interface PathNode {
  /** A path ends here: the value here is masked. */
  end: boolean;
  children: Map<string, PathNode>;
  keys?: PathNode;
}

const isKeySegment = (segment: string) => segment !== '*' && !/^\d+$/.test(segment);

function pathTree(fields: readonly string[]): PathNode {
  const root: PathNode = { end: false, children: new Map() };
  const nodes = [root];
  for (const field of fields) {
    let node = root;
    for (const segment of field.split('.')) {
      let child = node.children.get(segment);
      if (!child) {
        child = { end: false, children: new Map() };
        node.children.set(segment, child);
        nodes.push(child);
      }
      node = child;
    }
    node.end = true;
  }
  for (const node of nodes) {
    const keyChildren = [...node.children].filter(([segment]) => isKeySegment(segment));
    if (keyChildren.length === 0) continue;
    const keys: PathNode = { end: false, children: new Map(keyChildren) };
    keys.keys = keys;
    node.keys = keys;
  }
  return root;
}

function maskFields(value: unknown, at: ReadonlySet<PathNode>): unknown {
  if (at.size === 0) return value;
  for (const node of at) if (node.end) return REDACTED;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item, i) => {
      const next = new Set<PathNode>();
      for (const node of at) {
        add(next, node.children.get('*'));
        add(next, node.children.get(String(i)));
        add(next, node.keys);
      }
      const masked = maskFields(item, next);
      if (masked !== item) changed = true;
      return masked;
    });
    return changed ? out : value;
  }
  if (value === null || typeof value !== 'object') return value;
  let changed = false;
  const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) => {
    const next = new Set<PathNode>();
    for (const node of at) {
      add(next, node.children.get('*'));
      add(next, node.children.get(key));
    }
    const masked = maskFields(item, next);
    if (masked !== item) changed = true;
    return [key, masked] as const;
  });
  return changed ? Object.fromEntries(entries) : value;
}

const add = (set: Set<PathNode>, node: PathNode | undefined) => node && set.add(node);

function maskStrings(value: unknown, patterns: readonly PatternName[]): unknown {
  if (typeof value === 'string') return maskPatterns(value, patterns);
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, patterns));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskStrings(v, patterns)]),
  );
}
