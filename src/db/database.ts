import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** One database, PostgreSQL or embedded PGlite, behind the same drizzle API. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /**
   * For bookkeeping that is redone if lost (AI call leases and answers): commits
   * without waiting for the WAL flush. A database crash may forget the last few
   * hundred milliseconds of these writes; the calls are then owed again and repeated.
   */
  readonly relaxed: Db;
  /** Raw SQL returning rows, the same shape on both drivers. */
  rows<T>(query: SQL): Promise<T[]>;
  /**
   * `rows` for a query run often with the same text: PostgreSQL prepares it once per
   * connection and can keep its plan, which for the metrics reads costs more than running them.
   */
  preparedRows<T>(query: SQL): Promise<T[]>;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; unset: PGlite in `dataDir`. */
  url?: string | undefined;
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

/** The top-level migrations/ folder, found from this file whether run from src/ or dist/. */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('migrations/ folder not found next to the Shadowgate sources');
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.maxConnections ?? 10);
  return openPglite(resolve(options.dataDir ?? './.shadowgate', 'pglite'));
}

/**
 * Seconds a pool connection waits before trying PostgreSQL again after failing to reach it.
 * Queries wait for it: with postgres.js's default (growing to 20 s) a request during an
 * outage hangs instead of answering 503, and stays stalled long after the database is back.
 */
export function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.05 * 2 ** failures, 1);
}

const dialect = new PgDialect();

function openPostgres(url: string, max: number): Database {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 5,
    backoff: reconnectDelaySeconds,
  });
  const relaxedClient = postgres(url, {
    max: Math.max(2, Math.ceil(max / 2)),
    onnotice: () => {},
    connect_timeout: 5,
    backoff: reconnectDelaySeconds,
    connection: { synchronous_commit: 'off' },
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    relaxed: drizzlePostgres(relaxedClient, { schema }) as unknown as Db,
    rows: async <T>(query: SQL) => (await db.execute(query)) as unknown as T[],
    preparedRows: async <T>(query: SQL) => {
      const { sql: text, params } = dialect.sqlToQuery(query);
      return (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      })) as unknown as T[];
    },
    migrate: () => migratePostgres(drizzlePostgres(client), { migrationsFolder: migrationsFolder() }),
    ping: async () => {
      await client`select 1`;
    },
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), relaxedClient.end({ timeout: 5 })]);
    },
  };
}

async function openPglite(dir: string): Promise<Database> {
  mkdirSync(dir, { recursive: true });
  return wrapPglite(new PGlite(dir));
}

/** An in-memory PGlite (nothing on disk), for tests of the embedded mode. */
export function openMemoryPglite(): Promise<Database> {
  return wrapPglite(new PGlite());
}

async function wrapPglite(client: PGlite): Promise<Database> {
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    relaxed: db,
    rows: async <T>(query: SQL) => ((await db.execute(query)) as unknown as { rows: T[] }).rows,
    preparedRows: async <T>(query: SQL) => ((await db.execute(query)) as unknown as { rows: T[] }).rows,
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: migrationsFolder() }),
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}
