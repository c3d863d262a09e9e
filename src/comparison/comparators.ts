import type { ComparatorSpec, FieldComparatorSpec, FieldEntry } from '../plans/plan-schema.js';
import { readPath } from './field-path.js';
import { jsonEqual } from './json-equal.js';
import { normalizeText } from './normalize-text.js';
import { numericValue, withinTolerance } from './numeric-value.js';
import { type TextScore, textSimilarity } from './text-similarity.js';

/**
 * Scores how far the AI's decision agrees with the human's: 1 agree, 0 disagree, a share in
 * between for `fields` and `text-similarity`. Pure: never mutates its inputs, never throws on odd JSON, always returns
 * a finite number in [0, 1].
 */
export type Comparator = (human: unknown, ai: unknown) => number;

/** The comparators scored here, at once; a `judge` scores later, off the live path (judge-worker.ts). */
export type LocalComparatorSpec = Exclude<ComparatorSpec, { type: 'judge' }>;

/** The plan's comparator when it scores locally; null for a judge (its score is owed: pending). */
export function localComparator(spec: ComparatorSpec): Comparator | null {
  return spec.type === 'judge' ? null : createComparator(spec);
}

export function createComparator(spec: LocalComparatorSpec): Comparator {
  switch (spec.type) {
    case 'exact':
      return exactScore;
    case 'normalized-text':
      return normalizedTextScore;
    case 'numeric': {
      const tolerance = spec.tolerance;
      return (human, ai) => numericScore(human, ai, tolerance);
    }
    case 'text-similarity': {
      const score = textSimilarity(spec.method, spec.threshold);
      return (human, ai) => textScore(score, human, ai);
    }
    case 'fields': {
      const { fields, tolerance } = spec;
      return (human, ai) => fieldsScore(human, ai, fields, tolerance);
    }
  }
}

export function compareDecisions(spec: LocalComparatorSpec, human: unknown, ai: unknown): number {
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

/** Two texts by their similarity; any other pair (which the plan's decision type refuses) by `exact`. */
function textScore(score: TextScore, human: unknown, ai: unknown): number {
  return typeof human === 'string' && typeof ai === 'string' ? score(human, ai) : exactScore(human, ai);
}

type FieldScore = (human: unknown, ai: unknown) => number;
type WeightedField = { field: string; weight: number; score: FieldScore };

/**
 * The weighted share of the listed fields (dot paths) on which two decision objects agree: each
 * field scores from 0 to 1 by its own comparator, counted `weight` times (1 by default). A field
 * missing on both sides agrees (neither decided it); missing on one side disagrees. A field named
 * as a plain path is compared exactly, or, with the list's tolerance, two numeric values (numbers
 * or numeric strings) agree when within it. A field's comparator that cannot read its values (not
 * text for `text-similarity` and `normalized-text`, not numbers for `numeric`) compares them
 * exactly. The `text-similarity` fields share one comparison's work between them (see
 * text-similarity.ts). A decision that is not a JSON object (array, null, scalar) scores 0. A
 * repeated field counts once, as first listed.
 */
export function fieldsScore(
  human: unknown,
  ai: unknown,
  fields: readonly FieldEntry[],
  tolerance?: number,
): number {
  return fieldsComparator(fields, tolerance)(human, ai);
}

function fieldsComparator(entries: readonly FieldEntry[], tolerance: number | undefined): Comparator {
  const seen = new Set<string>();
  const unique = entries.filter((entry) => {
    const field = typeof entry === 'string' ? entry : entry.field;
    if (seen.has(field)) return false;
    seen.add(field);
    return true;
  });
  const texts = unique.filter((e) => typeof e !== 'string' && e.comparator?.type === 'text-similarity');
  const budget = 1 / Math.max(1, texts.length);
  const weighted: WeightedField[] = unique.map((entry) =>
    typeof entry === 'string'
      ? { field: entry, weight: 1, score: toleranceScore(tolerance) }
      : {
          field: entry.field,
          weight: entry.weight ?? 1,
          score: entry.comparator ? fieldComparator(entry.comparator, budget) : toleranceScore(tolerance),
        },
  );
  const total = weighted.reduce((sum, f) => sum + f.weight, 0);
  return (human, ai) => {
    if (!isPlainObject(human) || !isPlainObject(ai) || total === 0) return 0;
    let sum = 0;
    for (const { field, weight, score } of weighted) {
      const h = readPath(human, field);
      const a = readPath(ai, field);
      const agreement = !h.found || !a.found ? (h.found === a.found ? 1 : 0) : score(h.value, a.value);
      sum += weight * agreement;
    }
    return Math.min(1, Math.max(0, sum / total));
  };
}

function toleranceScore(tolerance: number | undefined): FieldScore {
  return (h, a) => {
    if (tolerance !== undefined) {
      const hn = numericValue(h);
      const an = numericValue(a);
      if (hn !== null && an !== null) return withinTolerance(hn, an, tolerance) ? 1 : 0;
    }
    return exactScore(h, a);
  };
}

function fieldComparator(spec: FieldComparatorSpec, budget: number): FieldScore {
  switch (spec.type) {
    case 'exact':
      return exactScore;
    case 'normalized-text':
      return normalizedTextScore;
    case 'numeric':
      return toleranceScore(spec.tolerance);
    case 'text-similarity': {
      const score = textSimilarity(spec.method, spec.threshold, budget);
      return (h, a) => textScore(score, h, a);
    }
  }
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
