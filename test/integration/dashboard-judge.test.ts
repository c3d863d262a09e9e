import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kappa, percent } from '../../src/format/figures.js';
import type { JudgeCalibration } from '../../src/metrics/judge-calibration.js';
import { launchChromium } from '../support/browser.js';
import { draftPlan, JUDGE_IDLE, JudgeFixtures } from '../support/judge-fixtures.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The dashboard's "The judge against people" panel (src/dashboard/views.js) in a real headless
 * Chromium: beside the gate of a use case scored by a judge, the figures `GET /v1/use-cases/:id`
 * answers in `judgeCalibration`, per judge version; no such panel without a judge.
 */

const JUDGED = 'judge-view';
const PLAIN = 'plain-view';

let tdb: TestDatabase;
let tc: TestController;
let server: Server;
let browser: Browser;
let baseUrl: string;
let viewerKey = '';

beforeAll(async () => {
  browser = await launchChromium();
  tdb = await createTestDatabase();
  tc = await startTestController({ database: tdb.database, queue: 'in-process', judge: JUDGE_IDLE });
  server = await tc.controller.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const viewer = await tc.http
    .post('/v1/keys')
    .set(tc.admin)
    .send({ name: 'judge viewer', role: 'viewer' })
    .expect(201);
  viewerKey = viewer.body.key;
  const fixtures = new JudgeFixtures(tc, tdb);
  await fixtures.ratedJudge(JUDGED, 95);
  await tc.http
    .put(`/v1/use-cases/${PLAIN}/plan`)
    .set(tc.admin)
    .set('content-type', 'application/yaml')
    .send(draftPlan(PLAIN))
    .expect(201);
});

afterAll(async () => {
  await browser?.close();
  await tc?.stop();
  await tdb?.drop();
});

async function openDetail(useCase: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(`${baseUrl}/#${useCase}`);
  await page.fill('#key-input', viewerKey);
  await page.press('#key-input', 'Enter');
  await page.waitForSelector('#gate-panel');
  return { page, errors };
}

describe('the dashboard judge panel', () => {
  it("when a judge was rated by people, then the panel beside the gate shows the API's agreement, bound, kappa and ratings of each judge version", async () => {
    const detail = (await tc.http.get(`/v1/use-cases/${JUDGED}`).set(tc.admin).expect(200)).body;
    const calibration = detail.judgeCalibration as JudgeCalibration;
    const v = calibration.versions[0]!;
    expect(v).toMatchObject({ judgeVersion: 'judge-v1', rated: 100, agreed: 95 });

    const { page, errors } = await openDetail(JUDGED);
    const panel = page.locator('#judge-panel');
    await panel.waitFor();
    const row = panel.locator('tr[data-judge-version="judge-v1"]');
    const value = (field: string) => row.locator(`[data-field="${field}"]`).getAttribute('data-value');
    expect(await value('judge-ratings')).toBe('100');
    expect(await value('judge-agreement')).toBe(String(v.agreement));
    expect(await value('judge-bound')).toBe(String(v.agreementLowerBound));
    expect(await value('judge-kappa')).toBe(String(v.kappa));
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('judge-v1 (now)');
    expect(text).toContain(percent(v.agreementLowerBound));
    expect(text).toContain(kappa(v.kappa, v.kappaInterval));
    // The gate beside it names the criterion the panel explains.
    expect(await page.locator('#gate-panel').textContent()).toContain("judge's agreement with people");
    expect(await panel.textContent()).not.toMatch(/null|undefined|NaN/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('when the use case has no judge, then there is no judge panel', async () => {
    const { page, errors } = await openDetail(PLAIN);
    expect(await page.locator('#judge-panel').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
