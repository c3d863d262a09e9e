import type { Mode } from '../plans/plan-schema.js';
import type { UseCase } from '../plans/use-case-store.js';
import type { MetricsFilter, MetricsStore } from './metrics-store.js';
import type { RollupStore } from './rollup-store.js';
import type { CohortMetrics } from './metrics-types.js';
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
 * The read side of a use case: its metrics per stage and cohort, and its gate. Whole stages and
 * the gate's cohort are read from the rollups; a time range or a segment filter scans the
 * decisions in it (MetricsStore).
 */
export class UseCaseReader {
  constructor(
    private readonly rollups: RollupStore,
    private readonly metrics: MetricsStore,
    private readonly judge: GateJudge | null,
  ) {}

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
    return (await this.gateCohorts([useCase])).get(useCase.id) ?? null;
  }

  /** The gate cohorts of many use cases, read at once (the tick). */
  async gateCohorts(useCases: readonly UseCase[]): Promise<Map<string, CohortMetrics | null>> {
    const read = await this.rollups.cohortsOf(
      useCases.map((u) => ({
        useCase: u.id,
        stage: u.stage,
        stageVersion: u.stageVersion,
        segments: u.plan.segments,
        labels: u.plan.decision.type === 'label',
      })),
    );
    return new Map(
      useCases.map((u) => [
        u.id,
        currentCohort(summarizeStages(read.get(u.id) ?? [], u.plan), u.stage, u.serving.aiConfig),
      ]),
    );
  }

  async detail(useCase: UseCase, now: Date) {
    const [stages, cohort] = await Promise.all([this.stages(useCase), this.gateCohort(useCase)]);
    const gate = this.judge ? this.judge({ useCase, cohort, now }) : null;
    return {
      ...summarize(useCase),
      stageVersion: useCase.stageVersion,
      planHash: useCase.planHash,
      // The configuration that answers and that the gate judges (the champion's while a challenger runs).
      aiConfig: useCase.serving.aiConfig,
      earnedModelVersion: useCase.earnedModelVersion,
      segments: useCase.plan.segments,
      metrics: { stages },
      gate,
    };
  }
}
