import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagSyncStatus } from '../../src/flags/flag-sync-status.js';
import { desiredFlag } from '../../src/flags/flag-store.js';
import { createUnleashFlagStore } from '../../src/flags/unleash-flag-store.js';
import { createLogger } from '../../src/main/logger.js';
import { launchChromium } from '../support/browser.js';
import { waitForProgress } from '../support/progress.js';
import {
  ADMIN_KEY,
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startUnleashServer, type TestUnleash } from '../support/unleash-server.js';
import { runCli } from './cli-harness.js';

/**
 * Unleash refuses the controller's flag writes: its token is the personal access token of a
 * user with the Viewer root role, who may read flags but not write them (unleash-server 7.5.1
 * has no change requests; a project that requires them answers a write the same way, a 403
 * PermissionError, naming SKIP_CHANGE_REQUEST — test/unit/unleash-answer.test.ts). The use case
 * must say so in the API, the CLI and the dashboard, and the reconciler must keep checking until
 * the flag says what the stage says.
 */

const USE_CASE = 'routed';
const FLAG = `shadowgate.${USE_CASE}`;
const PASSWORD = 'flag-reader-Passw0rd-long!';
const REFUSED_LOG = 'flag write refused by Unleash; checked again at every flag sync';

let tdb: TestDatabase;
let unleash: TestUnleash;
let tc: TestController;
let server: Server;
let baseUrl: string;
let browser: Browser;
let readerId: number;
let readerToken: string;
const logLines: Array<{ level: number; msg: string; useCase?: string; flagSync?: string }> = [];
const rawLog: string[] = [];

