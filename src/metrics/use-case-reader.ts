import type { Mode, Plan } from '../plans/plan-schema.js';
import type { UseCase } from '../plans/use-case-store.js';
import { driftVerdict } from '../statistics/drift.js';
import type { DriftReading } from './drift-service.js';
import type { JudgeMetricsStore, JudgeSummary } from './judge-metrics-store.js';
import type { DriftGuardView, FieldDriftView, RateView } from './drift-view.js';
import type { MetricsFilter, MetricsStore } from './metrics-store.js';
import type { RollupStore, VisitRequest } from './rollup-store.js';
import type { CohortAggregate, CohortMetrics } from './metrics-types.js';
import { judgeOf } from '../plans/judge-comparator.js';
import { judgeCalibration } from './judge-calibration.js';
import { calibrationKey, type JudgeCalibrationReads } from './judge-calibration-store.js';
import { currentCohort, type StageSummary, summarizeStages } from './stage-summary.js';

/** Judges a use case's gate from the cohort it is in now (the promotion engine supplies it). */
export type GateJudge = (input: { useCase: UseCase; cohort: CohortMetrics | null; now: Date }) => unknown;

export interface UseCaseSummary {
  id: string;
  stage: Mode;
  owner: string;
  description: string | null;
  planVersion: number;
  stageEnteredAt: string;
}

export function summarize(useCase: UseCase): UseCaseSummary {
  return {
    id: useCase.id,
    stage: useCase.stage,
    owner: useCase.plan.owner,
    description: useCase.plan.description ?? null,
    planVersion: useCase.planVersion,
    stageEnteredAt: useCase.stageEnteredAt.toISOString(),
  };
}

/**
 * The PSI above which a field no drift guard watches is called `drifted` in the summary: the
 * conventional "major shift" for a field with a few values (README "Drift").
 */
export const MAJOR_SHIFT_PSI = 0.25;

/**
 * The drift of `GET /v1/use-cases/:id` (README "Drift"): a compact reading of the same drift view
 * `GET …/drift` answers, with no per-value counts. Per field its PSI (what the drift guards judge)
 * and its verdict against the threshold that applies: the stage's `driftAbove.psi` for a field the
 * guard names (the guard's own verdict for it), else MAJOR_SHIFT_PSI; the rates with their
 * reference values; each guard's status.
 */
export interface DriftSummary {
  stage: string;
  window: number | string;
  minWindow: number;
  reference: {
    takenAt: string;
    takenBy: string;
    trippedAt: string | null;
    decisions: number;
  };
  current: { decisions: number };
  fields: Array<
    Pick<FieldDriftView, 'field' | 'type' | 'psi' | 'referenceTotal' | 'currentTotal'> & FieldJudgement
  >;
  overrideRate: RateView;
  escalationRate: RateView;
  guards: DriftGuardView[];
}

/**
 * How each field is judged, the one rule for every reader (the detail's summary, GET …/drift and
 * so the dashboard): a field the stage's `driftAbove` guard names against the guard's PSI, any
 * other against a major shift, `insufficient` until the window holds `minWindow` observations.
 */
export function fieldJudge(
  plan: Plan,
  reading: Pick<DriftReading, 'stage' | 'minWindow'>,
): (f: Pick<FieldDriftView, 'field' | 'psi' | 'referenceTotal' | 'currentTotal'>) => FieldJudgement {
  const watchedAt = new Map<string, number>();
  for (const g of stageGuards(plan, reading.stage)) {
    for (const field of g.fields) watchedAt.set(field, g.psi);
  }
  return (f) => {
    const threshold = watchedAt.get(f.field) ?? MAJOR_SHIFT_PSI;
    return {
      watched: watchedAt.has(f.field),
      threshold,
      verdict: driftVerdict(f, { psi: threshold }, reading.minWindow).status,
    };
  };
}

export interface FieldJudgement {
  /** True when the stage's `driftAbove` guard names the field. */
  watched: boolean;
  threshold: number;
  verdict: 'stable' | 'drifted' | 'insufficient';
}

export function driftSummary(plan: Plan, reading: DriftReading): DriftSummary {
  const { view } = reading;
  const judge = fieldJudge(plan, reading);
  return {
    stage: reading.stage,
    window: reading.window,
    minWindow: reading.minWindow,
    reference: {
      takenAt: reading.reference.takenAt.toISOString(),
      takenBy: reading.reference.takenBy,
      trippedAt: reading.reference.trippedAt?.toISOString() ?? null,
      decisions: reading.reference.window.decisions,
    },
    current: { decisions: reading.current.decisions },
    fields: view.fields.map((f) => ({
      field: f.field,
      type: f.type,
      psi: f.psi,
      referenceTotal: f.referenceTotal,
      currentTotal: f.currentTotal,
      ...judge(f),
    })),
    overrideRate: view.overrideRate,
    escalationRate: view.escalationRate,
    guards: view.guards,
  };
}

/** The stage's `driftAbove` guard, as a list of none or one. */
function stageGuards(plan: Plan, stage: string): Array<{ psi: number; fields: readonly string[] }> {
  const guard = stage in plan.stages ? plan.stages[stage as keyof Plan['stages']]?.rollbackWhen : undefined;
  return guard?.driftAbove ? [guard.driftAbove] : [];
}

/** Reads a use case's drift (DriftService): one reading per detail. */
export type DriftReader = (useCase: UseCase, now: Date) => Promise<DriftReading>;

