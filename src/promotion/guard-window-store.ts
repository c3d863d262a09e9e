import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { GuardWindow } from './guards.js';

/** Reads the trailing windows guards judge, and the AI spend of the day. */
export class GuardWindowStore {
  constructor(private readonly database: Database) {}

  async window(useCase: string, stage: string, since: Date, size: number): Promise<GuardWindow> {
    const sinceIso = since.toISOString();
    const [compared] = await this.database.rows<{ n: number; s: number }>(sql`
      select count(*)::int as n, coalesce(sum(score), 0)::float8 as s from (
        select score from decisions
        where use_case = ${useCase} and stage = ${stage} and received_at >= ${sinceIso}::timestamptz
          and score is not null
        order by compared_at desc limit ${size}) w`);
    const [calls] = await this.database.rows<{ n: number; e: number }>(sql`
      select count(*)::int as n, count(*) filter (where ai_state = 'error')::int as e from (
        select ai_state from decisions
        where use_case = ${useCase} and stage = ${stage} and received_at >= ${sinceIso}::timestamptz
          and ai_state in ('done', 'error')
        order by ai_at desc limit ${size}) w`);
    return {
      compared: Number(compared?.n ?? 0),
      scoreSum: Number(compared?.s ?? 0),
      aiCalls: Number(calls?.n ?? 0),
      aiErrors: Number(calls?.e ?? 0),
    };
  }

  /** AI spend of a use case since the start of `now`'s UTC day, in USD. */
  async spendToday(useCase: string, now: Date): Promise<number> {
    const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const [row] = await this.database.rows<{ cost: number }>(sql`
      select coalesce(sum(ai_cost), 0)::float8 as cost from decisions
      where use_case = ${useCase} and ai_at >= ${dayStart.toISOString()}::timestamptz`);
    return Number(row?.cost ?? 0);
  }
}
