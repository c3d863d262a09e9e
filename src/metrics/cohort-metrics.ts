import { confusionMatrix, perLabelPrecisionRecall } from '../statistics/confusion-matrix.js';
import { cohensKappa } from '../statistics/kappa.js';
import { wilsonLowerBound } from '../statistics/wilson.js';
import type { CohortAggregate, CohortMetrics, SegmentMetrics } from './metrics-types.js';

export interface CohortMetricsOptions {
  /** The plan's `humanCostPerDecision` (USD). */
  humanCostPerDecision: number;
  /** The plan's labels for `label` decisions; absent for `json` (no kappa, no confusion matrix). */
  labels?: readonly string[];
  /** Of the Wilson lower bounds. */
  confidence?: number;
}

const DAY_MS = 86_400_000;
const MONTH_MS = 30 * DAY_MS;

/**
 * Turns what SQL aggregated for one cohort into its metrics (README "Metrics"). Pure.
 * Every ratio whose denominator is zero, and anything that would be NaN or ±Infinity, is null.
 */
export function computeCohortMetrics(agg: CohortAggregate, opts: CohortMetricsOptions): CohortMetrics {
  const confidence = opts.confidence ?? 0.95;
  const planHumanCost = finiteOr(opts.humanCostPerDecision, 0);
  const decisions = count(agg.decisions);
  const aiAttempted = count(agg.aiAttempted);

  const aiCostPerDecision = ratio(agg.aiCostSum, aiAttempted);
  // Decisions without a human (autonomous ones) cost no human time.
  const humanCostPerDecision =
    decisions > 0
      ? finiteOr(planHumanCost * (count(agg.humanDecisions) / decisions), planHumanCost)
      : planHumanCost;
  const costPerDecision =
    aiCostPerDecision === null ? null : finite(aiCostPerDecision + humanCostPerDecision);

  const monthlyVolume = monthlyRate(decisions, agg.firstDecisionAt, agg.lastDecisionAt);
  const monthlyCost =
    monthlyVolume === null || costPerDecision === null ? null : finite(monthlyVolume * costPerDecision);
  const monthlySavings = monthlyCost === null ? null : finite(monthlyVolume! * planHumanCost - monthlyCost);

  const confusion = opts.labels ? confusionMatrix(opts.labels, agg.confusion) : null;

  return {
    stage: agg.stage,
    aiConfig: agg.aiConfig,
    modelVersion: agg.modelVersion,
    ...agreementStats(agg.scoreSum, agg.compared, confidence),
    decisions,
    kappa: opts.labels ? finite(cohensKappa(agg.confusion)) : null,
    aiCalls: aiAttempted,
    aiErrors: count(agg.aiErrors),
    aiErrorRate: ratio(agg.aiErrors, aiAttempted),
    latencyP50Ms: finite(agg.latencyP50Ms),
    latencyP95Ms: finite(agg.latencyP95Ms),
    inputTokens: count(agg.inputTokensSum),
    outputTokens: count(agg.outputTokensSum),
    aiCostPerDecision,
    humanCostPerDecision,
    costPerDecision,
    monthlyVolume,
    monthlyCost,
    monthlySavings,
    pendingHuman: count(agg.pendingHuman),
    pendingAi: count(agg.pendingAi),
    firstDecisionAt: isoOrNull(agg.firstDecisionAt),
    lastDecisionAt: isoOrNull(agg.lastDecisionAt),
    confusion,
    perLabel: confusion ? perLabelPrecisionRecall(confusion) : null,
    segments: segmentMetrics(agg.segments, confidence),
  };
}

function agreementStats(scoreSum: number, compared: number, confidence: number) {
  const samples = count(compared);
  return {
    samples,
    agreement: ratio(scoreSum, samples),
    agreementLowerBound: finite(wilsonLowerBound(scoreSum, samples, confidence)),
  };
}

/** One entry per (segment, value), rows for the same pair merged, sorted by segment then value. */
function segmentMetrics(rows: CohortAggregate['segments'], confidence: number): SegmentMetrics[] {
  const merged = new Map<string, { segment: string; value: string; compared: number; scoreSum: number }>();
  for (const row of rows) {
    const key = JSON.stringify([row.segment, row.value]);
    const seen = merged.get(key);
    if (seen) {
      seen.compared += row.compared;
      seen.scoreSum += row.scoreSum;
    } else {
      merged.set(key, { ...row });
    }
  }
  return [...merged.values()]
    .sort((a, b) => compareOrdinal(a.segment, b.segment) || compareOrdinal(a.value, b.value))
    .map(({ segment, value, compared, scoreSum }) => ({
      segment,
      value,
      ...agreementStats(scoreSum, compared, confidence),
    }));
}

/**
 * Decisions per 30 days. n decisions from the first to the last span n − 1 arrival intervals,
 * so the observed rate is (n − 1) / span; null with fewer than 2 decisions or no span.
 */
function monthlyRate(decisions: number, first: Date | null, last: Date | null): number | null {
  if (decisions < 2 || !first || !last) return null;
  const spanMs = last.getTime() - first.getTime();
  if (!(spanMs > 0)) return null;
  return finite(((decisions - 1) / spanMs) * MONTH_MS);
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? finite(numerator / denominator) : null;
}

function finite(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

/** Counts are never null in the output; a non-finite one (a bug upstream) reads as 0. */
function count(value: number): number {
  return finiteOr(value, 0);
}

function isoOrNull(date: Date | null): string | null {
  return date && Number.isFinite(date.getTime()) ? date.toISOString() : null;
}

function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
