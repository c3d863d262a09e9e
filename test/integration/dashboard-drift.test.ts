import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftBody } from '../../scripts/demo/drift-act.js';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { stableUnit } from '../../scripts/simulation/stable-hash.js';
import { decimal, percent } from '../../src/format/figures.js';
import { launchChromium } from '../support/browser.js';
import { type Auth, applyApproved, createKey } from '../support/change-approval.js';
import { waitForProgress } from '../support/progress.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The dashboard's drift panel (src/dashboard/drift.js) in a real headless Chromium against a
 * controller whose use case watches its region mix: what the panel shows must be what
 * GET /v1/use-cases/:id/drift answers, and each guard's check must follow it from holding to
 * "would trip at the next tick" to tripped. Batches of 100 decisions an hour apart (what is
 * stored moves an hour back before each, as in drift-guards.test.ts), so a window of 1,000
 * decisions is the last ten batches.
 */

const USE_CASE = 'drift-view';
const BATCH = 100;
const LABELS = ['approve', 'reject', 'escalate'];
type Mix = Array<[string, number]>;
const BEFORE: Mix = [
  ['EU', 0.6],
  ['US', 0.3],
  ['APAC', 0.1],
];
const AFTER: Mix = [
  ['EU', 0.1],
  ['US', 0.3],
  ['APAC', 0.6],
];

let tdb: TestDatabase;
let tc: TestController;
let ai: SimulatedAiSystem;
let server: Server;
let browser: Browser;
let baseUrl: string;
let release: Auth;
let viewerKey = '';
/** The controller's clock: the host's, moved on a minute at each tick so each has a slot of its own. */
let aheadMs = 0;
const now = () => new Date(Date.now() + aheadMs);

function draw(k: number, mix: Mix): string {
  const u = stableUnit('dashboard-drift', k);
  let cum = 0;
  for (const [value, share] of mix) {
    cum += share;
    if (u < cum) return value;
  }
  return mix[mix.length - 1]![0];
}

/** An hour passes, then decisions [from, from + BATCH) are mirrored and their AI answers awaited. */
async function send(from: number, mix: Mix): Promise<void> {
  await tdb.database.rows(
    sql`update decisions set received_at = received_at - interval '1 hour' where use_case = ${USE_CASE}`,
  );
  const decisions = Array.from({ length: BATCH }, (_, i) => {
    const k = from + i;
    const u = stableUnit('dashboard-drift-label', k);
    const label = LABELS[u < 0.8 ? 0 : u < 0.95 ? 1 : 2]!;
    return {
      useCase: USE_CASE,
      requestId: `${USE_CASE}-${k}`,
      input: { ...makeInvoice(k).input, referenceLabel: label },
      context: { region: draw(k, mix), riskTier: 'low' },
      human: { decision: label },
    };
  });
  await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
  await waitForProgress({
    what: `the AI answers of the first ${from + BATCH} decisions`,
    read: async () => {
      const rows = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from decisions where use_case = ${USE_CASE} and ai_state = 'owed'`,
      );
      return Number(rows[0]!.n);
    },
    done: (owed) => owed === 0,
  });
}

const readDrift = async (): Promise<DriftBody> =>
  (await tc.http.get(`/v1/use-cases/${USE_CASE}/drift`).set(tc.admin).expect(200)).body;

async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(baseUrl);
  await page.fill('#key-input', viewerKey);
  await page.press('#key-input', 'Enter');
  await page.waitForSelector('#drift-panel');
  return { page, errors };
}

/** Reloads the page's data (its refresh button) and waits for the panel showing the region PSI of `drift`. */
async function refreshed(page: Page, drift: DriftBody): Promise<void> {
  await page.click('#refresh');
  const psi = drift.fields.find((f) => f.field === 'region')!.psi;
  await page.waitForSelector(
    `#drift-panel tr[data-field="region"] [data-measure="psi"][data-value="${psi}"]`,
  );
}

/** The panel against the API's answer: windows, every field's PSI and verdict, the charts, the rates, the guards. */
async function expectPanelShows(page: Page, drift: DriftBody): Promise<void> {
  const panel = page.locator('#drift-panel');
  expect(await panel.getAttribute('data-stage')).toBe(drift.stage);
  expect(await panel.locator('[data-field="reference-window"]').getAttribute('data-value')).toBe(
    String(drift.reference.window.decisions),
  );
  const measured = drift.fields
    .filter((f) => f.referenceTotal > 0 || f.currentTotal > 0)
    .sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1));
  const rows = panel.locator('table.drift-fields-table tbody tr');
  expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-field')))).toEqual(
    measured.map((f) => f.field),
  );
  for (const f of measured) {
    const row = panel.locator(`table.drift-fields-table tr[data-field="${f.field}"]`);
    expect(await row.locator('[data-measure="psi"]').getAttribute('data-value'), f.field).toBe(
      String(f.psi ?? ''),
    );
    expect(await row.locator('[data-measure="psi"]').textContent(), f.field).toBe(decimal(f.psi));
    // The controller's verdict (one rule for the detail, the CLI and this panel), not the page's own.
    expect(await row.locator('[data-field="verdict"]').getAttribute('data-value'), f.field).toBe(f.verdict);
  }
  // The three fields that moved most, charted reference against current.
  const charted = measured.filter((f) => f.psi !== null).slice(0, 3);
  expect(
    await panel
      .locator('[data-drift-field]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-drift-field'))),
  ).toEqual(charted.map((f) => f.field));
  for (const [i, f] of charted.entries()) {
    // Page code runs in the browser: passed as text, since the tests are compiled without the DOM's types.
    const plotted = (await page.evaluate(
      `(() => { const d = Chart.getChart('drift-chart-${i}').data; return { labels: d.labels, reference: d.datasets[0].data, current: d.datasets[1].data }; })()`,
    )) as { labels: string[]; reference: number[]; current: number[] };
    const byValue = new Map(f.values.map((v) => [v.value, v]));
    expect(
      plotted.labels.every((l) => byValue.has(l)),
      f.field,
    ).toBe(true);
    expect(plotted.reference, f.field).toEqual(plotted.labels.map((l) => byValue.get(l)!.referenceShare));
    expect(plotted.current, f.field).toEqual(plotted.labels.map((l) => byValue.get(l)!.currentShare));
  }
  // The override rate (in shadow: the disagreements a reviewer would have overridden) beside its reference.
  const override = panel.locator('[data-field="override-rate"]');
  expect(await override.locator('[data-value]').getAttribute('data-value')).toBe(
    String(drift.overrideRate.current ?? ''),
  );
  expect(await override.locator('[data-reference]').getAttribute('data-reference')).toBe(
    String(drift.overrideRate.reference ?? ''),
  );
  expect(await override.textContent()).toContain(percent(drift.overrideRate.current, 1));
  for (const g of drift.guards) {
    const row = panel.locator(`tr[data-guard="${g.guard}"]`);
    expect(await row.getAttribute('data-status')).toBe(g.status);
    expect(await row.locator('[data-field="actual"]').getAttribute('data-value')).toBe(
      String(g.actual ?? ''),
    );
  }
  expect(await panel.textContent()).not.toMatch(/null|undefined|NaN/);
}

