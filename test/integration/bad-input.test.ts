import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BadInputCase,
  BODY_LIMIT,
  DECISION_CASES,
  decision,
  fixturePlan,
  type KeyName,
  OTHER_UC,
  UC,
} from '../support/bad-input-cases.js';
import { CHANGE_CASES, HELD_CHANGE, HELD_PLAN } from '../support/bad-input-cases-changes.js';
import { HOSTILE_DECISION_CASES } from '../support/bad-input-cases-hostile.js';
import {
  ACCEPTED_AS_DATA,
  HOSTILE_RELEASE_KEY_AND_READ_CASES,
} from '../support/bad-input-cases-hostile-routes.js';
import { PROBLEM_LIMIT_CASES } from '../support/bad-input-cases-limits.js';
import { PLAN_REQUEST_CASES } from '../support/bad-input-cases-plans.js';
import { PLAN_KEY_AND_READ_CASES } from '../support/bad-plan-and-key-cases.js';
import { snapshotDatabase } from '../support/db-snapshot.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const BAD_INPUT_CASES = [
  ...DECISION_CASES,
  ...PLAN_KEY_AND_READ_CASES,
  ...HOSTILE_DECISION_CASES,
  ...HOSTILE_RELEASE_KEY_AND_READ_CASES,
  ...PLAN_REQUEST_CASES,
  ...PROBLEM_LIMIT_CASES,
  ...CHANGE_CASES,
];

