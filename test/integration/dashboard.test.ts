import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSimOptions } from '../../scripts/demo/demo-ai-system.js';
import { usd } from '../../src/format/figures.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { wilsonInterval } from '../../src/statistics/wilson.js';
import { waitForProgress } from '../support/progress.js';
import { launchChromium } from '../support/browser.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The dashboard in a real headless Chromium against a running controller with the demo's plan and
 * simulated AI: what the page shows must be what the API answers, and a promotion made on the page
 * must be recorded by the API.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOT = join(ROOT, 'docs/dashboard.png');
const LABELS = ['approve', 'reject', 'escalate'];
const USE_CASE = 'invoice-triage';
const OTHER = 'supplier-onboarding';
const INVOICES = 400;
const DAY_MS = 86_400_000;

interface Cohort {
  stage: string;
  modelVersion: string | null;
  samples: number;
  agreement: number | null;
  agreementLowerBound: number | null;
  costPerDecision: number | null;
}
interface Detail {
  stage: string;
  metrics: { stages: Array<{ stage: string; samples: number; decisions: number; cohorts: Cohort[] }> };
  gate: {
    verdict: string;
    targetStage: string | null;
    criteria: Array<{ name: string; actual: unknown; status: string; holds: boolean }>;
  };
}

let tdb: TestDatabase;
let tc: TestController;
let sim: SimulatedAiSystem;
let server: Server;
let browser: Browser;
let baseUrl: string;
const keys = { viewer: '', release: '' };

async function owedCalls(): Promise<number> {
  const [row] = await tdb.database.rows<{ n: number }>(
    sql`select count(*)::int as n from decisions where ai_state = 'owed'`,
  );
  return Number(row!.n);
}

async function mirror(useCase: string, from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += 100) {
    const decisions = Array.from({ length: Math.min(100, from + count - start) }, (_, k) => {
      const invoice = makeInvoice(start + k);
      return {
        useCase,
        requestId: invoice.requestId,
        input: invoice.input,
        context: invoice.context,
        human: { decision: referenceLabel(invoice.input, LABELS), decidedBy: 'ap-clerk' },
      };
    });
    await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
  }
}

/**
 * Spreads a use case's decisions over the last `days` days and moves its stage entry before them,
 * so the charts have a history and the plan's minDuration is met: as if the demo had run a week.
 */
async function spreadOverDays(useCase: string, days: number): Promise<void> {
  const entered = new Date(Date.now() - (days + 1) * DAY_MS).toISOString();
  await tdb.database.rows(sql`
    with ranked as (
      select id, row_number() over (order by id) as n, count(*) over () as total
      from decisions where use_case = ${useCase})
    update decisions d
    set received_at = now() - ((ranked.total - ranked.n + 1) * (${days}::float8 * interval '1 day' / ranked.total))
    from ranked where d.id = ranked.id`);
  await tdb.database.rows(
    sql`update use_cases set stage_entered_at = ${entered}::timestamptz, created_at = ${entered}::timestamptz where id = ${useCase}`,
  );
  await tdb.database.rows(
    sql`update stage_transitions set at = ${entered}::timestamptz where use_case = ${useCase} and stage_version = 1`,
  );
}

async function get<T>(path: string, key = keys.viewer): Promise<T> {
  const response = await tc.http.get(path).set('Authorization', `Bearer ${key}`).expect(200);
  return response.body as T;
}

