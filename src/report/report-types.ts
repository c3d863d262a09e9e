import type { LabelMetrics } from '../metrics/metrics-types.js';
import type { StageSummary } from '../metrics/stage-summary.js';
import type { UseCaseSummary } from '../metrics/use-case-reader.js';
import type { Mode, RollbackWhen } from '../plans/plan-schema.js';
import type { CriterionStatus, GateAssessment } from '../promotion/gate-types.js';

/** `GET /v1/use-cases/:id` as the reader answers it: the report takes its figures from here. */
export interface UseCaseDetail extends UseCaseSummary {
  stageVersion: number;
  planHash: string;
  aiConfig: string;
  segments: string[];
  metrics: { stages: StageSummary[] };
  gate: GateAssessment | null;
}

export interface CohortRef {
  stage: Mode;
  aiConfig: string;
  modelVersion: string | null;
}

export interface SegmentEvidence {
  segment: string;
  value: string;
  samples: number;
  agreement: number | null;
  agreementLowerBound: number | null;
  /** Fewer compared decisions than the current stage's `minSegmentSamples` (null without a gate). */
  underMinSamples: boolean | null;
}

export interface CohortEvidence extends CohortRef {
  /** The cohort the current gate counts (current stage and AI configuration, latest model version). */
  current: boolean;
  decisions: number;
  samples: number;
  agreement: number | null;
  agreementLowerBound: number | null;
  kappa: number | null;
  aiCalls: number;
  aiErrors: number;
  aiErrorRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  firstDecisionAt: string | null;
  lastDecisionAt: string | null;
  confusion: { labels: string[]; matrix: number[][] } | null;
  perLabel: LabelMetrics[] | null;
  segments: SegmentEvidence[];
}

export interface StageEvidence {
  stage: Mode;
  decisions: number;
  samples: number;
  pendingHuman: number;
  pendingAi: number;
  cohorts: CohortEvidence[];
}

export interface CohortCosts extends CohortRef {
  current: boolean;
  aiCostPerDecision: number | null;
  humanCostPerDecision: number;
  costPerDecision: number | null;
  monthlyVolume: number | null;
  monthlyCost: number | null;
  /** `humanCostPerDecision` of the plan × `monthlyVolume`: what the same volume costs all-human. */
  allHumanMonthlyCost: number | null;
  monthlySavings: number | null;
}

export interface EventTally {
  count: number;
  first: string | null;
  last: string | null;
}

export interface GuardTrip {
  at: string;
  stage: string | null;
  action: string | null;
  checks: Array<{ name: string; threshold: number; actual: number | null; samples: number; trips: boolean }>;
}

export interface StageGuard {
  stage: Mode;
  rollbackWhen: RollbackWhen | null;
  rollbackTo: Mode | null;
  /** Trips of this stage's guard, all time. */
  trips: EventTally;
}

export interface TransitionEvidence {
  verdict: string | null;
  targetStage: string | null;
  samples: number | null;
  agreement: number | null;
  agreementLowerBound: number | null;
  aiErrorRate: number | null;
  latencyP95Ms: number | null;
  aiCostPerDecision: number | null;
  modelVersion: string | null;
  /** Criteria of the gate that did not hold at that moment. */
  notHolding: Array<{
    name: string;
    required: number | string;
    actual: number | string | null;
    status: CriterionStatus;
  }>;
  /** A guard's checks, when a guard made the move. */
  guard: GuardTrip['checks'] | null;
}

export interface TransitionEntry {
  at: string;
  from: string | null;
  to: string;
  /** create, promote, rollback, guard, disable, enable (from the audit log). */
  kind: string | null;
  actor: string;
  reason: string;
  forced: boolean;
  planVersion: number;
  modelVersion: string | null;
  stageVersion: number;
  evidence: TransitionEvidence | null;
}

export interface GateCriterionEntry {
  name: string;
  required: number | string;
  actual: number | string | null;
  status: CriterionStatus;
  detail: string | null;
  observed: number | null;
  samples: number | null;
}

export type RiskKind =
  | 'disabled'
  | 'no-evidence'
  | 'criterion'
  | 'thin-segment'
  | 'pending'
  | 'forced-promotion'
  | 'guard-tripped'
  | 'budget-exhausted'
  | 'flag-repaired';

export interface Risk {
  kind: RiskKind;
  message: string;
}

export interface PlanVersionEntry {
  version: number;
  textHash: string;
  format: string;
  aiConfig: string;
  appliedBy: string;
  appliedAt: string;
}

export interface EvidenceReport {
  kind: 'shadowgate.evidence-report';
  generatedAt: string;
  useCase: {
    id: string;
    owner: string;
    description: string | null;
    stage: Mode;
    stageEnteredAt: string;
    stageVersion: number;
    decision: { type: 'label' | 'json'; labels: string[] | null };
    segments: string[];
  };
  plan: PlanVersionEntry & {
    adapter: string;
    statistics: string;
    confidence: number;
    /** Every version, newest first. */
    history: PlanVersionEntry[];
  };
  humanBaseline: {
    humanCostPerDecision: number;
    /** Per stage: its decisions, and the latest cohort's monthly volume and what it costs all-human. */
    stages: Array<{
      stage: Mode;
      decisions: number;
      monthlyVolume: number | null;
      allHumanMonthlyCost: number | null;
    }>;
  };
  /** Cohort bounds are Wilson 95%; the gate's bounds follow the plan's statistics and confidence. */
  evaluation: { currentCohort: CohortRef | null; stages: StageEvidence[] };
  guards: {
    stages: StageGuard[];
    /** The latest trips, newest first. */
    recentTrips: GuardTrip[];
    budget: { maxDailyCost: number | null; exhaustedDays: EventTally };
  };
  transitions: TransitionEntry[];
  costs: CohortCosts[];
  gate: {
    fromStage: Mode;
    targetStage: string | null;
    verdict: string;
    approval: string;
    statistics: string;
    confidence: number;
    criteria: GateCriterionEntry[];
  } | null;
  risks: Risk[];
}
