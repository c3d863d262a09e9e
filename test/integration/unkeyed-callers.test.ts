import { createServer, type Server } from 'node:net';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { type Controller, createController } from '../../src/main/controller.js';
import { createInProcessShadowQueue } from '../../src/shadow/in-process-shadow-queue.js';
import { databaseUrl } from '../support/services.js';
import { AI_URL } from '../support/store-fixtures.js';
import { ADMIN_KEY, LOOPBACK_DESTINATIONS, labelPlan } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What /readyz and /metrics tell a caller without a key, and what they cost the dependencies. */
describe('callers without a key', () => {
  let tdb: TestDatabase;
  const controllers: Controller[] = [];
  const databases: Database[] = [];
  const logLines: Array<Record<string, unknown>> = [];

  async function controllerWith(env: Record<string, string>, database: Database = tdb.database) {
    const logger = pino(
      { level: 'warn' },
      {
        write(line: string) {
          logLines.push(JSON.parse(line));
        },
      },
    );
    const controller = await createController({
      config: loadConfig({
        SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
        SHADOWGATE_SWEEP_MS: '3600000',
        ...LOOPBACK_DESTINATIONS,
        ...env,
      }),
      logger,
      database,
      queue: createInProcessShadowQueue({ logger }),
      migrate: false,
      background: false,
    });
    controllers.push(controller);
    return controller;
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
  });

  afterAll(async () => {
    for (const controller of controllers) await controller.stop();
    for (const database of databases) await database.close();
    await tdb?.drop();
  });

  it('when the database and Unleash are unreachable, then /readyz says only "unavailable" for each, and the log says why', async () => {
    const port = await closedPort();
    const missing = await openDatabase({ url: databaseUrl('sg_test_no_such_database') });
    databases.push(missing);
    const controller = await controllerWith(
      { UNLEASH_URL: `http://127.0.0.1:${port}`, UNLEASH_ADMIN_TOKEN: 'secret-admin-token' },
      missing,
    );
    const res = await supertest(controller.app).get('/readyz').expect(503);
    expect(res.body).toEqual({
      status: 'not ready',
      checks: { database: 'unavailable', queue: 'ok', flags: 'unavailable' },
    });
    for (const leak of ['127.0.0.1', String(port), 'sg_test_no_such_database', 'Unleash', 'ECONNREFUSED']) {
      expect(res.text).not.toContain(leak);
    }
    const failures = logLines.filter((l) => l.msg === 'readiness check failed');
    expect(failures.map((l) => l.check).sort()).toEqual(['database', 'flags']);
    expect(JSON.stringify(failures)).toContain('sg_test_no_such_database');
    expect(JSON.stringify(failures)).toContain(String(port));
  });

  it('when 100 probes arrive at once, then the database is pinged once for all of them, and again only after a second', async () => {
    let pings = 0;
    const counted: Database = {
      ...tdb.database,
      ping: async () => {
        pings++;
        await tdb.database.ping();
      },
    };
    const controller = await controllerWith({}, counted);
    const server = await controller.listen(0, '127.0.0.1');
    const { port } = server.address() as { port: number };
    const probes = await Promise.all(
      Array.from({ length: 100 }, () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status)),
    );
    expect(probes.every((status) => status === 200)).toBe(true);
    // One run of the checks, or two if the probes straddled its end by more than the cache.
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(pings).toBeLessThanOrEqual(2);
    const before = pings;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(pings).toBe(before + 1);
  });

  describe('GET /metrics with SHADOWGATE_METRICS_AUTH=key', () => {
    let http: ReturnType<typeof supertest>;
    const keys: Record<string, string> = {};

    beforeAll(async () => {
      const controller = await controllerWith({ SHADOWGATE_METRICS_AUTH: 'key' });
      http = supertest(controller.app);
      await http
        .put('/v1/use-cases/metrics-auth/plan')
        .set(admin)
        .send(labelPlan('metrics-auth', AI_URL))
        .expect(201);
      for (const [name, role, useCases] of [
        ['scraper', 'viewer', undefined],
        ['scoped', 'viewer', ['metrics-auth']],
        ['ingest', 'ingest', undefined],
      ] as const) {
        const res = await http
          .post('/v1/keys')
          .set(admin)
          .send({ name, role, ...(useCases ? { useCases } : {}) })
          .expect(201);
        keys[name] = res.body.key;
      }
    });

    it('when scraped without a key, or with an unknown one, then 401 and no series', async () => {
      const none = await http.get('/metrics').expect(401);
      expect(none.text).not.toContain('metrics-auth');
      await http.get('/metrics').set('Authorization', 'Bearer sg_nope_nope').expect(401);
    });

    it('when scraped with a key that may not read every use case, then 403', async () => {
      await http.get('/metrics').set('Authorization', `Bearer ${keys.scoped}`).expect(403);
      await http.get('/metrics').set('Authorization', `Bearer ${keys.ingest}`).expect(403);
    });

    it('when scraped with an unscoped viewer key, then the series name the use cases', async () => {
      const res = await http.get('/metrics').set('Authorization', `Bearer ${keys.scraper}`).expect(200);
      expect(res.text).toContain('use_case="metrics-auth"');
    });
  });
});
