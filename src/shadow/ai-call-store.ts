import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { decisions } from '../db/schema.js';
import type { ComparableRow, DecisionKey } from '../ingest/decision-store.js';

/** An owed AI call held by one worker until its lease runs out. */
export interface ClaimedCall {
  id: number;
  useCase: string;
  requestId: string;
  input: unknown;
  context: Record<string, unknown>;
  planVersion: number;
  aiConfig: string;
  /** Attempts so far, this one included. */
  attempts: number;
}

export interface RecordedAnswer {
  decision: unknown;
  confidence: number | null;
  modelVersion: string | null;
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number;
}

export interface RecordedFailure {
  error: string;
  latencyMs: number | null;
  /** Errors carry no model version of their own; they count against the last one seen. */
  modelVersion: string | null;
}

const comparable = {
  id: decisions.id,
  useCase: decisions.useCase,
  planVersion: decisions.planVersion,
  humanDecision: decisions.humanDecision,
  aiDecision: decisions.aiDecision,
  aiState: decisions.aiState,
  score: decisions.score,
};

/**
 * PostgreSQL's record of owed AI calls. The queue only schedules; a call is made
 * by whoever claims it here, so a duplicate job or a second process never makes
 * a second call while the first one's lease holds.
 */
export class AiCallStore {
  constructor(private readonly database: Database) {}

  async claim(key: DecisionKey, leaseMs: number): Promise<ClaimedCall | null> {
    const [row] = await this.database.db
      .update(decisions)
      .set({
        aiLeaseUntil: sql`now() + ${`${Math.ceil(leaseMs)} milliseconds`}::interval`,
        aiAttempts: sql`${decisions.aiAttempts} + 1`,
      })
      .where(
        and(
          eq(decisions.useCase, key.useCase),
          eq(decisions.requestId, key.requestId),
          eq(decisions.aiState, 'owed'),
          sql`(${decisions.aiLeaseUntil} is null or ${decisions.aiLeaseUntil} < now())`,
        ),
      )
      .returning({
        id: decisions.id,
        useCase: decisions.useCase,
        requestId: decisions.requestId,
        input: decisions.input,
        context: decisions.context,
        planVersion: decisions.planVersion,
        aiConfig: decisions.aiConfig,
        attempts: decisions.aiAttempts,
      });
    return (row as ClaimedCall | undefined) ?? null;
  }

  /** Gives a claimed call back (to be retried later) without recording anything. */
  async release(id: number): Promise<void> {
    await this.database.db
      .update(decisions)
      .set({ aiLeaseUntil: null })
      .where(and(eq(decisions.id, id), eq(decisions.aiState, 'owed')));
  }

  async recordAnswer(id: number, answer: RecordedAnswer): Promise<ComparableRow | null> {
    const [row] = await this.database.db
      .update(decisions)
      .set({
        aiState: 'done',
        aiLeaseUntil: null,
        aiDecision: answer.decision,
        aiConfidence: answer.confidence,
        aiModelVersion: answer.modelVersion,
        aiLatencyMs: answer.latencyMs,
        aiInputTokens: answer.inputTokens,
        aiOutputTokens: answer.outputTokens,
        aiCost: answer.costUsd,
        aiError: null,
        aiAt: sql`now()`,
      })
      .where(and(eq(decisions.id, id), eq(decisions.aiState, 'owed')))
      .returning(comparable);
    return (row as ComparableRow | undefined) ?? null;
  }

  async recordFailure(id: number, failure: RecordedFailure): Promise<boolean> {
    const rows = await this.database.db
      .update(decisions)
      .set({
        aiState: 'error',
        aiLeaseUntil: null,
        aiError: failure.error.slice(0, 500),
        aiLatencyMs: failure.latencyMs,
        aiModelVersion: failure.modelVersion,
        aiAt: sql`now()`,
      })
      .where(and(eq(decisions.id, id), eq(decisions.aiState, 'owed')))
      .returning({ id: decisions.id });
    return rows.length > 0;
  }

  /** Owed calls no worker holds, oldest first, for the sweep that re-enqueues them. */
  async owedUnclaimed(limit: number, afterId = 0): Promise<Array<DecisionKey & { id: number }>> {
    return this.database.db
      .select({ id: decisions.id, useCase: decisions.useCase, requestId: decisions.requestId })
      .from(decisions)
      .where(
        and(
          eq(decisions.aiState, 'owed'),
          sql`${decisions.id} > ${afterId}`,
          sql`(${decisions.aiLeaseUntil} is null or ${decisions.aiLeaseUntil} < now())`,
        ),
      )
      .orderBy(decisions.id)
      .limit(limit);
  }

  /** The model version most recently reported for an AI configuration of a use case. */
  async lastModelVersion(useCase: string, aiConfig: string): Promise<string | null> {
    const [row] = await this.database.db
      .select({ modelVersion: decisions.aiModelVersion })
      .from(decisions)
      .where(
        and(
          eq(decisions.useCase, useCase),
          eq(decisions.aiConfig, aiConfig),
          eq(decisions.aiState, 'done'),
          sql`${decisions.aiModelVersion} is not null`,
        ),
      )
      .orderBy(sql`${decisions.aiAt} desc`)
      .limit(1);
    return row?.modelVersion ?? null;
  }
}
