import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { GuardWindow } from './guards.js';

/** Reads the trailing windows guards judge, and the AI spend of the day. */
export class GuardWindowStore {
  constructor(private readonly database: Database) {}

  /**
   * The last `size` compared decisions and AI calls of each use case's current stage visit (its
   * stage version), for many use cases at once (the tick). Each reads `size` entries of a partial
   * index that holds what it counts (decisions_guard_window_compared, decisions_guard_window_calls).
   */
  async windows(
    requests: ReadonlyArray<{ useCase: string; stageVersion: number; size: number }>,
  ): Promise<Map<string, GuardWindow>> {
    const result = new Map<string, GuardWindow>(
      requests.map((r) => [r.useCase, { compared: 0, scoreSum: 0, aiCalls: 0, aiErrors: 0 }]),
    );
    if (requests.length === 0) return result;
    const wanted = sql`unnest(${sql.param(requests.map((r) => r.useCase))}::text[],
      ${sql.param(requests.map((r) => r.stageVersion))}::int[],
      ${sql.param(requests.map((r) => r.size))}::int[]) f(use_case, stage_version, size)`;
    const [compared, calls] = await Promise.all([
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
            order by d.ai_at desc limit f.size) x) w`),
    ]);
    for (const r of compared) {
      Object.assign(result.get(r.use_case)!, { compared: Number(r.n), scoreSum: Number(r.s) });
    }
    for (const r of calls) {
      Object.assign(result.get(r.use_case)!, { aiCalls: Number(r.n), aiErrors: Number(r.e) });
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
