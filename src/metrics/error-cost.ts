import { type ErrorCosts, maxErrorCost } from '../plans/plan-schema.js';
import { boundedMeanLowerBound, boundedMeanUpperBound } from '../statistics/bounded-mean.js';
import { checkCount, type LabelPairCount } from '../statistics/label-counts.js';

/** The plan's price of the AI's errors: `errorCosts[ai][human]`, else `defaultErrorCost`. */
export interface ErrorCostSpec {
  costs: ErrorCosts | undefined;
  defaultCost: number;
}

/** The mean cost of the AI's errors per compared decision, with its anytime-valid bounds (USD). */
export interface ErrorCostEvidence {
  /** Mean cost per compared label decision; null before the first. */
  perDecision: number | null;
  /** Confidence-sequence bounds of that mean at the plan's confidence (one-sided each). */
  upperBound: number | null;
  lowerBound: number | null;
  /** Compared label decisions the mean is taken over. */
  samples: number;
  /** The largest cost of one decision under the plan: the range the bound pays for. */
  maxCost: number;
}

/** What the AI answering `ai` costs when the human said `human`: 0 when they agree. */
export function pairCost(spec: ErrorCostSpec, ai: string, human: string): number {
  if (ai === human) return 0;
  const row =
    spec.costs === undefined ? undefined : Object.hasOwn(spec.costs, ai) ? spec.costs[ai] : undefined;
  return row !== undefined && Object.hasOwn(row, human) ? row[human]! : spec.defaultCost;
}

export function maxPairCost(spec: ErrorCostSpec): number {
  return maxErrorCost({ errorCosts: spec.costs, defaultErrorCost: spec.defaultCost });
}

/**
 * The error cost of a cohort from its confusion counts, each decision's cost being a function of
 * its (AI, human) cell. Costs scale to [0, 1] by the largest cost C, so the bounded-mean
 * confidence sequence (statistics/bounded-mean.ts) applies to their running sums, which the
 * counts give exactly: n = Σ count, Σx = Σ count·c/C, Σx² = Σ count·(c/C)². Decisions whose AI
 * call failed are not in the counts: such a request went to a human, so it cost no AI error.
 */
export function errorCostEvidence(
  confusion: readonly LabelPairCount[],
  spec: ErrorCostSpec,
  confidence: number,
): ErrorCostEvidence {
  const maxCost = maxPairCost(spec);
  let n = 0;
  let total = 0;
  let sum = 0;
  let sumSquares = 0;
  for (const entry of confusion) {
    const count = checkCount(entry);
    if (count === 0) continue;
    const cost = pairCost(spec, entry.ai, entry.human);
    n += count;
    total += count * cost;
    if (maxCost > 0) {
      const x = cost / maxCost;
      sum += count * x;
      sumSquares += count * x * x;
    }
  }
  if (n === 0) return { perDecision: null, upperBound: null, lowerBound: null, samples: 0, maxCost };
  if (maxCost === 0) return { perDecision: 0, upperBound: 0, lowerBound: 0, samples: n, maxCost };
  const alpha = 1 - confidence;
  const sums = { n, sum: Math.min(sum, n), sumSquares: Math.min(sumSquares, sum, n) };
  const upper = boundedMeanUpperBound(sums, alpha);
  const lower = boundedMeanLowerBound(sums, alpha);
  return {
    perDecision: total / n,
    upperBound: upper === null ? null : upper * maxCost,
    lowerBound: lower === null ? null : lower * maxCost,
    samples: n,
    maxCost,
  };
}
