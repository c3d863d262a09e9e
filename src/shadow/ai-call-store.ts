import { and, eq, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../db/database.js';
import { monthOfId, monthOfIdValue, newestByKeyText } from '../db/decision-month.js';
import { decisions } from '../db/schema.js';
import { type ComparableRow, comparableColumns, type DecisionKey } from '../db/decision-row.js';

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

/**
 * A jsonb column as the driver parsed it. Drizzle's jsonb mapping parses a string value once
 * more, and a decision is usually a label, a string that is not JSON: each row cost a thrown
 * and caught SyntaxError (4% of the controller's CPU at 1,000 calls/s), and a label that looks
 * like JSON ("42") would come back as another type.
 */
function asParsed(column: AnyPgColumn) {
  return sql<unknown>`${column}`;
}

/** Longer than any plan's timeout × attempts: the lease travels as int milliseconds. */
const MAX_LEASE_MS = 2_000_000_000;

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

/** A claim asked for one call: its lease is the use case's timeout times its attempts, plus a margin. */
export interface ClaimRequest extends DecisionKey {
  leaseMs: number;
}

/** An answer to record for a claimed call, with its score against the human side if known. */
export interface AnswerRecord {
  id: number;
  answer: RecordedAnswer;
  score: number | null;
}

/**
 * PostgreSQL's record of owed AI calls. The queue only schedules; a call is made
 * by whoever claims it here, so a duplicate job or a second process never makes
 * a second call while the first one's lease holds.
 *
 * Claims and answers are written many at a time (one statement for a batch, its rows passed as
 * arrays): at 1,000 calls/s one statement per call kept every pooled connection busy, and each
 * statement cost more in the driver and in statement-level triggers than in the row it changed.
 */
export class AiCallStore {
  // The two statements every AI call runs, built once: query building costs more than the query.
  private readonly claimStatement;
  private readonly answerStatement;

  constructor(private readonly database: Database) {
    const db = database.relaxed;
    // Each key's newest decision, found month by month from this one (decision-month.ts).
    const claimed = sql`(select k.lease_ms, n.id, n.received_month
      from unnest(${sql.placeholder('useCases')}::text[], ${sql.placeholder('requestIds')}::text[],
        ${sql.placeholder('leaseMs')}::int[]) as k(use_case, request_id, lease_ms)
      cross join lateral (${sql.raw(newestByKeyText('k.use_case', 'k.request_id'))}) n) as claimed`;
    this.claimStatement = db
      .update(decisions)
      .set({
        aiLeaseUntil: sql`now() + claimed.lease_ms * interval '1 millisecond'`,
        aiAttempts: sql`${decisions.aiAttempts} + 1`,
      })
      .from(claimed)
      .where(
        and(
          sql`${decisions.id} = claimed.id`,
          sql`${decisions.receivedMonth} = claimed.received_month`,
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
        humanDecision: asParsed(decisions.humanDecision),
      })
      .prepare('shadowgate_claim_ai_calls');
    const answered = sql`unnest(${sql.placeholder('ids')}::bigint[], ${sql.placeholder('decisions')}::text[],
      ${sql.placeholder('confidences')}::float8[], ${sql.placeholder('modelVersions')}::text[],
      ${sql.placeholder('latencies')}::float8[], ${sql.placeholder('inputTokens')}::int[],
      ${sql.placeholder('outputTokens')}::int[], ${sql.placeholder('costs')}::float8[],
      ${sql.placeholder('scores')}::float8[])
      as answered(id, decision, confidence, model_version, latency_ms, input_tokens, output_tokens, cost, score)`;
    this.answerStatement = db
      .update(decisions)
      .set({
        aiState: 'done',
        aiLeaseUntil: null,
        pendingInput: null,
        aiDecision: sql`answered.decision::jsonb`,
        aiConfidence: sql`answered.confidence`,
        aiModelVersion: sql`answered.model_version`,
        aiLatencyMs: sql`answered.latency_ms`,
        aiInputTokens: sql`answered.input_tokens`,
        aiOutputTokens: sql`answered.output_tokens`,
        aiCost: sql`answered.cost`,
        aiError: null,
        aiAt: sql`now()`,
        score: sql`answered.score`,
        comparedAt: sql`case when answered.score is null then null else now() end`,
      })
      .from(answered)
      .where(
        and(sql`${decisions.id} = answered.id`, monthOfId(sql`answered.id`), eq(decisions.aiState, 'owed')),
      )
      .returning({
        ...comparableColumns,
        humanDecision: asParsed(decisions.humanDecision),
        aiDecision: asParsed(decisions.aiDecision),
      })
      .prepare('shadowgate_record_ai_answers');
  }

  async claim(key: DecisionKey, leaseMs: number): Promise<ClaimedCall | null> {
    const [claimed] = await this.claimMany([{ ...key, leaseMs }]);
    return claimed ?? null;
  }

  /**
   * Claims the calls that are owed and not held by another lease, in one statement. Returns
   * the calls claimed, in no particular order; a key asked twice is claimed once.
   */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimedCall[]> {
    if (requests.length === 0) return [];
    const rows = await this.claimStatement.execute({
      useCases: requests.map((r) => r.useCase),
      requestIds: requests.map((r) => r.requestId),
      leaseMs: requests.map((r) => Math.min(MAX_LEASE_MS, Math.ceil(r.leaseMs))),
    });
    return rows as ClaimedCall[];
  }

  /** Gives a claimed call back (to be retried later) without recording anything. */
  async release(id: number): Promise<void> {
    await this.database.relaxed
      .update(decisions)
      .set({ aiLeaseUntil: null })
      .where(and(eq(decisions.id, id), monthOfId(id), eq(decisions.aiState, 'owed')));
  }

  /**
   * Gives back the claims of calls whose outcome is not written (a stopping process hands back
   * what it still holds), so they can be claimed again at once; a call answered or failed
   * meanwhile is left as it is. Returns how many claims were given back.
   */
  async releaseMany(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.database.relaxed
      .update(decisions)
      .set({ aiLeaseUntil: null })
      .where(
        and(
          sql`${decisions.id} = any(${`{${ids.map((id) => Math.trunc(id)).join(',')}}`}::bigint[])`,
          sql`${decisions.receivedMonth} = any(${`{${[...new Set(ids.map(monthOfIdValue))].join(',')}}`}::int[])`,
          eq(decisions.aiState, 'owed'),
          sql`${decisions.aiLeaseUntil} is not null`,
        ),
      )
      .returning({ id: decisions.id });
    return rows.length;
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
    const [row] = await this.recordAnswers([{ id, answer, score }]);
    return row ?? null;
  }

  /** Records several answers in one statement; returns the rows it changed (those still owed), in no particular order. */
  async recordAnswers(records: readonly AnswerRecord[]): Promise<ComparableRow[]> {
    if (records.length === 0) return [];
    const rows = await this.answerStatement.execute({
      ids: records.map((r) => r.id),
      decisions: records.map((r) => JSON.stringify(r.answer.decision)),
      confidences: records.map((r) => r.answer.confidence),
      modelVersions: records.map((r) => r.answer.modelVersion),
      latencies: records.map((r) => r.answer.latencyMs),
      inputTokens: records.map((r) => r.answer.inputTokens),
      outputTokens: records.map((r) => r.answer.outputTokens),
      costs: records.map((r) => r.answer.costUsd),
      scores: records.map((r) => r.score),
    });
    return rows as ComparableRow[];
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
      .where(and(eq(decisions.id, id), monthOfId(id), eq(decisions.aiState, 'owed')))
      .returning({ id: decisions.id });
    return rows.length > 0;
  }

  /** Where a limited-autonomous suggestion sent its request (`decisions.route`, README "Drift"). */
  async recordRoute(id: number, route: string): Promise<void> {
    await this.database.relaxed
      .update(decisions)
      .set({ route })
      .where(and(eq(decisions.id, id), monthOfId(id)));
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
