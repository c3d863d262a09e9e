import { is, sql } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../db/database.js';
import * as rollupSchema from '../db/rollup-schema.js';
import { driftCounts } from '../db/schema.js';

/**
 * Folding the stripes of the rollups (README "Operations"). The rollup triggers write each
 * connection's stripe (`pg_backend_pid() % 8`) so that concurrent writers do not queue on one row;
 * reads sum the stripes. Left alone, a key gathers up to eight rows, and the reads of every use
 * case (the tick's cohorts and latency histograms, the drift windows, the dashboard) read them all.
 * The fold moves the striped rows of a key that has more than one row into one row in stripe
 * FOLDED_STRIPE, which no writer writes (a key with a single row is left as it is: rewriting it
 * would gain nothing): in one statement, a batch of striped rows is locked (skipping those a writer holds, so
 * the fold never waits on ingest), deleted, and its sums added to the folded rows. Readers see the
 * batch before or after, never half; a writer upserting a row the fold deleted inserts it again.
 */

/** The stripe of the folded rows: the triggers write 0–7, never this. */
export const FOLDED_STRIPE = -1;
/** Striped rows moved by one statement: a few milliseconds of locks and WAL. */
const BATCH_ROWS = 5_000;
/** Statements per table and run: the rest waits for the next run (a run stays under a minute). */
const MAX_BATCHES = 200;

export interface StripedTable {
  name: string;
  /** The primary key without the stripe, with each column's SQL type. */
  key: Array<{ name: string; type: string }>;
  /** Every other column: counts and sums, added when rows fold. */
  values: string[];
}

/** The striped rollup tables, from the schema: every table of rollup-schema.ts with a stripe, and drift_counts. */
export const STRIPED_TABLES: readonly StripedTable[] = (
  [...Object.values(rollupSchema), driftCounts] as unknown[]
)
  .filter((t): t is PgTable => is(t, PgTable))
  .map((t) => getTableConfig(t))
  .filter((config) => config.columns.some((c) => c.name === 'stripe'))
  .map((config) => {
    // The primary key's own column objects cannot tell their SQL type: the table's columns can.
    const key = (config.primaryKeys[0]?.columns ?? [])
      .map((c) => config.columns.find((column) => column.name === c.name)!)
      .filter((c) => c.name !== 'stripe')
      .map((c) => ({ name: c.name, type: c.getSQLType() }));
    return {
      name: config.name,
      key,
      values: config.columns
        .map((c) => c.name)
        .filter((c) => c !== 'stripe' && !key.some((k) => k.name === c)),
    };
  });

/** Rows folded per table by one run (only tables that had any). */
export type FoldReport = Record<string, number>;

export class RollupFold {
  constructor(private readonly database: Database) {}

  /**
   * Folds the striped rows of every rollup table, a batch at a time, until none is left (or the
   * run's batches are spent). A table another process is folding is left to it (an advisory lock
   * per statement). Returns the rows folded per table.
   */
  async run(): Promise<FoldReport> {
    const report: FoldReport = {};
    for (const table of STRIPED_TABLES) {
      let folded = 0;
      let after: string[] | null = null;
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        const moved = await this.foldBatch(table, after);
        if (moved === null) break;
        folded += moved.folded;
        if (moved.last === null) break;
        after = moved.last;
      }
      if (folded > 0) report[table.name] = folded;
    }
    return report;
  }

  /**
   * One statement over the next striped rows in key order after `after` (the last key of the
   * batch before; folded rows are passed over by the index, not read again and again): how many
   * rows it folded and the last key it looked at (null when it reached the end), or null when
   * another process holds the table's fold.
   */
  private async foldBatch(
    table: StripedTable,
    after: string[] | null,
  ): Promise<{ folded: number; last: string[] | null } | null> {
    const id = (c: string) => `"${c}"`;
    const key = table.key.map((k) => id(k.name)).join(', ');
    const values = table.values.map(id);
    // The cursor is the whole primary key, so a key whose stripes a batch split is finished by the next.
    const from =
      after === null
        ? sql``
        : sql`and (${sql.raw(key)}, stripe) > (${sql.join(
            [...table.key.map((k) => k.type), 'smallint'].map(
              (type, i) => sql`${after[i]}::${sql.raw(type)}`,
            ),
            sql`, `,
          )})`;
    const [row] = await this.database.rows<{
      got: boolean;
      folded: number;
      seen: number;
      last: string[] | null;
    }>(sql`
      with lock as materialized (
        select pg_try_advisory_xact_lock(hashtext(${`shadowgate:rollup-fold:${table.name}`})) as got
      ), picked as materialized (
        select ${sql.raw(key)}, stripe from ${sql.raw(table.name)} t
        where stripe <> ${sql.raw(String(FOLDED_STRIPE))} and (select got from lock) ${from}
          and exists (select 1 from ${sql.raw(table.name)} o
            where ${sql.raw(table.key.map((k) => `o.${id(k.name)} = t.${id(k.name)}`).join(' and '))} and o.stripe <> t.stripe)
        order by ${sql.raw(key)}, stripe limit ${sql.raw(String(BATCH_ROWS))}
        for update of t skip locked
      ), gone as (
        delete from ${sql.raw(table.name)} t using picked p
        where ${sql.raw(table.key.map((k) => `t.${id(k.name)} = p.${id(k.name)}`).join(' and '))}
          and t.stripe = p.stripe
        returning ${sql.raw([...table.key.map((k) => k.name), ...table.values].map((c) => `t.${id(c)}`).join(', '))}
      ), added as (
        insert into ${sql.raw(table.name)} as r (stripe, ${sql.raw(key)}, ${sql.raw(values.join(', '))})
        select ${sql.raw(String(FOLDED_STRIPE))}, ${sql.raw(key)}, ${sql.raw(values.map((v) => `sum(${v})`).join(', '))}
        from gone group by ${sql.raw(key)}
        on conflict (${sql.raw(key)}, stripe) do update
        set ${sql.raw(values.map((v) => `${v} = r.${v} + excluded.${v}`).join(', '))}
        returning 1
      )
      select (select got from lock) as got, (select count(*)::int from gone) as folded,
        (select count(*)::int from picked) as seen,
        (select array[${sql.raw([...table.key.map((k) => id(k.name)), 'stripe'].map((c) => `${c}::text`).join(', '))}]
          from picked order by ${sql.raw([...table.key.map((k) => `${id(k.name)} desc`), 'stripe desc'].join(', '))}
          limit 1) as last,
        (select count(*)::int from added) as kept`);
    if (!row?.got) return null;
    return { folded: Number(row.folded), last: Number(row.seen) < BATCH_ROWS ? null : row.last };
  }
}
