import type { CohortMetrics, SegmentMetrics } from '../metrics/metrics-types.js';
import { currentCalibration, type JudgeCalibration } from '../metrics/judge-calibration.js';
import { judgeAgreementBar } from '../plans/judge-comparator.js';
import { duration } from '../format/figures.js';
import { parseDurationMs } from '../plans/duration.js';
import {
  type Mode,
  type Plan,
  type PromoteWhen,
  type PromotableStage,
  STAGES,
} from '../plans/plan-schema.js';
import {
  type AgreementStatistics,
  agreementLowerBoundFor,
  agreementUpperBoundFor,
} from '../statistics/agreement-bound.js';
import type {
  Criterion,
  CriterionStatus,
  GateAssessment,
  GateInput,
  GateVerdict,
  GateWarning,
} from './gate-types.js';

/**
 * The gate of a stage, as a pure function of the plan, the stage's evidence and the clock.
 *
 * When a criterion fails on enough evidence (it blocks) and when it is still inconclusive:
 * - The plan's evidence floor is `minSamples` and `minDuration`: until both are met, nothing is
 *   judged on its point value, and a criterion below its threshold is inconclusive.
 * - Agreement bounds (overall and per segment) may block earlier, when the interval's upper end is
 *   below the threshold: the evidence already shows the criterion cannot come to hold.
 * - Once the floor is met, an agreement lower bound still under its threshold blocks, as any other
 *   failing criterion does; a segment value under `minSegmentSamples` stays inconclusive.
 *
 * Segments, labels and the error cost do not split the error budget. A promotion needs every
 * criterion to hold, so if any one of them is false in truth the gate passes only when that
 * criterion's own bound is wrong, which happens with probability at most α = 1 − confidence (an
 * intersection-union test). Splitting α would guard against "some segment or label passes by
 * luck", which never promotes on its own. (docs/gates.md measures it with one label at its bar.)
 *
 * Under `aiFailures: disagree` (the default) a request whose AI call failed for good, once a human
 * decided it, counts as a disagreement in every agreement bound (overall, segment, label recall):
 * an AI that fails on the hard cases does not look better than it is.
 */
export function assessGate(input: GateInput): GateAssessment {
  const { plan, stage } = input;
  const targetStage = nextStage(plan, stage);
  const approval = stage === 'disabled' ? 'manual' : (plan.stages[stage]?.approval ?? 'manual');
  const promoteWhen = promoteWhenOf(plan, stage);
  const statistics = { statistics: plan.statistics, confidence: plan.confidence };
  const majorityBaseline = input.metrics?.majorityBaseline ?? null;
  const base = { approval, ...statistics, majorityBaseline };
  if (targetStage === null || promoteWhen === undefined) {
    return { fromStage: stage, targetStage, verdict: 'none', criteria: [], ...base, warnings: [] };
  }
  const criteria = gateCriteria(plan, promoteWhen, input);
  const warnings = gateWarnings(promoteWhen, majorityBaseline);
  return { fromStage: stage, targetStage, verdict: verdictOf(criteria), criteria, ...base, warnings };
}

/**
 * An agreement bar at or below what always answering the most common label reaches lets a
 * useless AI through, unless per-label or error-cost criteria look at the rare labels.
 */
export function gateWarnings(
  when: PromoteWhen,
  baseline: { label: string; agreement: number } | null,
): GateWarning[] {
  const bar = when.agreementLowerBound;
  if (baseline === null || bar === undefined || bar > baseline.agreement) return [];
  const perLabel =
    Object.keys(when.labelRecallLowerBound ?? {}).length > 0 ||
    Object.keys(when.labelPrecisionLowerBound ?? {}).length > 0 ||
    when.maxErrorCostPerDecision !== undefined;
  if (perLabel) return [];
  const share = `${Math.round(baseline.agreement * 1000) / 10}%`;
  return [
    {
      code: 'majority-baseline',
      message: `agreementLowerBound ${bar} is at or below the ${share} an AI that always answers "${baseline.label}" agrees on this traffic; add labelRecallLowerBound or maxErrorCostPerDecision so the rarer labels are judged`,
    },
  ];
}

/** The next stage the plan has after `stage` (shadow → human-reviewed → limited-autonomous). */
export function nextStage(plan: Plan, stage: Mode): PromotableStage | null {
  if (stage === 'disabled') return null;
  return STAGES.slice(STAGES.indexOf(stage) + 1).find((s) => plan.stages[s] !== undefined) ?? null;
}

