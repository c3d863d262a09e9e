import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { decisions } from '../db/schema.js';
import { type ComparableRow, comparableColumns, type DecisionKey } from '../ingest/decision-store.js';

/** An owed AI call held by one worker until its lease runs out. */
export interface ClaimedCall {
  id: number;
  useCase: string;
  requestId: string;
  /** The input as the workflow sent it, whatever form the plan stores. */
  input: unknown;
  context: Record<string, unknown>;
  planVersion: number;
  aiConfig: string;
  /** Attempts so far, this one included. */
  attempts: number;
  /** The human side when the call was claimed (once set it never changes). */
  humanDecision: unknown;
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

/**
 * PostgreSQL's record of owed AI calls. The queue only schedules; a call is made
 * by whoever claims it here, so a duplicate job or a second process never makes
 * a second call while the first one's lease holds.
 */
export class AiCallStore {
  // The two statements every AI call runs, built once: query building costs more than the query.
  private readonly claimStatement;
  private readonly answerStatement;

  constructor(private readonly database: Database) {
    const db = database.relaxed;
    this.claimStatement = db
      .update(decisions)
      .set({
        aiLeaseUntil: sql`now() + ${sql.placeholder('lease')}::interval`,
        aiAttempts: sql`${decisions.aiAttempts} + 1`,
      })
      .where(
        and(
          eq(decisions.useCase, sql.placeholder('useCase')),
          eq(decisions.requestId, sql.placeholder('requestId')),
          eq(decisions.aiState, 'owed'),
          sql`(${decisions.aiLeaseUntil} is null or ${decisions.aiLeaseUntil} < now())`,
        ),
      )
      .returning({
        id: decisions.id,
        useCase: decisions.useCase,
        requestId: decisions.requestId,
        // The raw input: kept apart while owed when the plan stores another form of it.
        input: sql<unknown>`coalesce(${decisions.pendingInput}, ${decisions.input})`.mapWith(decisions.input),
        context: decisions.context,
        planVersion: decisions.planVersion,
        aiConfig: decisions.aiConfig,
        attempts: decisions.aiAttempts,
        humanDecision: decisions.humanDecision,
      })
      .prepare('shadowgate_claim_ai_call');
    const score = sql.placeholder('score');
    this.answerStatement = db
      .update(decisions)
      .set({
        aiState: 'done',
        aiLeaseUntil: null,
        pendingInput: null,
        aiDecision: sql`${sql.placeholder('decision')}::jsonb`,
        aiConfidence: sql`${sql.placeholder('confidence')}::float8`,
        aiModelVersion: sql`${sql.placeholder('modelVersion')}::text`,
        aiLatencyMs: sql`${sql.placeholder('latencyMs')}::float8`,
        aiInputTokens: sql`${sql.placeholder('inputTokens')}::int`,
        aiOutputTokens: sql`${sql.placeholder('outputTokens')}::int`,
        aiCost: sql`${sql.placeholder('cost')}::float8`,
        aiError: null,
        aiAt: sql`now()`,
        score: sql`${score}::float8`,
        comparedAt: sql`case when ${score}::float8 is null then null else now() end`,
      })
      .where(and(eq(decisions.id, sql.placeholder('id')), eq(decisions.aiState, 'owed')))
      .returning(comparableColumns)
      .prepare('shadowgate_record_ai_answer');
  }

  async claim(key: DecisionKey, leaseMs: number): Promise<ClaimedCall | null> {
    const [row] = await this.claimStatement.execute({
      useCase: key.useCase,
      requestId: key.requestId,
      lease: `${Math.ceil(leaseMs)} milliseconds`,
    });
    return (row as ClaimedCall | undefined) ?? null;
  }

  /** Gives a claimed call back (to be retried later) without recording anything. */
  async release(id: number): Promise<void> {
    await this.database.relaxed
      .update(decisions)
      .set({ aiLeaseUntil: null })
      .where(and(eq(decisions.id, id), eq(decisions.aiState, 'owed')));
  }

  /**
   * Records the AI side. `score` is the comparison with the human side known at claim
   * time (a human side never changes once set), so the common case needs one write.
   */
  async recordAnswer(
    id: number,
    answer: RecordedAnswer,
    score: number | null,
  ): Promise<ComparableRow | null> {
    const [row] = await this.answerStatement.execute({
      id,
      decision: JSON.stringify(answer.decision),
      confidence: answer.confidence,
      modelVersion: answer.modelVersion,
      latencyMs: answer.latencyMs,
      inputTokens: answer.inputTokens,
      outputTokens: answer.outputTokens,
      cost: answer.costUsd,
      score,
    });
    return (row as ComparableRow | undefined) ?? null;
  }

  async recordFailure(id: number, failure: RecordedFailure): Promise<boolean> {
    const rows = await this.database.relaxed
      .update(decisions)
      .set({
        aiState: 'error',
        aiLeaseUntil: null,
        pendingInput: null,
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
    return this.database.relaxed
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
    const [row] = await this.database.relaxed
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
