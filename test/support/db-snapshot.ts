import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';

/**
 * What a refused request must leave as it was: the row count of every table the API writes, and
 * a digest of the rows of the tables whose content a request could overwrite in place.
 * `api_keys` is counted but not digested: a key's last-used time is touched by every request
 * that presents it, refused or not.
 */

export const STORED_TABLES = [
  'use_cases',
  'plan_versions',
  'decisions',
  'stage_transitions',
  'api_keys',
  'audit_events',
  'pending_changes',
] as const;
export type StoredTable = (typeof STORED_TABLES)[number];

const DIGESTED_TABLES = [
  'use_cases',
  'plan_versions',
  'decisions',
  'stage_transitions',
  'pending_changes',
] as const;
type DigestedTable = (typeof DIGESTED_TABLES)[number];

export interface DbSnapshot {
  counts: Record<StoredTable, number>;
  digests: Record<DigestedTable, string>;
}

export async function snapshotDatabase(database: Database): Promise<DbSnapshot> {
  const counts = {} as Record<StoredTable, number>;
  for (const table of STORED_TABLES) counts[table] = await countRows(database, table);
  const digests = {} as Record<DigestedTable, string>;
  for (const table of DIGESTED_TABLES) {
    const [row] = await database.rows<{ digest: string | null }>(
      sql.raw(`select md5(string_agg(t::text, E'\\n' order by t::text)) as digest from ${table} t`),
    );
    digests[table] = row?.digest ?? '';
  }
  return { counts, digests };
}

export async function countRows(database: Database, table: StoredTable, where = 'true'): Promise<number> {
  const [row] = await database.rows<{ n: number }>(
    sql.raw(`select count(*)::int as n from ${table} where ${where}`),
  );
  return Number(row?.n ?? 0);
}