export function verdictOf(criteria: readonly Pick<Criterion, 'status'>[]): GateVerdict {
  let verdict: GateVerdict = 'eligible';
  for (const c of criteria) {
    if (c.status === 'blocked') return 'blocked';
    if (c.status === 'inconclusive') verdict = 'inconclusive';
  }
  return verdict;
}

/** A criterion in `status`, with `holds` derived from it (the two never disagree). */
function criterion(status: CriterionStatus, fields: Omit<Criterion, 'status' | 'holds'>): Criterion {
  const { name, required, actual, ...rest } = fields;
  return { name, required, actual, status, holds: status === 'holds', ...rest };
}

function promoteWhenOf(plan: Plan, stage: Mode): PromoteWhen | undefined {
  if (stage === 'shadow') return plan.stages.shadow.promoteWhen;
  if (stage === 'human-reviewed') return plan.stages['human-reviewed']?.promoteWhen;
  return undefined;
}

interface Evidence {
  statistics: AgreementStatistics;
  confidence: number;
  /** minSamples and minDuration are both met. */
  floorMet: boolean;
  /** `aiFailures: disagree`: failures on human-decided requests count as disagreements. */
  failuresDisagree: boolean;
}

function gateCriteria(plan: Plan, when: PromoteWhen, input: GateInput): Criterion[] {
  const { metrics } = input;
  const samples = metrics?.samples ?? 0;
  const elapsedMs = Math.max(0, input.now.getTime() - input.stageEnteredAt.getTime());
  const durationMs = when.minDuration === undefined ? 0 : parseDurationMs(when.minDuration);
  const evidence: Evidence = {
    statistics: plan.statistics,
    confidence: plan.confidence,
    floorMet: samples >= when.minSamples && elapsedMs >= durationMs,
    failuresDisagree: plan.aiFailures === 'disagree',
  };
  const failures = (n: number) => (evidence.failuresDisagree ? n : 0);

  const criteria: Criterion[] = [
    floorCriterion('minSamples', when.minSamples, samples, samples >= when.minSamples),
  ];
  if (when.minDuration !== undefined) {
    const required = typeof when.minDuration === 'string' ? when.minDuration : duration(durationMs);
    criteria.push(floorCriterion('minDuration', required, duration(elapsedMs), elapsedMs >= durationMs));
  }
  if (when.agreementLowerBound !== undefined) {
    const sum = metrics?.agreement == null ? 0 : metrics.agreement * samples;
    const n = samples + failures(metrics?.aiFailedWithHuman ?? 0);
    criteria.push(boundCriterion('agreementLowerBound', when.agreementLowerBound, sum, n, 0, evidence));
  }
  if (when.maxAiErrorRate !== undefined) {
    const actual = metrics?.aiErrorRate ?? null;
    criteria.push(maxCriterion('maxAiErrorRate', when.maxAiErrorRate, actual, 'no AI calls yet', evidence));
  }
  if (when.maxP95LatencyMs !== undefined) {
    const actual = metrics?.latencyP95Ms ?? null;
    criteria.push(
      maxCriterion('maxP95LatencyMs', when.maxP95LatencyMs, actual, 'no AI latency yet', evidence),
    );
  }
  if (when.maxAiCostPerDecision !== undefined) {
    const actual = metrics?.aiCostPerDecision ?? null;
    criteria.push(
      maxCriterion('maxAiCostPerDecision', when.maxAiCostPerDecision, actual, 'no AI calls yet', evidence),
    );
  }
  if (when.segmentAgreementLowerBound !== undefined && metrics !== null) {
    segmentCriteria(
      criteria,
      plan,
      when.segmentAgreementLowerBound,
      when.minSegmentSamples,
      metrics,
      evidence,
    );
  }
  labelCriteria(criteria, when, metrics, evidence);
  if (when.maxErrorCostPerDecision !== undefined) {
    criteria.push(errorCostCriterion(when.maxErrorCostPerDecision, metrics, evidence));
  }
  const judgeBar = judgeAgreementBar(plan, when);
  if (judgeBar !== undefined) {
    criteria.push(judgeCriterion(judgeBar, when.minJudgeRatings, metrics?.judgeCalibration, evidence));
  }
  return criteria;
}

/**
 * The judge's agreement with people's ratings, on the lower end of the same confidence sequence
 * as agreement, for the judge version that scored the cohort's newest judged decisions. It holds
 * once that bound reaches the bar on at least `minRatings` ratings, and is otherwise inconclusive,
 * never blocked: a judge that disagrees with people says nothing of the AI it scores, only that its
 * scores cannot be trusted yet (the detail says so when even the upper bound is under the bar).
 */
