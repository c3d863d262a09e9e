import { sql } from 'drizzle-orm';
import { DECISION_OF_CHALLENGER_CALL } from '../db/decision-month.js';
import type { Database } from '../db/database.js';
import type { DecisionKey } from '../db/decision-row.js';
import { ROLLUP_STRIPES } from '../db/rollup-schema.js';
import type { RecordedAnswer, RecordedFailure } from './ai-call-store.js';

/** The call's decision (decision-month.ts). */
const DECISION_OF_CALL = sql.raw(DECISION_OF_CHALLENGER_CALL);

/** A challenger call held by one worker until its lease runs out. */
export interface ClaimedChallengerCall {
  id: number;
  challengerId: number;
  useCase: string;
  requestId: string;
  /** The challenger's plan version: its AI configuration answers. */
  planVersion: number;
  input: unknown;
  context: Record<string, unknown>;
  attempts: number;
  /** The human side of the request when the call was claimed, if known. */
  humanDecision: unknown;
}

const MAX_LEASE_MS = 2_000_000_000;

/**
 * PostgreSQL's record of the calls owed to challengers (README "Champion and challenger"): claimed
 * under a lease like shadow calls (AiCallStore), so a duplicate job or a second process never asks
 * the challenger twice while a lease holds, and a lost job is found again by the sweep. Only calls
 * of the use case's active challenger are claimed: a challenger swapped in, replaced or discarded
 * owes nothing more.
 */
export class ChallengerCallStore {
  constructor(private readonly database: Database) {}

  async claim(key: DecisionKey, leaseMs: number): Promise<ClaimedChallengerCall | null> {
    const lease = Math.min(MAX_LEASE_MS, Math.ceil(leaseMs));
    const [row] = await this.database.rows<{
      id: number;
      challenger_id: number;
      use_case: string;
      request_id: string;
      plan_version: number;
      input: unknown;
      context: Record<string, unknown> | null;
      attempts: number;
      human_decision: unknown;
    }>(sql`
      update challenger_calls cc
      set lease_until = now() + ${lease} * interval '1 millisecond', attempts = cc.attempts + 1
      from challengers c
      where cc.challenger_id = c.id and c.state = 'active' and c.use_case = ${key.useCase}
        and cc.use_case = ${key.useCase} and cc.request_id = ${key.requestId} and cc.state = 'owed'
        and (cc.lease_until is null or cc.lease_until < now())
      returning cc.id, cc.challenger_id, cc.use_case, cc.request_id, c.plan_version,
        cc.pending_input as input, cc.attempts,
        (select d.context from decisions d where ${DECISION_OF_CALL}) as context,
        (select d.human_decision from decisions d where ${DECISION_OF_CALL}) as human_decision`);
    if (!row) return null;
    return {
      id: Number(row.id),
      challengerId: Number(row.challenger_id),
      useCase: row.use_case,
      requestId: row.request_id,
      planVersion: row.plan_version,
      input: row.input,
      context: row.context ?? {},
      attempts: row.attempts,
      humanDecision: row.human_decision,
    };
  }

  /**
   * Records the answer (and its score against the human side known at claim time), and books its
   * cost on the use case's daily spend, so `ai.maxDailyCost` counts the challenger too.
   */
  async recordAnswer(id: number, answer: RecordedAnswer, score: number | null): Promise<boolean> {
    const rows = await this.database.rows<{ id: number }>(sql`
      with answered as (
        update challenger_calls set state = 'done', lease_until = null, pending_input = null,
          decision = ${JSON.stringify(answer.decision)}::jsonb, confidence = ${answer.confidence},
          model_version = ${answer.modelVersion}, latency_ms = ${answer.latencyMs},
          input_tokens = ${answer.inputTokens}, output_tokens = ${answer.outputTokens},
          cost = ${answer.costUsd}, ai_at = now(), score = ${score}, error = null
        where id = ${id} and state = 'owed'
        returning id, use_case, cost, ai_at
      ), spent as (
        insert into daily_ai_spend as r (stripe, use_case, day, cost)
        select (pg_backend_pid() % ${sql.raw(String(ROLLUP_STRIPES))})::smallint, use_case, (ai_at at time zone 'UTC')::date, cost
        from answered where cost is not null and cost > 0
        on conflict on constraint daily_ai_spend_pk do update set cost = r.cost + excluded.cost
      )
      select id from answered`);
    return rows.length > 0;
  }

  async recordFailure(id: number, failure: RecordedFailure): Promise<boolean> {
    const rows = await this.database.rows<{ id: number }>(sql`
      update challenger_calls set state = 'error', lease_until = null, pending_input = null,
        error = ${failure.error.slice(0, 500)}, latency_ms = ${failure.latencyMs},
        model_version = ${failure.modelVersion}, ai_at = now()
      where id = ${id} and state = 'owed'
      returning id`);
    return rows.length > 0;
  }

  /** Gives claims back (a retry after backoff, or the process stopping) without recording anything. */
  async releaseMany(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.database.rows<{ id: number }>(sql`
      update challenger_calls set lease_until = null
      where id = any(${`{${ids.map((i) => Math.trunc(i)).join(',')}}`}::bigint[]) and state = 'owed'
        and lease_until is not null
      returning id`);
    return rows.length;
  }

  /** Owed calls of active challengers no worker holds, oldest first, for the sweep. */
  async owedUnclaimed(limit: number, afterId = 0): Promise<Array<DecisionKey & { id: number }>> {
    const rows = await this.database.rows<{ id: number; use_case: string; request_id: string }>(sql`
      select cc.id, cc.use_case, cc.request_id from challenger_calls cc
      join challengers c on c.id = cc.challenger_id and c.state = 'active'
      where cc.state = 'owed' and cc.id > ${afterId} and (cc.lease_until is null or cc.lease_until < now())
      order by cc.id limit ${limit}`);
    return rows.map((r) => ({ id: Number(r.id), useCase: r.use_case, requestId: r.request_id }));
  }
}
