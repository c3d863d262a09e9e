import { eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { isNewestOfKey } from '../db/decision-month.js';
import { decisions, judgeRatings } from '../db/schema.js';

/** A rating to store: the decision it rates, as found, and what the people said. */
export interface NewRating {
  decisionId: number;
  useCase: string;
  requestId: string;
  planVersion: number;
  acceptable: boolean;
  ratedBy: string;
}

export type RatingOutcome =
  | { status: 'recorded' }
  /** The same rating was already stored (a retry). */
  | { status: 'duplicate' }
  /** Another rating of the decision is stored: the first stands. */
  | { status: 'conflict'; existing: { acceptable: boolean; ratedBy: string } };

/** People's ratings (`judge_ratings`): one per decision, the first stands. */
export interface RatingStore {
  /** The decision a rating names, or null when none is stored. */
  decision(useCase: string, requestId: string): Promise<{ id: number; planVersion: number } | null>;
  record(rating: NewRating): Promise<RatingOutcome>;
}

export class DrizzleRatingStore implements RatingStore {
  constructor(private readonly database: Database) {}

  async decision(useCase: string, requestId: string) {
    const [row] = await this.database.db
      .select({ id: decisions.id, planVersion: decisions.planVersion })
      .from(decisions)
      .where(isNewestOfKey({ useCase, requestId }));
    return row ?? null;
  }

  /** The insert's trigger folds the rating when the judge has answered (migration 0018). */
  async record(rating: NewRating): Promise<RatingOutcome> {
    const inserted = await this.database.db
      .insert(judgeRatings)
      .values(rating)
      .onConflictDoNothing({ target: judgeRatings.decisionId })
      .returning({ id: judgeRatings.id });
    if (inserted.length > 0) return { status: 'recorded' };
    const [existing] = await this.database.db
      .select({ acceptable: judgeRatings.acceptable, ratedBy: judgeRatings.ratedBy })
      .from(judgeRatings)
      .where(eq(judgeRatings.decisionId, rating.decisionId));
    if (!existing)
      throw new Error(`the rating of decision ${rating.decisionId} conflicted but is not stored`);
    // The same answer again is a retry, whoever sent it: the first rater is kept.
    return existing.acceptable === rating.acceptable
      ? { status: 'duplicate' }
      : { status: 'conflict', existing };
  }
}

/** In memory, for service tests without a database (no folding: that is the triggers' job). */
export class MemoryRatingStore implements RatingStore {
  readonly decisions = new Map<string, { id: number; planVersion: number }>();
  readonly ratings = new Map<number, NewRating>();

  async decision(useCase: string, requestId: string) {
    return this.decisions.get(`${useCase}\u0000${requestId}`) ?? null;
  }

  async record(rating: NewRating): Promise<RatingOutcome> {
    const existing = this.ratings.get(rating.decisionId);
    if (!existing) {
      this.ratings.set(rating.decisionId, rating);
      return { status: 'recorded' };
    }
    return existing.acceptable === rating.acceptable
      ? { status: 'duplicate' }
      : { status: 'conflict', existing: { acceptable: existing.acceptable, ratedBy: existing.ratedBy } };
  }
}
