import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SQL, sql } from 'drizzle-orm';
import {
  type SimOptions,
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * What the SDK tests run against: a controller listening on a real port (in-process
 * queue, a PostgreSQL database of its own, the simulated AI), which can be stopped and
 * started again on the same port and database, as an outage looks to a workflow service.
 */
export interface SdkHarness {
  tdb: TestDatabase;
  sim: SimulatedAiSystem;
  tc: TestController;
  url: string;
  /** A key with the ingest role, as a workflow service would hold. */
  ingestKey: string;
  applyPlan(useCase: string, extraStages?: string): Promise<void>;
  promote(useCase: string, reason: string): Promise<void>;
  /** Kills the controller: its port refuses connections until `startController()`. */
  stopController(): Promise<void>;
  startController(): Promise<void>;
  count(where: SQL): Promise<number>;
  rows<T>(query: SQL): Promise<T[]>;
  close(): Promise<void>;
}

export const LABELS = ['approve', 'reject', 'escalate'];

/** The stages after shadow, with the boundary `riskTier IN [low]`. */
export function laterStages(o: { minConfidence?: number; auditRate?: number; rolloutPercent?: number } = {}) {
  return `  human-reviewed: {}
  limited-autonomous:
    boundary:
      constraints: [{ contextName: riskTier, operator: IN, values: [low] }]
      minConfidence: ${o.minConfidence ?? 0.8}
      rolloutPercent: ${o.rolloutPercent ?? 100}
    auditRate: ${o.auditRate ?? 0.05}
`;
}

export async function startSdkHarness(
  sim: SimOptions = {},
  env: Record<string, string> = {},
): Promise<SdkHarness> {
  const [tdb, ai] = await Promise.all([
    createTestDatabase(),
    startSimulatedAiSystem({ agreement: 0.9, latencyMs: 1, ...sim }),
  ]);
  let tc = await startTestController({ database: tdb.database, queue: 'in-process', env });
  let server: Server | undefined = await tc.controller.listen(0, '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  const created = await tc.http
    .post('/v1/keys')
    .set(tc.admin)
    .send({ name: 'invoice-service', role: 'ingest' })
    .expect(201);

  const harness: SdkHarness = {
    tdb,
    sim: ai,
    get tc() {
      return tc;
    },
    url: `http://127.0.0.1:${port}`,
    ingestKey: created.body.key as string,
    async applyPlan(useCase, extraStages = laterStages()) {
      await tc.http
        .put(`/v1/use-cases/${useCase}/plan`)
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(labelPlan(useCase, `${ai.url}/decide`, extraStages))
        .expect(201);
    },
    async promote(useCase, reason) {
      await tc.http
        .post(`/v1/use-cases/${useCase}/promote`)
        .set(tc.admin)
        .send({ reason, force: true })
        .expect(200);
    },
    async stopController() {
      if (!server) return;
      server.closeAllConnections();
      await tc.stop();
      server = undefined;
    },
    async startController() {
      if (server) return;
      tc = await startTestController({ database: tdb.database, queue: 'in-process', env });
      server = await tc.controller.listen(port, '127.0.0.1');
    },
    async count(where) {
      const [row] = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from decisions where ${where}`,
      );
      return Number(row?.n ?? 0);
    },
    rows: (query) => tdb.database.rows(query),
    async close() {
      await harness.stopController();
      await ai.close();
      await tdb.drop();
    },
  };
  return harness;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
