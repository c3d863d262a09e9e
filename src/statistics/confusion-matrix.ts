import { checkCount, type LabelPairCount } from './label-counts.js';

/** One label's precision (of the AI's answers with it) and recall (of the human's), null when undefined. */
export interface LabelMetrics {
  label: string;
  precision: number | null;
  recall: number | null;
  /** Compared decisions the human labelled with it. */
  support: number;
  /** Compared decisions both labelled with it. */
  hits: number;
  /** Compared decisions the AI labelled with it. */
  predicted: number;
  /** Requests the human labelled with it whose AI call failed for good (not in `support`). */
  aiFailures: number;
}

/** Rows are the human's label, columns the AI's, both in `labels` order. */
export interface ConfusionMatrix {
  labels: string[];
  matrix: number[][];
}

/**
 * Lays counts out as a square matrix over `labels` (the plan's labels, in plan order). Labels
 * that occur in the counts but not in the list (an AI answer outside the plan's labels, or a
 * label since removed) are appended after them in ordinal (UTF-16 code unit) order, so no count is dropped and
 * the layout does not depend on the order the counts arrive in.
 */
export function confusionMatrix(
  labels: readonly string[],
  counts: readonly LabelPairCount[],
): ConfusionMatrix {
  const known = [...new Set(labels)];
  const knownSet = new Set(known);
  const extra = new Set<string>();
  for (const { human, ai } of counts) {
    if (!knownSet.has(human)) extra.add(human);
    if (!knownSet.has(ai)) extra.add(ai);
  }
  const all = [...known, ...[...extra].sort(compareOrdinal)];
  const index = new Map(all.map((label, i) => [label, i]));
  const matrix = all.map(() => all.map(() => 0));
  for (const entry of counts) {
    const row = matrix[index.get(entry.human)!]!;
    const column = index.get(entry.ai)!;
    row[column] = row[column]! + checkCount(entry);
  }
  return { labels: all, matrix };
}

/**
 * For each label L, the AI's precision (AI said L and the human agreed / AI said L) and recall
 * (AI said L and the human agreed / human said L); null when the denominator is 0.
 * `support` is how many times the human chose L.
 */
export function perLabelPrecisionRecall({ labels, matrix }: ConfusionMatrix): LabelMetrics[] {
  return labels.map((label, i) => {
    const hits = matrix[i]?.[i] ?? 0;
    const support = sum(matrix[i] ?? []);
    const predicted = sum(matrix.map((row) => row[i] ?? 0));
    return {
      label,
      precision: predicted > 0 ? hits / predicted : null,
      recall: support > 0 ? hits / support : null,
      support,
      hits,
      predicted,
      aiFailures: 0,
    };
  });
}

/**
 * The agreement of an AI that always answers the human's most common label: the bar an
 * agreement threshold must clear to mean anything on this traffic. Ties go to the label listed
 * first. Null without compared decisions.
 */
export function majorityBaseline({
  labels,
  matrix,
}: ConfusionMatrix): { label: string; agreement: number } | null {
  let total = 0;
  let best = -1;
  let bestCount = -1;
  matrix.forEach((row, i) => {
    const count = sum(row);
    total += count;
    if (count > bestCount) {
      best = i;
      bestCount = count;
    }
  });
  if (total === 0 || best < 0) return null;
  return { label: labels[best]!, agreement: bestCount / total };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