/** An Admin API call with the Unleash admin token; throws on anything but 2xx. */
async function unleashAdmin(method: string, path: string, body?: unknown, cookie?: string) {
  const response = await fetch(`${unleash.url}${path}`, {
    method,
    headers: {
      ...(cookie ? { cookie } : { authorization: unleash.adminToken }),
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return { body: text ? JSON.parse(text) : undefined, response };
}

/** A Viewer user and a personal access token of theirs: reads flags, may not write them. */
async function createFlagReader(): Promise<{ id: number; token: string }> {
  const user = await unleashAdmin('POST', '/api/admin/user-admin', {
    username: 'flag-reader',
    email: 'flag-reader@example.com',
    name: 'Flag reader',
    password: PASSWORD,
    rootRole: 'Viewer',
    sendEmail: false,
  });
  const login = await fetch(`${unleash.url}/auth/simple/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'flag-reader', password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  // express-session holds back the body's last byte until the session is stored, so the
  // cookie is good only once the whole body has arrived: without this read, the next call
  // could reach Unleash before the session row and be answered 401 (seen in CI under load).
  await login.arrayBuffer();
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const pat = await unleashAdmin(
    'POST',
    '/api/admin/user/tokens',
    { description: 'shadowgate controller', expiresAt: '2099-01-01T00:00:00Z' },
    cookie,
  );
  return { id: user.body.id as number, token: pat.body.secret as string };
}

async function flagStatus(): Promise<FlagSyncStatus> {
  const detail = await tc.http.get(`/v1/use-cases/${USE_CASE}`).set(tc.admin).expect(200);
  return detail.body.flag as FlagSyncStatus;
}

const refusedLines = () => logLines.filter((l) => l.msg === REFUSED_LOG && l.useCase === USE_CASE);

beforeAll(async () => {
  [tdb, unleash, browser] = await Promise.all([createTestDatabase(), startUnleashServer(), launchChromium()]);
  ({ id: readerId, token: readerToken } = await createFlagReader());
  tc = await startTestController({
    database: tdb.database,
    queue: 'in-process',
    env: {
      UNLEASH_URL: unleash.url,
      UNLEASH_ADMIN_TOKEN: readerToken,
      // The flag sync runs in the background, as in production, a few times a second here.
      SHADOWGATE_FLAG_SYNC_MS: '200',
    },
    logger: createLogger('info', 'unleash-refusal-test', {
      write: (line: string) => {
        rawLog.push(line);
        logLines.push(JSON.parse(line));
      },
    }),
  });
  server = await tc.controller.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // No AI call is made: nothing is mirrored.
  await tc.http
    .put(`/v1/use-cases/${USE_CASE}/plan`)
    .set(tc.admin)
    .send(labelPlan(USE_CASE, 'http://127.0.0.1:9/decide', '  human-reviewed: {}\n'))
    .expect(201);
});

afterAll(async () => {
  await browser?.close();
  await tc?.stop();
  await unleash?.close();
  await tdb?.drop();
});

describe('when Unleash refuses the flag writes', () => {
  it('then the use case says the flag is refused, why, and since when, in its detail and in the list', async () => {
    const flag = await eventually(async () => {
      const status = await flagStatus();
      return status.state === 'refused' ? status : undefined;
    }, 'the refusal to be reported');
    expect(flag).toEqual({
      state: 'refused',
      detail: 'refused by Unleash',
      reason: expect.stringMatching(
        /^creating flag shadowgate\.routed: the admin token was refused \(403\): .*the "CREATE_FEATURE" permission\.$/,
      ),
      since: expect.any(String),
      checkedAt: expect.any(String),
    });
    // What any key with `read` sees names neither where Unleash is nor the token.
    expect(flag.reason).not.toContain(unleash.url);
    expect(JSON.stringify(flag)).not.toContain(readerToken);

    const list = await tc.http.get('/v1/use-cases').set(tc.admin).expect(200);
    expect(list.body.useCases).toEqual([
      expect.objectContaining({
        id: USE_CASE,
        stage: 'shadow',
        flag: expect.objectContaining({ state: 'refused' }),
      }),
    ]);
    // The stage is what the database says, whatever Unleash does.
    const unleashFlag = await fetch(`${unleash.url}/api/admin/projects/default/features/${FLAG}`, {
      headers: { authorization: unleash.adminToken },
    });
    expect(unleashFlag.status).toBe(404);
  });

  it('then the reconciler keeps checking at every flag sync, and logs the refusal once, not at every check', async () => {
    const first = await flagStatus();
    const seen = new Set<string>();
    await waitForProgress({
      what: 'three more checks of the refused flag',
      read: async () => {
        const status = await flagStatus();
        expect(status.state).toBe('refused');
        expect(status.since).toBe(first.since);
        if (status.checkedAt !== first.checkedAt && status.checkedAt) seen.add(status.checkedAt);
        return seen.size;
      },
      done: (checks) => checks >= 3,
    });
    expect(refusedLines()).toHaveLength(1);
    expect(refusedLines()[0]).toMatchObject({ level: 40, flagSync: 'refused' });
    expect(rawLog.join('\n')).not.toContain(readerToken);
  });

  it('then `shadowgate status` prints the flag line with the reason, for the use case and in the overview', async () => {
    const env = { SHADOWGATE_URL: baseUrl, SHADOWGATE_KEY: ADMIN_KEY };
    const [one, all] = await Promise.all([runCli(['status', USE_CASE], env), runCli(['status'], env)]);
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const lines = one.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('flag: '));
    expect(lines[at]).toMatch(
      /^flag: refused by Unleash since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?Z, last checked .* \(checked again at every flag sync\)$/,
    );
    expect(lines[at + 1]).toMatch(
      /^ {2}creating flag shadowgate\.routed: the admin token was refused \(403\)/,
    );
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')).toContain(`${USE_CASE}: flag: refused by Unleash`);
  });

  it('then the dashboard marks the use case in the overview and says it above its panels', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(baseUrl);
      await page.fill('#key-input', ADMIN_KEY);
      await page.press('#key-input', 'Enter');
      const chip = page.locator(`#use-case-table tr[data-use-case="${USE_CASE}"] [data-field="flag"]`);
      await chip.waitFor();
      expect(await chip.getAttribute('data-state')).toBe('refused');
      expect(await chip.textContent()).toBe('⚑ flag: refused by Unleash');
      expect(await chip.getAttribute('title')).toMatch(/CREATE_FEATURE/);
      await page.click(`#use-case-table tr[data-use-case="${USE_CASE}"] button.link`);
      const line = page.locator('#flag-status');
      await line.waitFor();
      expect(await line.textContent()).toMatch(
        /^flag: refused by Unleash since .*, last checked .*, checked again at every flag sync.*CREATE_FEATURE/,
      );
    } finally {
      await page.close();
    }
  });

  it('when a person writes the flag the stage asks for (as applying a change request does), then the state returns to in sync without a write of the controller', async () => {
    const useCase = await tc.controller.services.useCases.get(USE_CASE);
    const person = createUnleashFlagStore({
      url: unleash.url,
      adminToken: unleash.adminToken,
      project: 'default',
      environment: unleash.environment,
    });
    const before = await flagStatus();
    expect(before.state).toBe('refused');
    await person.apply(desiredFlag(USE_CASE, useCase!.stage, useCase!.plan));
    const synced = await eventually(async () => {
      const status = await flagStatus();
      return status.state === 'in-sync' ? status : undefined;
    }, 'the flag to be found in sync');
    expect(synced).toMatchObject({ detail: 'in sync', reason: null });
    expect(Date.parse(synced.since!)).toBeGreaterThan(Date.parse(before.checkedAt!));
    expect(logLines.filter((l) => l.msg === 'flag in sync again' && l.useCase === USE_CASE)).toHaveLength(1);
    const env = { SHADOWGATE_URL: baseUrl, SHADOWGATE_KEY: ADMIN_KEY };
    const one = await runCli(['status', USE_CASE], env);
    expect(one.stdout).not.toMatch(/^flag: /m);
  });

  it('when a promotion is refused in Unleash and the token is then allowed to write, then the flag catches up and the state is in sync again', async () => {
    // The person's writes above were several calls, seen half done by checks between them.
    const earlier = refusedLines().length;
    await tc.http
      .post(`/v1/use-cases/${USE_CASE}/promote`)
      .set(tc.admin)
      .send({ reason: 'pilot approved', force: true })
      .expect(200);
    const refused = await eventually(async () => {
      const status = await flagStatus();
      return status.state === 'refused' ? status : undefined;
    }, 'the refused promotion to be reported');
    expect(refused.reason).toMatch(
      /^replacing strategy 1 of flag shadowgate\.routed: the admin token was refused \(403\): .*"UPDATE_FEATURE_STRATEGY" permission\.$/,
    );
    expect(refusedLines()).toHaveLength(earlier + 1);

    // What the README asks for: a token whose user may write the flags (the Editor root role here).
    await unleashAdmin('PUT', `/api/admin/user-admin/${readerId}`, { rootRole: 'Editor' });
    const synced = await eventually(async () => {
      const status = await flagStatus();
      return status.state === 'in-sync' ? status : undefined;
    }, 'the promotion to reach Unleash');
    expect(synced.reason).toBeNull();
    const strategies = await unleashAdmin(
      'GET',
      `/api/admin/projects/default/features/${FLAG}/environments/${unleash.environment}/strategies`,
    );
    expect(strategies.body.map((s: { variants: Array<{ name: string }> }) => s.variants[0]?.name)).toEqual([
      'human-reviewed',
    ]);
    expect(refusedLines()).toHaveLength(earlier + 1);
  });
});
