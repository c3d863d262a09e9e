import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { UseCaseReader } from '../metrics/use-case-reader.js';
import type { UseCase } from '../plans/use-case-store.js';
import { assessGate } from './gate-assessment.js';
import type { GateAssessment } from './gate-types.js';

export interface Evidence {
  cohort: CohortMetrics | null;
  gate: GateAssessment;
}

/** The gate of a use case now, with the cohort it was judged on (kept as a transition's evidence). */
export class GateEvaluator {
  constructor(private readonly reader: UseCaseReader) {}

  /**
   * The gate cohorts of many use cases, read at once (the tick judges them with `judge`), reused
   * for those whose movement `tokens` did not change (rollup-movement.ts).
   */
  cohorts(
    useCases: readonly UseCase[],
    tokens?: ReadonlyMap<string, string>,
  ): Promise<Map<string, CohortMetrics | null>> {
    return this.reader.gateCohorts(useCases, tokens);
  }

  async evaluate(useCase: UseCase, now: Date): Promise<Evidence> {
    const cohort = await this.reader.gateCohort(useCase);
    return { cohort, gate: judge(useCase, cohort, now) };
  }
}

export function judge(useCase: UseCase, cohort: CohortMetrics | null, now: Date): GateAssessment {
  return assessGate({
    plan: useCase.plan,
    stage: useCase.stage,
    metrics: cohort,
    stageEnteredAt: useCase.stageEnteredAt,
    now,
  });
}
