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
});
