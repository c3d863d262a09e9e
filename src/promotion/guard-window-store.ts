import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { GuardWindow } from './guards.js';

/** Reads the trailing windows guards judge, and the AI spend of the day. */
export class GuardWindowStore {
  constructor(private readonly database: Database) {}

  /**
   * The last `size` compared decisions and AI calls of each use case's current stage visit (its
   * stage version), for many use cases at once (the tick). Each reads `size` entries of a partial
   * index that holds what it counts (decisions_guard_window_compared, decisions_guard_window_calls,
   * decisions_guard_window_label). Calls are taken in the order their requests arrived, not the
   * order they ended: failures retried after a burst would otherwise crowd the window together.
   */
  async windows(
    requests: ReadonlyArray<{
      useCase: string;
      stageVersion: number;
      size: number;
      /** `labelRecallBelow`'s labels, each read over the last `labelWindow` of its compared requests. */
      labels?: readonly string[];
      labelWindow?: number;
    }>,
  ): Promise<Map<string, GuardWindow>> {
    const result = new Map<string, GuardWindow>(
      requests.map((r) => [r.useCase, { compared: 0, scoreSum: 0, aiCalls: 0, aiErrors: 0, labels: {} }]),
    );
    const labelled = requests.flatMap((r) =>
      (r.labels ?? []).map((label) => ({ ...r, label, size: r.labelWindow ?? r.size })),
    );
    if (requests.length === 0) return result;
    const wanted = sql`unnest(${sql.param(requests.map((r) => r.useCase))}::text[],
      ${sql.param(requests.map((r) => r.stageVersion))}::int[],
      ${sql.param(requests.map((r) => r.size))}::int[]) f(use_case, stage_version, size)`;
    const [compared, calls, labels] = await Promise.all([
      this.database.preparedRows<{ use_case: string; n: number; s: number }>(sql`
        select f.use_case, w.n, w.s from ${wanted} cross join lateral (
          select count(*)::int as n, coalesce(sum(score), 0)::float8 as s from (
            select d.score from decisions d
            where d.use_case = f.use_case and d.stage_version = f.stage_version and d.score is not null
            order by d.compared_at desc limit f.size) x) w`),
      this.database.preparedRows<{ use_case: string; n: number; e: number }>(sql`
        select f.use_case, w.n, w.e from ${wanted} cross join lateral (
          select count(*)::int as n, count(*) filter (where ai_state = 'error')::int as e from (
            select d.ai_state from decisions d
            where d.use_case = f.use_case and d.stage_version = f.stage_version
              and d.ai_state in ('done', 'error')
            order by d.received_at desc limit f.size) x) w`),
      labelled.length === 0
        ? []
        : this.database.preparedRows<{ use_case: string; label: string; n: number; h: number }>(sql`
        select f.use_case, f.label, w.n, w.h from unnest(
          ${sql.param(labelled.map((r) => r.useCase))}::text[],
          ${sql.param(labelled.map((r) => r.stageVersion))}::int[],
          ${sql.param(labelled.map((r) => r.label))}::text[],
          ${sql.param(labelled.map((r) => r.size))}::int[]) f(use_case, stage_version, label, size)
        cross join lateral (
          select count(*)::int as n, count(*) filter (where x.score >= 1)::int as h from (
            select d.score from decisions d
            where d.use_case = f.use_case and d.stage_version = f.stage_version and d.score is not null
              and jsonb_typeof(d.human_decision) = 'string' and length(d.human_decision #>> '{}') <= 200
              and (d.human_decision #>> '{}') = f.label
            order by d.compared_at desc limit f.size) x) w`),
    ]);
    for (const r of compared) {
      Object.assign(result.get(r.use_case)!, { compared: Number(r.n), scoreSum: Number(r.s) });
    }
    for (const r of calls) {
      Object.assign(result.get(r.use_case)!, { aiCalls: Number(r.n), aiErrors: Number(r.e) });
    }
    for (const r of labels) {
      result.get(r.use_case)!.labels[r.label] = { compared: Number(r.n), hits: Number(r.h) };
    }
    return result;
  }

  /** AI spend of a use case on `now`'s UTC day, in USD (the daily_ai_spend rollup). */
  async spendToday(useCase: string, now: Date): Promise<number> {
    return (await this.spendsToday([useCase], now)).get(useCase) ?? 0;
  }

  /** The day's spend of many use cases at once (the tick). */
  async spendsToday(useCases: readonly string[], now: Date): Promise<Map<string, number>> {
    if (useCases.length === 0) return new Map();
    const rows = await this.database.preparedRows<{ use_case: string; cost: number }>(sql`
      select use_case, sum(cost)::float8 as cost from daily_ai_spend
      where use_case = any(${sql.param([...useCases])}::text[]) and day = ${now.toISOString().slice(0, 10)}::date
      group by use_case`);
    return new Map(rows.map((r) => [r.use_case, Number(r.cost)]));
  }
}
