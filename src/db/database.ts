import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { DrizzleQueryError, type SQL } from 'drizzle-orm';
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
  /**
   * The same database for the reads any key with `read` can ask for at will (filtered scans, the
   * time series, the report's event counts): on PostgreSQL a pool of its own whose statements stop
   * after the read timeout (SQLSTATE 57014, see `isStatementTimeout`), so a burst of them neither
   * holds the database nor takes the connections ingest needs. PGlite cannot stop a statement (it
   * runs on the controller's own thread): there it is the same handle, unbounded.
   */
  readonly boundedReads: Database;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How long a bounded read may run by default (`SHADOWGATE_READ_TIMEOUT_MS`). */
export const READ_TIMEOUT_MS = 5_000;

export interface DatabaseOptions {
  /** PostgreSQL connection string; unset: PGlite in `dataDir`. */
  url?: string | undefined;
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  /** Statement timeout of `boundedReads` on PostgreSQL, in ms (default READ_TIMEOUT_MS). */
  readTimeoutMs?: number;
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
  if (options.url) {
    return openPostgres(options.url, options.maxConnections ?? 10, options.readTimeoutMs ?? READ_TIMEOUT_MS);
  }
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

function openPostgres(url: string, max: number, readTimeoutMs: number): Database {
  const pool = (size: number, connection: Record<string, string | number> = {}) =>
    postgres(url, {
      max: size,
      onnotice: () => {},
      connect_timeout: 5,
      backoff: reconnectDelaySeconds,
      connection,
    });
  const client = pool(max);
  const relaxedClient = pool(Math.max(2, Math.ceil(max / 2)), { synchronous_commit: 'off' });
  const readClient = pool(Math.max(2, Math.ceil(max / 2)), { statement_timeout: readTimeoutMs });
  const handle = (sqlClient: postgres.Sql) => {
    const db = drizzlePostgres(sqlClient, { schema }) as unknown as Db;
    return {
      kind: 'postgres' as const,
      db,
      rows: async <T>(query: SQL) => (await db.execute(query)) as unknown as T[],
      preparedRows: async <T>(query: SQL) => {
        const { sql: text, params } = dialect.sqlToQuery(query);
        return (await sqlClient.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
          prepare: true,
        })) as unknown as T[];
      },
      migrate: () => migratePostgres(drizzlePostgres(sqlClient), { migrationsFolder: migrationsFolder() }),
      ping: async () => {
        await sqlClient`select 1`;
      },
    };
  };
  const reads = handle(readClient);
  const boundedReads: Database = {
    ...reads,
    relaxed: reads.db,
    get boundedReads() {
      return boundedReads;
    },
    // Its pool is closed with the database it belongs to.
    close: async () => {},
  };
  return {
    ...handle(client),
    relaxed: drizzlePostgres(relaxedClient, { schema }) as unknown as Db,
    boundedReads,
    close: async () => {
      await Promise.all([client, relaxedClient, readClient].map((c) => c.end({ timeout: 5 })));
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
  const database: Database = {
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
    get boundedReads() {
      return database;
    },
  };
  return database;
}

/** SQLSTATE 57014: a statement stopped by its `statement_timeout` (a bounded read ran too long). */
export function isStatementTimeout(error: unknown): boolean {
  return sqlstateOf(error) === '57014';
}

/** The SQLSTATE of a database error, through drizzle's wrapper; undefined for anything else. */
export function sqlstateOf(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  if (typeof own === 'string' && /^[0-9A-Z]{5}$/.test(own)) return own;
  if (error instanceof DrizzleQueryError) return sqlstateOf(error.cause);
  return undefined;
}

/** Data errors (SQLSTATE class 22) and integrity errors (23) quote values in their message and detail. */
export function quotesValues(sqlstate: string | undefined): boolean {
  return sqlstate !== undefined && /^2[23]/.test(sqlstate);
}

/**
 * What a log line may say of a database error, or null when it is none. Data errors (SQLSTATE
 * class 22) and integrity errors (23) quote values of the request in their message and `detail`
 * ("value "99999999999" is out of range for type integer", "Key (id)=(…) already exists"), and
 * drizzle's wrapper quotes every parameter of the query: these are left out, the SQLSTATE and the
 * names of what failed are kept. Other errors keep their message (a connection error names its host).
 */
export function loggableDatabaseError(error: unknown): Record<string, unknown> | null {
  const wrapper = error instanceof DrizzleQueryError ? error : null;
  const cause = (wrapper ? wrapper.cause : error) as Record<string, unknown> | null | undefined;
  const sqlstate = sqlstateOf(cause);
  if (!wrapper && !sqlstate) return null;
  const message = typeof cause?.message === 'string' && !quotesValues(sqlstate) ? cause.message : undefined;
  const named = (key: string) => (typeof cause?.[key] === 'string' ? cause[key] : undefined);
  const fields: Record<string, unknown> = {
    sqlstate: sqlstate ?? named('code'),
    message,
    routine: named('routine'),
    table: named('table_name') ?? named('table'),
    column: named('column_name') ?? named('column'),
    constraint: named('constraint_name') ?? named('constraint'),
    // The statement with its placeholders ($1, $2…), never their values.
    query: wrapper?.query.slice(0, 500),
    stack: (wrapper ?? (error as Error)).stack
      ?.split('\n')
      .filter((line) => line.startsWith('    at '))
      .join('\n'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
