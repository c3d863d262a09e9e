import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { migrationsFolder } from '../../src/db/database.js';
import { databaseUrl, PG_ADMIN_URL } from './services.js';

/** A PostgreSQL database migrated as the release before a migration left it. */
export interface ReleaseBeforeDatabase {
  name: string;
  /** One connection to it. */
  client: postgres.Sql;
  /** Runs the migrations from `migration` on, as an upgrade does. */
  migrateForward(): Promise<void>;
  /** Closes the connection and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh database with the migrations before index `migration` applied (the journal cut there,
 * as that release shipped it), for a test of what the migration does to the data stored by then.
 */
export async function databaseBeforeMigration(migration: number): Promise<ReleaseBeforeDatabase> {
  const name = `sg_upgrade_${randomBytes(6).toString('hex')}`;
  const folder = mkdtempSync(join(tmpdir(), 'sg-migrations-'));
  const withAdmin = async (statement: string) => {
    const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(statement);
    } finally {
      await admin.end({ timeout: 5 });
    }
  };
  await withAdmin(`create database "${name}"`);
  cpSync(migrationsFolder(), folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ idx: number }> };
  journal.entries = journal.entries.filter((e) => e.idx < migration);
  writeFileSync(journalFile, JSON.stringify(journal));
  const client = postgres(databaseUrl(name), { max: 1, onnotice: () => {} });
  await migrate(drizzle(client), { migrationsFolder: folder });
  return {
    name,
    client,
    migrateForward: () => migrate(drizzle(client), { migrationsFolder: migrationsFolder() }),
    async drop() {
      await client.end({ timeout: 5 });
      await withAdmin(`drop database if exists "${name}" with (force)`);
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
