import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSimOptions } from '../../scripts/demo/demo-ai-system.js';
import { count, kappa, usd } from '../../src/format/figures.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { wilsonInterval } from '../../src/statistics/wilson.js';
import { waitForProgress } from '../support/progress.js';
import { launchChromium } from '../support/browser.js';
import {
  ADMIN_KEY,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
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
interface Criterion {
  name: string;
  actual: unknown;
  status: string;
  holds: boolean;
}
interface Detail {
  stage: string;
  planVersion: number;
  metrics: { stages: Array<{ stage: string; samples: number; decisions: number; cohorts: Cohort[] }> };
  gate: {
    verdict: string;
    targetStage: string | null;
    criteria: Criterion[];
  };
  champion: { planVersion: number; aiConfig: string };
  challenger: {
    planVersion: number;
    aiConfig: string;
    changes: string[];
    verdict: string;
    criteria: Criterion[];
    paired: { n: number; mean: number; lower: number; upper: number } | null;
    cohort: { samples: number; agreement: number | null } | null;
    owedCalls: number;
  } | null;
}

interface LabelCohort extends Cohort {
  aiFailedWithHuman: number;
  agreementWithFailures: number | null;
  coverage: number | null;
  kappa: number | null;
  kappaInterval: { lower: number; upper: number } | null;
  majorityBaseline: { label: string; agreement: number } | null;
  errorCost: { perDecision: number | null; upperBound: number | null; samples: number } | null;
  expectedErrorCostPerDecision: number | null;
  perLabel: Array<{
    label: string;
    recall: number | null;
    precision: number | null;
    support: number;
    hits: number;
    predicted: number;
    aiFailures: number;
  }> | null;
}
interface LabelDetail extends Omit<Detail, 'metrics' | 'gate'> {
  metrics: { stages: Array<{ stage: string; samples: number; decisions: number; cohorts: LabelCohort[] }> };
  gate: Detail['gate'] & {
    majorityBaseline: { label: string; agreement: number } | null;
    warnings: Array<{ code: string; message: string }>;
  };
}

let tdb: TestDatabase;
let tc: TestController;
let sim: SimulatedAiSystem;
let challengerSim: SimulatedAiSystem | undefined;
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

async function owedChallengerCalls(useCase: string): Promise<number> {
  const [row] = await tdb.database.rows<{ n: number }>(
    sql`select count(*)::int as n from challenger_calls where use_case = ${useCase} and state = 'owed'`,
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
 * In human-reviewed the AI answers live: a suggestion for each invoice (the champion answers it,
 * a challenger is owed the same request), then the person's decision. The demo's AI system fails
 * 1% of its calls, answered 502: the decision is recorded all the same.
 */
async function suggestAndDecide(useCase: string, from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += 25) {
    const invoices = Array.from({ length: Math.min(25, from + count - start) }, (_, k) =>
      makeInvoice(start + k),
    );
    await Promise.all(
      invoices.map((invoice) =>
        tc.http
          .post(`/v1/use-cases/${useCase}/suggest`)
          .set(tc.admin)
          .send({ requestId: invoice.requestId, input: invoice.input, context: invoice.context })
          .expect((response) => expect([200, 502]).toContain(response.status)),
      ),
    );
    await Promise.all(
      invoices.map((invoice) =>
        tc.http
          .post(`/v1/decisions/${useCase}/${invoice.requestId}/human`)
          .set(tc.admin)
          .send({ decision: referenceLabel(invoice.input, LABELS), decidedBy: 'compliance' })
          .expect(200),
      ),
    );
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

/** supplier-onboarding's plan, asking the AI system at `aiUrl`. */
function supplierPlan(aiUrl: string): string {
  return labelPlan(OTHER, aiUrl, '  human-reviewed: { approval: manual }\n')
    .replace('description: test use case', 'description: Approve new suppliers or send them to compliance')
    .replace('agreementLowerBound: 0.9', 'agreementLowerBound: 0.6')
    .replace(
      'humanCostPerDecision: 1.8',
      'humanCostPerDecision: 1.8\nerrorCosts: { approve: { reject: 450, escalate: 40 } }\ndefaultErrorCost: 5',
    );
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
  // A bar always answering "approve" clears on this traffic (about 63% of its decisions), and priced errors.
  const otherPlan = supplierPlan(`${sim.url}/decide`);
  expect(otherPlan).toContain('agreementLowerBound: 0.6');
  expect(otherPlan).toContain('errorCosts:');
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
  await challengerSim?.close();
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
    // A gate without warnings shows no warning box (and nothing in its place).
    expect(await page.locator('#gate-warnings').count()).toBe(
      (detail as unknown as LabelDetail).gate.warnings.length > 0 ? 1 : 0,
    );
    expect(await page.locator('#detail').textContent()).not.toMatch(/null|undefined|NaN/);
    // No challenger: no champion-and-challenger panel.
    expect(detail.challenger).toBeNull();
    expect(await page.locator('#challenger-panel').count()).toBe(0);
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

  it("when a label use case prices its errors under a bar the majority label clears, then its view shows the gate's warning, recall and precision per label with support and AI failures, the error cost with its upper bound, coverage, agreement with failures and kappa with its interval, as the API answers them", async () => {
    const detail = await get<LabelDetail>(`/v1/use-cases/${OTHER}`);
    const cohort = detail.metrics.stages.find((s) => s.stage === 'shadow')!.cohorts[0]!;
    // The plan's 0.6 is at or below what always answering the most common label agrees here.
    expect(detail.gate.majorityBaseline!.label).toBe('approve');
    expect(detail.gate.majorityBaseline!.agreement).toBeGreaterThanOrEqual(0.6);
    expect(detail.gate.warnings.map((w) => w.code)).toEqual(['majority-baseline']);
    expect(cohort.errorCost!.samples).toBe(cohort.samples);
    expect(cohort.perLabel!.map((l) => l.label)).toEqual(LABELS);

    const { page, errors } = await openPage();
    await signIn(page, keys.viewer);
    // The overview marks the use case whose gate warns, and only it.
    const chip = page.locator(`#use-case-table tr[data-use-case="${OTHER}"] [data-field="warning"]`);
    expect(await chip.getAttribute('data-code')).toBe('majority-baseline');
    expect(await chip.getAttribute('title')).toBe(detail.gate.warnings[0]!.message);
    const demo = await get<LabelDetail>(`/v1/use-cases/${USE_CASE}`);
    expect(
      await page.locator(`#use-case-table tr[data-use-case="${USE_CASE}"] [data-field="warning"]`).count(),
    ).toBe(demo.gate.warnings.length);

    await page.click(`#use-case-table tr[data-use-case="${OTHER}"] button.link`);
    // invoice-triage's view (selected first) has the same labels: wait for this use case's own.
    await page.waitForSelector(`#detail h2:has-text("${OTHER}")`);
    await page.waitForSelector('#label-panel tr[data-label="approve"]');
    const warnings = page.locator('#gate-warnings .gate-warning');
    expect(await warnings.count()).toBe(1);
    expect(await warnings.textContent()).toBe(`⚠ Warning: ${detail.gate.warnings[0]!.message}`);

    for (const l of cohort.perLabel!) {
      const row = page.locator(`#label-panel tr[data-label="${l.label}"]`);
      const field = (name: string) => row.locator(`[data-field="${name}"]`);
      expect(await field('support').textContent(), l.label).toBe(count(l.support));
      expect(await field('recall').getAttribute('data-value'), l.label).toBe(String(l.recall ?? ''));
      expect(await field('recall').textContent()).toBe(
        `${percent(l.recall)}${count(l.hits)} of ${count(l.support)}`,
      );
      expect(await field('predicted').textContent()).toBe(count(l.predicted));
      expect(await field('precision').getAttribute('data-value'), l.label).toBe(String(l.precision ?? ''));
      expect(await field('ai-failures').textContent()).toBe(count(l.aiFailures));
    }
    expect(
      await page.locator('#label-panel [data-field="majority-baseline"]').getAttribute('data-value'),
    ).toBe(String(cohort.majorityBaseline!.agreement));

    const evidence = (name: string) => page.locator(`#evidence-panel [data-field="${name}"]`);
    expect(await evidence('with-failures').getAttribute('data-value')).toBe(
      String(cohort.agreementWithFailures),
    );
    expect(await evidence('with-failures').textContent()).toBe(
      `${percent(cohort.agreementWithFailures)} (${count(cohort.aiFailedWithHuman)} failed for good)`,
    );
    expect(await evidence('coverage').getAttribute('data-value')).toBe(String(cohort.coverage));
    expect(await evidence('kappa').textContent()).toBe(kappa(cohort.kappa, cohort.kappaInterval));
    expect(cohort.kappaInterval).not.toBeNull();
    expect(await evidence('error-cost').getAttribute('data-value')).toBe(
      String(cohort.errorCost!.perDecision),
    );
    expect(await evidence('error-cost').textContent()).toContain(usd(cohort.errorCost!.perDecision));
    expect(await evidence('error-cost-upper').getAttribute('data-value')).toBe(
      String(cohort.errorCost!.upperBound),
    );
    expect(await evidence('error-cost-upper').textContent()).toContain(
      `upper bound ${usd(cohort.errorCost!.upperBound)}`,
    );
    // In shadow a person decides: no expected error cost.
    expect(await evidence('expected-error-cost').count()).toBe(0);

    const stageRow = page.locator('#stages-panel tr[data-stage="shadow"]');
    expect(await stageRow.locator('[data-field="coverage"]').textContent()).toBe(percent(cohort.coverage));
    expect(await stageRow.locator('[data-field="kappa"]').textContent()).toBe(
      kappa(cohort.kappa, cohort.kappaInterval),
    );
    expect(await stageRow.locator('[data-field="with-failures"]').getAttribute('data-value')).toBe(
      String(cohort.agreementWithFailures),
    );
    expect(await stageRow.locator('[data-field="error-cost"]').getAttribute('data-value')).toBe(
      String(cohort.errorCost!.perDecision),
    );
    const expectedPart =
      "Chart.getChart('cost-chart').data.datasets.find((d) => d.label === 'expected errors').data";
    expect(await page.evaluate(expectedPart)).toEqual([0]);
    expect(await page.locator('#cost-panel [data-field="expected-error-cost"]').count()).toBe(0);

    // No cohort here reaches limited-autonomous (that takes the boundary's live traffic): the page
    // is handed the API's answer with one added, to show how it draws the AI's expected errors.
    const autonomous = {
      ...cohort,
      stage: 'limited-autonomous',
      expectedErrorCostPerDecision: 0.37,
      costPerDecision: 0.52,
    };
    const withAutonomy = {
      ...detail,
      metrics: {
        stages: [
          ...detail.metrics.stages,
          {
            stage: 'limited-autonomous',
            decisions: 1,
            samples: 1,
            pendingHuman: 0,
            pendingAi: 0,
            cohorts: [autonomous],
          },
        ],
      },
    };
    await page.route(new RegExp(`/v1/use-cases/${OTHER}$`), (route) => route.fulfill({ json: withAutonomy }));
    await page.click('#refresh');
    const line = page.locator('#cost-panel [data-field="expected-error-cost"]');
    await line.waitFor();
    expect(await line.getAttribute('data-value')).toBe('0.37');
    expect(await line.textContent()).toContain(
      'expected error cost $0.37 per decision, in the total of $0.52',
    );
    expect(await page.evaluate(expectedPart)).toEqual([0, 0.37]);
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

  it("when a plan version changes the AI system of a use case in human-reviewed, then its view sets the challenger beside the champion with the API's verdict and paired interval, and a release key discards it through the page", async () => {
    // supplier-onboarding earns human-reviewed with the demo's AI system (the champion), then a
    // plan version points it at a worse one: the challenger, asked the same requests off the live path.
    challengerSim = await startSimulatedAiSystem({
      ...demoSimOptions({ agreement: 0.6, latencyMs: 40, errorRate: 0.01 }, LABELS),
      seed: 'challenger',
      modelVersion: 'challenger-1',
    });
    await tc.http
      .post(`/v1/use-cases/${OTHER}/promote`)
      .set(tc.admin)
      .send({ reason: 'dashboard test set-up', force: true })
      .expect(200);
    // Only the AI system changes: a new configuration is not widening, it becomes the challenger.
    const plan = supplierPlan(`${challengerSim.url}/decide`);
    const applied = await tc.http.put(`/v1/use-cases/${OTHER}/plan`).set(tc.admin).send(plan).expect(200);
    expect(applied.body.challenger).toMatchObject({ action: 'challenger.started' });
    await suggestAndDecide(OTHER, 20_000, 150);
    // A suggestion that failed is owed again, for the metrics: the sweep hands it to the worker.
    await tc.controller.worker.sweep();
    await waitForProgress({ what: 'every AI call', read: owedCalls, done: (owed) => owed === 0 });
    await waitForProgress({
      what: 'every challenger call',
      read: () => owedChallengerCalls(OTHER),
      done: (owed) => owed === 0,
    });
    // The tick folds the pairs into the paired comparison (a read judges what the last fold left).
    const tick = await tc.controller.engine.tick(new Date());
    expect(tick.challengersSwapped).toEqual([]);

    const detail = await get<Detail>(`/v1/use-cases/${OTHER}`);
    const challenger = detail.challenger!;
    expect(detail.stage).toBe('human-reviewed');
    expect(detail.champion.planVersion).toBe(1);
    expect(challenger).toMatchObject({ planVersion: 2, changes: ['ai.url'], owedCalls: 0 });
    // 60% against the champion's 93% on 150 requests: below the champion by far more than the margin.
    expect(challenger.verdict).toBe('blocked');
    expect(challenger.paired!.n).toBeGreaterThan(140);

    // A viewer sees the panel, without the buttons.
    const viewer = await openPage();
    await signIn(viewer.page, keys.viewer);
    await viewer.page.click(`#use-case-table tr[data-use-case="${OTHER}"] button.link`);
    await viewer.page.waitForSelector('#challenger-panel');
    expect(await viewer.page.locator('#challenger-actions button').count()).toBe(0);
    expect(viewer.errors).toEqual([]);
    await viewer.page.close();

    const { page, errors } = await openPage();
    await signIn(page, keys.release);
    await page.click(`#use-case-table tr[data-use-case="${OTHER}"] button.link`);
    const panel = page.locator('#challenger-panel');
    await panel.waitFor();
    const champion = panel.locator('[data-side="champion"]');
    const side = panel.locator('[data-side="challenger"]');
    expect(await panel.getAttribute('data-verdict')).toBe(challenger.verdict);
    expect(await side.locator('[data-field="verdict"]').getAttribute('data-value')).toBe(challenger.verdict);
    expect(await champion.locator('[data-field="plan-version"]').textContent()).toBe('v1');
    expect(await champion.locator('[data-field="ai-config"] code').getAttribute('title')).toBe(
      detail.champion.aiConfig,
    );
    expect(await side.locator('[data-field="plan-version"]').textContent()).toBe('v2');
    expect(await side.locator('[data-field="ai-config"] code').getAttribute('title')).toBe(
      challenger.aiConfig,
    );
    expect(await side.locator('[data-field="changes"]').textContent()).toBe('ai.url');
    expect(await side.locator('[data-field="model"]').textContent()).toBe('challenger-1');
    expect(await side.locator('[data-field="owed-calls"]').textContent()).toBe('0');
    expect(await side.locator('[data-field="agreement"] [data-value]').getAttribute('data-value')).toBe(
      String(challenger.cohort!.agreement),
    );
    const paired = challenger.paired!;
    expect(await panel.locator('[data-field="paired-n"] [data-value]').getAttribute('data-value')).toBe(
      String(paired.n),
    );
    const interval = panel.locator('[data-field="paired-interval"] span');
    expect(await interval.getAttribute('data-lower')).toBe(String(paired.lower));
    expect(await interval.getAttribute('data-upper')).toBe(String(paired.upper));
    const chart = panel.locator('svg.paired-chart');
    expect(await chart.getAttribute('data-lower')).toBe(String(paired.lower));
    expect(await chart.getAttribute('data-margin')).toBe('0.02');
    // The interval lies left of the dashed −margin line: the challenger is shown worse than allowed.
    const bar = chart.locator('rect.interval');
    const barRight = Number(await bar.getAttribute('x')) + Number(await bar.getAttribute('width'));
    const marginX = Number(await chart.locator('line.margin').getAttribute('x1'));
    expect(barRight).toBeLessThan(marginX);
    expect(await chart.locator('rect.interval').getAttribute('class')).toContain('interval-blocked');
    for (const criterion of challenger.criteria) {
      expect(
        await panel.locator(`tr[data-criterion="${criterion.name}"]`).getAttribute('data-status'),
        criterion.name,
      ).toBe(criterion.status);
    }

    // Swapping it in unforced is refused with what does not hold; the dialog stays open.
    await page.click('#challenger-actions button[data-action="swap"]');
    await page.fill('#action-reason', 'try the new system');
    await page.click('#action-submit');
    const refusal = page.locator('#action-error');
    await refusal.waitFor({ state: 'visible' });
    expect(await refusal.textContent()).toContain('409');
    expect(await refusal.textContent()).toContain('championNonInferiority');
    await page.click('#action-form button[value="cancel"]');
    await page.waitForSelector('#action-dialog', { state: 'hidden' });

    const reason = 'The new system agrees far less often than the one serving';
    await page.click('#challenger-actions button[data-action="discard"]');
    await page.fill('#action-reason', reason);
    await page.click('#action-submit');
    await page.waitForSelector('#action-dialog', { state: 'hidden' });
    await page.waitForSelector('#challenger-panel', { state: 'detached' });

    const after = await get<Detail>(`/v1/use-cases/${OTHER}`);
    expect(after).toMatchObject({ stage: 'human-reviewed', planVersion: 3, challenger: null });
    expect(after.champion.aiConfig).toBe(detail.champion.aiConfig);
    const view = await get<{ history: Array<{ state: string; endedBy: string; endReason: string }> }>(
      `/v1/use-cases/${OTHER}/challenger`,
    );
    expect(view.history[0]).toMatchObject({
      state: 'discarded',
      endedBy: 'key:dashboard release',
      endReason: reason,
    });
    // The refused swap is the one error the browser logged: the API's 409 answer.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/status of 409/);
    await page.close();
  });
  it("when an owner key widens a boundary and the admin lowers a bar, then the overview counts each use case's pending change, its panel shows kind, requester, why, approvals, expiry and the diff with Approve and Reject only for a release key that did not ask and Withdraw for its requester; the controller's refusal of a stale change shows, and an approval applies the plan", async () => {
    const owner = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name: 'dashboard owner', role: 'owner' })
      .expect(201);
    const plan = async (id: string) =>
      (await tc.http.get(`/v1/use-cases/${id}/plan`).set(tc.admin).expect(200)).body as {
        text: string;
        version: number;
      };
    const put = (id: string, auth: { Authorization: string }, text: string) =>
      tc.http.put(`/v1/use-cases/${id}/plan`).set(auth).set('content-type', 'application/yaml').send(text);
    // invoice-triage: the owner doubles the share the AI would decide alone; supplier-onboarding:
    // the bootstrap admin lowers the shadow bar. Both widen the AI's authority: both are held.
    const before = await plan(USE_CASE);
    const wider = before.text.replace(/rolloutPercent: 10\b/, 'rolloutPercent: 20');
    expect(wider).not.toBe(before.text);
    const heldA = await put(USE_CASE, { Authorization: `Bearer ${owner.body.key}` }, wider).expect(202);
    const otherPlan = await plan(OTHER);
    const lower = otherPlan.text.replace('agreementLowerBound: 0.6', 'agreementLowerBound: 0.5');
    const heldB = await put(OTHER, tc.admin, lower).expect(202);
    const a = heldA.body.change.id as number;
    const b = heldB.body.change.id as number;

    // A viewer sees what waits, and no button.
    const viewer = await openPage();
    await signIn(viewer.page, keys.viewer);
    for (const id of [USE_CASE, OTHER]) {
      const chip = viewer.page.locator(
        `#use-case-table tr[data-use-case="${id}"] [data-field="pending-changes"]`,
      );
      expect(await chip.getAttribute('data-value')).toBe('1');
      expect(await chip.textContent()).toBe('1 change pending approval');
    }
    await viewer.page.click(`#use-case-table tr[data-use-case="${USE_CASE}"] button.link`);
    const item = viewer.page.locator(`#changes-panel li[data-change-id="${a}"]`);
    await item.waitFor();
    const field = (name: string) => item.locator(`[data-field="${name}"]`);
    expect(await field('kind').textContent()).toBe('plan');
    expect(await field('requested-by').textContent()).toBe('key:dashboard owner');
    expect(await item.locator('[data-rule="boundary-widened"]').textContent()).toBe(
      'stages.limited-autonomous.boundary.rolloutPercent boundary-widened (10 → 20)',
    );
    expect(await field('approvals').getAttribute('data-value')).toBe('0');
    expect(await field('approvals').getAttribute('data-required')).toBe('1');
    expect(await field('expires').textContent()).toMatch(/^expires \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC$/);
    expect(await field('evidence').getAttribute('data-value')).toBe('re-judge');
    const diff = (await field('diff').textContent())!;
    expect(diff).toMatch(/^-\s+rolloutPercent: 10 /m);
    expect(diff).toMatch(/^\+\s+rolloutPercent: 20 /m);
    expect(await item.locator('.diff .add').count()).toBe(1);
    expect(await viewer.page.locator('#changes-panel button').count()).toBe(0);
    expect(viewer.errors).toEqual([]);
    await viewer.page.close();

    // The admin key asked for change B: it may withdraw it, never approve or reject it.
    const admin = await openPage();
    await signIn(admin.page, ADMIN_KEY);
    await admin.page.click(`#use-case-table tr[data-use-case="${OTHER}"] button.link`);
    await admin.page.locator(`#changes-panel li[data-change-id="${b}"]`).waitFor();
    const offered = await admin.page
      .locator('#changes-panel button')
      .evaluateAll((buttons) => buttons.map((button) => button.getAttribute('data-decision')));
    expect(offered).toEqual(['withdraw']);
    await admin.page.close();

    // A release key may: on B, made stale behind the page's back, the controller's 409 shows.
    const { page, errors } = await openPage();
    await signIn(page, keys.release);
    await page.click(`#use-case-table tr[data-use-case="${OTHER}"] button.link`);
    const approveB = page.locator(`#changes-panel li[data-change-id="${b}"] button[data-decision="approve"]`);
    await approveB.waitFor();
    const described = otherPlan.text.replace('Approve new suppliers', 'Approve or refer new suppliers');
    await put(OTHER, tc.admin, described).expect(200);
    await approveB.click();
    await page.fill('#action-reason', 'the lower bar was agreed');
    await page.click('#action-submit');
    const refusal = page.locator('#action-error');
    await refusal.waitFor({ state: 'visible' });
    expect(await refusal.textContent()).toMatch(
      new RegExp(`^409: change ${b} was requested on plan version .*resubmit it$`),
    );
    await page.click('#action-form button[value="cancel"]');
    await page.waitForSelector('#action-dialog', { state: 'hidden' });

    await page.click(`#use-case-table tr[data-use-case="${USE_CASE}"] button.link`);
    await page.click(`#changes-panel li[data-change-id="${a}"] button[data-decision="approve"]`);
    expect(await page.locator('#action-title').textContent()).toBe(
      `Approve change ${a} (plan of ${USE_CASE})`,
    );
    await page.fill('#action-reason', 'CAB 7: one in five low-risk invoices, once autonomous');
    await page.click('#action-submit');
    await page.waitForSelector('#action-dialog', { state: 'hidden' });
    await page.waitForSelector('#changes-panel', { state: 'detached' });
    expect(await page.locator('[data-field="pending-changes"]').count()).toBe(0);
    expect(await plan(USE_CASE)).toMatchObject({
      version: before.version + 1,
      appliedBy: 'key:dashboard owner',
      approvedBy: ['key:dashboard release'],
    });
    // The stale approval is the one error the browser logged: the API's 409 answer.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/status of 409/);
    await page.close();
  });
});
