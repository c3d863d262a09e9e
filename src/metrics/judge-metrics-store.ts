import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';

/**
 * A use case's judge, measured apart from its AI (README "Judge comparator"): the `judge` block of
 * `GET /v1/use-cases/:id` and `…/metrics`. Counts and cost over all its judge calls; latency
 * percentiles over the latest LATENCY_WINDOW calls answered, so a read stays bounded however long
 * the use case has been judged.
 */
export interface JudgeSummary {
  /** Calls answered: their decisions are scored. */
  done: number;
  /** Calls still owed (waiting, being asked, or retried after a transient failure). */
  owed: number;
  /** Calls failed for good: their decisions stay pending (never scored 0 or 1). */
  failed: number;
  /** Owed calls whose last attempt failed and that wait for their retry. */
  retrying: number;
  totalCost: number;
  /** Mean cost of a judged decision (total cost over calls answered); null before any. */
  costPerJudgedDecision: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** The most recent error, of a failed call or of an owed one waiting for its retry. */
  lastError: { requestId: string; state: 'owed' | 'error'; error: string } | null;
  /** Judge versions that answered, with their calls (the latest first). */
  versions: Array<{ judgeVersion: string; done: number }>;
}

/** Latency percentiles are read over this many of the latest answered calls. */
export const LATENCY_WINDOW = 10_000;
const MAX_VERSIONS = 20;

export class JudgeMetricsStore {
  constructor(private readonly database: Database) {}

  /** Null when the use case was never judged. */
  async summary(useCase: string): Promise<JudgeSummary | null> {
    const [counts] = await this.database.rows<{
      done: number;
      owed: number;
      failed: number;
      retrying: number;
      total_cost: number | null;
    }>(sql`
      select count(*) filter (where state = 'done')::int as done,
        count(*) filter (where state = 'owed')::int as owed,
        count(*) filter (where state = 'error')::int as failed,
        count(*) filter (where state = 'owed' and error is not null)::int as retrying,
        sum(cost)::float8 as total_cost
      from judge_calls where use_case = ${useCase}`);
    if (!counts || Number(counts.done) + Number(counts.owed) + Number(counts.failed) === 0) return null;
    const [latency] = await this.database.rows<{ p50: number | null; p95: number | null }>(sql`
      select percentile_cont(0.5) within group (order by latency_ms)::float8 as p50,
        percentile_cont(0.95) within group (order by latency_ms)::float8 as p95
      from (select latency_ms from judge_calls
        where use_case = ${useCase} and state = 'done' and latency_ms is not null
        order by id desc limit ${LATENCY_WINDOW}) latest`);
    const [last] = await this.database.rows<{
      request_id: string;
      state: 'owed' | 'error';
      error: string;
    }>(sql`
      select request_id, state, error from judge_calls
      where use_case = ${useCase} and error is not null and state in ('owed', 'error')
      order by coalesce(judged_at, created_at) desc, id desc limit 1`);
    const versions = await this.database.rows<{ judge_version: string; done: number }>(sql`
      select judge_version, count(*)::int as done from judge_calls
      where use_case = ${useCase} and state = 'done' and judge_version is not null
      group by judge_version order by max(id) desc limit ${MAX_VERSIONS}`);
    const done = Number(counts.done);
    const totalCost = Number(counts.total_cost ?? 0);
    return {
      done,
      owed: Number(counts.owed),
      failed: Number(counts.failed),
      retrying: Number(counts.retrying),
      totalCost,
      costPerJudgedDecision: done > 0 ? totalCost / done : null,
      latencyP50Ms: latency?.p50 == null ? null : Number(latency.p50),
      latencyP95Ms: latency?.p95 == null ? null : Number(latency.p95),
      lastError: last ? { requestId: last.request_id, state: last.state, error: last.error } : null,
      versions: versions.map((v) => ({ judgeVersion: v.judge_version, done: Number(v.done) })),
    };
  }
}
