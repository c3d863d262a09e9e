import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { onCleanup } from './cleanup.js';

/** A database of its own for one benchmark, created empty and dropped when the benchmark ends. */
export interface BenchDatabase {
  name: string;
  url: string;
  /** A small pool for the benchmark's own reads and loads. */
  sql: postgres.Sql;
  drop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createBenchDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `sg_bench_${label}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.unsafe(`create database "${name}"`));
  const url = withDatabase(adminUrl, name);
  const sql = postgres(url, { max: 4, onnotice: () => {}, connect_timeout: 5 });
  const drop = onCleanup(`database ${name}`, async () => {
    await sql.end({ timeout: 2 }).catch(() => {});
    await withAdmin(adminUrl, (admin) => admin.unsafe(`drop database if exists "${name}" with (force)`));
  });
  return { name, url, sql, drop };
}

async function withAdmin<T>(adminUrl: string, work: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await work(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
