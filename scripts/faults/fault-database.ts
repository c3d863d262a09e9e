import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** A database of its own for one case, created empty (the controller migrates it) and dropped after. */
export interface FaultDatabase {
  name: string;
  url: string;
  /** A small pool for reading the counts; it reconnects by itself after a PostgreSQL restart. */
  sql: postgres.Sql;
  drop(): Promise<void>;
}

function withPath(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createFaultDatabase(adminUrl: string, label: string): Promise<FaultDatabase> {
  const name = `sg_faults_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = withPath(adminUrl, name);
  const sql = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 3 });
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 2 }).catch(() => {});
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

/** Throws a one-line message naming the service when PostgreSQL cannot be reached. */
export async function checkPostgres(adminUrl: string, hint: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${adminUrl} (${(error as Error).message}); ${hint}`);
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
}
