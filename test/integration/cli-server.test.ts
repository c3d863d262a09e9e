import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, PG_ADMIN_URL } from '../support/services.js';
import { ADMIN_KEY, LOOPBACK_DESTINATIONS } from '../support/test-controller.js';
import { createTestDatabase } from '../support/test-database.js';
import { runCli, spawnCli } from './cli-harness.js';

/** A valid plan; its AI is never called (no decision is sent). */
function plan(useCase: string, minSamples: string | number = 200): string {
  return `useCase: ${useCase}
owner: ops@example.com
decision:
  type: label
  labels: [approve, reject]
ai:
  adapter: http
  url: http://127.0.0.1:9/decide
stages:
  shadow:
    promoteWhen: { minSamples: ${minSamples}, agreementLowerBound: 0.9 }
`;
}

describe('shadowgate CLI: plan validate, serve and migrate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shadowgate-cli-server-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when plan validate reads a broken plan, then every problem is listed with file, line and path, and it exits 1', async () => {
    const broken = join(dir, 'broken.yaml');
    const good = join(dir, 'good.yaml');
    // Line 2 misspells owner; line 5 is a string, not a list; line 11 has a string for a number.
    await writeFile(
      broken,
      plan('broken', '"a"')
        .replace('owner:', 'ownr:')
        .replace('labels: [approve, reject]', 'labels: approve'),
    );
    await writeFile(good, plan('good'));
    const run = await runCli(['plan', 'validate', good, broken]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')).toEqual([
      `${good}: ok (use case good)`,
      // A missing field is placed at the nearest field that is there.
      `${broken}:1 owner: required`,
      `${broken}:2 ownr: unknown field "ownr"`,
      `${broken}:5 decision.labels: expected an array, got string "approve"`,
      `${broken}:11 stages.shadow.promoteWhen.minSamples: expected a number, got string "a"`,
      '4 problem(s) in 1 of 2 file(s)',
      '',
    ]);
    const json = await runCli(['plan', 'validate', good, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, plans: [{ file: good, useCase: 'good' }] });
  });

  it('when serve is given a plans directory with an invalid plan, then it lists every problem and does not start', async () => {
    const plans = join(dir, 'invalid-plans');
    await mkdir(plans);
    await writeFile(join(plans, 'a.yaml'), plan('alpha'));
    await writeFile(join(plans, 'b.yaml'), plan('beta', '"many"'));
    await writeFile(join(plans, 'c.yml'), plan('alpha'));
    // The database is unreachable on purpose: a refused start never gets as far as connecting.
    const run = await runCli(['serve', '--plans', plans, '--port', '0'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        'shadowgate: 2 plans are invalid; the controller was not started',
        `  ${join(plans, 'b.yaml')}:11 stages.shadow.promoteWhen.minSamples: expected a number, got string "many"`,
        `  ${join(plans, 'c.yml')} useCase: "alpha" is also the use case of ${join(plans, 'a.yaml')}`,
        '',
      ].join('\n'),
    );
  });

  it('when serve is given plans that send to a refused destination or name a secret not allowed, then it names each and does not start', async () => {
    const plans = join(dir, 'refused-plans');
    await mkdir(plans);
    await writeFile(join(plans, 'a.yaml'), plan('alpha'));
    await writeFile(
      join(plans, 'b.yaml'),
      `${plan('beta')
        .replace(
          'adapter: http',
          'adapter: openai-chat\n  model: m\n  prompt: p\n  apiKeyEnv: SHADOWGATE_ADMIN_KEY',
        )
        .replace(
          'http://127.0.0.1:9/decide',
          'https://ai.example.com/v1',
        )}notify: { webhook: "http://169.254.169.254/hook" }\n`,
    );
    const run = await runCli(['serve', '--plans', plans, '--port', '0'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
      SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
    });
    expect(run.code).toBe(1);
    const lines = run.stderr.split('\n');
    expect(lines[0]).toBe(
      'shadowgate: 2 plans name a destination or secret this controller does not allow; the controller was not started',
    );
    expect(lines.slice(1, -1)).toEqual([
      expect.stringMatching(
        /^ {2}\S+a\.yaml ai\.url: 127\.0\.0\.1 is a loopback address, refused unless SHADOWGATE_AI_DESTINATIONS lists it$/,
      ),
      expect.stringMatching(
        /^ {2}\S+b\.yaml ai\.apiKeyEnv: SHADOWGATE_ADMIN_KEY is not an AI secret of this controller/,
      ),
      expect.stringMatching(/^ {2}\S+b\.yaml notify\.webhook: 169\.254\.169\.254 is a link-local .*address/),
    ]);
  });

  it('when serve is given a plan whose automatic gate has no evidence floor, then it names it and does not start', async () => {
    const plans = join(dir, 'floorless-plans');
    await mkdir(plans);
    await writeFile(join(plans, 'a.yaml'), `${plan('alpha', 20)}    approval: automatic\n`);
    const run = await runCli(['serve', '--plans', plans, '--port', '0'], {
      ...LOOPBACK_DESTINATIONS,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
      SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
    });
    expect(run.code).toBe(1);
    const lines = run.stderr.split('\n');
    expect(lines[0]).toMatch(/^shadowgate: an automatic approval needs an evidence floor .*was not started$/);
    expect(lines.slice(1, -1)).toEqual([
      expect.stringMatching(/^ {2}\S+a\.yaml stages\.shadow\.promoteWhen\.minSamples: /),
    ]);
  });

  it('when serve is given a plans directory (and empty variables, as compose writes them), then the controller starts with those use cases, applied as cli:serve, holds the one allowing an automatic promotion, and stops on SIGTERM', async () => {
    const plans = join(dir, 'plans');
    await mkdir(plans);
    await writeFile(join(plans, 'alpha.yaml'), plan('alpha'));
    // An operator's file does not bypass four eyes: held for a release key (README "Change control").
    await writeFile(join(plans, 'gamma.yaml'), `${plan('gamma')}    approval: automatic\n`);
    const beta = {
      useCase: 'beta',
      owner: 'ops@example.com',
      decision: { type: 'label', labels: ['yes', 'no'] },
    };
    await writeFile(
      join(plans, 'beta.json'),
      JSON.stringify({ ...beta, ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' } }),
    );
    await writeFile(join(plans, 'notes.md'), 'not a plan');
    const tdb = await createTestDatabase();
    const child = spawnCli(['serve', '--plans', plans, '--port', '0', '--host', '127.0.0.1'], {
      ...LOOPBACK_DESTINATIONS,
      DATABASE_URL: tdb.url,
      SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'info',
      // Unset, as a compose file without a value writes them: the embedded defaults apply.
      UNLEASH_URL: '',
      REDIS_URL: ' ',
      PORT: '',
    });
    try {
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const started = await new Promise<{ port: number; flags: string; queue: string }>((resolve, reject) => {
        let seen = '';
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
        });
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          seen += d;
          const line = seen.split('\n').find((l) => l.includes('shadowgate controller listening'));
          if (line) resolve(JSON.parse(line) as { port: number; flags: string; queue: string });
        });
        child.on('close', (code) => reject(new Error(`serve exited with ${code}: ${stderr}${seen}`)));
      });
      // The start line names the flag store and queue actually in use.
      expect([started.flags, started.queue]).toEqual(['built-in', 'in-process']);
      const port = started.port;
      const env = { SHADOWGATE_URL: `http://127.0.0.1:${port}`, SHADOWGATE_KEY: ADMIN_KEY };
      const [status, transitions] = await Promise.all([
        runCli(['status', '--json'], env),
        runCli(['transitions', 'beta'], env),
      ]);
      const listed = JSON.parse(status.stdout) as { useCases: Array<{ id: string; stage: string }> };
      expect(listed.useCases.map((u) => [u.id, u.stage])).toEqual([
        ['alpha', 'shadow'],
        ['beta', 'shadow'],
      ]);
      expect(transitions.stdout).toMatch(
        /\n\S+ \S+\s+—\s+shadow\s+cli:serve\s+—\s+no\s+1\s+—\s+use case created by its first plan\n$/,
      );
      const held = await fetch(`http://127.0.0.1:${port}/v1/changes`, {
        headers: { Authorization: `Bearer ${ADMIN_KEY}` },
      }).then((r) => r.json() as Promise<{ changes: Array<Record<string, unknown>> }>);
      expect(held.changes).toEqual([
        expect.objectContaining({
          useCase: 'gamma',
          kind: 'plan',
          state: 'pending',
          requestedBy: 'cli:serve',
        }),
      ]);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await tdb.drop();
    }
  });

  it('when partitions lists and detaches months, then it shows this month and the ones ahead, refuses this month, an unknown and a malformed one with their exit codes, and drops what was stored before partitioning', async () => {
    const tdb = await createTestDatabase();
    const env = { DATABASE_URL: tdb.url, LOG_LEVEL: 'silent' };
    try {
      const listed = await runCli(['partitions', 'list', '--json'], env);
      expect(listed.stderr).toBe('');
      expect(listed.code).toBe(0);
      const months = (JSON.parse(listed.stdout) as Array<{ month: string; table: string }>).map(
        (p) => p.month,
      );
      const now = new Date();
      const thisMonth = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
      expect(months[0]).toBe('before');
      expect(months).toContain(thisMonth);
      // This month and the three after it are made ahead.
      expect(months.filter((m) => m >= thisMonth).length).toBeGreaterThanOrEqual(4);

      const current = await runCli(['partitions', 'detach', thisMonth], env);
      expect(current.code).toBe(5);
      expect(current.stderr).toContain('only past months can be detached');
      expect((await runCli(['partitions', 'detach', '2001-01'], env)).code).toBe(4);
      const malformed = await runCli(['partitions', 'detach', '2001-13'], env);
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain('expected a month as YYYY-MM');

      const dropped = await runCli(['partitions', 'detach', 'before', '--drop'], env);
      expect(dropped.stderr).toBe('');
      expect(dropped.stdout).toBe('before: detached and dropped decisions_legacy\n');
      expect(dropped.code).toBe(0);
      const after = await runCli(['partitions', 'list', '--json'], env);
      expect((JSON.parse(after.stdout) as Array<{ month: string }>).map((p) => p.month)).toEqual(
        months.filter((m) => m !== 'before'),
      );
      const tables = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from pg_class where relname = 'decisions_legacy'`,
      );
      expect(tables[0]?.n).toBe(0);
    } finally {
      await tdb.drop();
    }
  });

  it('when migrate runs on an empty database, then it creates the schema and says so', async () => {
    const name = `sg_test_cli_${randomBytes(6).toString('hex')}`;
    const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    try {
      const run = await runCli(['migrate'], { DATABASE_URL: databaseUrl(name), LOG_LEVEL: 'silent' });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('migrations applied (postgres)\n');
      expect(run.code).toBe(0);
      const db = postgres(databaseUrl(name), { max: 1, onnotice: () => {} });
      const tables =
        await db`select table_name from information_schema.tables where table_name = 'use_cases'`;
      await db.end({ timeout: 5 });
      expect(tables).toHaveLength(1);
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    }
  });
});
