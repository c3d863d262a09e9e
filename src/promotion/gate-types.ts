import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { Mode, Plan, PromotableStage } from '../plans/plan-schema.js';

/**
 * A gate's verdict (README "Gates and guards"). The worst criterion wins: blocked > inconclusive
 * > eligible. `none`: the stage has no next stage or no `promoteWhen`, so there is nothing to judge.
 */
export type GateVerdict = 'eligible' | 'inconclusive' | 'blocked' | 'none';

/**
 * A criterion's state: it `holds`; it does not hold yet but more evidence may still change that
 * (`inconclusive`); or it does not hold on the evidence the plan asks for and blocks the gate.
 */
export type CriterionStatus = 'holds' | 'inconclusive' | 'blocked';

/** One criterion of `promoteWhen`. */
export interface Criterion {
  /** The plan's field name, or `segment:<field>=<value>` for one segment value. */
  name: string;
  required: number | string;
  /** Null when there is nothing to measure yet. */
  actual: number | string | null;
  status: CriterionStatus;
  /** `status === 'holds'`, kept for readers of the API that predate `status`. */
  holds: boolean;
  detail?: string;
  /** Agreement criteria: the mean agreement observed (null without samples)… */
  observed?: number | null;
  /** …and the compared decisions the bound is computed from (the ratings, for the judge's calibration). */
  samples?: number;
  /** `judgeAgreementLowerBound`: the judge version whose ratings it counts. */
  judgeVersion?: string | null;
}

export interface GateAssessment {
  fromStage: Mode;
  targetStage: PromotableStage | null;
  verdict: GateVerdict;
  criteria: Criterion[];
  approval: 'manual' | 'automatic';
  /** The plan's bound for the agreement criteria (README "Gates and guards") and its confidence. */
  statistics: Plan['statistics'];
  confidence: number;
  /** Label decisions: what always answering the most common human label would agree (the cohort's). */
  majorityBaseline: { label: string; agreement: number } | null;
  /** What a reader should know before trusting the verdict (e.g. a threshold a trivial AI clears). */
  warnings: GateWarning[];
}

export interface GateWarning {
  code: 'majority-baseline';
  message: string;
}

export interface GateInput {
  plan: Plan;
  stage: Mode;
  /**
   * The current stage's cohort for the current AI configuration and model version: the only
   * evidence a gate counts. Null when there is none yet.
   */
  metrics: CohortMetrics | null;
  stageEnteredAt: Date;
  now: Date;
}
