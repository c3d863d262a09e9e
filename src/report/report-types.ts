import type { JudgeCalibration } from '../metrics/judge-calibration.js';
import type { VisitSummary } from '../promotion/journey-store.js';
import type { DriftGuardView, FieldDriftView, RateView } from '../metrics/drift-view.js';
import type { ErrorCostEvidence } from '../metrics/error-cost.js';
import type { LabelMetrics } from '../metrics/metrics-types.js';
import type { StageSummary } from '../metrics/stage-summary.js';
import type { DriftSummary, UseCaseSummary } from '../metrics/use-case-reader.js';
import type { ErrorCosts, Mode, RollbackWhen } from '../plans/plan-schema.js';
import type { CriterionStatus, GateAssessment, GateWarning } from '../promotion/gate-types.js';

/** `GET /v1/use-cases/:id` as the reader answers it: the report takes its figures from here. */
export interface UseCaseDetail extends UseCaseSummary {
  stageVersion: number;
  planHash: string;
  aiConfig: string;
  /** The model version the stage was earned with; null: not pinned (see README "Gates and guards"). */
  earnedModelVersion: string | null;
  segments: string[];
  metrics: { stages: StageSummary[] };
  gate: GateAssessment | null;
  /** The drift of the current window in brief (null: the reader reads none). */
  drift?: DriftSummary | null;
  /** A plan scored by a judge: the judge against people (README "Is the judge right?"). */
  judgeCalibration?: JudgeCalibration | null;
}

/** A `drift.detected` audit event, as the report shows it. */
export interface DriftTrip {
  at: string;
  stageVersion: number | null;
  guards: Array<{ guard: string; threshold: number | null; status: string | null; actual: number | null }>;
  /** The fields above their guard's PSI then. */
  fields: Array<{
    field: string;
    psi: number | null;
    referenceTotal: number | null;
    currentTotal: number | null;
  }>;
}

interface DriftWindowEntry {
  /** Start of the first hour summed, end of the last (null: no decisions). */
  from: string | null;
  to: string | null;
  decisions: number;
}

