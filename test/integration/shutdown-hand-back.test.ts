import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import { startSimulatedAiSystem } from '../../scripts/simulation/simulated-ai-system.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import {
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** An AI system that takes every call and answers none: each stays in flight until the caller gives up. */
async function silentAi(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server: Server = createServer((req) => {
    received++;
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/decide`,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A plan whose calls may take 30 s, so a claim's lease (timeout × attempts + 15 s) outlasts the test by far. */
function slowPlan(useCase: string, url: string): string {
  return labelPlan(useCase, url).replace('timeoutMs: 2000', 'timeoutMs: 30000');
}

const decisions = (useCase: string, n: number) =>
  Array.from({ length: n }, (_, i) => {
    const invoice = makeInvoice(i);
    return { useCase, requestId: invoice.requestId, input: invoice.input, context: invoice.context };
  });

async function count(tdb: TestDatabase, useCase: string, where: string): Promise<number> {
  const [row] = await tdb.database.rows<{ n: number }>(
    sql`select count(*)::int as n from decisions where use_case = ${useCase} and ${sql.raw(where)}`,
  );
  return Number(row!.n);
}

describe('a stopping controller and the AI calls it holds', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(aiUrl: string, useCase: string): Promise<{ tdb: TestDatabase; tc: TestController }> {
    const tdb = await createTestDatabase();
    cleanups.push(() => tdb.drop());
    const tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    cleanups.push(() => tc.stop());
    await tc.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(slowPlan(useCase, aiUrl))
      .expect(201);
    return { tdb, tc };
  }

  it('when calls are still running at the end of the grace period, then their claims are released in PostgreSQL, at once claimable by another controller, and no new work is taken meanwhile', async () => {
    const ai = await silentAi();
    cleanups.push(() => ai.close());
    const { tdb, tc } = await setUp(ai.url, 'held');
    const sent = decisions('held', 5);
    await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions: sent }).expect(202);
    await eventually(async () => (ai.received() === 5 ? true : undefined), 'the 5 calls to reach the AI');
    expect(await count(tdb, 'held', `ai_state = 'owed' and ai_lease_until > now()`)).toBe(5);

    const stopping = tc.controller.stop({ graceMs: 1_000 });
    // While it stops, a balancer is told to go elsewhere and the SDK to send its work again later.
    const ready = await tc.http.get('/readyz').expect(503);
    expect(ready.body.status).toBe('stopping');
    const refused = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: decisions('held', 6).slice(5) })
      .expect(503);
    expect(refused.headers['retry-after']).toBe('1');
    const report = await stopping;

    expect(report).toMatchObject({ inFlight: 5, handedBack: 5, unanswered: 0 });
    expect(await count(tdb, 'held', `ai_state = 'owed' and ai_lease_until is not null`)).toBe(0);
    expect(await count(tdb, 'held', 'true')).toBe(5);
    // Another controller claims them now rather than after the 105 s lease.
    const claimed = await new AiCallStore(tdb.database).claimMany(
      sent.map((d) => ({ useCase: 'held', requestId: d.requestId, leaseMs: 60_000 })),
    );
    expect(claimed).toHaveLength(5);
  });

  it('when calls finish within the grace period, then their answers are written and nothing is handed back', async () => {
    const sim = await startSimulatedAiSystem({ agreement: 0.9, latencyMs: 600 });
    cleanups.push(() => sim.close());
    const { tdb, tc } = await setUp(`${sim.url}/decide`, 'finishing');
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: decisions('finishing', 5) })
      .expect(202);
    await eventually(
      async () => (sim.stats().pending === 5 ? true : undefined),
      'the 5 calls to reach the AI',
    );

    const report = await tc.controller.stop({ graceMs: 30_000 });

    expect(report).toMatchObject({ inFlight: 5, handedBack: 0 });
    expect(await count(tdb, 'finishing', `ai_state = 'done'`)).toBe(5);
    expect(sim.stats().distinctRequests).toBe(5);
  });
});
