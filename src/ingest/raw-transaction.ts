import type { PGlite } from '@electric-sql/pglite';
import type postgres from 'postgres';
import type { Database } from '../db/database.js';

/**
 * Constant SQL run on the driver under drizzle, for the hot paths where building a query costs
 * more than running it. On PostgreSQL each text is a named prepared statement (postgres.js keeps
 * one per connection, keyed by the text), so it is parsed and planned once per connection.
 */
export type RunStatement = <T>(text: string, params: readonly unknown[]) => Promise<T[]>;

/** Runs `work` in one transaction on the database's own driver; a throw rolls everything back. */
export function rawTransaction<T>(database: Database, work: (run: RunStatement) => Promise<T>): Promise<T> {
  if (database.kind === 'postgres') {
    const client = (database.db as unknown as { $client: postgres.Sql }).$client;
    return client.begin((tx) =>
      work(
        <R>(text: string, params: readonly unknown[]) =>
          tx.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
            prepare: true,
          }) as unknown as Promise<R[]>,
      ),
    ) as Promise<T>;
  }
  const client = (database.db as unknown as { $client: PGlite }).$client;
  return client.transaction((tx) =>
    work(async <R>(text: string, params: readonly unknown[]) => (await tx.query<R>(text, [...params])).rows),
  );
}