/** README "Drift": the stage visit's reference, the current window, each field's measures, the guards. */
export interface DriftSection {
  stage: string;
  stageVersion: number;
  window: number | string;
  minWindow: number;
  reference: {
    takenAt: string;
    takenBy: string;
    reason: string;
    trippedAt: string | null;
    window: DriftWindowEntry;
  };
  current: DriftWindowEntry;
  fields: Array<
    Pick<
      FieldDriftView,
      | 'field'
      | 'type'
      | 'referenceTotal'
      | 'currentTotal'
      | 'psi'
      | 'jsDistance'
      | 'unseenShare'
      | 'ks'
      | 'normalisedWasserstein'
    > &
      Pick<DriftSummary['fields'][number], 'watched' | 'threshold' | 'verdict'>
  >;
  overrideRate: RateView;
  escalationRate: RateView;
  guards: DriftGuardView[];
  /** `drift.detected` events of the use case, all time. */
  trips: EventTally;
  /** The latest of them, newest first. */
  recentTrips: DriftTrip[];
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
  /** AI calls failed for good on this value's human-decided requests (disagreements by default). */
  aiFailures: number;
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
  /** Cohen's kappa's 95% interval (one-look, for reading). */
  kappaInterval: { lower: number; upper: number } | null;
  /** AI calls failed for good on requests a person decided, and agreement counting them as disagreements. */
  aiFailedWithHuman: number;
  agreementWithFailures: number | null;
  /** Decisions with an AI answer / decisions owed one. */
  coverage: number | null;
  /** Label decisions: the agreement of always answering the people's most common label. */
  majorityBaseline: { label: string; agreement: number } | null;
  /** The mean cost of the AI's errors per compared decision with its bounds, when the plan prices errors. */
  errorCost: ErrorCostEvidence | null;
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
  /** The mean cost of the AI's errors per compared decision (priced plans; what the gate bounds). */
  errorCostPerDecision: number | null;
  /** limited-autonomous: that cost × the share the AI decides, part of `costPerDecision`. */
  expectedErrorCostPerDecision: number | null;
  costPerDecision: number | null;
  monthlyVolume: number | null;
  monthlyCost: number | null;
  /** `humanCostPerDecision` of the plan × `monthlyVolume`: what the same volume costs all-human. */
  allHumanMonthlyCost: number | null;
  /** Net of the expected error cost. */
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
  /** Who approved it under change control (`actor` asked); null: it needed no approval. */
  approvedBy: string[] | null;
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
  | 'flag-repaired'
  | 'model-changed'
  | 'forced-challenger-promotion'
  | 'challenger-blocked'
  | 'majority-baseline'
  | 'low-coverage'
  | 'drift';

export interface Risk {
  kind: RiskKind;
  message: string;
}

/** The paired comparison of a challenger with its champion: challenger − champion agreement. */
export interface PairedComparison {
  /** Requests both answered and a person decided. */
  n: number;
  mean: number;
  /** Anytime-valid bounds on the difference (the plan's confidence). */
  lower: number;
  upper: number;
  /** −margin: the lower bound must reach it. */
  required: number;
}

/** The active challenger's own cohort since it started, against the humans. */
export interface ChallengerCohort {
  modelVersion: string | null;
  decisions: number;
  samples: number;
  agreement: number | null;
  agreementLowerBound: number | null;
  aiCalls: number;
  aiErrors: number;
  aiErrorRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  aiCostPerDecision: number | null;
}

export interface ActiveChallengerEntry {
  id: number;
  planVersion: number;
  aiConfig: string;
  /** What differs from the champion's AI configuration (`ai.model`, `comparator`, …). */
  changes: string[];
  startedAt: string;
  startedBy: string;
  approval: string;
  margin: number;
  sampleRate: number;
  verdict: string;
  /** Lower stages' criteria named `<stage>.<criterion>`, and `championNonInferiority`. */
  criteria: GateCriterionEntry[];
  paired: PairedComparison | null;
  cohort: ChallengerCohort | null;
  /** Calls still owed to the challenger in PostgreSQL. */
  owedCalls: number;
}

/** The evidence a swap recorded (`challenger.promoted` audit event). */
export interface ChallengerPromotion {
  at: string;
  actor: string;
  verdict: string | null;
  forced: boolean;
  paired: Omit<PairedComparison, 'required'> | null;
  /** Criteria that did not hold at the swap (a forced one has some). */
  notHolding: Array<{ name: string; status: string }>;
}

export interface EndedChallengerEntry {
  id: number;
  /** promoted, discarded, replaced or ended. */
  state: string;
  planVersion: number;
  aiConfig: string;
  championPlanVersion: number;
  startedAt: string;
  endedAt: string | null;
  endedBy: string | null;
  endReason: string | null;
  /** Promoted challengers only: the evidence of the swap; null otherwise or when not found. */
  promotion: ChallengerPromotion | null;
}

export interface ChallengerSection {
  /** The configuration that answers and that the stage was earned with. */
  champion: { planVersion: number; aiConfig: string; earnedModelVersion: string | null };
  active: ActiveChallengerEntry | null;
  /** Challengers that ended, newest first. */
  history: EndedChallengerEntry[];
}

export interface PlanVersionEntry {
  version: number;
  textHash: string;
  format: string;
  aiConfig: string;
  /** Who asked for it (applied at once, or by the approval that completed its change). */
  appliedBy: string;
  appliedAt: string;
  /** Who approved it under change control; null: it needed no approval. */
  approvedBy: string[] | null;
}

/** One change held back for approval (README "Change control"), as the report lists it. */
export interface ChangeEntry {
  id: number;
  kind: string;
  /** pending, applying, applied, rejected, stale, expired or failed, as a reader sees it now. */
  state: string;
  requestedBy: string;
  createdAt: string;
  expiresAt: string;
  basePlanVersion: number | null;
  baseStageVersion: number | null;
  approvalsRequired: number;
  approvals: Array<{ by: string; at: string; reason: string }>;
  /** Why it was held: `{path, rule, before, after}` widenings, `{rule: "change-control", approvals}`. */
  rules: Array<{ rule: string; path?: string; before?: unknown; after?: unknown; approvals?: number }>;
  /** A stage change: what was asked, with the requester's reason. */
  stage: { reason: string; force?: boolean; to?: string } | null;
  /** A plan change: the hash of the text held. */
  planTextHash: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  /** Applied: the plan version or transition; stale or failed: `{error, message}`. */
  result: unknown;
}

export interface ChangesSection {
  /** Newest first. */
  entries: ChangeEntry[];
  /** True when only the newest `entries.length` were read. */
  truncated: boolean;
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
    decision: { type: 'label' | 'json' | 'text'; labels: string[] | null };
    segments: string[];
  };
  plan: PlanVersionEntry & {
    adapter: string;
    statistics: string;
    confidence: number;
    /** How the gate counts a request whose AI call failed for good: `disagree` or `exclude`. */
    aiFailures: string;
    /** What an error costs, `errorCosts[ai][human]` (USD), and the price of pairs it does not list. */
    errorCosts: ErrorCosts | null;
    defaultErrorCost: number;
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
  /** Each stage visit, how long it lasted and what the last tick of it judged; `truncated`: older points exist. */
  journey: { visits: VisitSummary[]; truncated: boolean };
  costs: CohortCosts[];
  gate: {
    fromStage: Mode;
    targetStage: string | null;
    verdict: string;
    approval: string;
    statistics: string;
    confidence: number;
    criteria: GateCriterionEntry[];
    /** Label decisions: the agreement of always answering the most common label, on the gate's cohort. */
    majorityBaseline: { label: string; agreement: number } | null;
    warnings: GateWarning[];
  } | null;
  /** Champion and challenger (README "Champion and challenger"). */
  challengers: ChallengerSection;
  /** Changes held back for approval, whatever became of them (README "Change control"). */
  changes: ChangesSection;
  /** Drift of the current window against the stage visit's reference; null when none was read. */
  drift: DriftSection | null;
  /**
   * A plan scored by a judge: the judge's agreement with people's ratings per judge version, beside
   * the AI's agreement the judge measured; null without a judge.
   */
  judgeCalibration: JudgeCalibration | null;
  risks: Risk[];
}
