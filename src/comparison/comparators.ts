import type { ComparatorSpec } from '../plans/plan-schema.js';
import { readPath } from './field-path.js';
import { jsonEqual } from './json-equal.js';
import { normalizeText } from './normalize-text.js';
import { numericValue, withinTolerance } from './numeric-value.js';

/**
 * Scores how far the AI's decision agrees with the human's: 1 agree, 0 disagree, a share in
 * between for `fields`. Pure: never mutates its inputs, never throws on odd JSON, always returns
 * a finite number in [0, 1].
 */
export type Comparator = (human: unknown, ai: unknown) => number;

export function createComparator(spec: ComparatorSpec): Comparator {
  switch (spec.type) {
    case 'exact':
      return exactScore;
    case 'normalized-text':
      return normalizedTextScore;
    case 'numeric': {
      const tolerance = spec.tolerance;
      return (human, ai) => numericScore(human, ai, tolerance);
    }
    case 'fields': {
      const { fields, tolerance } = spec;
      return (human, ai) => fieldsScore(human, ai, fields, tolerance);
    }
  }
}

export function compareDecisions(spec: ComparatorSpec, human: unknown, ai: unknown): number {
  return createComparator(spec)(human, ai);
}

export function exactScore(human: unknown, ai: unknown): number {
  return jsonEqual(human, ai) ? 1 : 0;
}

/** Strings are compared in their normalised form; any other pair falls back to `exact`. */
export function normalizedTextScore(human: unknown, ai: unknown): number {
  if (typeof human === 'string' && typeof ai === 'string') {
    return normalizeText(human) === normalizeText(ai) ? 1 : 0;
  }
  return exactScore(human, ai);
}

/** Numbers or numeric strings within an absolute tolerance; anything non-numeric scores 0. */
export function numericScore(human: unknown, ai: unknown, tolerance: number): number {
  const h = numericValue(human);
  const a = numericValue(ai);
  return h !== null && a !== null && withinTolerance(h, a, tolerance) ? 1 : 0;
}

/**
 * Share of the listed fields (dot paths) on which two decision objects agree. A field missing on
 * both sides agrees (neither decided it); missing on one side disagrees. With a tolerance, two
 * numeric values (numbers or numeric strings) agree when within it; otherwise values must be
 * structurally equal. A decision that is not a JSON object (array, null, scalar) scores 0.
 * Repeated field names count once.
 */
export function fieldsScore(
  human: unknown,
  ai: unknown,
  fields: readonly string[],
  tolerance?: number,
): number {
  if (!isPlainObject(human) || !isPlainObject(ai) || fields.length === 0) return 0;
  const unique = [...new Set(fields)];
  const agreeing = unique.filter((field) => fieldAgrees(human, ai, field, tolerance)).length;
  return agreeing / unique.length;
}

function fieldAgrees(human: object, ai: object, field: string, tolerance: number | undefined): boolean {
  const h = readPath(human, field);
  const a = readPath(ai, field);
  if (!h.found || !a.found) return h.found === a.found;
  if (tolerance !== undefined) {
    const hn = numericValue(h.value);
    const an = numericValue(a.value);
    if (hn !== null && an !== null) return withinTolerance(hn, an, tolerance);
  }
  return jsonEqual(h.value, a.value);
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
