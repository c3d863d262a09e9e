import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DecisionContext, unleashContext } from '@shadowgate/sdk/wire';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withinAutonomyBoundary } from '../../src/flags/autonomy-boundary.js';
import { clientApiRoutes } from '../../src/http/routes/client-api-routes.js';
import { desiredFlag } from '../../src/flags/flag-store.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import type { Plan } from '../../src/plans/plan-schema.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { type FlagClient, startFlagClient } from '../support/flag-client.js';
import { ADMIN_KEY, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import type { Principal } from '../../src/keys/roles.js';

/**
 * `suggest` answers `autonomous: true` only where the SDK's flag says limited-autonomous: the
 * boundary's constraints on the context and its rollout percentage by request id, judged on the
 * server with unleash-client's own strategy code.
 */

function autonomyPlan(useCase: string, aiUrl: string, boundary: string): Plan {
  const parsed = parsePlanText(`useCase: ${useCase}
owner: flags@example.com
decision: { type: label, labels: [approve, reject, escalate] }
ai: { adapter: http, url: '${aiUrl}', timeoutMs: 2000 }
stages:
  shadow: {}
  human-reviewed: {}
  limited-autonomous:
    boundary:
${boundary}
`);
  if (!parsed.ok) throw new Error(`test plan is invalid: ${JSON.stringify(parsed.problems)}`);
  return parsed.plan;
}

const BOUNDARY = `      rolloutPercent: 37
      constraints:
        - { contextName: riskTier, operator: IN, values: [low, Medium], caseInsensitive: true }
        - { contextName: amount, operator: NUM_LT, value: '5000' }
        - { contextName: region, operator: STR_STARTS_WITH, values: [EU], inverted: true }`;

describe('the autonomy boundary judged on the server', () => {
  it('when the SDK reads the flag with unleash-client, then the server agrees with it on every request id and context', async () => {
    const plan = autonomyPlan('claims', 'http://127.0.0.1:9/decide', BOUNDARY);
    const flags = [desiredFlag('claims', 'limited-autonomous', plan)];
    const app = express();
    const sdkKey: Principal = { keyId: 'k1', name: 'sdk', role: 'ingest', useCases: null };
    app.use(
      '/api',
      clientApiRoutes({
        listFlags: async () => flags,
        authenticate: async () => ({ outcome: 'accepted', principal: sdkKey }),
      }),
    );
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const client = await startFlagClient(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`,
      'any-key',
    );
    try {
      const contexts: DecisionContext[] = [
        { riskTier: 'low', amount: 100, region: 'US' },
        { riskTier: 'MEDIUM', amount: 4999.5, region: 'APAC' },
        { riskTier: 'low', amount: 5000, region: 'US' },
        { riskTier: 'high', amount: 1, region: 'US' },
        { riskTier: 'low', amount: 1, region: 'EU-west' },
        { riskTier: 'low', region: 'US' },
        { riskTier: null, amount: 1, region: 'US' },
        { riskTier: 'low', amount: '12', region: 'US', vip: true },
      ];
      let autonomous = 0;
      for (let i = 0; i < 400; i++) {
        for (const context of contexts) {
          const requestId = `req-${i}-é`;
          const sdk = client.mode('shadowgate.claims', unleashContext(requestId, context));
          const server = withinAutonomyBoundary('claims', plan, requestId, context);
          expect(server, `${requestId} ${JSON.stringify(context)}`).toBe(sdk === 'limited-autonomous');
          if (server) autonomous++;
        }
      }
      // Two of the eight contexts are inside the constraints (unleash-client's IN ignores
      // caseInsensitive), and 37% of their request ids inside the rollout.
      expect(autonomous / (400 * 2)).toBeGreaterThan(0.32);
      expect(autonomous / (400 * 2)).toBeLessThan(0.42);
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('suggest in limited-autonomous against a running controller', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let listening: Server;
  let flagClient: FlagClient;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1, confidence: 0.95 });
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const boundary = `      rolloutPercent: 50
      constraints: [{ contextName: riskTier, operator: IN, values: [low] }]`;
    const plan = autonomyPlan('bounded', `${sim.url}/decide`, boundary);
    await tc.http
      .put('/v1/use-cases/bounded/plan')
      .set(tc.admin)
      .set('content-type', 'application/json')
      .send(plan)
      .expect(201);
    for (let i = 0; i < 2; i++) {
      await tc.http
        .post('/v1/use-cases/bounded/promote')
        .set(tc.admin)
        .send({ reason: 'test', force: true })
        .expect(200);
    }
    listening = tc.controller.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    flagClient = await startFlagClient(
      `http://127.0.0.1:${(listening.address() as AddressInfo).port}/api`,
      ADMIN_KEY,
    );
  });

  afterAll(async () => {
    flagClient?.close();
    await new Promise((resolve) => (listening ? listening.close(resolve) : resolve(undefined)));
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  const suggest = async (requestId: string, context: Record<string, string>) => {
    const res = await tc.http
      .post('/v1/use-cases/bounded/suggest')
      .set(tc.admin)
      .send({ requestId, input: { amount: 10 }, context })
      .expect(200);
    expect(res.body).toMatchObject({ stage: 'limited-autonomous', confidence: 0.95 });
    return res.body as { autonomous: boolean; audit: boolean };
  };

  it('when the context is outside the boundary constraints, then no suggestion is autonomous', async () => {
    for (let i = 0; i < 20; i++) {
      const answer = await suggest(`outside-${i}`, { riskTier: 'high' });
      expect(answer).toMatchObject({ autonomous: false, audit: false });
    }
  });

  it('when the context is inside the constraints, then a suggestion is autonomous exactly when the SDK’s flag puts its request id inside the 50% rollout', async () => {
    const seen = new Set<boolean>();
    for (let i = 0; i < 40; i++) {
      const requestId = `inside-${i}`;
      const context = { riskTier: 'low' };
      const answer = await suggest(requestId, context);
      const sdk = flagClient.mode('shadowgate.bounded', unleashContext(requestId, context));
      expect(answer.autonomous, requestId).toBe(sdk === 'limited-autonomous');
      seen.add(answer.autonomous);
      // A retry of the same request is answered the same way.
      expect((await suggest(requestId, context)).autonomous).toBe(answer.autonomous);
    }
    expect([...seen].sort()).toEqual([false, true]);
  });
});
