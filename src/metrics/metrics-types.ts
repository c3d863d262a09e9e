import type { LabelMetrics } from '../statistics/confusion-matrix.js';
import type { Mode } from '../plans/plan-schema.js';

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
  firstDecisionAt: Date | null;
  lastDecisionAt: Date | null;
  /** For `label` decisions: compared decisions counted by (human label, AI label). */
  confusion: Array<{ human: string; ai: string; count: number }>;
  /** Compared decisions per value of each plan segment. */
  segments: Array<{ segment: string; value: string; compared: number; scoreSum: number }>;
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
  aiCostPerDecision: number | null;
  humanCostPerDecision: number;
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
}
