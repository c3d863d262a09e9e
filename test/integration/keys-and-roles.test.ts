import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../support/db-snapshot.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Keys as an operator manages them: created once by an admin, enforced by role and scope,
 * revoked, and every change written to the audit log under the name of the key that made it.
 * The plans here mirror nothing (`sampleRate: 0`), so no AI system is needed.
 */

const UNUSED_AI_URL = 'http://127.0.0.1:9/decide';
const plan = (useCase: string) => labelPlan(useCase, UNUSED_AI_URL, '    sampleRate: 0\n');

interface CreatedKey {
  id: string;
  key: string;
  name: string;
  role: string;
  useCases: string[] | null;
}

describe('API keys, roles and scopes', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let opsAdmin: CreatedKey;

  const bearer = (k: CreatedKey) => ({ Authorization: `Bearer ${k.key}` });

  async function createKey(body: Record<string, unknown>, by = bearer(opsAdmin)): Promise<CreatedKey> {
    const res = await tc.http.post('/v1/keys').set(by).send(body).expect(201);
    return res.body as CreatedKey;
  }

  const putPlan = (useCase: string, auth: { Authorization: string }) =>
    tc.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(auth)
      .set('content-type', 'application/yaml')
      .send(plan(useCase));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    opsAdmin = await createKey({ name: 'ops-admin', role: 'admin' }, tc.admin);
  });

  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when an admin creates a key, then the secret is returned once and only its hash is kept', async () => {
    expect(opsAdmin).toMatchObject({ name: 'ops-admin', role: 'admin', useCases: null });
    expect(opsAdmin.key).toMatch(/^sg_/);

    const listed = await tc.http.get('/v1/keys').set(bearer(opsAdmin)).expect(200);
    const entry = listed.body.keys.find((k: { id: string }) => k.id === opsAdmin.id);
    expect(entry).toMatchObject({ name: 'ops-admin', role: 'admin', createdBy: 'bootstrap-admin' });
    expect(JSON.stringify(listed.body)).not.toContain(opsAdmin.key);

    const stored = await tdb.database.rows<Record<string, unknown>>(sql`select * from api_keys`);
    expect(JSON.stringify(stored)).not.toContain(opsAdmin.key);
  });

  it('when an owner key applies a plan, then it works, is recorded under its name, and the key may not ingest', async () => {
    const owner = await createKey({ name: 'product-owner', role: 'owner' });
    await putPlan('alpha', bearer(owner)).expect(201);

    const transitions = await tdb.database.rows<Record<string, unknown>>(
      sql`select from_stage, to_stage, actor from stage_transitions where use_case = 'alpha'`,
    );
    expect(transitions).toEqual([{ from_stage: null, to_stage: 'shadow', actor: 'key:product-owner' }]);

    await tc.http.get('/v1/use-cases/alpha').set(bearer(owner)).expect(200);
    const ingest = await tc.http
      .post('/v1/decisions')
      .set(bearer(owner))
      .send({ useCase: 'alpha', requestId: 'r-1', input: 1 })
      .expect(403);
    expect(ingest.body.error).toBe('forbidden');
  });

  it('when an ingest key is used, then it may ingest but neither read nor apply plans', async () => {
    await putPlan('ingest-target', tc.admin).expect(201);
    const feeder = await createKey({ name: 'feeder', role: 'ingest' });
    const res = await tc.http
      .post('/v1/decisions')
      .set(bearer(feeder))
      .send({ useCase: 'ingest-target', requestId: 'r-1', input: 1, human: { decision: 'approve' } })
      .expect(202);
    expect(res.body).toEqual({ accepted: 1, duplicates: 0, aiCallsOwed: 0 });
    await tc.http.get('/v1/use-cases').set(bearer(feeder)).expect(403);
    await tc.http.get('/v1/use-cases/ingest-target/metrics').set(bearer(feeder)).expect(403);
    await putPlan('ingest-target', bearer(feeder)).expect(403);
    await tc.http.post('/v1/keys').set(bearer(feeder)).send({ name: 'x', role: 'admin' }).expect(403);
  });

  it('when a key is scoped to some use cases, then it sees and writes only those', async () => {
    await putPlan('scoped-in', tc.admin).expect(201);
    await putPlan('scoped-out', tc.admin).expect(201);
    const viewer = await createKey({ name: 'scoped-viewer', role: 'viewer', useCases: ['scoped-in'] });
    expect(viewer.useCases).toEqual(['scoped-in']);

    const list = await tc.http.get('/v1/use-cases').set(bearer(viewer)).expect(200);
    expect(list.body.useCases.map((u: { id: string }) => u.id)).toEqual(['scoped-in']);
    await tc.http.get('/v1/use-cases/scoped-in').set(bearer(viewer)).expect(200);
    await tc.http.get('/v1/use-cases/scoped-out').set(bearer(viewer)).expect(403);
    await tc.http.get('/v1/use-cases/scoped-out/metrics').set(bearer(viewer)).expect(403);

    // An unscoped key sees every use case.
    const all = await tc.http.get('/v1/use-cases').set(bearer(opsAdmin)).expect(200);
    expect(all.body.useCases.map((u: { id: string }) => u.id)).toEqual(
      expect.arrayContaining(['alpha', 'scoped-in', 'scoped-out']),
    );

    const feeder = await createKey({ name: 'scoped-feeder', role: 'ingest', useCases: ['scoped-in'] });
    const decision = (useCase: string) => ({ useCase, requestId: 'sc-1', input: 1 });
    await tc.http.post('/v1/decisions').set(bearer(feeder)).send(decision('scoped-in')).expect(202);
    await tc.http.post('/v1/decisions').set(bearer(feeder)).send(decision('scoped-out')).expect(403);
    await tc.http
      .post('/v1/decisions/scoped-out/sc-1/human')
      .set(bearer(feeder))
      .send({ decision: 'approve' })
      .expect(403);
    expect(await countRows(tdb.database, 'decisions', `use_case = 'scoped-out'`)).toBe(0);
  });

  it('when a key is revoked, then it is refused from then on and cannot be revoked twice', async () => {
    const temp = await createKey({ name: 'temporary', role: 'viewer' });
    await tc.http.get('/v1/use-cases').set(bearer(temp)).expect(200);

    await tc.http.delete(`/v1/keys/${temp.id}`).set(bearer(opsAdmin)).expect(204);
    const refused = await tc.http.get('/v1/use-cases').set(bearer(temp)).expect(401);
    expect(refused.body).toMatchObject({ error: 'unauthorized', message: 'unknown or revoked API key' });
    await tc.http.delete(`/v1/keys/${temp.id}`).set(bearer(opsAdmin)).expect(404);

    const listed = await tc.http.get('/v1/keys').set(bearer(opsAdmin)).expect(200);
    const entry = listed.body.keys.find((k: { id: string }) => k.id === temp.id);
    expect(entry.revokedAt).not.toBeNull();
  });

  it('when plans and keys changed, then the audit log names each change and the key that made it', async () => {
    await tc.http
      .put('/v1/use-cases/alpha/plan')
      .set(bearer(opsAdmin))
      .set('content-type', 'application/yaml')
      .send(`${plan('alpha')}# second version\n`)
      .expect(200);
    const events = await tdb.database.rows<{
      actor: string;
      action: string;
      use_case: string | null;
      details: Record<string, unknown>;
    }>(sql`select actor, action, use_case, details from audit_events order by id`);
    const keyIds = await tdb.database.rows<{ id: string; name: string }>(sql`select id, name from api_keys`);
    const idOf = (name: string) => keyIds.find((k) => k.name === name)!.id;

    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'bootstrap-admin',
          action: 'key.create',
          details: expect.objectContaining({ name: 'ops-admin', role: 'admin' }),
        }),
        expect.objectContaining({
          actor: 'key:ops-admin',
          action: 'key.create',
          details: expect.objectContaining({ name: 'product-owner', role: 'owner' }),
        }),
        expect.objectContaining({
          actor: 'key:ops-admin',
          action: 'key.create',
          details: expect.objectContaining({ name: 'scoped-viewer', useCases: ['scoped-in'] }),
        }),
        expect.objectContaining({
          actor: 'key:ops-admin',
          action: 'key.revoke',
          details: expect.objectContaining({ id: idOf('temporary') }),
        }),
        expect.objectContaining({
          actor: 'key:product-owner',
          action: 'use-case.create',
          use_case: 'alpha',
          details: expect.objectContaining({ planVersion: 1 }),
        }),
        expect.objectContaining({
          actor: 'key:ops-admin',
          action: 'plan.update',
          use_case: 'alpha',
          details: expect.objectContaining({ planVersion: 2 }),
        }),
      ]),
    );
    // Exactly one event per change in this file: 6 keys created, 1 revoked, 4 use cases created, 1 plan updated.
    const tally = (action: string) => events.filter((e) => e.action === action).length;
    expect({
      create: tally('key.create'),
      revoke: tally('key.revoke'),
      useCases: tally('use-case.create'),
      updates: tally('plan.update'),
    }).toEqual({ create: 6, revoke: 1, useCases: 4, updates: 1 });
  });
  /** The flag names the controller's Unleash client API serves to `authorization` (sent raw, as unleash-client does). */
  const flagNames = async (http: TestController['http'], authorization: string, query = '') => {
    const res = await http
      .get(`/api/client/features${query}`)
      .set('authorization', authorization)
      .expect(200);
    return (res.body.features as Array<{ name: string }>).map((f) => f.name).sort();
  };

  it('when an ingest key scoped to one use case reads the client API, then it gets that flag only, and another use case’s flag is answered as absent', async () => {
    const sdk = await createKey({ name: 'scoped-sdk', role: 'ingest', useCases: ['scoped-in'] });
    expect(await flagNames(tc.http, sdk.key)).toEqual(['shadowgate.scoped-in']);
    expect(await flagNames(tc.http, sdk.key, '?namePrefix=shadowgate.scoped-out')).toEqual([]);
    const one = (name: string) => tc.http.get(`/api/client/features/${name}`).set('authorization', sdk.key);
    await one('shadowgate.scoped-in').expect(200);
    const other = await one('shadowgate.scoped-out').expect(404);
    const absent = await one('shadowgate.never-created').expect(404);
    expect(other.body).toEqual({ ...absent.body, message: 'no flag named shadowgate.scoped-out' });

    // Unscoped ingest and admin keys read every flag.
    const everyFlag = ['alpha', 'ingest-target', 'scoped-in', 'scoped-out'].map((u) => `shadowgate.${u}`);
    const feeder = await createKey({ name: 'unscoped-sdk', role: 'ingest' });
    expect(await flagNames(tc.http, feeder.key)).toEqual(everyFlag);
    expect(await flagNames(tc.http, `Bearer ${opsAdmin.key}`)).toEqual(everyFlag);
  });

  it('when a viewer, owner or release key calls the client API, then it is refused with 403 and sees no flag', async () => {
    const calls = [
      ['get', '/api/client/features'],
      ['get', '/api/client/features/shadowgate.alpha'],
      ['post', '/api/client/register'],
      ['post', '/api/client/metrics'],
    ] as const;
    for (const role of ['viewer', 'owner', 'release']) {
      const key = await createKey({ name: `flag-reader-${role}`, role });
      for (const [method, path] of calls) {
        const res = await tc.http[method](path).set('authorization', key.key);
        expect({ role, path, status: res.status, error: res.body.error }).toEqual({
          role,
          path,
          status: 403,
          error: 'forbidden',
        });
        expect(JSON.stringify(res.body)).not.toContain('shadowgate.');
      }
    }
  });

  describe('rate limits of the client API and of unknown keys', () => {
    let limited: TestController;
    const wait = (seconds: string | undefined) => new Promise((r) => setTimeout(r, Number(seconds) * 1000));

    beforeAll(async () => {
      // A second controller on the same database: one request per second (bursts of 2) per key on
      // the API and the client API, and per client address for keys it does not know.
      limited = await startTestController({
        database: tdb.database,
        queue: 'in-process',
        env: { SHADOWGATE_RATE_LIMIT_API_PER_SEC: '1', SHADOWGATE_RATE_LIMIT_UNKNOWN_KEYS_PER_SEC: '1' },
      });
    });

    afterAll(async () => {
      await limited?.stop();
    });

    it('when an SDK key polls the client API past the API rate, then it gets 429 with Retry-After, its ingest budget goes on, and it recovers', async () => {
      const sdk = await createKey({ name: 'polling-sdk', role: 'ingest' });
      const poll = () => limited.http.get('/api/client/features').set('authorization', sdk.key);
      await poll().expect(200);
      await poll().expect(200);
      const refused = await poll().expect(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body).toEqual({
        error: 'rate_limited',
        message: 'key polling-sdk is over its client API rate of 1 requests per second; retry after 1 s',
        details: [],
      });
      await limited.http
        .post('/v1/decisions')
        .set(bearer(sdk))
        .send({ useCase: 'alpha', requestId: 'poll-1', input: 1 })
        .expect(202);
      await wait(refused.headers['retry-after']);
      await poll().expect(200);
    });

    it('when a caller presents unknown keys past their rate, then it gets 429 with Retry-After on /v1 and the client API, while a key accepted before is not slowed', async () => {
      // Its first request spends one of the address's two tokens: this process had not accepted it yet.
      const bystander = await createKey({ name: 'bystander', role: 'viewer' });
      await limited.http.get('/v1/whoami').set(bearer(bystander)).expect(200);
      const guess = (i: number) => `sg_0123456789ab_guessed-secret-${i}`;
      const whoami = (key: string) => limited.http.get('/v1/whoami').set('authorization', `Bearer ${key}`);
      await whoami(guess(1)).expect(401);
      const refused = await whoami(guess(2)).expect(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body).toEqual({
        error: 'rate_limited',
        message: 'too many requests with unknown keys from this address; retry after 1 s',
        details: [],
      });
      const clientApi = await limited.http
        .get('/api/client/features')
        .set('authorization', guess(3))
        .expect(429);
      expect(clientApi.headers['retry-after']).toBe('1');

      await limited.http.get('/v1/whoami').set(bearer(bystander)).expect(200);
      await wait(refused.headers['retry-after']);
      await whoami(guess(4)).expect(401);
    });
  });
});
