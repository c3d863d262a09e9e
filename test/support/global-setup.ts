import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { migrationsFolder, openDatabase } from '../../src/db/database.js';
import { databaseUrl, PG_ADMIN_URL, PG_HINT } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/**
 * Migrates one template database per migration set; every test file clones it
 * (CREATE DATABASE … TEMPLATE), which takes milliseconds instead of a migration run.
 */
export default async function setup(project: TestProject): Promise<void> {
  const folder = migrationsFolder();
  const hash = createHash('sha256');
  for (const file of readdirSync(folder).sort()) {
    if (file.endsWith('.sql')) hash.update(readFileSync(join(folder, file)));
  }
  const template = `sg_template_${hash.digest('hex').slice(0, 12)}`;

  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  try {
    await admin`select 1`;
  } catch (error) {
    await admin.end({ timeout: 1 }).catch(() => {});
    throw new Error(
      `PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(error as Error).message}); ${PG_HINT}`,
    );
  }
  try {
    const existing = await admin`select 1 from pg_database where datname = ${template}`;
    if (existing.length === 0) {
      const building = `${template}_build_${process.pid}`;
      await admin.unsafe(`drop database if exists "${building}"`);
      await admin.unsafe(`create database "${building}"`);
      const db = await openDatabase({ url: databaseUrl(building), maxConnections: 1 });
      await db.migrate();
      await db.close();
      await admin.unsafe(`alter database "${building}" rename to "${template}"`).catch(async (error) => {
        // Another run built it first: keep theirs.
        await admin.unsafe(`drop database if exists "${building}"`);
        if (!String(error).includes('already exists')) throw error;
      });
    }
    project.provide('templateDatabase', template);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
