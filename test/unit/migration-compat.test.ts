import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LogWatch } from '../../scripts/faults/log-watch.js';

/**
 * During a rolling upgrade the previous release runs on the schema the newest migration leaves
 * (the fault suite's rolling-upgrade case runs it). This is the cheap check before that one: the
 * newest migration may add, never take away or change what the previous release reads and writes.
 * A change that must break it is made over two releases (add and backfill; drop in the next one).
 */
const BREAKING: Array<{ what: string; pattern: RegExp }> = [
  { what: 'drops a table', pattern: /\bdrop\s+table\b/i },
  { what: 'drops a column', pattern: /\bdrop\s+column\b/i },
  { what: 'renames a table or column', pattern: /\brename\b/i },
  { what: 'changes a column type', pattern: /\balter\s+column\s+"?\w+"?\s+(set\s+data\s+)?type\b/i },
  { what: 'makes an existing column NOT NULL', pattern: /\balter\s+column\s+"?\w+"?\s+set\s+not\s+null\b/i },
  {
    what: 'adds a NOT NULL column without a default',
    pattern: /\badd\s+column\b(?![^;]*\bdefault\b)[^;]*\bnot\s+null\b/i,
  },
];

/** Tables a migration creates, by name as written (quotes dropped). */
function createdTables(sqlText: string): Set<string> {
  return new Set([...sqlText.matchAll(/\bcreate\s+table\s+"?(\w+)"?/gi)].map((m) => m[1]!.toLowerCase()));
}

/** What in a migration breaks the release before it, one line per statement. */
function breakingStatements(sqlText: string): string[] {
  const withoutComments = sqlText.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const created = createdTables(withoutComments);
  const found: string[] = [];
  for (const statement of withoutComments.split(';')) {
    // Only statements on what exists: a table created here is the new release's alone.
    if (!/^\s*alter\s+table\b|^\s*drop\s+table\b/i.test(statement)) continue;
    // A table renamed away while the migration creates one by its name again (decisions becoming
    // partitioned, 0019): the previous release still finds what it reads and writes by that name.
    const renamed = /^\s*alter\s+table\s+"?(\w+)"?\s+rename\s+to\b/i.exec(statement);
    if (renamed && created.has(renamed[1]!.toLowerCase())) continue;
    for (const rule of BREAKING) {
      if (rule.pattern.test(statement)) found.push(`${rule.what}: ${statement.trim().slice(0, 120)}`);
    }
  }
  return found;
}

const journal = JSON.parse(readFileSync('migrations/meta/_journal.json', 'utf8')) as {
  entries: Array<{ idx: number; tag: string }>;
};

describe('the newest migration is backward compatible with the previous release', () => {
  it('takes nothing away that the previous release reads or writes', () => {
    const newest = journal.entries.reduce((a, b) => (b.idx > a.idx ? b : a));
    const text = readFileSync(`migrations/${newest.tag}.sql`, 'utf8');
    expect(breakingStatements(text), `migrations/${newest.tag}.sql`).toEqual([]);
  });

  it('finds each kind of breaking change, and passes additions', () => {
    expect(
      breakingStatements(`
        ALTER TABLE "decisions" DROP COLUMN "score";
        ALTER TABLE "decisions" RENAME COLUMN "score" TO "agreement";
        ALTER TABLE "decisions" ALTER COLUMN "score" SET DATA TYPE real;
        ALTER TABLE "decisions" ALTER COLUMN "stage_version" SET NOT NULL;
        ALTER TABLE "decisions" ADD COLUMN "tenant" text NOT NULL;
        DROP TABLE "engine_ticks";
        ALTER TABLE "decisions" RENAME TO "decisions_old";`),
    ).toHaveLength(7);
    expect(
      breakingStatements(`
        CREATE TABLE "hourly" ("use_case" text NOT NULL, "n" bigint DEFAULT 0 NOT NULL);
        ALTER TABLE "decisions" ADD COLUMN "tenant" text DEFAULT 'default' NOT NULL;
        ALTER TABLE "decisions" ADD COLUMN "note" text;
        -- ALTER TABLE "decisions" DROP COLUMN "score"; (a comment)
        DROP INDEX "decisions_retention";
        CREATE INDEX "decisions_retention" ON "decisions" ("use_case");
        ALTER TABLE "decisions" RENAME TO "decisions_legacy";
        CREATE TABLE "decisions" (LIKE "decisions_legacy") PARTITION BY RANGE ("received_month");`),
    ).toEqual([]);
  });

  it('the rolling-upgrade case counts error and schema lines in a controller log, split across chunks', () => {
    const watch = new LogWatch();
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    const chunks = [
      line({ level: 40, msg: 'Redis connection lost; reconnecting' }),
      line({ level: 50, msg: 'shadow job handler threw' }),
      line({ level: 40, msg: 'tick failed', err: { message: 'column "stage_version" does not exist' } }),
    ].join('');
    watch.onOutput(chunks.slice(0, 70));
    watch.onOutput(chunks.slice(70));
    watch.onOutput('error: relation "hourly_rollups" does not exist\n');
    expect(watch.count).toBe(3);
    expect(watch.troubles[1]).toContain('stage_version');
  });
});