/**
 * The read side of a use case: its metrics per stage and cohort, and its gate. Whole stages and
 * the gate's cohort are read from the rollups; a time range or a segment filter scans the
 * decisions in it (MetricsStore).
 */
export class UseCaseReader {
  constructor(
    private readonly rollups: RollupStore,
    private readonly metrics: MetricsStore,
    private readonly judge: GateJudge | null,
    private readonly drift: DriftReader | null = null,
    private readonly judges: Pick<JudgeMetricsStore, 'summary'> | null = null,
    private readonly calibration: JudgeCalibrationReads | null = null,
  ) {}

  /**
   * The use case's judge, measured apart from its AI (README "Judge comparator"): null when it
   * has never been judged.
   */
  async judgeSummary(useCase: UseCase): Promise<JudgeSummary | null> {
    return this.judges ? this.judges.summary(useCase.id) : null;
  }

  async stages(useCase: UseCase, filter: Omit<MetricsFilter, 'useCase'> = {}): Promise<StageSummary[]> {
    const { segments } = useCase.plan;
    const labels = useCase.plan.decision.type === 'label';
    const scan = filter.from !== undefined || filter.to !== undefined || filter.segment !== undefined;
    const aggregates = scan
      ? await this.metrics.cohorts({ useCase: useCase.id, ...filter }, segments, labels)
      : await this.rollups.cohorts(
          { useCase: useCase.id, ...(filter.stage ? { stage: filter.stage } : {}) },
          segments,
          labels,
        );
    return summarizeStages(aggregates, useCase.plan);
  }

  /**
   * The evidence a gate counts: the current visit of the current stage (its stage version: the
   * decisions received since it was entered), current AI configuration.
   */
  async gateCohort(useCase: UseCase): Promise<CohortMetrics | null> {
    const read = await this.rollups.cohortsOf([visitOf(useCase)]);
    return (await this.currentCohorts([useCase], read)).get(useCase.id) ?? null;
  }

  /**
   * The gate cohorts of many use cases, read at once: the tick's read, which reuses what this
   * process read last for a use case whose rollups did not move (RollupStore.visitCohorts, which
   * takes the movement `tokens` the tick read).
   */
  async gateCohorts(
    useCases: readonly UseCase[],
    tokens?: ReadonlyMap<string, string>,
  ): Promise<Map<string, CohortMetrics | null>> {
    return this.currentCohorts(useCases, await this.rollups.visitCohorts(useCases.map(visitOf), tokens));
  }

  private async currentCohorts(
    useCases: readonly UseCase[],
    read: Map<string, CohortAggregate[]>,
  ): Promise<Map<string, CohortMetrics | null>> {
    const cohorts = new Map(
      useCases.map((u) => [
        u.id,
        currentCohort(summarizeStages(read.get(u.id) ?? [], u.plan), u.stage, u.serving.aiConfig),
      ]),
    );
    await this.addCalibration(useCases, cohorts);
    return cohorts;
  }

  /** The judge's calibration, on the gate cohort of each use case whose plan's comparator is a judge. */
  private async addCalibration(
    useCases: readonly UseCase[],
    cohorts: Map<string, CohortMetrics | null>,
  ): Promise<void> {
    const judged = useCases.filter((u) => judgeOf(u.plan) !== null && cohorts.get(u.id));
    if (this.calibration === null || judged.length === 0) return;
    const keys = judged.map((u) => ({
      useCase: u.id,
      planVersion: u.serving.planVersion,
      stageVersion: u.stageVersion,
    }));
    const reads = await this.calibration.read(keys);
    for (const u of judged) {
      const read = reads.get(calibrationKey({ useCase: u.id, planVersion: u.serving.planVersion }));
      const cohort = cohorts.get(u.id);
      if (!read || !cohort) continue;
      cohort.judgeCalibration = judgeCalibration(
        u.serving.planVersion,
        read.currentJudgeVersion,
        read.rows,
        u.plan.statistics,
        u.plan.confidence,
      );
    }
  }

  async detail(useCase: UseCase, now: Date) {
    return (await this.detailAndDrift(useCase, now)).detail;
  }

  /**
   * The detail and the one drift reading its `drift` summary comes from (the evidence report
   * shows the reading in full): a detail costs one drift read, never more.
   */
  async detailAndDrift(useCase: UseCase, now: Date) {
    const [stages, cohort, reading, judge] = await Promise.all([
      this.stages(useCase),
      this.gateCohort(useCase),
      this.drift ? this.drift(useCase, now) : null,
      this.judgeSummary(useCase),
    ]);
    const gate = this.judge ? this.judge({ useCase, cohort, now }) : null;
    const detail = {
      ...summarize(useCase),
      stageVersion: useCase.stageVersion,
      planHash: useCase.planHash,
      // The configuration that answers and that the gate judges (the champion's while a challenger runs).
      aiConfig: useCase.serving.aiConfig,
      earnedModelVersion: useCase.earnedModelVersion,
      segments: useCase.plan.segments,
      metrics: { stages },
      // Plans whose comparator is a judge: its agreement with people (README "Is the judge right?").
      judgeCalibration: cohort?.judgeCalibration ?? null,
      gate,
      drift: reading && driftSummary(useCase.plan, reading),
      judge,
    };
    return { detail, drift: reading };
  }
}

/** The rollups a gate counts: the use case's current stage visit, under its current plan. */
function visitOf(u: UseCase): VisitRequest {
  return {
    useCase: u.id,
    stage: u.stage,
    stageVersion: u.stageVersion,
    planVersion: u.planVersion,
    segments: u.plan.segments,
    labels: u.plan.decision.type === 'label',
  };
}
