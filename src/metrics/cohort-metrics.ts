import {
  confusionMatrix,
  majorityBaseline,
  perLabelPrecisionRecall,
} from '../statistics/confusion-matrix.js';
import { cohensKappaInterval } from '../statistics/kappa.js';
import { wilsonLowerBound } from '../statistics/wilson.js';
import { type ErrorCostSpec, errorCostEvidence } from './error-cost.js';
import type { CohortAggregate, CohortKey, CohortMetrics, SegmentMetrics } from './metrics-types.js';

export interface CohortMetricsOptions {
  /** The plan's `humanCostPerDecision` (USD). */
  humanCostPerDecision: number;
  /** The plan's labels for `label` decisions; absent for `json` (no kappa, no confusion matrix). */
  labels?: readonly string[];
  /** Of the Wilson lower bounds. */
  confidence?: number;
  /** The plan's price of errors (label decisions only); absent: no error cost is reported. */
  errorCosts?: ErrorCostSpec;
  /** The plan's `confidence`: of the error cost's bounds (default 0.95). */
  gateConfidence?: number;
  /** A limited-autonomous cohort: its `auditRate`, to tell the share of decisions the AI made. */
  autonomousAuditRate?: number;
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
  const confusion = opts.labels ? confusionMatrix(opts.labels, agg.confusion) : null;
  const errorCost =
    opts.labels && opts.errorCosts
      ? errorCostEvidence(agg.confusion, opts.errorCosts, opts.gateConfidence ?? 0.95)
      : null;
  const expectedErrorCostPerDecision =
    opts.autonomousAuditRate === undefined
      ? null
      : (errorCost?.perDecision ?? 0) * aiDecidedShare(agg, opts.autonomousAuditRate);
  const costPerDecision =
    aiCostPerDecision === null
      ? null
      : finite(aiCostPerDecision + humanCostPerDecision + (expectedErrorCostPerDecision ?? 0));

  const monthlyVolume = monthlyRate(decisions, agg.firstDecisionAt, agg.lastDecisionAt);
  const monthlyCost =
    monthlyVolume === null || costPerDecision === null ? null : finite(monthlyVolume * costPerDecision);
  const monthlySavings = monthlyCost === null ? null : finite(monthlyVolume! * planHumanCost - monthlyCost);

  const failedWithHuman = count(agg.aiFailedWithHuman);
  const answered = aiAttempted - count(agg.aiErrors);
  const kappa = opts.labels ? cohensKappaInterval(agg.confusion, confidence) : null;

  return {
    stage: agg.stage,
    aiConfig: agg.aiConfig,
    modelVersion: agg.modelVersion,
    ...agreementStats(agg.scoreSum, agg.compared, confidence),
    decisions,
    kappa: kappa ? finite(kappa.kappa) : null,
    kappaInterval: kappa ? { lower: kappa.lower, upper: kappa.upper } : null,
    aiFailedWithHuman: failedWithHuman,
    agreementWithFailures: ratio(agg.scoreSum, count(agg.compared) + failedWithHuman),
    coverage: ratio(answered, aiAttempted + count(agg.pendingAi)),
    majorityBaseline: confusion ? majorityBaseline(confusion) : null,
    errorCost,
    expectedErrorCostPerDecision: finite(expectedErrorCostPerDecision),
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
    perLabel: confusion ? withFailures(perLabelPrecisionRecall(confusion), agg.labelFailures) : null,
    segments: segmentMetrics(agg.segments, confidence),
  };
}

/**
 * The share of a limited-autonomous cohort's decisions the AI made: those without a human
 * decision are the unaudited autonomous ones, a (1 − auditRate) part of all it decided (the
 * audited ones carry the auditor's decision, as escalations carry the human's).
 */
function aiDecidedShare(agg: CohortAggregate, auditRate: number): number {
  const decisions = count(agg.decisions);
  if (decisions === 0) return 0;
  const unaudited = Math.max(0, decisions - count(agg.humanDecisions)) / decisions;
  return Math.min(1, auditRate >= 1 ? 1 : unaudited / (1 - auditRate));
}

function withFailures(
  labels: ReturnType<typeof perLabelPrecisionRecall>,
  failures: CohortAggregate['labelFailures'],
) {
  if (failures.length === 0) return labels;
  const byLabel = new Map<string, number>();
  for (const f of failures) byLabel.set(f.human, (byLabel.get(f.human) ?? 0) + count(f.count));
  return labels.map((l) => ({ ...l, aiFailures: byLabel.get(l.label) ?? 0 }));
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
  const merged = new Map<
    string,
    { segment: string; value: string; compared: number; scoreSum: number; failed: number }
  >();
  for (const row of rows) {
    const key = JSON.stringify([row.segment, row.value]);
    const seen = merged.get(key);
    if (seen) {
      seen.compared += row.compared;
      seen.scoreSum += row.scoreSum;
      seen.failed += row.failed;
    } else {
      merged.set(key, { ...row });
    }
  }
  return [...merged.values()]
    .sort((a, b) => compareOrdinal(a.segment, b.segment) || compareOrdinal(a.value, b.value))
    .map(({ segment, value, compared, scoreSum, failed }) => ({
      segment,
      value,
      ...agreementStats(scoreSum, compared, confidence),
      aiFailures: count(failed),
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

/** A cohort with nothing observed yet: the start of a simulation, a fixture, a cohort before its first decision. */
export function emptyCohortMetrics(key: CohortKey): CohortMetrics {
  return {
    ...key,
    samples: 0,
    agreement: null,
    agreementLowerBound: null,
    decisions: 0,
    kappa: null,
    kappaInterval: null,
    aiCalls: 0,
    aiErrors: 0,
    aiErrorRate: null,
    aiFailedWithHuman: 0,
    agreementWithFailures: null,
    coverage: null,
    majorityBaseline: null,
    errorCost: null,
    expectedErrorCostPerDecision: null,
    latencyP50Ms: null,
    latencyP95Ms: null,
    inputTokens: 0,
    outputTokens: 0,
    aiCostPerDecision: null,
    humanCostPerDecision: 0,
    costPerDecision: null,
    monthlyVolume: null,
    monthlyCost: null,
    monthlySavings: null,
    pendingHuman: 0,
    pendingAi: 0,
    firstDecisionAt: null,
    lastDecisionAt: null,
    confusion: null,
    perLabel: null,
    segments: [],
  };
}
