import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { GuardWindow } from './guards.js';

/** Reads the trailing windows guards judge, and the AI spend of the day. */
export class GuardWindowStore {
  constructor(private readonly database: Database) {}

  /** The last `size` compared decisions and AI calls of a use case's current stage visit (its stage version). */
  async window(useCase: string, stageVersion: number, size: number): Promise<GuardWindow> {
    // Each reads `size` entries of a partial index (decisions_guard_compared, decisions_guard_calls).
    const [compared] = await this.database.rows<{ n: number; s: number }>(sql`
      select count(*)::int as n, coalesce(sum(score), 0)::float8 as s from (
        select score from decisions
        where use_case = ${useCase} and stage_version = ${stageVersion} and score is not null
        order by compared_at desc limit ${size}) w`);
    const [calls] = await this.database.rows<{ n: number; e: number }>(sql`
      select count(*)::int as n, count(*) filter (where ai_state = 'error')::int as e from (
        select ai_state from decisions
        where use_case = ${useCase} and stage_version = ${stageVersion} and ai_state in ('done', 'error')
        order by ai_at desc limit ${size}) w`);
    return {
      compared: Number(compared?.n ?? 0),
      scoreSum: Number(compared?.s ?? 0),
      aiCalls: Number(calls?.n ?? 0),
      aiErrors: Number(calls?.e ?? 0),
    };
  }

  /** AI spend of a use case on `now`'s UTC day, in USD (the daily_ai_spend rollup). */
  async spendToday(useCase: string, now: Date): Promise<number> {
    const [row] = await this.database.rows<{ cost: number }>(sql`
      select coalesce(sum(cost), 0)::float8 as cost from daily_ai_spend where use_case = ${useCase} and day = ${now.toISOString().slice(0, 10)}::date`);
    return Number(row?.cost ?? 0);
  }
}
