import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { KeyStore } from '../../src/keys/key-store.js';
import { createController } from '../../src/main/controller.js';
import { createInProcessShadowQueue } from '../../src/shadow/in-process-shadow-queue.js';
import {
  ADMIN_KEY,
  eventually,
  LOOPBACK_DESTINATIONS,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Keys as an attacker and an auditor would look at them: what is stored, when a key was
 * last used, who wrote what (by name), how fast a key may call, and what reaches the logs.
 * The plans mirror nothing (`sampleRate: 0`), so no AI system is needed.
 */

const UNUSED_AI_URL = 'http://127.0.0.1:9/decide';
const plan = (useCase: string, comment = '') =>
  labelPlan(useCase, UNUSED_AI_URL, `    sampleRate: 0\n  human-reviewed:\n    approval: manual\n${comment}`);

type Auth = { Authorization: string };
const bearer = (key: string): Auth => ({ Authorization: `Bearer ${key}` });

describe('key hygiene', () => {
  let tdb: TestDatabase;
  let tc: TestController;

  async function createKey(name: string, role: string, by: Auth = tc.admin) {
    const res = await tc.http.post('/v1/keys').set(by).send({ name, role }).expect(201);
    return res.body as { id: string; key: string };
  }
  const listedKey = async (id: string) => {
    const res = await tc.http.get('/v1/keys').set(tc.admin).expect(200);
    return (res.body.keys as Array<{ id: string; lastUsedAt: string | null }>).find((k) => k.id === id)!;
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
  });

  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when a key is created, then only the sha256 of its secret is stored', async () => {
    const { id, key } = await createKey('hashed', 'viewer');
    const [row] = await tdb.database.rows<Record<string, unknown>>(
      sql`select * from api_keys where id = ${id}`,
    );
    expect(row?.secret_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(key.slice(-20));
  });

  it('when a key is used, then GET /v1/keys shows when', async () => {
    const { id, key } = await createKey('last-used', 'viewer');
    expect((await listedKey(id)).lastUsedAt).toBeNull();
    const before = Date.now();
    await tc.http.get('/v1/use-cases').set(bearer(key)).expect(200);
    const after = Date.now();
    // Written after the answer, without making the request wait: polled.
    const used = await eventually(async () => (await listedKey(id)).lastUsedAt ?? undefined, 'lastUsedAt');
    expect(Date.parse(used)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(used)).toBeLessThanOrEqual(after);
  });

  it('when a key is used again within a minute, then its last-used time stays; after a minute it moves', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const keys = new KeyStore(tdb.database, undefined, { nowMs: () => now });
    const { id, secret } = await keys.create({
      name: 'clocked',
      role: 'viewer',
      useCases: null,
      actor: 'test',
    });
    const { id: otherId, secret: other } = await keys.create({
      name: 'clocked-other',
      role: 'viewer',
      useCases: null,
      actor: 'test',
    });
    const lastUsed = async (keyId: string) =>
      (await keys.list()).find((k) => k.id === keyId)?.lastUsedAt?.toISOString();

    await keys.resolve(secret);
    await eventually(
      async () => ((await lastUsed(id)) === '2030-01-01T00:00:00.000Z' ? true : undefined),
      't0',
    );

    now += 59_000;
    await keys.resolve(secret);
    // Another key's first use is written; once it is there, a write for the first key would be too.
    await keys.resolve(other);
    await eventually(async () => ((await lastUsed(otherId)) ? true : undefined), 'other key written');
    expect(await lastUsed(id)).toBe('2030-01-01T00:00:00.000Z');

    now += 2_000;
    await keys.resolve(secret);
    await eventually(
      async () => ((await lastUsed(id)) === '2030-01-01T00:01:01.000Z' ? true : undefined),
      'the time after a minute',
    );
  });

  it('when plans, stages and keys change, then each write is one audit event naming the key that made it', async () => {
    const [{ max: marker }] = (await tdb.database.rows<{ max: string | null }>(
      sql`select max(id)::text as max from audit_events`,
    )) as [{ max: string | null }];
    const admin = await createKey('audit-admin', 'admin');
    const owner = await createKey('audit-owner', 'owner', bearer(admin.key));
    const release = await createKey('audit-release', 'release', bearer(admin.key));
    const viewer = await createKey('audit-viewer', 'viewer', bearer(admin.key));

    const put = (text: string, by: Auth) =>
      tc.http.put('/v1/use-cases/audited/plan').set(by).set('content-type', 'application/yaml').send(text);
    const act = (action: string, by: Auth, body: Record<string, unknown>) =>
      tc.http.post(`/v1/use-cases/audited/${action}`).set(by).send(body);

    await put(plan('audited'), bearer(owner.key)).expect(201);
    await put(plan('audited'), bearer(owner.key)).expect(200); // the same text: nothing written
    await put(plan('audited', '# v2\n'), bearer(owner.key)).expect(200);
    await act('promote', bearer(viewer.key), { reason: 'not mine to do', force: true }).expect(403);
    await act('promote', bearer(release.key), { reason: 'signed off', force: true }).expect(200);
    await act('rollback', bearer(release.key), { reason: 'second thoughts' }).expect(200);
    await act('disable', bearer(release.key), { reason: 'incident 42' }).expect(200);
    await act('enable', bearer(release.key), { reason: 'incident closed' }).expect(200);
    await tc.http.delete(`/v1/keys/${owner.id}`).set(bearer(admin.key)).expect(204);
    await tc.http.delete(`/v1/keys/${viewer.id}`).set(tc.admin).expect(204);

    const events = await tdb.database.rows<{ actor: string; action: string; use_case: string | null }>(
      sql`select actor, action, use_case, details from audit_events where id > ${marker ?? '0'}::bigint order by id`,
    );
    expect(events).toEqual([
      expect.objectContaining({
        actor: 'bootstrap-admin',
        action: 'key.create',
        details: expect.objectContaining({ name: 'audit-admin' }),
      }),
      expect.objectContaining({
        actor: 'key:audit-admin',
        action: 'key.create',
        details: expect.objectContaining({ name: 'audit-owner', role: 'owner' }),
      }),
      expect.objectContaining({
        actor: 'key:audit-admin',
        action: 'key.create',
        details: expect.objectContaining({ name: 'audit-release' }),
      }),
      expect.objectContaining({
        actor: 'key:audit-admin',
        action: 'key.create',
        details: expect.objectContaining({ name: 'audit-viewer' }),
      }),
      expect.objectContaining({
        actor: 'key:audit-owner',
        action: 'use-case.create',
        use_case: 'audited',
        details: expect.objectContaining({ planVersion: 1 }),
      }),
      expect.objectContaining({
        actor: 'key:audit-owner',
        action: 'plan.update',
        use_case: 'audited',
        details: expect.objectContaining({ planVersion: 2 }),
      }),
      expect.objectContaining({
        actor: 'key:audit-release',
        action: 'stage.promote',
        use_case: 'audited',
        details: expect.objectContaining({
          from: 'shadow',
          to: 'human-reviewed',
          reason: 'signed off',
          forced: true,
        }),
      }),
      expect.objectContaining({
        actor: 'key:audit-release',
        action: 'stage.rollback',
        details: expect.objectContaining({ from: 'human-reviewed', to: 'shadow', reason: 'second thoughts' }),
      }),
      expect.objectContaining({
        actor: 'key:audit-release',
        action: 'stage.disable',
        details: expect.objectContaining({ from: 'shadow', to: 'disabled', reason: 'incident 42' }),
      }),
      expect.objectContaining({
        actor: 'key:audit-release',
        action: 'stage.enable',
        details: expect.objectContaining({ from: 'disabled', to: 'shadow', reason: 'incident closed' }),
      }),
      {
        actor: 'key:audit-admin',
        action: 'key.revoke',
        use_case: null,
        details: { id: owner.id, name: 'audit-owner', role: 'owner' },
      },
      {
        actor: 'bootstrap-admin',
        action: 'key.revoke',
        use_case: null,
        details: { id: viewer.id, name: 'audit-viewer', role: 'viewer' },
      },
    ]);
  });

  describe('rate limits', () => {
    let limited: TestController;

    beforeAll(async () => {
      await tc.http
        .put('/v1/use-cases/limited/plan')
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(plan('limited'))
        .expect(201);
      // A second controller on the same database, at one request per second (bursts of 2).
      limited = await startTestController({
        database: tdb.database,
        queue: 'in-process',
        env: { SHADOWGATE_RATE_LIMIT_API_PER_SEC: '1', SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: '1' },
      });
    });

    afterAll(async () => {
      await limited?.stop();
    });

    it('when a key spends its burst, then it gets 429 with Retry-After, other budgets and keys go on, and it recovers after waiting', async () => {
      const flooder = bearer((await createKey('flooder', 'admin')).key);
      const bystander = bearer((await createKey('bystander', 'viewer')).key);
      const whoami = (auth: Auth) => limited.http.get('/v1/whoami').set(auth);
      const ingest = (auth: Auth, requestId: string) =>
        limited.http.post('/v1/decisions').set(auth).send({ useCase: 'limited', requestId, input: 1 });

      await whoami(flooder).expect(200);
      await whoami(flooder).expect(200);
      const refused = await whoami(flooder).expect(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body).toEqual({
        error: 'rate_limited',
        message: 'key flooder is over its api rate of 1 requests per second; retry after 1 s',
        details: [],
      });

      // The ingest budget is its own; a batch is one request.
      await ingest(flooder, 'rl-1').expect(202);
      await ingest(flooder, 'rl-2').expect(202);
      const ingestRefused = await ingest(flooder, 'rl-3').expect(429);
      expect(ingestRefused.headers['retry-after']).toBe('1');
      await whoami(bystander).expect(200);

      await new Promise((r) => setTimeout(r, Number(refused.headers['retry-after']) * 1000));
      await whoami(flooder).expect(200);
      await ingest(flooder, 'rl-3').expect(202);
    });

    it('when the bootstrap admin key floods, then it is limited like any key', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await limited.http.get('/v1/whoami').set(limited.admin)).status);
      expect(statuses.slice(0, 2)).toEqual([200, 200]);
      expect(statuses).toContain(429);
    });
  });

  it('when keys are created, used, revoked and refused, then no secret appears in the log', async () => {
    let log = '';
    // A logger without the production logger's redaction: no secret may be handed to it at all.
    const logger = pino(
      { level: 'trace' },
      {
        write(line: string) {
          log += line;
        },
      },
    );
    const config = loadConfig({
      SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
      SHADOWGATE_SWEEP_MS: '3600000',
      LOG_LEVEL: 'trace',
      ...LOOPBACK_DESTINATIONS,
    });
    const controller = await createController({
      config,
      logger,
      database: tdb.database,
      queue: createInProcessShadowQueue({ logger }),
      migrate: false,
    });
    await controller.start();
    try {
      const http = supertest(controller.app);
      const admin = bearer(ADMIN_KEY);
      const created = async (name: string, role: string) =>
        (await http.post('/v1/keys').set(admin).send({ name, role }).expect(201)).body as {
          id: string;
          key: string;
        };
      const feeder = await created('log-feeder', 'ingest');
      const reader = await created('log-reader', 'viewer');
      await http.get('/v1/use-cases').set(bearer(reader.key)).expect(200);
      await http
        .post('/v1/decisions')
        .set(bearer(feeder.key))
        .send({ useCase: 'limited', requestId: 'log-1', input: 1 })
        .expect(202);
      await http.get('/api/client/features').set('authorization', feeder.key).expect(200);
      await http.delete(`/v1/keys/${reader.id}`).set(admin).expect(204);

      const nearMiss = `${feeder.key.slice(0, -1)}${feeder.key.endsWith('A') ? 'B' : 'A'}`;
      const wrongAdmin = `${ADMIN_KEY}x`;
      await http.get('/v1/use-cases').set(bearer(reader.key)).expect(401); // revoked
      await http.get('/v1/use-cases').set(bearer(nearMiss)).expect(401);
      await http.get('/v1/use-cases').set(bearer(wrongAdmin)).expect(401);
      await http.get('/v1/use-cases').set('authorization', `Bearer ${feeder.key} extra`).expect(401);
      await http.get('/api/client/features').set('authorization', nearMiss).expect(401);

      expect(log).toContain('"actor":"log-reader"'); // the capture works: the key's name is logged
      for (const secret of [ADMIN_KEY, wrongAdmin, feeder.key, reader.key, nearMiss]) {
        expect(log).not.toContain(secret);
        expect(log).not.toContain(secret.slice(-24)); // nor its random part alone
      }
    } finally {
      await controller.stop();
    }
  });
});
