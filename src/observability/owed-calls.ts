import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { challengerCalls, challengers, decisions } from '../db/schema.js';

/** Owed AI calls per use case, for the scrape: only the owed rows are read (a partial index holds them). */
export async function owedCallsByUseCase(database: Database): Promise<Map<string, number>> {
  const rows = await database.db
    .select({ useCase: decisions.useCase, owed: sql<number>`count(*)::int` })
    .from(decisions)
    .where(eq(decisions.aiState, 'owed'))
    .groupBy(decisions.useCase);
  return new Map(rows.map((r) => [r.useCase, Number(r.owed)]));
}

/** Calls owed to active challengers per use case, for the scrape (the owed rows have a partial index). */
export async function challengerOwedCallsByUseCase(database: Database): Promise<Map<string, number>> {
  const rows = await database.db
    .select({ useCase: challengerCalls.useCase, owed: sql<number>`count(*)::int` })
    .from(challengerCalls)
    .innerJoin(
      challengers,
      and(eq(challengers.id, challengerCalls.challengerId), eq(challengers.state, 'active')),
    )
    .where(eq(challengerCalls.state, 'owed'))
    .groupBy(challengerCalls.useCase);
  return new Map(rows.map((r) => [r.useCase, Number(r.owed)]));
}
