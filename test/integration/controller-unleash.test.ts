import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { eventually, type FlagClient, startFlagClient } from '../support/flag-client.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startUnleashServer, type TestUnleash } from '../support/unleash-server.js';

const FLAG = 'shadowgate.routed';
const INSIDE = { sessionId: 'r-1', properties: { riskTier: 'low' } };
const OUTSIDE = { sessionId: 'r-1', properties: { riskTier: 'high' } };

/** The controller writes its flags to a real Unleash; a real unleash-client reads them. */
describe('the controller with a real Unleash', () => {
  let tdb: TestDatabase;
  let unleash: TestUnleash;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let client: FlagClient;

  beforeAll(async () => {
    [tdb, unleash, sim] = await Promise.all([
      createTestDatabase(),
      startUnleashServer(),
      startSimulatedAiSystem({ agreement: 1 }),
    ]);
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: {
        UNLEASH_URL: unleash.url,
        UNLEASH_ADMIN_TOKEN: unleash.adminToken,
        // The tests reconcile by hand: a background sync every 5 s repaired the hand edit before
        // the test's own reconcile on a loaded machine (CI), which then found nothing to repair.
        SHADOWGATE_FLAG_SYNC_MS: '3600000',
      },
    });
    const plan = labelPlan('routed', `${sim.url}/decide`).replace(
      /stages:[\s\S]*$/,
      `stages:
  shadow: { approval: manual }
  human-reviewed: {}
  limited-autonomous:
    boundary:
      constraints: [{ contextName: riskTier, operator: IN, values: [low] }]
      rolloutPercent: 100
`,
    );
    await tc.http.put('/v1/use-cases/routed/plan').set(tc.admin).send(plan).expect(201);
    client = await startFlagClient(`${unleash.url}/api`, unleash.clientToken, 250);
  });
  afterAll(async () => {
    client?.close();
    await tc?.stop();
    await sim?.close();
    await unleash?.close();
    await tdb?.drop();
  });

  const promote = (reason: string) =>
    tc.http.post('/v1/use-cases/routed/promote').set(tc.admin).send({ reason, force: true }).expect(200);

  it('when a use case is created, then its flag serves shadow', async () => {
    await eventually(() => client.mode(FLAG) === 'shadow', 'the shadow variant');
  });

  it('when it is promoted, then a running client sees the new mode within a few refresh intervals', async () => {
    await promote('pilot approved by the AP lead');
    await eventually(() => client.mode(FLAG, OUTSIDE) === 'human-reviewed', 'human-reviewed', 5_000);
  });

  it('when it reaches limited-autonomous, then the boundary decides: inside autonomous, outside human-reviewed', async () => {
    await promote('low-risk invoices only');
    await eventually(
      () => client.mode(FLAG, INSIDE) === 'limited-autonomous',
      'the autonomous variant',
      5_000,
    );
    expect(client.mode(FLAG, OUTSIDE)).toBe('human-reviewed');
  });

  it('when someone edits the flag by hand in Unleash, then the reconcile loop repairs it and records the repair', async () => {
    const base = `${unleash.url}/api/admin/projects/default/features/${FLAG}/environments/development`;
    const headers = { Authorization: unleash.adminToken, 'content-type': 'application/json' };
    const strategies = (await (await fetch(`${base}/strategies`, { headers })).json()) as Array<{
      id: string;
    }>;
    const patched = await fetch(`${base}/strategies/${strategies[0]!.id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify([{ op: 'replace', path: '/parameters/rollout', value: '0' }]),
    });
    expect(patched.ok).toBe(true);
    await eventually(
      () => client.mode(FLAG, INSIDE) === 'human-reviewed',
      'the hand edit to reach the client',
    );

    const outcome = await tc.controller.flags.reconciler.reconcileAll();
    expect(outcome.repaired).toEqual(['routed']);
    await eventually(
      () => client.mode(FLAG, INSIDE) === 'limited-autonomous',
      'the repair to reach the client',
    );
    const [event] = await tdb.database.rows<{ details: { drift: string[] } }>(
      sql`select details from audit_events where action = 'flag.repaired' and use_case = 'routed'`,
    );
    expect(event?.details.drift.join(' ')).toMatch(/rollout 0 → 100/);
  });

  it('when Unleash is down, then rollbacks and promotions still happen in the database and the flag catches up', async () => {
    await unleash.stop();
    const rolled = await tc.http
      .post('/v1/use-cases/routed/rollback')
      .set(tc.admin)
      .send({ reason: 'audit found a bad batch', to: 'shadow' })
      .expect(200);
    expect(rolled.body).toMatchObject({ fromStage: 'limited-autonomous', toStage: 'shadow' });
    const promoted = await promote('re-entering review after the fix');
    expect(promoted.body).toMatchObject({ fromStage: 'shadow', toStage: 'human-reviewed' });
    const ready = await tc.http.get('/readyz').expect(503);
    expect(ready.body.checks.flags).toBe('unavailable');
    // The client keeps its last flags meanwhile.
    expect(client.mode(FLAG, INSIDE)).toBe('limited-autonomous');

    await unleash.restart();
    const outcome = await tc.controller.flags.reconciler.reconcileAll();
    expect(outcome.failed).toEqual([]);
    await eventually(
      () => client.mode(FLAG, INSIDE) === 'human-reviewed',
      'the new stage to reach the client',
      10_000,
    );
  });
});