/** A page that records console errors (and uncaught exceptions) from its first request on. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(baseUrl);
  return { page, errors };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.fill('#key-input', key);
  await page.press('#key-input', 'Enter');
  await page.waitForSelector(`#use-case-table tr[data-use-case="${USE_CASE}"]`);
  await page.waitForSelector('#transitions');
}

const percent = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);

beforeAll(async () => {
  browser = await launchChromium();
  tdb = await createTestDatabase();
  sim = await startSimulatedAiSystem(
    demoSimOptions({ agreement: 0.93, latencyMs: 40, errorRate: 0.01 }, LABELS),
  );
  tc = await startTestController({ database: tdb.database, queue: 'in-process' });
  server = await tc.controller.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const demoPlan = readFileSync(join(ROOT, 'rollout-plans/invoice-triage.yaml'), 'utf8').replace(
    'http://127.0.0.1:9000/decide',
    `${sim.url}/decide`,
  );
  await tc.http.put(`/v1/use-cases/${USE_CASE}/plan`).set(tc.admin).send(demoPlan).expect(201);
  const otherPlan = labelPlan(OTHER, `${sim.url}/decide`, '  human-reviewed: { approval: manual }\n').replace(
    'description: test use case',
    'description: Approve new suppliers or send them to compliance',
  );
  await tc.http.put(`/v1/use-cases/${OTHER}/plan`).set(tc.admin).send(otherPlan).expect(201);
  for (const role of ['viewer', 'release'] as const) {
    const created = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name: `dashboard ${role}`, role })
      .expect(201);
    keys[role] = created.body.key;
  }

  await mirror(USE_CASE, 0, INVOICES);
  await mirror(OTHER, 10_000, 120);
  await waitForProgress({ what: 'every AI call', read: owedCalls, done: (owed) => owed === 0 });
  await spreadOverDays(USE_CASE, 7);
  await spreadOverDays(OTHER, 2);
});

afterAll(async () => {
  await browser?.close();
  await tc?.stop();
  await sim?.close();
  await tdb?.drop();
});

describe('the dashboard', () => {
  it('when a viewer key is entered, then every use case is listed with the numbers of GET /v1/use-cases/:id and nothing is logged as an error', async () => {
    const { page, errors } = await openPage();
    expect(await page.isVisible('#key-form')).toBe(true);
    await signIn(page, keys.viewer);
    expect(page.url()).not.toContain(keys.viewer);
    expect(await page.evaluate("sessionStorage.getItem('shadowgate.apiKey')")).toBe(keys.viewer);

    for (const id of [USE_CASE, OTHER]) {
      const detail = await get<Detail>(`/v1/use-cases/${id}`);
      const stage = detail.metrics.stages.find((s) => s.stage === 'shadow')!;
      const cohort = stage.cohorts[0]!;
      // Backed by the simulation: nearly every invoice answered, 93% agreement asked for.
      expect(stage.samples).toBeGreaterThan(id === USE_CASE ? 380 : 110);
      const row = page.locator(`#use-case-table tr[data-use-case="${id}"]`);
      await expect.poll(() => row.locator('[data-field="stage"]').textContent()).toBe('shadow');
      expect(await row.locator('[data-field="samples"]').textContent()).toBe(String(stage.samples));
      expect(await row.locator('[data-field="agreement"]').textContent()).toBe(percent(cohort.agreement));
      // The one formatting module the CLI and the report use too, served at /format/figures.js.
      expect(await row.locator('[data-field="cost"]').textContent()).toBe(usd(cohort.costPerDecision));
      expect(await row.locator('[data-field="verdict"]').getAttribute('data-value')).toBe(
        detail.gate.verdict,
      );
    }

    // invoice-triage: a week in shadow but fewer than the plan's 500 samples, so its gate waits.
    const detail = await get<Detail>(`/v1/use-cases/${USE_CASE}`);
    expect(detail.gate.verdict).toBe('inconclusive');
    await page.click(`#use-case-table tr[data-use-case="${USE_CASE}"] button.link`);
    await page.waitForSelector('#gate-panel tr[data-criterion="minSamples"]');
    const minSamples = page.locator('#gate-panel tr[data-criterion="minSamples"]');
    expect(await minSamples.getAttribute('data-status')).toBe('inconclusive');
    expect(await minSamples.textContent()).toContain(`≥ 500${detail.gate.criteria[0]!.actual}`);
    for (const criterion of detail.gate.criteria) {
      const { status } = criterion;
      expect(
        await page.locator(`#gate-panel tr[data-criterion="${criterion.name}"]`).getAttribute('data-status'),
        criterion.name,
      ).toBe(status);
    }
    const cohort = detail.metrics.stages[0]!.cohorts[0]!;
    const stageRow = page.locator('#stages-panel tr[data-stage="shadow"]');
    expect(await stageRow.locator('[data-field="samples"]').textContent()).toBe(String(cohort.samples));
    expect(await stageRow.locator('[data-field="agreement"]').textContent()).toBe(percent(cohort.agreement));

    // The agreement chart plots the daily series of the API (seven days: the page picks days).
    const series = await get<{ points: Array<{ agreement: number | null; samples: number }> }>(
      `/v1/use-cases/${USE_CASE}/timeseries?bucket=day`,
    );
    // Page code runs in the browser: passed as text, since the tests are compiled without the DOM's types.
    const plotted = await page.evaluate(
      "Chart.getChart('agreement-chart').data.datasets.find((d) => d.label === 'agreement').data",
    );
    expect(plotted).toEqual(series.points.map((p) => p.agreement));
    expect(series.points.reduce((sum, p) => sum + p.samples, 0)).toBe(cohort.samples);

    // A viewer key is offered no stage changes.
    expect(await page.locator('#actions button').count()).toBe(0);
    expect(await page.locator('#actions').textContent()).toContain('Read-only');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('when the key signs out while a refresh still waits for the API, then the late answers draw nothing and nothing is logged as an error', async () => {
    const { page, errors } = await openPage();
    await signIn(page, keys.viewer);
    // Hold each use case's details (not the list, not the time series) until the key signed out.
    const DETAIL = /\/v1\/use-cases\/[^/?]+$/;
    const held: Array<() => Promise<void>> = [];
    let finished = 0;
    page.on('requestfinished', (request) => {
      if (DETAIL.test(request.url())) finished += 1;
    });
    await page.route(DETAIL, (route) => {
      held.push(() => route.continue());
    });
    await page.click('#refresh');
    await waitForProgress({ what: 'held detail requests', read: () => held.length, done: (n) => n >= 2 });
    await page.click('#sign-out');
    expect(await page.locator('#sign-in').isVisible()).toBe(true);

    await Promise.all(held.map((release) => release()));
    await waitForProgress({ what: 'released detail answers', read: () => finished, done: (n) => n >= 2 });
    // The stale refresh continues as soon as the answers are read; let the page run it.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 250)));
    expect(await page.locator('#use-case-table').count()).toBe(0);
    expect(await page.locator('#detail').textContent()).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('when buckets are asked per hour or per day, then each holds the decisions that arrived in that UTC hour or day, with the Wilson interval of its agreement', async () => {
    const rows = await tdb.database.rows<{ received_at: Date | string; score: number | null }>(
      sql`select received_at, score from decisions where use_case = ${USE_CASE}`,
    );
    for (const bucket of ['hour', 'day'] as const) {
      // ISO 8601 in UTC: the first 13 characters name the hour, the first 10 the day.
      const width = bucket === 'hour' ? 13 : 10;
      const pad = bucket === 'hour' ? ':00:00Z' : 'T00:00:00Z';
      const expected = new Map<string, { decisions: number; samples: number; sum: number }>();
      for (const row of rows) {
        const start = `${new Date(row.received_at).toISOString().slice(0, width)}${pad}`;
        const counts = expected.get(start) ?? { decisions: 0, samples: 0, sum: 0 };
        counts.decisions++;
        if (row.score !== null) {
          counts.samples++;
          counts.sum += Number(row.score);
        }
        expected.set(start, counts);
      }
      const series = await get<{
        bucket: string;
        confidence: number;
        points: Array<{
          start: string;
          decisions: number;
          samples: number;
          agreement: number | null;
          agreementLower: number | null;
          agreementUpper: number | null;
        }>;
      }>(`/v1/use-cases/${USE_CASE}/timeseries?bucket=${bucket}&stage=shadow`);
      expect(series.bucket).toBe(bucket);
      expect(series.confidence).toBe(0.95);
      // 400 decisions, one every 25.2 minutes over 7 days: every hour and day of it has some.
      expect(series.points.length).toBeGreaterThanOrEqual(bucket === 'day' ? 7 : 168);
      expect(series.points.map((p) => p.start)).toEqual([...expected.keys()].sort());
      for (const point of series.points) {
        const want = expected.get(point.start)!;
        expect(point.decisions).toBe(want.decisions);
        expect(point.samples).toBe(want.samples);
        if (want.samples === 0) {
          expect(point).toMatchObject({ agreement: null, agreementLower: null, agreementUpper: null });
          continue;
        }
        expect(point.agreement).toBeCloseTo(want.sum / want.samples, 12);
        const interval = wilsonInterval(want.sum, want.samples, 0.95)!;
        expect(point.agreementLower).toBeCloseTo(interval.lower, 12);
        expect(point.agreementUpper).toBeCloseTo(interval.upper, 12);
      }
    }
    const viewer = { Authorization: `Bearer ${keys.viewer}` };
    await tc.http.get(`/v1/use-cases/${USE_CASE}/timeseries?bucket=week`).set(viewer).expect(400);
    await tc.http.get('/v1/use-cases/no-such-use-case/timeseries').set(viewer).expect(404);
    const empty = await get<{ points: unknown[] }>(
      `/v1/use-cases/${USE_CASE}/timeseries?stage=limited-autonomous`,
    );
    expect(empty.points).toEqual([]);
  });

  it('when a release key promotes through the page, then the API refuses it unforced with the failing criteria, and the forced promotion is in the transitions and on the timeline', async () => {
    const { page, errors } = await openPage();
    await signIn(page, keys.release);
    await page.click(`#use-case-table tr[data-use-case="${USE_CASE}"] button.link`);
    await page.waitForSelector('#actions button[data-action="promote"]');
    await page.waitForFunction("Boolean(Chart.getChart('agreement-chart'))");
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    const reason = 'Agreement has held above 90% for a week; start human review';
    await page.click('#actions button[data-action="promote"]');
    await page.fill('#action-reason', reason);
    await page.click('#action-submit');
    const refusal = page.locator('#action-error');
    await refusal.waitFor({ state: 'visible' });
    expect(await refusal.textContent()).toContain('409');
    expect(await refusal.textContent()).toContain('minSamples');
    expect(await page.isVisible('#action-dialog')).toBe(true);

    await page.check('#action-force');
    await page.click('#action-submit');
    await page.waitForSelector('#action-dialog', { state: 'hidden' });
    await page.waitForSelector(`#use-case-table tr[data-use-case="${USE_CASE}"] .stage-human-reviewed`);

    const { transitions } = await get<{
      transitions: Array<{
        fromStage: string;
        toStage: string;
        actor: string;
        reason: string;
        forced: boolean;
        stageVersion: number;
      }>;
    }>(`/v1/use-cases/${USE_CASE}/transitions`);
    const last = transitions.at(-1)!;
    expect(last).toMatchObject({
      fromStage: 'shadow',
      toStage: 'human-reviewed',
      actor: 'key:dashboard release',
      reason,
      forced: true,
    });
    const item = page.locator(`#transitions li[data-stage-version="${last.stageVersion}"]`);
    await item.waitFor();
    expect(await item.locator('[data-field="reason"]').textContent()).toBe(reason);
    expect(await item.locator('[data-field="actor"]').textContent()).toBe('key:dashboard release');
    expect(await item.locator('[data-field="forced"]').count()).toBe(1);
    expect(await page.locator('#transitions li').first().getAttribute('data-stage-version')).toBe(
      String(last.stageVersion),
    );
    // The refused attempt is the one error the browser logged: the API's 409 answer.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/status of 409/);
    await page.close();
  });
});
