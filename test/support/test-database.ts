import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { type Database, openDatabase, openMemoryPglite } from '../../src/db/database.js';
import { databaseUrl, PG_ADMIN_URL } from './services.js';

export interface TestDatabase {
  database: Database;
  url: string;
  /** Closes the connection and drops the database. */
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sg_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${inject('templateDatabase')}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = databaseUrl(name);
  const database = await openDatabase({ url, maxConnections: 10 });
  return {
    database,
    url,
    async drop() {
      await database.close();
      const cleanup = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists "${name}" with (force)`);
      await cleanup.end({ timeout: 5 });
    },
  };
}

/** A migrated in-memory PGlite, for running the same store tests on the embedded database. */
export async function createPgliteDatabase(): Promise<TestDatabase> {
  const database = await openMemoryPglite();
  await database.migrate();
  return { database, url: 'pglite://memory', drop: () => database.close() };
}
