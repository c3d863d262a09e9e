import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpFaultProxy, type TcpFaultProxy } from '../../scripts/faults/tcp-fault-proxy.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A database that goes silent (a network partition: no reset, no answer) must not hold the
 * SDK's requests: postgres.js has no query timeout, and TCP waits minutes before it gives up on
 * a connection. Past SHADOWGATE_DATABASE_WAIT_MS the key lookup and the ingest answer 503 with
 * Retry-After, so the SDK keeps the decisions and resends them.
 */
const WAIT_MS = 1_000;
/** Two waits at most (the key lookup, then the ingest) and a loaded machine's slack; silence would be forever. */
const ANSWER_WITHIN_MS = 2 * WAIT_MS + 1_500;

describe('when the network to PostgreSQL goes silent', () => {
  let tdb: TestDatabase;
  let proxy: TcpFaultProxy;
  let database: Database;
  let tc: TestController;
  let ingestKey: string;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const target = new URL(tdb.url);
    proxy = await startTcpFaultProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5432),
    });
    const viaProxy = new URL(tdb.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    database = await openDatabase({ url: viaProxy.toString(), maxConnections: 4 });
    tc = await startTestController({
      database,
      queue: 'in-process',
      env: { SHADOWGATE_DATABASE_WAIT_MS: String(WAIT_MS) },
    });
    const created = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name: 'silent-db', role: 'ingest' })
      .expect(201);
    ingestKey = created.body.key;
  });

  afterAll(async () => {
    proxy?.pass();
    await tc?.stop();
    await database?.close();
    await proxy?.close();
    await tdb?.drop();
  });

  const post = (authorization: string) =>
    tc.http
      .post('/v1/decisions')
      .set({ Authorization: authorization })
      .send({ useCase: 'silent-probe', requestId: 'r-1', input: {} })
      .timeout(10_000);

  it('then a key lookup and an ingest answer 503 with Retry-After within the wait, and 404 (the database answering) once it is back', async () => {
    await post(`Bearer ${ingestKey}`).expect(404);
    proxy.blackhole();
    try {
      for (const authorization of [`Bearer ${ingestKey}`, tc.admin.Authorization]) {
        const started = performance.now();
        const response = await post(authorization);
        const ms = performance.now() - started;
        expect(response.status, authorization).toBe(503);
        expect(response.headers['retry-after']).toBe('1');
        expect(ms).toBeGreaterThanOrEqual(WAIT_MS - 50);
        expect(ms).toBeLessThan(ANSWER_WITHIN_MS);
      }
    } finally {
      proxy.pass();
    }
    await post(`Bearer ${ingestKey}`).expect(404);
  });
});
