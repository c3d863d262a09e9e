import type { Db } from '../db/database.js';
import type { ComparableRow } from '../db/decision-row.js';
import type { PlanCache } from '../plans/plan-cache.js';
import { localComparator } from '../comparison/comparators.js';
import { isSampled } from '../contracts/sampling.js';
import type { OwedJudgeCall } from './judge-call-store.js';
import { CALIBRATION_SALT } from '../plans/judge-comparator.js';

/** Where scores are written: the decision store, seen only as far as scoring needs. */
export interface ScoreStore {
  /** True when this call wrote the score (it was not scored yet); `db`: within that transaction. */
  recordScore(id: number, score: number, db?: Db): Promise<boolean>;
  uncompared(limit: number): Promise<ComparableRow[]>;
}

/** Where the judge calls a comparison owes are recorded (judge-call-store.ts). */
export interface JudgeCallLedger {
  /** True when this call recorded it (idempotent on the decision). */
  owe(call: OwedJudgeCall): Promise<boolean>;
}

/**
 * The salt of the calibration draw, stated once (plans/judge-comparator.ts): the rating route and
 * the suggestion's `rate` ask people to rate exactly the requests drawn with it.
 */
export { CALIBRATION_SALT };

/**
 * Scores a decision once both sides exist, whichever arrived last, with the comparator of the
 * plan version the decision was recorded under. A judge does not score here: the comparison
 * records the judge call it owes (PostgreSQL's record, claimed by the judge worker), and the
 * score stays pending (null) until the judge answers.
 */
export class ComparisonRecorder {
  constructor(
    private readonly plans: PlanCache,
    private readonly decisions: ScoreStore,
    private readonly judgeCalls: JudgeCallLedger | null = null,
    /** Told when a judge call was recorded, so the judge worker takes it at once. */
    private readonly onJudgeOwed: (useCase: string) => void = () => {},
  ) {}

  /** Returns the score when this call recorded it, null when a side is missing, it was already scored or a judge owes it. */
  async compareIfComplete(row: ComparableRow): Promise<number | null> {
    const outcome = await this.complete(row);
    return typeof outcome === 'number' ? outcome : null;
  }

  /**
   * Repairs decisions left with both sides and no score (a process died in between): scores
   * them, or records the judge call a judged one is missing. Returns how many were repaired.
   */
  async repair(limit = 1000): Promise<number> {
    let repaired = 0;
    for (const row of await this.decisions.uncompared(limit)) {
      if ((await this.complete(row)) !== null) repaired++;
    }
    return repaired;
  }

  /** The score recorded, 'owed' when a judge call was recorded, null when this call did nothing. */
  private async complete(row: ComparableRow): Promise<number | 'owed' | null> {
    if (row.score !== null || row.aiState !== 'done' || row.humanDecision == null) return null;
    const plan = await this.plans.get(row.useCase, row.planVersion);
    if (!plan) throw new Error(`plan version ${row.planVersion} of ${row.useCase} not found`);
    const compare = localComparator(plan.comparator);
    if (compare === null) {
      if (plan.comparator.type !== 'judge' || this.judgeCalls === null) return null;
      const owed = await this.judgeCalls.owe({
        decisionId: row.id,
        useCase: row.useCase,
        requestId: row.requestId,
        planVersion: row.planVersion,
        calibration: isSampled(row.requestId, plan.comparator.calibrationRate, CALIBRATION_SALT),
      });
      if (!owed) return null;
      this.onJudgeOwed(row.useCase);
      return 'owed';
    }
    const score = compare(row.humanDecision, row.aiDecision);
    return (await this.decisions.recordScore(row.id, score)) ? score : null;
  }
}