beforeAll(async () => {
  browser = await launchChromium();
  tdb = await createTestDatabase();
  tc = await startTestController({ database: tdb.database, queue: 'in-process', clock: now });
  server = await tc.controller.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  release = await createKey(tc, 'rm-drift-view', 'release');
  const viewer = await tc.http
    .post('/v1/keys')
    .set(tc.admin)
    .send({ name: 'drift viewer', role: 'viewer' })
    .expect(201);
  viewerKey = viewer.body.key;
  ai = await startSimulatedAiSystem({ agreement: 0.9, latencyMs: 1, modelVersion: 'drift-view-sim' });
  await applyApproved(
    tc,
    USE_CASE,
    labelPlan(USE_CASE, `${ai.url}/decide`).replace(
      /stages:[\s\S]*$/,
      `drift: { window: 1000, minWindow: 500 }
stages:
  shadow:
    rollbackWhen: { driftAbove: { psi: 0.25, fields: [region] }, action: notify }
`,
    ),
    release,
  );
});

afterAll(async () => {
  await browser?.close();
  await tc?.stop();
  await ai?.close();
  await tdb?.drop();
});

describe('the dashboard drift panel', () => {
  it('when the region mix shifts after a baseline, then the panel shows what the drift route answers, and the guard goes from holding to "would trip at the next tick" to tripped', async () => {
    for (let k = 0; k < 1000; k += BATCH) await send(k, BEFORE);
    await tc.http
      .post(`/v1/use-cases/${USE_CASE}/drift/baseline`)
      .set(release)
      .send({ reason: 'the traffic the gate judged' })
      .expect(200);
    // A full window on the same mix: the guard holds.
    for (let k = 1000; k < 1500; k += BATCH) await send(k, BEFORE);
    const stable = await readDrift();
    expect(stable.guards).toMatchObject([{ guard: 'driftAbove', status: 'stable' }]);
    const { page, errors } = await openPage();
    await refreshed(page, stable);
    await expectPanelShows(page, stable);
    const guard = page.locator('#drift-panel tr[data-guard="driftAbove"]');
    expect(await guard.getAttribute('data-check')).toBe('holds');

    // The mix shifts: the route says drifted before any tick has judged it.
    let k = 1500;
    let drifted = stable;
    while (drifted.guards[0]!.status !== 'drifted') {
      expect(k, 'the region guard never saw the shift within one window').toBeLessThan(2500);
      await send(k, AFTER);
      k += BATCH;
      drifted = await readDrift();
    }
    await refreshed(page, drifted);
    await expectPanelShows(page, drifted);
    expect(await guard.getAttribute('data-check')).toBe('would-trip');
    expect(await guard.locator('[data-field="check"]').textContent()).toBe('would trip at the next tick');
    expect(await guard.textContent()).toContain('above on region');
    expect(
      await page
        .locator('#drift-panel [data-drift-field="region"] [data-field="verdict"]')
        .getAttribute('data-value'),
    ).toBe('drifted');

    // The tick trips it (notify: the stage stays), once against this reference.
    aheadMs += 60_000;
    expect((await tc.controller.engine.tick(now())).guardTrips).toContain(USE_CASE);
    const tripped = await readDrift();
    expect(tripped.stage).toBe('shadow');
    expect(tripped.reference.trippedAt).not.toBeNull();
    await page.click('#refresh');
    await page.waitForSelector('#drift-panel tr[data-guard="driftAbove"][data-check="tripped"]');
    expect(await guard.locator('[data-field="check"]').textContent()).toMatch(
      /^tripped at .+ UTC \(once per reference\)$/,
    );
    await expectPanelShows(page, tripped);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
