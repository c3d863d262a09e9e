import type { ComparableRow } from '../db/decision-row.js';
import type { PlanCache } from '../plans/plan-cache.js';
import { createComparator } from '../comparison/comparators.js';

/** Where scores are written: the decision store, seen only as far as scoring needs. */
export interface ScoreStore {
  /** True when this call wrote the score (it was not scored yet). */
  recordScore(id: number, score: number): Promise<boolean>;
  uncompared(limit: number): Promise<ComparableRow[]>;
}

/**
 * Scores a decision once both sides exist, whichever arrived last, with the
 * comparator of the plan version the decision was recorded under.
 */
export class ComparisonRecorder {
  constructor(
    private readonly plans: PlanCache,
    private readonly decisions: ScoreStore,
  ) {}

  /** Returns the score when this call recorded it, null when a side is missing or it was already scored. */
  async compareIfComplete(row: ComparableRow): Promise<number | null> {
    if (row.score !== null || row.aiState !== 'done' || row.humanDecision == null) return null;
    const plan = await this.plans.get(row.useCase, row.planVersion);
    if (!plan) throw new Error(`plan version ${row.planVersion} of ${row.useCase} not found`);
    const score = createComparator(plan.comparator)(row.humanDecision, row.aiDecision);
    return (await this.decisions.recordScore(row.id, score)) ? score : null;
  }

  /** Repairs decisions left with both sides and no score (a process died in between). */
  async repair(limit = 1000): Promise<number> {
    let repaired = 0;
    for (const row of await this.decisions.uncompared(limit)) {
      if ((await this.compareIfComplete(row)) !== null) repaired++;
    }
    return repaired;
  }
}
