import { checkCount, type LabelPairCount } from './label-counts.js';

/**
 * Cohen's kappa between human and AI labels: (pₒ − pₑ) / (1 − pₑ), where pₒ is the observed
 * agreement and pₑ the agreement expected from each side's label frequencies alone.
 * Null when undefined: no decisions, or pₑ = 1 (both sides always gave the same single label).
 * Repeated (human, ai) pairs are summed.
 */
export function cohensKappa(confusion: readonly LabelPairCount[]): number | null {
  let total = 0;
  let agreeing = 0;
  const humanTotals = new Map<string, number>();
  const aiTotals = new Map<string, number>();
  for (const entry of confusion) {
    const count = checkCount(entry);
    total += count;
    if (entry.human === entry.ai) agreeing += count;
    humanTotals.set(entry.human, (humanTotals.get(entry.human) ?? 0) + count);
    aiTotals.set(entry.ai, (aiTotals.get(entry.ai) ?? 0) + count);
  }
  if (total === 0) return null;
  let expected = 0;
  for (const [label, humanCount] of humanTotals) {
    expected += (humanCount / total) * ((aiTotals.get(label) ?? 0) / total);
  }
  if (expected >= 1 - 1e-12) return null;
  return (agreeing / total - expected) / (1 - expected);
}
