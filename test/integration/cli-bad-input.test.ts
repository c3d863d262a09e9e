import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PLAN_BYTES } from '../../src/plans/plan-loader.js';
import { fixturePlan, UC } from '../support/bad-input-cases.js';
import { BAD_PLAN_CASES } from '../support/bad-input-cases-plans.js';
import { snapshotDatabase } from '../support/db-snapshot.js';
import { ADMIN_KEY, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { type CliRun, runCli } from './cli-harness.js';

/**
 * The CLI on bad input: broken plan files, bad flags and values, hostile ids sent to a running
 * controller, and a "controller" that is not one. Every refusal is a short message (one line per
 * problem), the documented exit code (README "CLI", src/cli/exit-codes.ts), never a stack trace.
 */

const STACK_LINE = /^\s+at .+[(:]\d+/m;

/** stderr's first line (commander adds a second: the usage hint). */
const firstLine = (run: CliRun) => run.stderr.split('\n')[0];

function expectNoStack(run: CliRun): void {
  expect(run.stdout).not.toMatch(STACK_LINE);
  expect(run.stderr).not.toMatch(STACK_LINE);
  expect(run.stderr).not.toContain('internal error');
}

describe('shadowgate CLI on bad input', () => {
  let dir: string;
  let tdb: TestDatabase;
  let tc: TestController;
  let url: string;
  let notAController: Server;
  let notAControllerUrl: string;
  const file = (name: string) => join(dir, name);
  const cli = (args: string[]) => runCli(args, { SHADOWGATE_URL: url, SHADOWGATE_KEY: ADMIN_KEY });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shadowgate-cli-bad-'));
    tdb = await createTestDatabase();
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: { SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: '0', SHADOWGATE_RATE_LIMIT_API_PER_SEC: '0' },
    });
    await tc.http
      .put(`/v1/use-cases/${UC}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(fixturePlan(UC))
      .expect(201);
    const server = await tc.controller.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Answers every request with a web page, as a proxy or a wrong port would.
    notAController = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>It works!</body></html>');
    });
    await new Promise<void>((resolve) => notAController.listen(0, '127.0.0.1', resolve));
    notAControllerUrl = `http://127.0.0.1:${(notAController.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => notAController?.close(resolve));
    await tc?.stop();
    await tdb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when plan validate reads every broken plan of the table, then each problem is one line naming file, path and problem, and it exits 1', async () => {
    const files = await Promise.all(
      BAD_PLAN_CASES.map(async (c, i) => {
        const path = file(`case-${String(i).padStart(2, '0')}.${c.format}`);
        await writeFile(path, c.text, 'utf8');
        return path;
      }),
    );
    const run = await runCli(['plan', 'validate', ...files]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expectNoStack(run);
    const lines = run.stdout.trimEnd().split('\n');
    const total = BAD_PLAN_CASES.reduce((n, c) => n + c.paths.length, 0);
    const count = BAD_PLAN_CASES.reduce((n, c) => n + (c.count ?? c.paths.length), 0);
    expect(lines.at(-1)).toBe(`${count} problem(s) in ${files.length} of ${files.length} file(s)`);
    expect(lines).toHaveLength(total + 1);
    BAD_PLAN_CASES.forEach((c, i) => {
      const own = lines.filter((l) => l.startsWith(`${files[i]} `) || l.startsWith(`${files[i]}:`));
      expect(own, c.name).toHaveLength(c.paths.length);
      c.paths.forEach((path, k) => {
        if (path !== '') expect(own[k], c.name).toContain(` ${path}: `);
      });
      for (const fragment of c.problems) expect(own.join('\n'), c.name).toContain(fragment);
      if (c.line !== undefined) expect(own[0], c.name).toMatch(new RegExp(`^${files[i]}:${c.line} `));
    });
  });

  it('when plan validate is given garbage, an empty file, a 10 MB file, a directory or a missing file, then each gets one line and the documented exit code', async () => {
    const garbage = file('garbage.yaml');
    const empty = file('empty.yaml');
    const huge = file('huge.yaml');
    const folder = file('folder.yaml');
    const missing = file('missing.yaml');
    // A PNG header (its NUL is on line 3: \r\n and \n end lines 1 and 2), then bytes no text has.
    await writeFile(
      garbage,
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff]),
    );
    await writeFile(empty, '');
    await writeFile(huge, `${fixturePlan('huge')}# ${'x'.repeat(10 * 1024 * 1024)}\n`);
    await mkdir(folder);
    const validate = (path: string) => runCli(['plan', 'validate', path]);
    const [g, e, h, f, m] = await Promise.all([
      validate(garbage),
      validate(empty),
      validate(huge),
      validate(folder),
      validate(missing),
    ]);
    const hugeBytes = Buffer.byteLength(`${fixturePlan('huge')}# ${'x'.repeat(10 * 1024 * 1024)}\n`);
    expect([g, e, h].map((r) => [r.code, r.stdout])).toEqual([
      [1, `${garbage}:3 contains a NUL character, which cannot be stored\n1 problem(s) in 1 of 1 file(s)\n`],
      [1, `${empty} the plan is empty\n1 problem(s) in 1 of 1 file(s)\n`],
      [
        1,
        `${huge} the plan is ${hugeBytes} bytes; at most ${MAX_PLAN_BYTES} are accepted\n1 problem(s) in 1 of 1 file(s)\n`,
      ],
    ]);
    expect([f, m].map((r) => [r.code, r.stdout, r.stderr])).toEqual([
      [2, '', `shadowgate: cannot read ${folder}: a directory\n`],
      [2, '', `shadowgate: cannot read ${missing}: no such file\n`],
    ]);
    for (const run of [g, e, h, f, m]) expectNoStack(run);
  });

  it('when plan apply is given a YAML bomb, then it exits 1 and nothing is applied', async () => {
    const bomb = file('bomb.yaml');
    await writeFile(bomb, BAD_PLAN_CASES.find((c) => c.name.includes('billion laughs'))!.text);
    const before = await snapshotDatabase(tdb.database);
    const run = await cli(['plan', 'apply', bomb]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `shadowgate: 1 plan is invalid; nothing was applied\n  ${bomb} aliases (*name) expand to too much: use fewer of them\n`,
    );
    expect(await snapshotDatabase(tdb.database)).toEqual(before);
  });

  it.each([
    {
      name: 'a rollback to a stage that does not exist',
      args: ['rollback', UC, '--reason', 'broken', '--to', 'nowhere'],
      line: "shadowgate: option '--to <stage>' argument 'nowhere' is invalid. Allowed choices are shadow, human-reviewed, limited-autonomous.",
    },
    {
      name: 'a key with the role wizard',
      args: ['keys', 'create', '--name', 'ci', '--role', 'wizard'],
      line: "shadowgate: option '--role <role>' argument 'wizard' is invalid. Allowed choices are ingest, owner, release, viewer, admin.",
    },
    {
      name: 'a --url that is not a URL',
      args: ['--url', 'not a url', 'status'],
      line: 'shadowgate: invalid controller URL "not a url" (--url or SHADOWGATE_URL)',
    },
    {
      name: 'a --url with another scheme',
      args: ['--url', 'ftp://127.0.0.1/', 'status'],
      line: 'shadowgate: invalid controller URL "ftp://127.0.0.1/": expected http:// or https://',
    },
    {
      name: 'a report as PDF',
      args: ['report', UC, '--format', 'pdf'],
      line: "shadowgate: option '--format <format>' argument 'pdf' is invalid. Allowed choices are md, markdown, json.",
    },
    {
      name: 'a port out of range',
      args: ['serve', '--port', '99999'],
      line: "shadowgate: option '--port <port>' argument '99999' is invalid. expected a port number (0–65535)",
    },
    { name: 'an unknown command', args: ['deploy', UC], line: "shadowgate: unknown command 'deploy'" },
    {
      name: 'an unknown option',
      args: ['status', '--verbose'],
      line: "shadowgate: unknown option '--verbose'",
    },
    {
      name: 'plan validate without a file',
      args: ['plan', 'validate'],
      line: "shadowgate: missing required argument 'files'",
    },
  ])('when given $name, then it exits 2 with one clear line', async ({ args, line }) => {
    const run = await cli(args);
    expect({ code: run.code, line: firstLine(run), stdout: run.stdout }).toEqual({
      code: 2,
      line,
      stdout: '',
    });
    expectNoStack(run);
  });

  it('when hostile ids and values reach a running controller through the CLI, then each is refused with its exit code and nothing changes', async () => {
    const before = await snapshotDatabase(tdb.database);
    const runs = await Promise.all([
      cli(['status', "'; drop table decisions; --"]),
      cli(['status', '../../etc/passwd']),
      cli(['promote', 'ghost', '--reason', '<script>alert(1)</script>']),
      cli(['keys', 'revoke', "'; delete from api_keys; --"]),
      cli(['rollback', UC, '--reason', 'no']),
      cli(['disable', UC, '--reason', 'r'.repeat(2001)]),
      cli(['keys', 'create', '--name', 'ci', '--role', 'viewer', '--use-case', '../../etc']),
    ]);
    expect(runs.map((r) => [r.code, r.stderr])).toEqual([
      [
        2,
        'shadowgate: invalid use case id in the URL (HTTP 400)\n  id: a use case id: lowercase letters, digits and single dashes\n',
      ],
      [
        2,
        'shadowgate: invalid use case id in the URL (HTTP 400)\n  id: a use case id: lowercase letters, digits and single dashes\n',
      ],
      [4, 'shadowgate: unknown use case ghost (HTTP 404)\n'],
      [4, "shadowgate: no active key '; delete from api_keys; -- (HTTP 404)\n"],
      [
        2,
        'shadowgate: invalid rollback (HTTP 400)\n  reason: expected at least 3 characters, got 2 characters\n',
      ],
      [
        2,
        'shadowgate: invalid disable (HTTP 400)\n  reason: expected at most 2000 characters, got 2001 characters\n',
      ],
      [
        2,
        'shadowgate: invalid key (HTTP 400)\n  useCases[0]: expected a use case id: lowercase letters, digits and single dashes, got "../../etc"\n',
      ],
    ]);
    for (const run of runs) expectNoStack(run);
    expect(await snapshotDatabase(tdb.database)).toEqual(before);
  });

  it('when --url points at something that is not a controller, then it exits 6 with one line, not a stack trace', async () => {
    const runs = await Promise.all([
      runCli(['status'], { SHADOWGATE_URL: notAControllerUrl, SHADOWGATE_KEY: ADMIN_KEY }),
      runCli(['promote', UC, '--reason', 'ship it'], {
        SHADOWGATE_URL: notAControllerUrl,
        SHADOWGATE_KEY: ADMIN_KEY,
      }),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(6);
      expect(run.stderr).toBe(
        `shadowgate: the controller at ${notAControllerUrl} answered HTTP 200 with a body that is not JSON (is it a Shadowgate controller?)\n`,
      );
      expectNoStack(run);
    }
  });
});
