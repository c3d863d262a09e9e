import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { REDIS_HINT, REDIS_URL } from '../support/services.js';
import {
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { waitForProgress } from '../support/progress.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const LABELS = ['approve', 'reject', 'escalate'];

function mirrored(useCase: string, i: number, withHuman = true) {
  const invoice = makeInvoice(i);
  return {
    useCase,
    requestId: invoice.requestId,
    input: invoice.input,
    context: invoice.context,
    ...(withHuman
      ? { human: { decision: referenceLabel(invoice.input, LABELS), decidedBy: 'clerk-7' } }
      : {}),
  };
}

/**
 * AI calls the simulated AI received beyond the attempts PostgreSQL recorded for their
 * decision: a call made twice under one claim. A call retried after its lease expired (a
 * stalled worker on a busy machine) is a second attempt, recorded as one, and not counted.
 */
async function duplicateAiCalls(tdb: TestDatabase, sim: SimulatedAiSystem, useCase: string) {
  const rows = await tdb.database.rows<{ request_id: string; ai_attempts: number }>(
    sql`select request_id, ai_attempts from decisions where use_case = ${useCase}`,
  );
  const { byRequest } = sim.stats();
  const duplicates: string[] = [];
  let uncalled = 0;
  for (const row of rows) {
    const calls = byRequest[row.request_id]?.calls ?? 0;
    if (calls === 0) uncalled++;
    if (calls > Number(row.ai_attempts))
      duplicates.push(`${row.request_id}: ${calls} calls, ${row.ai_attempts} attempts`);
  }
  return { decisions: rows.length, uncalled, duplicates };
}

async function countRows(tdb: TestDatabase, where: string) {
  const [row] = await tdb.database.rows<{ n: number }>(
    sql.raw(`select count(*)::int as n from decisions where ${where}`),
  );
  return Number(row!.n);
}

describe('the shadow loop on PostgreSQL and Redis', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect().catch(() => {
      throw new Error(`Redis is not reachable at ${REDIS_URL}; ${REDIS_HINT}`);
    });
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 0.92, latencyMs: 1, inputTokens: 300, outputTokens: 20 });
    tc = await startTestController({ database: tdb.database, queue: 'bull' });
  });

  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    if (redis && tc) {
      const keys = await redis.keys(`${tc.queuePrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis?.disconnect();
    await tdb?.drop();
  });

  it('when 1,000 decisions are mirrored in batches sent twice, then each is stored and called once and agreement matches the simulation', async () => {
    await tc.http
      .put('/v1/use-cases/invoices/plan')
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(labelPlan('invoices', `${sim.url}/decide`))
      .expect(201);

    // Exactly-once is about every batch being sent twice while calls run, not about volume
    // (the benchmarks measure that): four batches overlap the calls of the ones before.
    const total = 1_000;
    const size = 250;
    for (let start = 0; start < total; start += size) {
      const batch = { decisions: Array.from({ length: size }, (_, k) => mirrored('invoices', start + k)) };
      const first = await tc.http.post('/v1/decisions').set(tc.admin).send(batch).expect(202);
      expect(first.body).toEqual({ accepted: size, duplicates: 0, aiCallsOwed: size });
      const again = await tc.http.post('/v1/decisions').set(tc.admin).send(batch).expect(202);
      expect(again.body).toEqual({ accepted: 0, duplicates: size, aiCallsOwed: 0 });
    }

    await waitForProgress({
      what: 'every owed AI call',
      read: () => countRows(tdb, `use_case = 'invoices' and ai_state = 'owed'`),
      done: (owed) => owed === 0,
    });
    expect(await countRows(tdb, `use_case = 'invoices'`)).toBe(total);
    const stats = sim.stats();
    expect(stats.distinctRequests).toBe(total);
    expect(await duplicateAiCalls(tdb, sim, 'invoices')).toEqual({
      decisions: total,
      uncalled: 0,
      duplicates: [],
    });
    expect(await countRows(tdb, `use_case = 'invoices' and score is not null`)).toBe(stats.answeredRequests);

    const detail = await tc.http.get('/v1/use-cases/invoices').set(tc.admin).expect(200);
    const shadow = detail.body.metrics.stages.find((s: { stage: string }) => s.stage === 'shadow');
    expect(shadow.decisions).toBe(total);
    expect(shadow.pendingAi).toBe(0);
    const cohort = shadow.cohorts[0];
    expect(cohort.samples).toBe(stats.answeredRequests);
    expect(Math.abs(cohort.agreement - stats.agreementRate!)).toBeLessThan(0.01);
    expect(cohort.agreementLowerBound).toBeLessThan(cohort.agreement);
    expect(cohort.modelVersion).toBe('sim-1');
    expect(cohort.aiCostPerDecision).toBeGreaterThan(0);
    expect(cohort.segments.map((s: { segment: string }) => s.segment)).toContain('region');
  });

  it('when the human decision arrives after the AI answer, or before it, then both are compared', async () => {
    await tc.http
      .put('/v1/use-cases/late-humans/plan')
      .set(tc.admin)
      .send(labelPlan('late-humans', `${sim.url}/decide`))
      .expect(201);

    // Human after AI: mirrored without a human, the AI answers first.
    const afterAi = mirrored('late-humans', 50_001, false);
    await tc.http.post('/v1/decisions').set(tc.admin).send(afterAi).expect(202);
    await eventually(
      async () =>
        (await countRows(tdb, `request_id = '${afterAi.requestId}' and ai_state = 'done'`)) ? 1 : undefined,
      'the AI answer',
    );
    const late = await tc.http
      .post(`/v1/decisions/late-humans/${afterAi.requestId}/human`)
      .set(tc.admin)
      .send({ decision: referenceLabel(afterAi.input, LABELS), decidedBy: 'clerk-2', handlingMs: 93_000 })
      .expect(200);
    expect(late.body.compared).toBe(true);

    // Human before AI: the use case is paused on the AI side by a slow answer.
    sim.setOptions({ latencyMs: 400 });
    const beforeAi = mirrored('late-humans', 50_002, false);
    await tc.http.post('/v1/decisions').set(tc.admin).send(beforeAi).expect(202);
    const early = await tc.http
      .post(`/v1/decisions/late-humans/${beforeAi.requestId}/human`)
      .set(tc.admin)
      .send({ decision: referenceLabel(beforeAi.input, LABELS) })
      .expect(200);
    expect(early.body.compared).toBe(false);
    sim.setOptions({ latencyMs: 1 });
    await eventually(
      async () =>
        (await countRows(tdb, `request_id = '${beforeAi.requestId}' and score is not null`)) ? 1 : undefined,
      'the comparison once the AI answered',
    );
  });

  it('when calls are slow, then no more reach the AI at once than the plan’s concurrency, and they do run that many at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const ai = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      req.resume();
      setTimeout(() => {
        inFlight--;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ decision: 'approve' }));
      }, 30);
    });
    await new Promise<void>((resolve) => ai.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(ai.address() as AddressInfo).port}/decide`;
      await tc.http
        .put('/v1/use-cases/gated/plan')
        .set(tc.admin)
        .send(labelPlan('gated', url).replace('concurrency: 32', 'concurrency: 4'))
        .expect(201);
      const batch = { decisions: Array.from({ length: 200 }, (_, k) => mirrored('gated', 90_000 + k)) };
      await tc.http.post('/v1/decisions').set(tc.admin).send(batch).expect(202);
      await waitForProgress({
        what: 'the 200 calls',
        read: () => countRows(tdb, `use_case = 'gated' and ai_state = 'done'`),
        done: (calls) => calls === 200,
      });
      expect(maxInFlight).toBe(4);
    } finally {
      ai.close();
    }
  });

  it('when Redis loses every queued job mid-run, then the sweep re-enqueues and every owed call completes', async () => {
    await tc.http
      .put('/v1/use-cases/flushed/plan')
      .set(tc.admin)
      .send(labelPlan('flushed', `${sim.url}/decide`))
      .expect(201);
    sim.setOptions({ latencyMs: 200 });
    const batch = { decisions: Array.from({ length: 1000 }, (_, k) => mirrored('flushed', 70_000 + k)) };
    await tc.http.post('/v1/decisions').set(tc.admin).send(batch).expect(202);
    // While the queue holds them, the sweep enqueues none again.
    const held = await tc.controller.worker.sweep();
    expect(held.checked).toBeGreaterThan(0);
    expect(held.reenqueued).toBe(0);

    // Every job of this controller's queues vanishes, as when Redis restarts empty.
    const keys = await redis.keys(`${tc.queuePrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    const lost = await countRows(tdb, `use_case = 'flushed' and ai_state = 'owed'`);
    expect(lost).toBeGreaterThan(0);

    sim.setOptions({ latencyMs: 1 });
    await waitForProgress({
      what: 'owed calls to complete after the sweep',
      read: async () => {
        await tc.controller.worker.sweep();
        return countRows(tdb, `use_case = 'flushed' and ai_state = 'owed'`);
      },
      done: (owed) => owed === 0,
    });
    expect(await countRows(tdb, `use_case = 'flushed' and score is not null`)).toBe(1000);
    expect(await duplicateAiCalls(tdb, sim, 'flushed')).toEqual({
      decisions: 1000,
      uncalled: 0,
      duplicates: [],
    });
  });
});