function judgeCriterion(
  threshold: number,
  minRatings: number,
  calibration: JudgeCalibration | undefined,
  evidence: Evidence,
): Criterion {
  const name = 'judgeAgreementLowerBound';
  const version = calibration?.currentJudgeVersion ?? null;
  const none = { name, required: threshold, actual: null, observed: null, samples: 0, judgeVersion: version };
  if (!calibration || version === null) {
    return criterion('inconclusive', { ...none, detail: 'no decision judged yet' });
  }
  const { agreed, rated } = currentCalibration(calibration);
  const lower = agreementLowerBoundFor(evidence.statistics, agreed, rated, evidence.confidence);
  if (lower === null) {
    return criterion('inconclusive', {
      ...none,
      detail: `no ratings of judge ${quoted(version)} yet: people rate the calibration sample`,
    });
  }
  const fields = { name, required: threshold, actual: lower, observed: agreed / rated, samples: rated };
  const withVersion = { ...fields, judgeVersion: version };
  if (lower >= threshold && rated >= minRatings) return criterion('holds', withVersion);
  const upper = agreementUpperBoundFor(evidence.statistics, agreed, rated, evidence.confidence)!;
  const why =
    upper < threshold
      ? `judge ${quoted(version)} agrees with people less than ${threshold} (upper bound ${round(upper)}): its scores cannot promote; fix or replace the judge`
      : rated < minRatings
        ? `${rated} of the ${minRatings} ratings the judge needs`
        : `below ${threshold} so far (upper bound ${round(upper)}): more ratings may show it`;
  return criterion('inconclusive', { ...withVersion, detail: why });
}

const quoted = (version: string) => (version === '' ? '(unversioned)' : version);

/**
 * Recall and precision of each label the plan names: agreement rates on the sub-streams the human
 * (recall) or the AI (precision) gave that label, so the same bound applies with their own counts.
 * A label with fewer than `minLabelSamples` of them is inconclusive, never a pass.
 */
function labelCriteria(
  into: Criterion[],
  when: PromoteWhen,
  metrics: CohortMetrics | null,
  evidence: Evidence,
): void {
  const recall = when.labelRecallLowerBound ?? {};
  const precision = when.labelPrecisionLowerBound ?? {};
  const byLabel = new Map((metrics?.perLabel ?? []).map((l) => [l.label, l]));
  for (const label of Object.keys(recall).sort()) {
    const l = byLabel.get(label);
    const n = (l?.support ?? 0) + (evidence.failuresDisagree ? (l?.aiFailures ?? 0) : 0);
    const name = `labelRecallLowerBound:${label}`;
    into.push(boundCriterion(name, recall[label]!, l?.hits ?? 0, n, when.minLabelSamples, evidence, 'label'));
  }
  for (const label of Object.keys(precision).sort()) {
    const l = byLabel.get(label);
    const name = `labelPrecisionLowerBound:${label}`;
    const threshold = precision[label]!;
    into.push(
      boundCriterion(
        name,
        threshold,
        l?.hits ?? 0,
        l?.predicted ?? 0,
        when.minLabelSamples,
        evidence,
        'label',
      ),
    );
  }
}

/**
 * The mean cost of the AI's errors per compared decision against its maximum, on the upper end of
 * its confidence sequence (metrics/error-cost.ts): holds when even that is at or below the
 * maximum; blocks past the evidence floor, or earlier when even the lower end is above it.
 */
function errorCostCriterion(max: number, metrics: CohortMetrics | null, evidence: Evidence): Criterion {
  const cost = metrics?.errorCost ?? null;
  const name = 'maxErrorCostPerDecision';
  const fields = (actual: number | null) => ({
    name,
    required: max,
    actual,
    observed: cost?.perDecision ?? null,
    samples: cost?.samples ?? 0,
  });
  if (cost === null || cost.upperBound === null) {
    return criterion('inconclusive', { ...fields(null), detail: 'no compared decisions yet' });
  }
  const upper = cost.upperBound;
  if (upper <= max) return criterion('holds', fields(upper));
  if (evidence.floorMet) {
    const why = `the upper bound is above ${max} on the evidence the plan asks for`;
    return criterion('blocked', { ...fields(upper), detail: why });
  }
  if (cost.lowerBound !== null && cost.lowerBound > max) {
    const why = `even the lower bound ${round(cost.lowerBound)} is above ${max}`;
    return criterion('blocked', { ...fields(upper), detail: why });
  }
  const why = `above ${max} so far (lower bound ${round(cost.lowerBound ?? 0)}); judged once minSamples and minDuration are met`;
  return criterion('inconclusive', { ...fields(upper), detail: why });
}

