import { sql } from 'drizzle-orm';
import { monthOfIdText } from '../db/decision-month.js';
import type { Database, Db } from '../db/database.js';
import { ROLLUP_STRIPES } from '../db/rollup-schema.js';

/** The judged decision, in its month's partition (decision-month.ts). */
const JUDGED_DECISION = sql.raw(`d.id = j.decision_id and ${monthOfIdText('j.decision_id', 'd.')}`);

/** A judge call a comparison owes: one per decision (README "Judge comparator"). */
export interface OwedJudgeCall {
  decisionId: number;
  useCase: string;
  requestId: string;
  /** The decision's plan version, whose comparator is the judge. */
  planVersion: number;
  /** Drawn to be offered to people for a rating (the judge's calibration). */
  calibration: boolean;
}

/** A judge call held by one worker until its lease runs out, with what the judge is shown. */
export interface ClaimedJudgeCall {
  id: number;
  decisionId: number;
  useCase: string;
  requestId: string;
  planVersion: number;
  /** Attempts so far, this one included. */
  attempts: number;
  /** The input and context as the plan stores them (`storeInput`, `redact`): what the judge sees. */
  input: unknown;
  context: Record<string, unknown>;
  human: unknown;
  ai: unknown;
}

/** What the judge answered, once bounded (judge-client.ts). */
export interface RecordedVerdict {
  score: number;
  verdict: string | null;
  rationale: string | null;
  judgeVersion: string;
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number;
}

/** The decision store's score write, as the comparison recorder makes it (the rollups follow it). */
export interface ScoreWriter {
  recordScore(id: number, score: number, db?: Db): Promise<boolean>;
}

const MAX_LEASE_MS = 2_000_000_000;
const MAX_ERROR_CHARS = 500;

type ClaimRow = {
  id: number;
  decision_id: number;
  use_case: string;
  request_id: string;
  plan_version: number;
  attempts: number;
  input: unknown;
  context: Record<string, unknown> | null;
  human: unknown;
  ai: unknown;
};

/**
 * PostgreSQL's record of the judge calls (migration 0016): owed once per decision, claimed under a
 * lease like shadow and challenger calls, so a second worker or process never asks the judge
 * while a lease holds, and a lease that lapses (a process killed) is claimed again. Redis plays
 * no part: a flush loses nothing.
 */
export class JudgeCallStore {
  constructor(
    private readonly database: Database,
    private readonly scores: ScoreWriter,
  ) {}

  async owe(call: OwedJudgeCall): Promise<boolean> {
    const rows = await this.database.rows<{ id: number }>(sql`
      insert into judge_calls (decision_id, use_case, request_id, plan_version, calibration)
      values (${call.decisionId}, ${call.useCase}, ${call.requestId}, ${call.planVersion}, ${call.calibration})
      on conflict (decision_id) do nothing
      returning id`);
    return rows.length > 0;
  }

  /** Owed calls per use case, and how many of them no lease holds (ready to be claimed). */
  async owedByUseCase(): Promise<Map<string, { owed: number; ready: number }>> {
    const rows = await this.database.rows<{ use_case: string; owed: number; ready: number }>(sql`
      select use_case, count(*)::int as owed,
        count(*) filter (where lease_until is null or lease_until < now())::int as ready
      from judge_calls where state = 'owed' group by use_case`);
    return new Map(rows.map((r) => [r.use_case, { owed: Number(r.owed), ready: Number(r.ready) }]));
  }

  /** Claims the oldest owed call of a use case no lease holds (a retry's backoff is a lease). */
  async claim(useCase: string, leaseMs: number): Promise<ClaimedJudgeCall | null> {
    const lease = Math.min(MAX_LEASE_MS, Math.ceil(leaseMs));
    const [row] = await this.database.rows<ClaimRow>(sql`
      with picked as (
        select id from judge_calls
        where state = 'owed' and use_case = ${useCase} and (lease_until is null or lease_until < now())
        order by id limit 1 for update skip locked
      )
      update judge_calls j
      set lease_until = now() + ${lease} * interval '1 millisecond', attempts = j.attempts + 1
      from picked where j.id = picked.id
      returning j.id, j.decision_id, j.use_case, j.request_id, j.plan_version, j.attempts,
        (select d.input from decisions d where ${JUDGED_DECISION}) as input,
        (select d.context from decisions d where ${JUDGED_DECISION}) as context,
        (select d.human_decision from decisions d where ${JUDGED_DECISION}) as human,
        (select d.ai_decision from decisions d where ${JUDGED_DECISION}) as ai`);
    if (!row) return null;
    return {
      id: Number(row.id),
      decisionId: Number(row.decision_id),
      useCase: row.use_case,
      requestId: row.request_id,
      planVersion: row.plan_version,
      attempts: row.attempts,
      input: row.input,
      context: row.context ?? {},
      human: row.human,
      ai: row.ai,
    };
  }

