import type postgres from 'postgres';
import type { RecordedQuery } from './query-recorder.js';

/** Runs of a prepared statement after which PostgreSQL may keep a generic plan (plancache.c). */
const CUSTOM_PLAN_RUNS = 5;

export interface ExplainedRun {
  plan: string[];
  /** Whether the plan explained was the generic one (as a controller's prepared statement may run). */
  generic: boolean | null;
}

/**
 * `EXPLAIN (ANALYZE, BUFFERS)` of a recorded query as the controller ran it. The controller's
 * reads are prepared statements, which PostgreSQL plans for their parameters' values five times
 * and may then plan once for any values (a generic plan), while an EXPLAIN of the statement with
 * its parameters always plans for the values. So the statement is prepared on a connection of its
 * own, run as often as the tick ran it before the plan cache chooses, and then explained as an
 * EXECUTE, its parameters written as literals of their types (EXECUTE takes no protocol
 * parameters). A statement PostgreSQL cannot prepare alone (a parameter of no known type) is
 * explained with its parameters, `generic` null.
 */
export async function explainAsRun(sql: postgres.Sql, query: RecordedQuery): Promise<ExplainedRun> {
  const connection = await sql.reserve();
  const name = 'bench_explained';
  try {
    try {
      await connection.unsafe(`prepare ${name} as ${query.sql}`);
    } catch {
      const rows = await connection.unsafe(
        `explain (analyze, buffers) ${query.sql}`,
        query.params as never[],
      );
      return { plan: planLines(rows), generic: null };
    }
    const [prepared] = await connection.unsafe<{ types: string[] }[]>(
      `select parameter_types::text[] as types from pg_prepared_statements where name = $1`,
      [name],
    );
    const types = prepared?.types ?? [];
    const quoted = types.map(
      (type, i) => `coalesce(quote_literal($${i + 1}::${type}::text), 'NULL') as "${i}"`,
    );
    const [literals] = types.length
      ? await connection.unsafe<Record<string, string>[]>(
          `select ${quoted.join(', ')}`,
          query.params as never[],
        )
      : [];
    const args = types.map((type, i) => `${literals![String(i)]}::${type}`).join(', ');
    const execute = `execute ${name}${args ? `(${args})` : ''}`;
    for (let i = 0; i < CUSTOM_PLAN_RUNS; i++) await connection.unsafe(execute);
    const rows = await connection.unsafe(`explain (analyze, buffers) ${execute}`);
    const [counts] = await connection.unsafe<{ generic: string }[]>(
      `select generic_plans::text as generic from pg_prepared_statements where name = $1`,
      [name],
    );
    return { plan: planLines(rows), generic: Number(counts?.generic ?? 0) > 0 };
  } finally {
    await connection.unsafe(`deallocate ${name}`).catch(() => {});
    connection.release();
  }
}

const planLines = (rows: readonly unknown[]) =>
  rows.map((r) => String((r as Record<string, unknown>)['QUERY PLAN']));
