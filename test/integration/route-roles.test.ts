import type { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../src/http/route-spec.js';
import { ROUTE_TABLE, routeName } from '../../src/http/route-table.js';
import { roleAllows, ROLES } from '../../src/keys/roles.js';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import {
  ADMIN_KEY,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Every route the controller serves × every kind of caller, against a running controller. The
 * expectations of the routes in the route table follow from each route's permission (`expected`);
 * a dozen spot checks written by hand pin that derivation, so a wrong permission in the table or
 * a wrong rule here fails. The routes served beside the table have rows of their own. A route the
 * app serves that neither lists (or the reverse) fails the first test.
 */

const A = 'allow'; // anything but 401 and 403 (and no 5xx, no "no route")
const F = 403;
const U = 401;
type Outcome = typeof A | typeof F | typeof U;

/** The callers, in the rows' column order. */
const COLUMNS = [
  'ingest',
  'owner',
  'release',
  'viewer',
  'admin',
  'bootstrap', // SHADOWGATE_ADMIN_KEY
  'none', // no Authorization header
  'revoked', // an admin key, revoked
  'elsewhere', // an admin key scoped to another use case
] as const;
type Column = (typeof COLUMNS)[number];

/** What a caller gets from a route of the table, from the route's permission. */
function expected(route: RouteSpec, column: Column): Outcome {
  const { permission } = route;
  if (permission === null) return A;
  if (column === 'none' || column === 'revoked') return U;
  if (permission === 'any' || column === 'bootstrap') return A;
  if (column === 'elsewhere') {
    // Managing keys needs an unscoped key; the use-case and change lists show what is in scope;
    // every other keyed route names one use case (in its URL, its body or its change), here one
    // outside the key's scope.
    if (permission === 'manage-keys') return F;
    return route.path === '/v1/use-cases' || route.path === '/v1/changes' ? A : F;
  }
  return roleAllows(column, permission) ? A : F;
}

/** Written by hand, not derived: if the table's permissions or `expected` go wrong, these disagree. */
const SPOT_CHECKS: Array<[string, Column, Outcome]> = [
  ['POST /v1/decisions', 'ingest', A],
  ['POST /v1/use-cases/:id/suggest', 'viewer', F],
  ['POST /v1/decisions/:useCase/:requestId/rating', 'ingest', A],
  ['POST /v1/decisions/:useCase/:requestId/rating', 'owner', F],
  ['GET /v1/use-cases', 'ingest', F],
  ['GET /v1/use-cases/:id/report', 'viewer', A],
  ['PUT /v1/use-cases/:id/plan', 'owner', A],
  ['PUT /v1/use-cases/:id/plan', 'release', F],
  ['POST /v1/use-cases/:id/promote', 'release', A],
  ['POST /v1/use-cases/:id/promote', 'owner', F],
  ['POST /v1/use-cases/:id/challenger/promote', 'owner', F],
  ['POST /v1/use-cases/:id/challenger/discard', 'release', A],
  ['POST /v1/keys', 'release', F],
  ['DELETE /v1/keys/:id', 'elsewhere', F],
  ['GET /v1/use-cases/:id', 'elsewhere', F],
  ['GET /v1/whoami', 'ingest', A],
  ['GET /v1/whoami', 'none', U],
  ['GET /v1/use-cases/:id/transitions', 'revoked', U],
  ['GET /readyz', 'none', A],
  ['GET /v1/changes', 'elsewhere', A],
  ['GET /v1/changes/:changeId', 'elsewhere', F],
  ['POST /v1/changes/:changeId/approve', 'owner', F],
  ['POST /v1/changes/:changeId/approve', 'release', A],
  ['POST /v1/changes/:changeId/reject', 'viewer', F],
  ['POST /v1/changes/:changeId/withdraw', 'owner', A],
  ['POST /v1/changes/:changeId/withdraw', 'release', F],
  ['GET /v1/use-cases/:id/drift', 'viewer', A],
  ['POST /v1/use-cases/:id/drift/baseline', 'release', A],
  ['POST /v1/use-cases/:id/drift/baseline', 'owner', F],
];

/** Served beside the route table: the dashboard's files and the Unleash client API. */
// biome-ignore format: a table reads as one
const BESIDE_THE_TABLE: Record<string, Outcome[]> = {
  //                                                ingest owner release viewer admin boot none revoked elsewhere
  'GET /':                                          [A,    A,    A,      A,     A,    A,   A,   A,      A],
  'GET /dashboard/*':                               [A,    A,    A,      A,     A,    A,   A,   A,      A],
  'GET /format/figures.js':                         [A,    A,    A,      A,     A,    A,   A,   A,      A],
  'GET /api/client/features':                       [A,    F,    F,      F,     A,    A,   U,   U,      A],
  'GET /api/client/features/:name':                 [A,    F,    F,      F,     A,    A,   U,   U,      A],
  'POST /api/client/register':                      [A,    F,    F,      F,     A,    A,   U,   U,      A],
  'POST /api/client/metrics':                       [A,    F,    F,      F,     A,    A,   U,   U,      A],
};

const TABLE: Record<string, Outcome[]> = {
  ...BESIDE_THE_TABLE,
  ...Object.fromEntries(
    ROUTE_TABLE.map((route) => [routeName(route), COLUMNS.map((column) => expected(route, column))]),
  ),
};

/** `GET /metrics` when the operator sets SHADOWGATE_METRICS_AUTH=key: a key that reads every use case. */
const KEYED_METRICS: Outcome[] = [F, A, A, A, A, A, U, U, F];

const TARGET = 'rr-target';
const OTHER = 'rr-other';
/** Created only by an approval: the changes below are held for it (README "Change control"). */
const HELD = 'rr-held';
/** The held changes the change routes are called on: one to approve, one to reject. */
const changes = { approve: 0, reject: 0 };
/** Withdrawn only by the key that requested it: one held change per caller that may withdraw. */
const withdrawals = new Map<Column, number>();

interface Call {
  path: string;
  body?: unknown;
  contentType?: string;
}

/** A request for each route that gets past validation, so only the key decides between 401/403 and the rest. */
function callFor(route: string, column: Column, planText: string): Call {
  const requestId = `rr-${column}`;
  const reason = { reason: `route table, ${column}` };
  const calls: Record<string, Call> = {
    'GET /': { path: '/' },
    'GET /dashboard/*': { path: '/dashboard/dashboard.css' },
    'GET /format/figures.js': { path: '/format/figures.js' },
    'GET /healthz': { path: '/healthz' },
    'GET /readyz': { path: '/readyz' },
    'GET /metrics': { path: '/metrics' },
    'GET /v1/openapi.json': { path: '/v1/openapi.json' },
    'GET /api/client/features': { path: '/api/client/features' },
    'GET /api/client/features/:name': { path: `/api/client/features/shadowgate.${TARGET}` },
    'POST /api/client/register': { path: '/api/client/register', body: { appName: 'route-table' } },
    'POST /api/client/metrics': { path: '/api/client/metrics', body: { appName: 'route-table' } },
    'GET /v1/whoami': { path: '/v1/whoami' },
    'PUT /v1/use-cases/:id/plan': {
      path: `/v1/use-cases/${TARGET}/plan`,
      body: planText,
      contentType: 'application/yaml',
    },
    'GET /v1/use-cases/:id/plan': { path: `/v1/use-cases/${TARGET}/plan` },
    'GET /v1/use-cases': { path: '/v1/use-cases' },
    'GET /v1/use-cases/:id': { path: `/v1/use-cases/${TARGET}` },
    'GET /v1/use-cases/:id/metrics': { path: `/v1/use-cases/${TARGET}/metrics` },
    'GET /v1/use-cases/:id/report': { path: `/v1/use-cases/${TARGET}/report` },
    'GET /v1/use-cases/:id/timeseries': { path: `/v1/use-cases/${TARGET}/timeseries` },
    'GET /v1/use-cases/:id/transitions': { path: `/v1/use-cases/${TARGET}/transitions` },
    'GET /v1/use-cases/:id/journey': { path: `/v1/use-cases/${TARGET}/journey` },
    'GET /v1/use-cases/:id/drift': { path: `/v1/use-cases/${TARGET}/drift` },
    'POST /v1/use-cases/:id/drift/baseline': {
      path: `/v1/use-cases/${TARGET}/drift/baseline`,
      body: reason,
    },
    'POST /v1/decisions': {
      path: '/v1/decisions',
      body: { useCase: TARGET, requestId, input: makeInvoice(1).input, human: { decision: 'approve' } },
    },
    'POST /v1/decisions/:useCase/:requestId/human': {
      path: `/v1/decisions/${TARGET}/rr-seed/human`,
      body: { decision: 'approve' },
    },
    'POST /v1/decisions/:useCase/:requestId/rating': {
      path: `/v1/decisions/${TARGET}/rr-seed/rating`,
      body: { acceptable: true, by: `reviewer-${column}` },
    },
    'POST /v1/use-cases/:id/suggest': {
      path: `/v1/use-cases/${TARGET}/suggest`,
      body: { requestId: `sg-${column}`, input: makeInvoice(2).input },
    },
    'POST /v1/use-cases/:id/promote': { path: `/v1/use-cases/${TARGET}/promote`, body: reason },
    'GET /v1/use-cases/:id/challenger': { path: `/v1/use-cases/${TARGET}/challenger` },
    'POST /v1/use-cases/:id/challenger/promote': {
      path: `/v1/use-cases/${TARGET}/challenger/promote`,
      body: reason,
    },
    'POST /v1/use-cases/:id/challenger/discard': {
      path: `/v1/use-cases/${TARGET}/challenger/discard`,
      body: reason,
    },
    'POST /v1/use-cases/:id/rollback': { path: `/v1/use-cases/${TARGET}/rollback`, body: reason },
    'POST /v1/use-cases/:id/disable': { path: `/v1/use-cases/${TARGET}/disable`, body: reason },
    'POST /v1/use-cases/:id/enable': { path: `/v1/use-cases/${TARGET}/enable`, body: reason },
    'POST /v1/keys': { path: '/v1/keys', body: { name: `made-by-${column}`, role: 'viewer' } },
    'GET /v1/keys': { path: '/v1/keys' },
    'DELETE /v1/keys/:id': { path: '/v1/keys/no-such-key' },
    'GET /v1/changes': { path: '/v1/changes' },
    'GET /v1/changes/:changeId': { path: `/v1/changes/${changes.approve}` },
    'POST /v1/changes/:changeId/approve': { path: `/v1/changes/${changes.approve}/approve`, body: reason },
    'POST /v1/changes/:changeId/reject': { path: `/v1/changes/${changes.reject}/reject`, body: reason },
    'POST /v1/changes/:changeId/withdraw': {
      path: `/v1/changes/${withdrawals.get(column) ?? changes.approve}/withdraw`,
      body: reason,
    },
  };
  const call = calls[route];
  if (!call) throw new Error(`no request written for ${route}`);
  return call;
}

/** Every route of an express app as `METHOD /path`, through mounted routers; static dashboard files as one. */
function servedRoutes(stack: unknown[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    const l = layer as {
      route?: { path: string; methods: Record<string, boolean> };
      handle: Router & { stack?: unknown[] };
      rawPath?: string;
    };
    if (l.route) {
      const path = `${prefix}${l.route.path}`.replace(/^\/dashboard\/.+$/, '/dashboard/*');
      return Object.keys(l.route.methods).map((m) => `${m.toUpperCase()} ${path}`);
    }
    if (!l.handle.stack) return [];
    return servedRoutes(l.handle.stack, prefix + (l.rawPath && l.rawPath !== '/' ? l.rawPath : ''));
  });
}

describe('every route × every role', () => {
  let tdb: TestDatabase;
  let sim: SimulatedAiSystem;
  let tc: TestController;
  let planText: string;
  const headers = new Map<Column, Record<string, string>>();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1, latencyMs: 1 });
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    planText = labelPlan(TARGET, `${sim.url}/decide`, '    sampleRate: 0\n');
    for (const useCase of [TARGET, OTHER]) {
      const text = useCase === TARGET ? planText : labelPlan(OTHER, `${sim.url}/decide`);
      await tc.http
        .put(`/v1/use-cases/${useCase}/plan`)
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(text)
        .expect(201);
    }
    // A decision waiting for its human side, for the late-human route.
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ useCase: TARGET, requestId: 'rr-seed', input: makeInvoice(3).input })
      .expect(202);

    const create = async (name: string, role: string, useCases?: string[]) => {
      const res = await tc.http
        .post('/v1/keys')
        .set(tc.admin)
        .send({ name, role, ...(useCases ? { useCases } : {}) })
        .expect(201);
      return res.body as { id: string; key: string };
    };
    for (const role of ROLES) {
      headers.set(role, { Authorization: `Bearer ${(await create(`rr-${role}`, role)).key}` });
    }
    headers.set('bootstrap', { Authorization: `Bearer ${ADMIN_KEY}` });
    headers.set('none', {});
    const revoked = await create('rr-revoked', 'admin');
    await tc.http.delete(`/v1/keys/${revoked.id}`).set(tc.admin).expect(204);
    headers.set('revoked', { Authorization: `Bearer ${revoked.key}` });
    const elsewhere = await create('rr-elsewhere', 'admin', [OTHER]);
    headers.set('elsewhere', { Authorization: `Bearer ${elsewhere.key}` });
    // Two first plans allowing an automatic promotion, held for a release key; the owner asked, so
    // every caller with `release` may decide them.
    for (const [which, extra] of [
      ['approve', '    approval: automatic\n'],
      ['reject', '    approval: automatic\n    sampleRate: 0\n'],
    ] as const) {
      const held = await tc.http
        .put(`/v1/use-cases/${HELD}/plan`)
        .set(headers.get('owner')!)
        .set('content-type', 'application/yaml')
        .send(labelPlan(HELD, `${sim.url}/decide`, extra))
        .expect(202);
      changes[which] = held.body.change.id;
    }
    // One held change per caller that may write plans, each requested by that caller, to withdraw.
    for (const column of ['owner', 'admin', 'bootstrap'] as const) {
      const held = await tc.http
        .put(`/v1/use-cases/${HELD}/plan`)
        .set(headers.get(column)!)
        .set('content-type', 'application/yaml')
        .send(`${labelPlan(HELD, `${sim.url}/decide`, '    approval: automatic\n')}# asked by ${column}\n`)
        .expect(202);
      withdrawals.set(column, held.body.change.id);
    }
  });

  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  it('when the app is walked, then the table has exactly one row for every route it serves', () => {
    const app = tc.controller.app as unknown as { router: { stack: unknown[] } };
    const served = [...new Set(servedRoutes(app.router.stack))].sort();
    expect(Object.keys(TABLE).sort()).toEqual(served);
  });

  it('when every caller calls every route, then each answer is the class the table says, and a success the shape the table says', async () => {
    const mismatches: string[] = [];
    const answers: string[] = [];
    for (const [route, outcomes] of Object.entries(TABLE)) {
      const method = route.split(' ')[0]!.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
      for (const [i, column] of COLUMNS.entries()) {
        const expected = outcomes[i];
        const call = callFor(route, column, planText);
        let request = tc.http[method](call.path).set(headers.get(column)!);
        if (call.contentType) request = request.set('content-type', call.contentType);
        const res = call.body === undefined ? await request : await request.send(call.body as object);
        const message = String(res.body?.message ?? '');
        const ok =
          expected === A
            ? res.status !== 401 && res.status !== 403 && res.status < 500 && !message.startsWith('no route')
            : res.status === expected && res.body?.error === (expected === U ? 'unauthorized' : 'forbidden');
        if (!ok) mismatches.push(`${route} as ${column}: expected ${expected}, got ${res.status} ${message}`);
        const answer = ROUTE_TABLE.find((r) => routeName(r) === route)?.response;
        if (answer && res.status < 300 && res.type === 'application/json') {
          const parsed = answer.safeParse(res.body);
          if (!parsed.success) answers.push(`${route} as ${column}: ${parsed.error.message}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(answers).toEqual([]);
    // The change routes answered a success too (its shape checked above): one caller decided each.
    const decided = await Promise.all(
      [changes.approve, changes.reject].map(
        async (id) => (await tc.http.get(`/v1/changes/${id}`).set(tc.admin)).body.change.state,
      ),
    );
    expect(decided).toEqual(['applied', 'rejected']);
  });

  it('when the spot checks written by hand are compared with the derived expectations, then they agree', () => {
    for (const [route, column, outcome] of SPOT_CHECKS) {
      expect(TABLE[route]?.[COLUMNS.indexOf(column)], `${route} as ${column}`).toBe(outcome);
    }
  });

  it('when /metrics needs a key (SHADOWGATE_METRICS_AUTH=key), then each caller gets what its row says', async () => {
    const keyed = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: { SHADOWGATE_METRICS_AUTH: 'key' },
    });
    try {
      const got = [];
      for (const column of COLUMNS) {
        const res = await keyed.http.get('/metrics').set(headers.get(column)!);
        got.push(res.status === 200 ? A : res.status);
      }
      expect(got).toEqual(KEYED_METRICS);
    } finally {
      await keyed.stop();
    }
  });

  it('when an admin key is scoped to one use case, then whoami does not offer it key management', async () => {
    const res = await tc.http.get('/v1/whoami').set(headers.get('elsewhere')!).expect(200);
    expect(res.body).toEqual({
      name: 'rr-elsewhere',
      role: 'admin',
      useCases: [OTHER],
      permissions: ['read', 'ingest', 'apply-plan', 'release'],
    });
  });
});