  /**
   * Records the verdict and the decision's score in one transaction: the score through the
   * decision store's own write (its rollup triggers fire), the cost on the use case's daily spend
   * (`ai.maxDailyCost` counts the judge). False when the call was no longer owed.
   *
   * Locks are taken in the order the shadow worker's answer write takes them (the decision and
   * its rollups, then the daily spend), so the two never wait on each other in a cycle: the call
   * is locked first (`for update`, no other write), the decision scored, then the call and spend.
   */
  async recordVerdict(id: number, v: RecordedVerdict): Promise<boolean> {
    return this.database.db.transaction(async (tx) => {
      const [owed] = rowsOf<{ decision_id: number }>(
        await tx.execute(
          sql`select decision_id from judge_calls where id = ${id} and state = 'owed' for update`,
        ),
      );
      if (!owed) return false;
      await this.scores.recordScore(Number(owed.decision_id), v.score, tx);
      await tx.execute(sql`
        with judged as (
          update judge_calls set state = 'done', lease_until = null, score = ${v.score},
            verdict = ${v.verdict}, rationale = ${v.rationale}, judge_version = ${v.judgeVersion},
            latency_ms = ${v.latencyMs}, input_tokens = ${v.inputTokens},
            output_tokens = ${v.outputTokens}, cost = ${v.costUsd}, error = null, judged_at = now()
          where id = ${id}
          returning use_case, cost, judged_at
        )
        insert into daily_ai_spend as r (stripe, use_case, day, cost)
        select (pg_backend_pid() % ${sql.raw(String(ROLLUP_STRIPES))})::smallint, use_case, (judged_at at time zone 'UTC')::date, cost
        from judged where cost is not null and cost > 0
        on conflict on constraint daily_ai_spend_pk do update set cost = r.cost + excluded.cost`);
      return true;
    });
  }

  /** Fails the call for good: the decision's score stays null (pending), the error is kept. */
  async recordFailure(id: number, failure: { error: string; latencyMs: number | null }): Promise<boolean> {
    const rows = await this.database.rows<{ id: number }>(sql`
      update judge_calls set state = 'error', lease_until = null,
        error = ${failure.error.slice(0, MAX_ERROR_CHARS)}, latency_ms = ${failure.latencyMs},
        judged_at = now()
      where id = ${id} and state = 'owed'
      returning id`);
    return rows.length > 0;
  }

  /** Keeps the call owed, claimable again after `delayMs` (its backoff), with the last error shown. */
  async retryLater(id: number, delayMs: number, error: string): Promise<boolean> {
    const delay = Math.min(MAX_LEASE_MS, Math.max(0, Math.ceil(delayMs)));
    const rows = await this.database.rows<{ id: number }>(sql`
      update judge_calls set lease_until = now() + ${delay} * interval '1 millisecond',
        error = ${error.slice(0, MAX_ERROR_CHARS)}
      where id = ${id} and state = 'owed'
      returning id`);
    return rows.length > 0;
  }

  /** Gives claims back (the process stopping, a bookkeeping failure) without recording anything. */
  async releaseMany(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.database.rows<{ id: number }>(sql`
      update judge_calls set lease_until = null
      where id = any(${`{${ids.map((i) => Math.trunc(i)).join(',')}}`}::bigint[]) and state = 'owed'
        and lease_until is not null
      returning id`);
    return rows.length;
  }
}

/** `execute` answers rows on postgres.js and `{rows}` on PGlite. */
function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []);
}
