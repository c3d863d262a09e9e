import { checkCount, type LabelPairCount } from './label-counts.js';
import { twoSidedZ } from './normal-quantile.js';

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

export interface KappaInterval {
  kappa: number;
  lower: number;
  upper: number;
}

/**
 * Cohen's kappa with a two-sided interval at `confidence`: κ ± z·se, clipped to [−1, 1], where se
 * is the large-sample standard error of Fleiss, Cohen and Everitt (1969) for κ ≠ 0 (the non-null
 * variance, the one for intervals rather than for testing κ = 0). With pᵢⱼ the share of decisions
 * the human labelled i and the AI j, pᵢ. and p.ⱼ the human's and the AI's label shares,
 *
 *   se² = [ Σᵢ pᵢᵢ (1 − (pᵢ. + p.ᵢ)(1 − κ))² + (1 − κ)² Σᵢ≠ⱼ pᵢⱼ (p.ᵢ + pⱼ.)² − (κ − pₑ(1 − κ))² ]
 *         / (n (1 − pₑ)²).
 *
 * This is a fixed-sample interval, shown beside agreement for reading: it holds at one look, not
 * at every tick, and no gate uses it (the gates' bounds are confidence sequences). Null when kappa
 * is. A table with perfect agreement has se = 0 and an interval of one point.
 */
export function cohensKappaInterval(
  confusion: readonly LabelPairCount[],
  confidence: number,
): KappaInterval | null {
  const z = twoSidedZ(confidence);
  const kappa = cohensKappa(confusion);
  if (kappa === null) return null;
  let total = 0;
  const cells = new Map<string, { human: string; ai: string; count: number }>();
  const humanTotals = new Map<string, number>();
  const aiTotals = new Map<string, number>();
  for (const entry of confusion) {
    const count = entry.count;
    total += count;
    const key = JSON.stringify([entry.human, entry.ai]);
    const cell = cells.get(key);
    if (cell) cell.count += count;
    else cells.set(key, { human: entry.human, ai: entry.ai, count });
    humanTotals.set(entry.human, (humanTotals.get(entry.human) ?? 0) + count);
    aiTotals.set(entry.ai, (aiTotals.get(entry.ai) ?? 0) + count);
  }
  const humanShare = (label: string) => (humanTotals.get(label) ?? 0) / total;
  const aiShare = (label: string) => (aiTotals.get(label) ?? 0) / total;
  let expected = 0;
  for (const label of humanTotals.keys()) expected += humanShare(label) * aiShare(label);
  const slack = 1 - kappa;
  let diagonal = 0;
  let offDiagonal = 0;
  for (const { human, ai, count } of cells.values()) {
    const p = count / total;
    if (human === ai) {
      diagonal += p * (1 - (humanShare(human) + aiShare(human)) * slack) ** 2;
    } else {
      offDiagonal += p * (aiShare(human) + humanShare(ai)) ** 2;
    }
  }
  const centre = kappa - expected * slack;
  const variance = (diagonal + slack * slack * offDiagonal - centre * centre) / (total * (1 - expected) ** 2);
  // Rounding can leave a tiny negative where the exact variance is 0 (perfect agreement).
  const se = Math.sqrt(Math.max(0, variance));
  return {
    kappa,
    lower: Math.max(-1, kappa - z * se),
    upper: Math.min(1, kappa + z * se),
  };
}
