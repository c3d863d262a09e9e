import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import { AI_URL } from '../support/store-fixtures.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const UC = 'expensive-reads';
const DECISIONS = 600;
/** The read time limit of this file's controller: long enough for any honest read here. */
const READ_TIMEOUT_MS = 400;
const DAY_MS = 86_400_000;

/**
 * What a viewer's reads cost: the time series comes from the hourly rollups (never from the
 * decisions), its range is bounded, and a scan of the decisions stops at the read time limit.
 * A writer holding the decisions table stands for a scan that would take too long: a read that
 * touches decisions waits on it, one that does not is unaffected.
 */
describe('expensive reads', () => {
  let tdb: TestDatabase;
  let database: Database;
  let tc: TestController;
  let locker: postgres.Sql;
  let viewer: { Authorization: string };

  /** Runs `body` while another connection holds every lock on decisions. */
  async function whileDecisionsLocked<T>(body: () => Promise<T>): Promise<T> {
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const held = locker.begin(async (tx) => {
      await tx`lock table decisions in access exclusive mode`;
      locked();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await isLocked;
    try {
      return await body();
    } finally {
      release();
      await held;
    }
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    database = await openDatabase({ url: tdb.url, readTimeoutMs: READ_TIMEOUT_MS });
    tc = await startTestController({ database, queue: 'in-process' });
    locker = postgres(tdb.url, { max: 1, onnotice: () => {} });
    await tc.http
      .put(`/v1/use-cases/${UC}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(labelPlan(UC, AI_URL, '    sampleRate: 0\n'))
      .expect(201);
    const decisions = Array.from({ length: DECISIONS }, (_, i) => ({
      useCase: UC,
      requestId: `er-${i}`,
      input: makeInvoice(i).input,
      context: { region: i % 2 ? 'EU' : 'US' },
      human: { decision: 'approve' },
    }));
    for (let i = 0; i < DECISIONS; i += 200) {
      await tc.http
        .post('/v1/decisions')
        .set(tc.admin)
        .send({ decisions: decisions.slice(i, i + 200) })
        .expect(202);
    }
    const key = await tc.http.post('/v1/keys').set(tc.admin).send({ name: 'er-viewer', role: 'viewer' });
    viewer = { Authorization: `Bearer ${key.body.key}` };
  });

  afterAll(async () => {
    await tc?.stop();
    await locker?.end({ timeout: 5 });
    await database?.close();
    await tdb?.drop();
  });

  it('when a viewer sends a burst of 100 time-series reads while the decisions are held, then every one answers from the rollups', async () => {
    const answers = await whileDecisionsLocked(() =>
      Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          tc.http
            .get(`/v1/use-cases/${UC}/timeseries?bucket=${i % 2 ? 'hour' : 'day'}`)
            .set(viewer)
            .timeout(10_000),
        ),
      ),
    );
    for (const res of answers) {
      expect(res.status).toBe(200);
      const points = res.body.points as Array<{ decisions: number }>;
      expect(points.reduce((sum, p) => sum + p.decisions, 0)).toBe(DECISIONS);
    }
  });

  it('when a filtered metrics read runs past the read time limit, then it is stopped and answers 503 read_timeout', async () => {
    const from = new Date(Date.now() - DAY_MS).toISOString();
    const res = await whileDecisionsLocked(() =>
      tc.http.get(`/v1/use-cases/${UC}/metrics?from=${from}&segment=region:EU`).set(viewer).timeout(10_000),
    );
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'read_timeout', details: [] });
    expect(res.body.message).toMatch(/time limit/);
    // Unhindered, the same read is exact and answers.
    const free = await tc.http.get(`/v1/use-cases/${UC}/metrics?from=${from}&segment=region:EU`).set(viewer);
    expect(free.status).toBe(200);
    expect(free.body.stages[0].decisions).toBe(DECISIONS / 2);
  });

  it('when no range is asked, then the series covers the last 30 days, in whole buckets', async () => {
    const before = Date.now();
    const res = await tc.http.get(`/v1/use-cases/${UC}/timeseries?bucket=day`).set(viewer).expect(200);
    const from = Date.parse(res.body.from);
    const to = Date.parse(res.body.to);
    expect(from % DAY_MS).toBe(0);
    expect(to % DAY_MS).toBe(0);
    expect(to).toBeGreaterThan(before);
    expect(to - from).toBeGreaterThanOrEqual(30 * DAY_MS);
    expect(to - from).toBeLessThanOrEqual(31 * DAY_MS);
  });

  it('when a range holds more buckets than the cap, or ends before it starts, then it is refused with 400 naming the field', async () => {
    const to = new Date('2025-06-01T00:00:00Z');
    const back = (days: number) => new Date(to.getTime() - days * DAY_MS).toISOString();
    const ask = (query: string) => tc.http.get(`/v1/use-cases/${UC}/timeseries?${query}`).set(viewer);

    await ask(`bucket=hour&from=${back(31)}&to=${to.toISOString()}`).expect(200);
    const hours = await ask(`bucket=hour&from=${back(32)}&to=${to.toISOString()}`).expect(400);
    expect(hours.body.details).toEqual([
      { path: 'from', problem: expect.stringMatching(/768 hour buckets; at most 744.*bucket=day/) },
    ]);
    await ask(`bucket=day&from=${back(366)}&to=${to.toISOString()}`).expect(200);
    const days = await ask(`bucket=day&from=${back(367)}&to=${to.toISOString()}`).expect(400);
    expect(days.body.details).toEqual([
      { path: 'from', problem: expect.stringMatching(/367 day buckets; at most 366/) },
    ]);
    const reversed = await ask(`from=${to.toISOString()}&to=${back(1)}`).expect(400);
    expect(reversed.body.details).toEqual([{ path: 'from', problem: 'must be before to' }]);
  });
});