describe('bad input is refused with a located error and changes nothing', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  const keys = new Map<KeyName, string>();

  async function createKey(name: KeyName, role: string, useCases?: string[]) {
    const res = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name, role, ...(useCases ? { useCases } : {}) })
      .expect(201);
    keys.set(name, `Bearer ${res.body.key}`);
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      // Rate limits are tested elsewhere; here every request must reach validation.
      env: {
        SHADOWGATE_BODY_LIMIT: String(BODY_LIMIT),
        SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: '0',
        SHADOWGATE_RATE_LIMIT_API_PER_SEC: '0',
      },
    });
    keys.set('admin', tc.admin.Authorization);
    for (const useCase of [UC, OTHER_UC]) {
      await tc.http
        .put(`/v1/use-cases/${useCase}/plan`)
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(fixturePlan(useCase))
        .expect(201);
    }
    await createKey('ingest', 'ingest');
    await createKey('viewer', 'viewer');
    await createKey('ingest-other', 'ingest', [OTHER_UC]);
    await createKey('owner-other', 'owner', [OTHER_UC]);
    await createKey('revoked', 'ingest');
    const listed = await tc.http.get('/v1/keys').set(tc.admin).expect(200);
    const revoked = (listed.body.keys as Array<{ id: string; name: string }>).find(
      (k) => k.name === 'revoked',
    );
    await tc.http.delete(`/v1/keys/${revoked!.id}`).set(tc.admin).expect(204);
    const seeded = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({
        decisions: [
          { useCase: UC, requestId: 'seed-1', input: { amount: 10 } },
          { useCase: UC, requestId: 'seed-2', input: { amount: 20 }, human: { decision: 'approve' } },
        ],
      })
      .expect(202);
    expect(seeded.body).toEqual({ accepted: 2, duplicates: 0, aiCallsOwed: 0 });
    const held = await tc.http
      .put(`/v1/use-cases/${OTHER_UC}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(HELD_PLAN)
      .expect(202);
    expect(held.body.change.id).toBe(HELD_CHANGE);
  });

  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  function send({ request }: BadInputCase) {
    const method = request.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    let req = tc.http[method](request.path);
    const as = request.as ?? 'admin';
    if (as !== 'none') req = req.set('Authorization', keys.get(as)!);
    for (const [name, value] of Object.entries(request.headers ?? {})) req = req.set(name, value);
    if (request.body === undefined) return req;
    if (typeof request.body === 'string') {
      return req.set('content-type', request.contentType ?? 'application/json').send(request.body);
    }
    if (request.contentType) req = req.set('content-type', request.contentType);
    return req.send(request.body as object);
  }

  it('when the table is counted, then it holds at least 60 cases with distinct names', () => {
    expect(BAD_INPUT_CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(BAD_INPUT_CASES.map((c) => c.name)).size).toBe(BAD_INPUT_CASES.length);
  });

  it.each(BAD_INPUT_CASES.map((c) => [c.name, c] as const))(
    'when %s is sent, then it is refused as expected and nothing is stored',
    async (_name, testCase) => {
      const before = await snapshotDatabase(tdb.database);
      const res = await send(testCase);
      const { expect: expected } = testCase;

      expect({ status: res.status, error: res.body.error }).toEqual({
        status: expected.status,
        error: expected.error,
      });
      expect(typeof res.body.message).toBe('string');
      expect(Array.isArray(res.body.details)).toBe(true);
      if (expected.messageIncludes) expect(res.body.message).toContain(expected.messageIncludes);
      const details = res.body.details as Array<{ path: string; problem: string }>;
      if (expected.paths) expect(details.map((d) => d.path)).toEqual(expected.paths);
      for (const fragment of expected.problems ?? []) {
        expect(details.map((d) => d.problem).join(' | ')).toContain(fragment);
      }

      expect(await snapshotDatabase(tdb.database)).toEqual(before);
    },
  );

  it.each(ACCEPTED_AS_DATA.map((c) => [c.name, c.requestId] as const))(
    'when a request id holding %s is mirrored, then it is stored as the text it is and found again by it',
    async (_name, requestId) => {
      const before = await snapshotDatabase(tdb.database);
      const sent = await tc.http
        .post('/v1/decisions')
        .set(tc.admin)
        .send(decision(requestId, { useCase: OTHER_UC }));
      expect({ status: sent.status, body: sent.body }).toEqual({
        status: 202,
        body: { accepted: 1, duplicates: 0, aiCallsOwed: 0 },
      });
      const late = await tc.http
        .post(`/v1/decisions/${OTHER_UC}/${encodeURIComponent(requestId)}/human`)
        .set(tc.admin)
        .send({ decision: 'reject' })
        .expect(200);
      expect(late.body).toMatchObject({ useCase: OTHER_UC, requestId });
      const rows = await tdb.database.rows<{ request_id: string; human_decision: unknown }>(
        sql`select request_id, human_decision from decisions where use_case = ${OTHER_UC} and request_id = ${requestId}`,
      );
      expect(rows).toEqual([{ request_id: requestId, human_decision: 'reject' }]);
      const after = await snapshotDatabase(tdb.database);
      expect(after.counts).toEqual({ ...before.counts, decisions: before.counts.decisions + 1 });
    },
  );

  it('when every bad input has been refused, then the controller is alive: /healthz answers and a valid decision is accepted', async () => {
    await tc.http.get('/healthz').expect(200);
    const ok = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send(
        decision('after-the-storm', {
          useCase: OTHER_UC,
          context: { region: 'EU' },
          human: { decision: 'escalate' },
        }),
      );
    expect({ status: ok.status, body: ok.body }).toEqual({
      status: 202,
      body: { accepted: 1, duplicates: 0, aiCallsOwed: 0 },
    });
  });

  it('when conflicting requests were refused, then the first versions are kept as they were', async () => {
    const rows = await tdb.database.rows<{ request_id: string; input: unknown; human_decision: unknown }>(
      sql`select request_id, input, human_decision from decisions where use_case = ${UC} order by request_id`,
    );
    expect(rows).toEqual([
      { request_id: 'seed-1', input: { amount: 10 }, human_decision: null },
      { request_id: 'seed-2', input: { amount: 20 }, human_decision: 'approve' },
    ]);
  });

  it('when a valid decision is accepted, then the snapshot sees the change (so the checks above can fail)', async () => {
    const before = await snapshotDatabase(tdb.database);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ useCase: UC, requestId: 'control-1', input: { amount: 5 } })
      .expect(202);
    const after = await snapshotDatabase(tdb.database);
    expect(after.counts.decisions).toBe(before.counts.decisions + 1);
    expect(after.digests.decisions).not.toBe(before.digests.decisions);
  });
});
