import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { decisions } from '../db/schema.js';

/** Owed AI calls per use case, for the scrape: only the owed rows are read (a partial index holds them). */
export async function owedCallsByUseCase(database: Database): Promise<Map<string, number>> {
  const rows = await database.db
    .select({ useCase: decisions.useCase, owed: sql<number>`count(*)::int` })
    .from(decisions)
    .where(eq(decisions.aiState, 'owed'))
    .groupBy(decisions.useCase);
  return new Map(rows.map((r) => [r.useCase, Number(r.owed)]));
}
