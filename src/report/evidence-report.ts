import type { DriftReading } from '../metrics/drift-service.js';
import type { JourneyPoint } from '../promotion/journey-points.js';
import { journeyView, visitSummaries } from '../promotion/journey-store.js';
import type { CohortMetrics } from '../metrics/metrics-types.js';
import { currentCohort, type StageSummary } from '../metrics/stage-summary.js';
import { type Mode, type Plan, type PromotableStage, STAGES } from '../plans/plan-schema.js';
import { rollbackTarget } from '../promotion/guards.js';
import type { TransitionRecord } from '../promotion/transition-store.js';
import {
  type ChallengerViewInput,
  challengerSection,
  noChallengers,
  type PromotionEvent,
} from './report-challengers.js';
import type { ChangeView } from '../promotion/change-types.js';
import { changesSection } from './report-changes.js';
import { driftSection } from './report-drift.js';
import { openRisks } from './report-risks.js';
import { guardTrip, transitionEntries, transitionKinds } from './report-transitions.js';
import type {
  CohortCosts,
  CohortEvidence,
  CohortRef,
  EventTally,
  EvidenceReport,
  PlanVersionEntry,
  StageEvidence,
  UseCaseDetail,
} from './report-types.js';

export interface EventCount {
  count: number;
  first: Date;
  last: Date;
}

/** Everything the report is built from, read by `ReportService`; no I/O here. */
export interface ReportInput {
  generatedAt: Date;
  /** `GET /v1/use-cases/:id` as it answers now: every metric and the gate come from here. */
  detail: UseCaseDetail;
  /** The plan of `detail.planVersion`. */
  plan: Plan;
  planVersions: ReadonlyArray<
    Omit<PlanVersionEntry, 'appliedAt' | 'approvedBy'> & { appliedAt: Date; approvedBy?: string[] | null }
  >;
  transitions: readonly TransitionRecord[];
  /** The `stage.<kind>` audit events, which name each transition's kind. */
  stageEvents: ReadonlyArray<{ action: string; details: unknown }>;
  guardTripsByStage: ReadonlyArray<EventCount & { stage: string }>;
  /** The latest `guard.tripped` events, newest first. */
  recentGuardTrips: ReadonlyArray<{ at: Date; details: unknown }>;
  budgetExhausted: EventCount | null;
  flagRepairs: EventCount | null;
  /** `model.changed` events: the AI answered with a model version its stage was not earned with. */
  modelChanges: EventCount | null;
  /** The champion, the active challenger and the history, as `GET …/challenger` answers them. */
  challengers?: ChallengerViewInput;
  /** The `challenger.promoted` audit events (the evidence of each swap), newest first. */
  challengerPromotions?: readonly PromotionEvent[];
  /** The use case's changes held back for approval, newest first, as `GET /v1/changes` shows them. */
  changes?: readonly ChangeView[];
  /** True when only the newest of them were read. */
  changesTruncated?: boolean;
  /** The drift reading `detail.drift` summarises (README "Drift"); none: no Drift section. */
  drift?: DriftReading | null;
  /** `drift.detected` events: all time, and the latest, newest first. */
  driftTrips?: EventCount | null;
  recentDriftTrips?: ReadonlyArray<{ at: Date; details: unknown }>;
  /** The journey points the ticks kept, oldest first (JourneyStore.read); none: visits alone. */
  journeyPoints?: readonly JourneyPoint[];
}