/** minSamples and minDuration: short of them, the gate waits (inconclusive), never blocks. */
function floorCriterion(
  name: string,
  required: number | string,
  actual: number | string,
  holds: boolean,
): Criterion {
  return criterion(holds ? 'holds' : 'inconclusive', { name, required, actual });
}

/**
 * Every value of a plan segment the cohort has seen, one criterion each, ordered by segment and
 * value. (Loops rather than callbacks, and no sort when already in order: this runs for every
 * segment value at every tick.)
 */
function segmentCriteria(
  into: Criterion[],
  plan: Plan,
  threshold: number,
  minSegmentSamples: number,
  metrics: CohortMetrics,
  evidence: Evidence,
): void {
  let segments = metrics.segments;
  for (let i = 1; i < segments.length; i++) {
    if (bySegmentAndValue(segments[i - 1]!, segments[i]!) > 0) {
      segments = [...segments].sort(bySegmentAndValue);
      break;
    }
  }
  for (const s of segments) {
    if (!plan.segments.includes(s.segment)) continue;
    const sum = s.agreement === null ? 0 : s.agreement * s.samples;
    const name = `segment:${s.segment}=${s.value}`;
    const n = s.samples + (evidence.failuresDisagree ? s.aiFailures : 0);
    into.push(boundCriterion(name, threshold, sum, n, minSegmentSamples, evidence));
  }
}

function bySegmentAndValue(x: SegmentMetrics, y: SegmentMetrics): number {
  if (x.segment !== y.segment) return x.segment < y.segment ? -1 : 1;
  return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
}

/**
 * A lower confidence bound of agreement against its threshold. `actual` is the bound; `observed`
 * and `samples` are what it was computed from. Details are short and carry no per-tick figures
 * unless they explain a failure: this runs for every segment value at every tick.
 */
function boundCriterion(
  name: string,
  threshold: number,
  sum: number,
  n: number,
  minSamples: number,
  evidence: Evidence,
  subset: 'segment value' | 'label' = 'segment value',
): Criterion {
  const lower = agreementLowerBoundFor(evidence.statistics, sum, n, evidence.confidence);
  if (lower === null) {
    return agreement(name, threshold, null, null, 0, 'inconclusive', 'no compared decisions yet');
  }
  const observed = sum / n;
  if (lower >= threshold && n >= minSamples) return agreement(name, threshold, lower, observed, n, 'holds');
  if (evidence.floorMet && n >= minSamples) {
    const why = `the lower bound is below ${threshold} on the evidence the plan asks for`;
    return agreement(name, threshold, lower, observed, n, 'blocked', why);
  }
  // Short of that evidence, only an interval wholly below the threshold blocks.
  const upper = agreementUpperBoundFor(evidence.statistics, sum, n, evidence.confidence)!;
  if (upper < threshold) {
    const why = `even the upper bound ${round(upper)} is below ${threshold}`;
    return agreement(name, threshold, lower, observed, n, 'blocked', why);
  }
  const why =
    n < minSamples
      ? `${n} of the ${minSamples} samples a ${subset} needs`
      : `below ${threshold} so far (upper bound ${round(upper)}); judged once minSamples and minDuration are met`;
  return agreement(name, threshold, lower, observed, n, 'inconclusive', why);
}

function agreement(
  name: string,
  required: number,
  actual: number | null,
  observed: number | null,
  samples: number,
  status: CriterionStatus,
  detail?: string,
): Criterion {
  const fields = { name, required, actual, observed, samples };
  return criterion(status, detail === undefined ? fields : { ...fields, detail });
}

/** maxAiErrorRate, maxP95LatencyMs, maxAiCostPerDecision: point values, judged past the floor. */
function maxCriterion(
  name: string,
  max: number,
  actual: number | null,
  none: string,
  evidence: Evidence,
): Criterion {
  const base = { name, required: max, actual };
  if (actual === null) return criterion('inconclusive', { ...base, detail: none });
  if (actual <= max) return criterion('holds', base);
  if (evidence.floorMet) return criterion('blocked', base);
  return criterion('inconclusive', {
    ...base,
    detail: 'above the maximum so far; judged once minSamples and minDuration are met',
  });
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
