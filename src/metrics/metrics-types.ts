import type { LabelMetrics } from '../statistics/confusion-matrix.js';
import type { Mode } from '../plans/plan-schema.js';
import type { ErrorCostEvidence } from './error-cost.js';
import type { JudgeCalibration } from './judge-calibration.js';

/**
 * Metrics are kept per cohort: use case × stage × AI configuration × model version.
 * Evidence for a gate is only ever taken from one cohort (see README "Gates and guards").
 */
export interface CohortKey {
  stage: Mode;
  /** Hash of what is measured: AI adapter, url, model, prompt, comparator, decision schema. */
  aiConfig: string;
  /** As reported by the AI system; null while no AI answer carried one. */
  modelVersion: string | null;
}

/** What SQL hands to the pure metrics computation for one cohort. */
export interface CohortAggregate extends CohortKey {
  decisions: number;
  /** Decisions with both sides and a comparison score. */
  compared: number;
  /** Sum of comparison scores (1 agree, 0 disagree, partial for `fields`). */
  scoreSum: number;
  /** AI calls that ended (answered or failed for good). */
  aiAttempted: number;
  aiErrors: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  aiCostSum: number;
  inputTokensSum: number;
  outputTokensSum: number;
  /** Decisions that carry a human decision (each costs `humanCostPerDecision`). */
  humanDecisions: number;
  pendingHuman: number;
  pendingAi: number;
  /** AI calls failed for good on decisions a human decided: disagreements under `aiFailures: disagree`. */
  aiFailedWithHuman: number;
  firstDecisionAt: Date | null;
  lastDecisionAt: Date | null;
  /** For `label` decisions: compared decisions counted by (human label, AI label). */
  confusion: Array<{ human: string; ai: string; count: number }>;
  /** Compared decisions per value of each plan segment. */
  segments: Array<{ segment: string; value: string; compared: number; scoreSum: number; failed: number }>;
  /** For `label` decisions: AI calls failed for good, by the human's label. */
  labelFailures: Array<{ human: string; count: number }>;
}

export interface AgreementStats {
  samples: number;
  agreement: number | null;
  /** Wilson score lower bound, 95%. */
  agreementLowerBound: number | null;
}

export interface SegmentMetrics extends AgreementStats {
  segment: string;
  value: string;
  /** AI calls failed for good on this value's human-decided requests (not in `samples`). */
  aiFailures: number;
}

/** Precision and recall per label come from the confusion matrix (statistics/), which defines them. */
export type { LabelMetrics };

export interface CohortMetrics extends CohortKey, AgreementStats {
  decisions: number;
  kappa: number | null;
  aiCalls: number;
  aiErrors: number;
  aiErrorRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  inputTokens: number;
  outputTokens: number;
  /** AI calls failed for good on requests a human decided: disagreements under `aiFailures: disagree`. */
  aiFailedWithHuman: number;
  /** Agreement with those failures counted as disagreements: scoreSum / (samples + aiFailedWithHuman). */
  agreementWithFailures: number | null;
  /** Decisions with an AI answer / decisions owed one (answered, failed for good, or still owed). */
  coverage: number | null;
  /** Cohen's kappa's interval at 95% (a fixed-sample one, for reading; no gate uses it). */
  kappaInterval: { lower: number; upper: number } | null;
  /** The agreement of always answering the human's most common label (label decisions). */
  majorityBaseline: { label: string; agreement: number } | null;
  /** The mean cost of the AI's errors per compared decision, when the plan prices errors. */
  errorCost: ErrorCostEvidence | null;
  /**
   * limited-autonomous: the error cost per decision the AI decides (errorCost × its share of the
   * decisions), part of `costPerDecision`; null elsewhere (a human decides).
   */
  expectedErrorCostPerDecision: number | null;
  aiCostPerDecision: number | null;
  humanCostPerDecision: number;
  /** AI cost + human cost of the share a human decided or audited + `expectedErrorCostPerDecision`. */
  costPerDecision: number | null;
  /** Decisions per 30 days at the rate observed between the first and last decision. */
  monthlyVolume: number | null;
  monthlyCost: number | null;
  /** All-human baseline (`humanCostPerDecision` × volume) minus `monthlyCost`. */
  monthlySavings: number | null;
  pendingHuman: number;
  pendingAi: number;
  firstDecisionAt: string | null;
  lastDecisionAt: string | null;
  confusion: { labels: string[]; matrix: number[][] } | null;
  perLabel: LabelMetrics[] | null;
  segments: SegmentMetrics[];
  /**
   * The gate's cohort of a plan whose comparator is a judge: the judge's agreement with people per
   * judge version of the serving plan version (README "Is the judge right?"). Absent elsewhere.
   */
  judgeCalibration?: JudgeCalibration;
}