/** The production-readiness case of one use case, as plain JSON (rendered by `renderReportMarkdown`). */
export function buildEvidenceReport(input: ReportInput): EvidenceReport {
  const { detail, plan } = input;
  const stages = detail.metrics.stages;
  const currentRef = refOf(currentCohort(stages, detail.stage, detail.aiConfig));
  const isCurrent = (c: CohortRef) =>
    currentRef !== null &&
    c.stage === currentRef.stage &&
    c.aiConfig === currentRef.aiConfig &&
    c.modelVersion === currentRef.modelVersion;
  const minSegmentSamples = promoteWhenOf(plan, detail.stage)?.minSegmentSamples ?? null;

  const history = [...input.planVersions]
    .sort((a, b) => b.version - a.version)
    .map(
      (v): PlanVersionEntry => ({
        version: v.version,
        textHash: v.textHash,
        format: v.format,
        aiConfig: v.aiConfig,
        appliedBy: v.appliedBy,
        appliedAt: v.appliedAt.toISOString(),
        approvedBy: v.approvedBy?.length ? [...v.approvedBy] : null,
      }),
    );
  const applied = history.find((v) => v.version === detail.planVersion);

  const report: Omit<EvidenceReport, 'risks'> = {
    kind: 'shadowgate.evidence-report',
    generatedAt: input.generatedAt.toISOString(),
    useCase: {
      id: detail.id,
      owner: detail.owner,
      description: detail.description,
      stage: detail.stage,
      stageEnteredAt: detail.stageEnteredAt,
      stageVersion: detail.stageVersion,
      decision: {
        type: plan.decision.type,
        labels: plan.decision.type === 'label' ? plan.decision.labels : null,
      },
      segments: detail.segments,
    },
    plan: {
      version: detail.planVersion,
      textHash: detail.planHash,
      format: applied?.format ?? 'unknown',
      aiConfig: detail.aiConfig,
      appliedBy: applied?.appliedBy ?? 'unknown',
      appliedAt: applied?.appliedAt ?? '',
      approvedBy: applied?.approvedBy ?? null,
      adapter: plan.ai.adapter,
      statistics: plan.statistics,
      confidence: plan.confidence,
      aiFailures: plan.aiFailures,
      errorCosts: plan.errorCosts ?? null,
      defaultErrorCost: plan.defaultErrorCost,
      history,
    },
    humanBaseline: {
      humanCostPerDecision: plan.humanCostPerDecision,
      stages: stages.map((s) => {
        const latest = latestCohort(s);
        const monthlyVolume = latest?.monthlyVolume ?? null;
        return {
          stage: s.stage,
          decisions: s.decisions,
          monthlyVolume,
          allHumanMonthlyCost: monthlyVolume === null ? null : monthlyVolume * plan.humanCostPerDecision,
        };
      }),
    },
    evaluation: {
      currentCohort: currentRef,
      stages: stages.map((s) => stageEvidence(s, isCurrent, minSegmentSamples)),
    },
    guards: {
      stages: guardedStages(plan).map((stage) => ({
        stage,
        rollbackWhen: plan.stages[stage]?.rollbackWhen ?? null,
        rollbackTo: rollbackTarget(plan, stage),
        trips: tally(input.guardTripsByStage.find((g) => g.stage === stage) ?? null),
      })),
      recentTrips: input.recentGuardTrips.map(guardTrip),
      budget: { maxDailyCost: plan.ai.maxDailyCost ?? null, exhaustedDays: tally(input.budgetExhausted) },
    },
    transitions: transitionEntries(input.transitions, transitionKinds(input.stageEvents)),
    journey: journeySection(detail.id, input.transitions, input.journeyPoints ?? [], input.generatedAt),
    costs: stages.flatMap((s) => s.cohorts.map((c) => cohortCosts(c, isCurrent(c), plan))),
    gate: detail.gate && {
      fromStage: detail.gate.fromStage,
      targetStage: detail.gate.targetStage,
      verdict: detail.gate.verdict,
      approval: detail.gate.approval,
      statistics: detail.gate.statistics,
      confidence: detail.gate.confidence,
      criteria: detail.gate.criteria.map((c) => ({
        name: c.name,
        required: c.required,
        actual: c.actual,
        status: c.status,
        detail: c.detail ?? null,
        observed: c.observed ?? null,
        samples: c.samples ?? null,
      })),
      majorityBaseline: detail.gate.majorityBaseline ?? null,
      warnings: detail.gate.warnings ?? [],
    },
    challengers: input.challengers
      ? challengerSection(input.challengers, input.challengerPromotions ?? [], detail.earnedModelVersion)
      : noChallengers(detail),
    changes: changesSection(input.changes ?? [], input.changesTruncated ?? false),
    drift: input.drift
      ? driftSection(plan, input.drift, tally(input.driftTrips ?? null), input.recentDriftTrips ?? [])
      : null,
    judgeCalibration: detail.judgeCalibration ?? null,
  };
  return {
    ...report,
    risks: openRisks(report, {
      flagRepairs: tally(input.flagRepairs),
      modelChanges: tally(input.modelChanges),
      now: input.generatedAt,
    }),
  };
}

function stageEvidence(
  s: StageSummary,
  isCurrent: (c: CohortRef) => boolean,
  minSegmentSamples: number | null,
): StageEvidence {
  return {
    stage: s.stage,
    decisions: s.decisions,
    samples: s.samples,
    pendingHuman: s.pendingHuman,
    pendingAi: s.pendingAi,
    cohorts: s.cohorts.map((c): CohortEvidence => {
      const current = isCurrent(c);
      return {
        stage: c.stage,
        aiConfig: c.aiConfig,
        modelVersion: c.modelVersion,
        current,
        decisions: c.decisions,
        samples: c.samples,
        agreement: c.agreement,
        agreementLowerBound: c.agreementLowerBound,
        kappa: c.kappa,
        kappaInterval: c.kappaInterval ?? null,
        aiFailedWithHuman: c.aiFailedWithHuman ?? 0,
        agreementWithFailures: c.agreementWithFailures ?? null,
        coverage: c.coverage ?? null,
        majorityBaseline: c.majorityBaseline ?? null,
        errorCost: c.errorCost ?? null,
        aiCalls: c.aiCalls,
        aiErrors: c.aiErrors,
        aiErrorRate: c.aiErrorRate,
        latencyP50Ms: c.latencyP50Ms,
        latencyP95Ms: c.latencyP95Ms,
        firstDecisionAt: c.firstDecisionAt,
        lastDecisionAt: c.lastDecisionAt,
        confusion: c.confusion,
        perLabel: c.perLabel,
        segments: c.segments.map((seg) => ({
          segment: seg.segment,
          value: seg.value,
          samples: seg.samples,
          agreement: seg.agreement,
          agreementLowerBound: seg.agreementLowerBound,
          aiFailures: seg.aiFailures,
          // Only the current cohort is held to the current gate's minimum.
          underMinSamples: current && minSegmentSamples !== null ? seg.samples < minSegmentSamples : null,
        })),
      };
    }),
  };
}

function cohortCosts(c: CohortMetrics, current: boolean, plan: Plan): CohortCosts {
  return {
    stage: c.stage,
    aiConfig: c.aiConfig,
    modelVersion: c.modelVersion,
    current,
    aiCostPerDecision: c.aiCostPerDecision,
    humanCostPerDecision: c.humanCostPerDecision,
    errorCostPerDecision: c.errorCost?.perDecision ?? null,
    expectedErrorCostPerDecision: c.expectedErrorCostPerDecision ?? null,
    costPerDecision: c.costPerDecision,
    monthlyVolume: c.monthlyVolume,
    monthlyCost: c.monthlyCost,
    allHumanMonthlyCost: c.monthlyVolume === null ? null : c.monthlyVolume * plan.humanCostPerDecision,
    monthlySavings: c.monthlySavings,
  };
}

function refOf(c: CohortMetrics | null): CohortRef | null {
  return c && { stage: c.stage, aiConfig: c.aiConfig, modelVersion: c.modelVersion };
}

/** The cohort with the latest decision: the stage's volume as it runs now. */
function latestCohort(s: StageSummary): CohortMetrics | null {
  let latest: CohortMetrics | null = null;
  for (const c of s.cohorts) {
    if (!latest || (c.lastDecisionAt ?? '') > (latest.lastDecisionAt ?? '')) latest = c;
  }
  return latest;
}

function promoteWhenOf(plan: Plan, stage: Mode) {
  if (stage === 'shadow') return plan.stages.shadow.promoteWhen;
  if (stage === 'human-reviewed') return plan.stages['human-reviewed']?.promoteWhen;
  return undefined;
}

/** The plan's stages, each listed whether or not it has a guard (a missing guard is worth seeing). */
function guardedStages(plan: Plan): PromotableStage[] {
  return STAGES.filter((s) => plan.stages[s] !== undefined);
}

function tally(count: EventCount | null): EventTally {
  return count
    ? { count: count.count, first: count.first.toISOString(), last: count.last.toISOString() }
    : { count: 0, first: null, last: null };
}

/** Each stage visit with what the last tick of it judged (README "Dashboard": the journey). */
function journeySection(
  useCase: string,
  transitions: readonly TransitionRecord[],
  points: readonly JourneyPoint[],
  now: Date,
): EvidenceReport['journey'] {
  const view = journeyView(useCase, transitions, points, now);
  return { visits: visitSummaries(view), truncated: view.truncated };
}
