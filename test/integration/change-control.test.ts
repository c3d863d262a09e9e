import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { MAX_PENDING_PER_USE_CASE } from '../../src/promotion/change-store.js';
import { type Auth, createKey } from '../support/change-approval.js';
import { waitForProgress } from '../support/progress.js';
import {
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Change control (README "Change control", issue 15): no single key widens an AI's authority, and
 * four eyes where the plan asks for them. Every scenario runs through the API of one controller on
 * real PostgreSQL, with a clock the test moves (ticks and expiry).
 */

const LABELS = ['approve', 'reject', 'escalate'];
const FLOOR = 20;
const DAY = 86_400_000;

const MANUAL = `stages:
  shadow:
    promoteWhen: { minSamples: ${FLOOR}, agreementLowerBound: 0.5 }
  human-reviewed: {}
`;
const AUTOMATIC = `stages:
  shadow:
    approval: automatic
    promoteWhen: { minSamples: ${FLOOR}, agreementLowerBound: 0.5 }
  human-reviewed: {}
`;
/** The hostile owner's plan of issue 15: automatic, and nothing to earn. */
const FLOORLESS = `stages:
  shadow:
    approval: automatic
  human-reviewed: {}
`;

describe('change control: widening changes and four eyes', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let hook: Server;
  const hookEvents: Array<Record<string, unknown>> = [];
  let now = new Date();
  const keys: Record<string, Auth> = {};

  const plan = (useCase: string, stages: string, extra = '') => {
    const webhook = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    return `${labelPlan(useCase, `${sim.url}/decide`).replace(/stages:[\s\S]*$/, stages)}notify: { webhook: ${webhook} }\n${extra}`;
  };
  const put = (useCase: string, text: string, as: Auth = tc.admin) =>
    tc.http.put(`/v1/use-cases/${useCase}/plan`).set(as).set('content-type', 'application/yaml').send(text);
  const approve = (id: number, as: Auth, reason = 'reviewed the diff and the evidence') =>
    tc.http.post(`/v1/changes/${id}/approve`).set(as).send({ reason });
  const tick = () => {
    now = new Date(now.getTime() + 60_000);
    return tc.controller.engine.tick(now);
  };
  const transitions = async (useCase: string) =>
    (await tc.http.get(`/v1/use-cases/${useCase}/transitions`).set(tc.admin).expect(200)).body.transitions;

  async function mirror(useCase: string, count: number, from = 0) {
    const batch = Array.from({ length: count }, (_, k) => {
      const invoice = makeInvoice(from + k);
      return {
        useCase,
        requestId: `${useCase}-${invoice.requestId}`,
        input: invoice.input,
        context: invoice.context,
        human: { decision: referenceLabel(invoice.input, LABELS) },
      };
    });
    await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions: batch }).expect(202);
    await waitForProgress({
      what: `${count} comparisons of ${useCase}`,
      read: async () =>
        (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin)).body.metrics.stages[0]?.samples ?? 0,
      done: (samples) => samples >= from + count,
    });
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1, latencyMs: 1 });
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        hookEvents.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      clock: () => now,
      env: { SHADOWGATE_AUTOMATIC_MIN_SAMPLES: String(FLOOR), SHADOWGATE_CHANGE_TTL: '7d' },
    });
    keys.owner = await createKey(tc, 'po-anna', 'owner');
    keys.bob = await createKey(tc, 'rm-bob', 'release');
    keys.carol = await createKey(tc, 'rm-carol', 'release');
    keys.dave = await createKey(tc, 'rm-dave', 'release');
    keys.viewer = await createKey(tc, 'vw-eve', 'viewer');
    keys.admin = await createKey(tc, 'adm-carl', 'admin');
  });
  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await new Promise((resolve) => hook?.close(resolve));
    await tdb?.drop();
  });

  it('when a hostile owner widens a shadow use case, then it waits for a release key in shadow, and the approval applies it and names both in the record', async () => {
    const floorless = await put('hostile', plan('hostile', FLOORLESS), keys.owner!);
    expect(floorless.status).toBe(400);
    expect(floorless.body.message).toContain('evidence floor');
    expect(
      (floorless.body.details as Array<{ path: string }>).every((d) => d.path.startsWith('stages.shadow')),
    ).toBe(true);
    expect(await tc.http.get('/v1/use-cases/hostile').set(tc.admin)).toMatchObject({ status: 404 });

    await put('hostile', plan('hostile', MANUAL), keys.owner!).expect(201);
    await mirror('hostile', 2 * FLOOR);
    const held = await put('hostile', plan('hostile', AUTOMATIC), keys.owner!).expect(202);
    expect(held.body).toMatchObject({
      pending: true,
      change: {
        useCase: 'hostile',
        kind: 'plan',
        state: 'pending',
        requestedBy: 'key:po-anna',
        basePlanVersion: 1,
        baseStageVersion: 1,
        approvalsRequired: 1,
        approvals: [],
        stage: null,
      },
    });
    const change = held.body.change as { id: number; rules: Array<{ path?: string }> };
    expect(change.rules.map((r) => r.path)).toContain('stages.shadow.approval');
    // The same text again answers the same change; nothing stacks.
    expect((await put('hostile', plan('hostile', AUTOMATIC), keys.owner!).expect(202)).body.change.id).toBe(
      change.id,
    );

    // Eligible evidence is there, but the plan in force is manual: no tick moves the use case.
    expect((await tick()).promoted).toEqual([]);
    expect((await tc.http.get('/v1/use-cases/hostile').set(tc.admin).expect(200)).body).toMatchObject({
      stage: 'shadow',
      planVersion: 1,
    });
    expect(await transitions('hostile')).toHaveLength(1);

    const shown = (await tc.http.get(`/v1/changes/${change.id}`).set(keys.viewer!).expect(200)).body.change;
    expect(shown).toMatchObject({ id: change.id, current: true, evidence: 're-judge', aiConfigChanges: [] });
    expect(shown.inForce).toMatchObject({ planVersion: 1, stage: 'shadow' });
    expect(shown.diff).toContain('+    approval: automatic');
    expect(shown.text).toBe(plan('hostile', AUTOMATIC));

    // Neither the author's role nor a viewer may approve; a release key may.
    expect((await approve(change.id, keys.owner!)).status).toBe(403);
    expect((await approve(change.id, keys.viewer!)).status).toBe(403);
    const approved = await approve(change.id, keys.bob!).expect(200);
    expect(approved.body.change).toMatchObject({
      state: 'applied',
      approvals: [{ by: 'key:rm-bob', reason: 'reviewed the diff and the evidence' }],
      decidedBy: 'key:rm-bob',
      result: { planVersion: 2 },
    });
    expect(approved.body.applied).toMatchObject({ useCase: 'hostile', planVersion: 2, stage: 'shadow' });
    const version = (await tc.http.get('/v1/use-cases/hostile/plan').set(tc.admin).expect(200)).body;
    expect(version).toMatchObject({ version: 2, appliedBy: 'key:po-anna', approvedBy: ['key:rm-bob'] });

    // The engine's promotion names the plan version that allowed it, its author and its approver.
    expect((await tick()).promoted).toEqual(['hostile']);
    expect((await transitions('hostile')).at(-1)).toMatchObject({
      toStage: 'human-reviewed',
      actor: 'system (plan v2 by key:po-anna, approved by key:rm-bob)',
    });
    const audit = await tdb.database.rows<{ action: string; actor: string }>(
      sql`select action, actor from audit_events where use_case = 'hostile' and action like 'change.%' order by id`,
    );
    expect(audit).toEqual([
      { action: 'change.pending', actor: 'key:po-anna' },
      { action: 'change.approved', actor: 'key:rm-bob' },
    ]);
    const told = await eventually(async () => {
      const types = hookEvents.filter((e) => e.useCase === 'hostile').map((e) => e.type);
      return types.includes('change.approved') ? types : undefined;
    }, 'the change events at the webhook');
    expect(told.filter((t) => String(t).startsWith('change.'))).toEqual([
      'change.pending',
      'change.approved',
    ]);
  });

  it('when the first plan of a use case allows an automatic promotion, then the use case is created only by the approval', async () => {
    const held = await put('born-automatic', plan('born-automatic', AUTOMATIC), keys.owner!).expect(202);
    expect(held.body.change).toMatchObject({ basePlanVersion: null, baseStageVersion: null });
    await tc.http.get('/v1/use-cases/born-automatic').set(tc.admin).expect(404);
    const shown = (await tc.http.get(`/v1/changes/${held.body.change.id}`).set(keys.bob!).expect(200)).body;
    expect(shown.change).toMatchObject({ inForce: null, evidence: null, current: true });
    expect(shown.change.diff).toContain('--- /dev/null');
    const approved = await approve(held.body.change.id, keys.bob!).expect(200);
    expect(approved.body.applied).toMatchObject({ created: true, planVersion: 1, stage: 'shadow' });
    expect((await transitions('born-automatic'))[0]).toMatchObject({
      actor: 'key:po-anna',
      approvedBy: ['key:rm-bob'],
    });
  });

  it('when a key approves its own change, then it is refused with self_approval, the bootstrap admin key too', async () => {
    await put('selfish', plan('selfish', MANUAL)).expect(201);
    const byAdminKey = await put('selfish', plan('selfish', AUTOMATIC), keys.admin!).expect(202);
    const own = await approve(byAdminKey.body.change.id, keys.admin!);
    expect({ status: own.status, error: own.body.error }).toEqual({ status: 403, error: 'self_approval' });

    await tc.http
      .post(`/v1/changes/${byAdminKey.body.change.id}/reject`)
      .set(keys.bob!)
      .send({ reason: 'not this one' })
      .expect(200);
    const byBootstrap = await put('selfish', plan('selfish', AUTOMATIC, 'retentionDays: 30\n')).expect(202);
    const bootstrapOwn = await approve(byBootstrap.body.change.id, tc.admin);
    expect({ status: bootstrapOwn.status, error: bootstrapOwn.body.error }).toEqual({
      status: 403,
      error: 'self_approval',
    });
    const still = await tc.http.get(`/v1/changes/${byBootstrap.body.change.id}`).set(tc.admin).expect(200);
    expect(still.body.change).toMatchObject({ state: 'pending', approvals: [] });
    await approve(byBootstrap.body.change.id, keys.admin!).expect(200);
  });

  it('when changeControl asks for one approval, then a forced promotion waits for a second release key, which records it; disable never waits', async () => {
    await put('one-more', plan('one-more', MANUAL)).expect(201);
    // Asking for approvals tightens: applied at once.
    const tightened = await put('one-more', plan('one-more', MANUAL, 'changeControl: { approvals: 1 }\n'));
    expect(tightened.status).toBe(200);

    const promote = await tc.http
      .post('/v1/use-cases/one-more/promote')
      .set(keys.bob!)
      .send({ reason: 'the pilot needs it', force: true })
      .expect(202);
    expect(promote.body.change).toMatchObject({
      kind: 'promote',
      stage: { reason: 'the pilot needs it', force: true },
      plan: null,
      approvalsRequired: 1,
      rules: [{ rule: 'change-control', approvals: 1 }],
    });
    expect((await tc.http.get('/v1/use-cases/one-more').set(tc.admin)).body.stage).toBe('shadow');

    const approved = await approve(promote.body.change.id, keys.carol!).expect(200);
    expect(approved.body.applied).toMatchObject({
      toStage: 'human-reviewed',
      actor: 'key:rm-bob',
      forced: true,
      approvedBy: ['key:rm-carol'],
    });
    expect((await transitions('one-more')).at(-1)).toMatchObject({
      toStage: 'human-reviewed',
      actor: 'key:rm-bob',
      approvedBy: ['key:rm-carol'],
    });

    await tc.http
      .post('/v1/use-cases/one-more/disable')
      .set(keys.bob!)
      .send({ reason: 'stop now' })
      .expect(200);
    expect((await tc.http.get('/v1/use-cases/one-more').set(tc.admin)).body.stage).toBe('disabled');
    const enable = await tc.http
      .post('/v1/use-cases/one-more/enable')
      .set(keys.bob!)
      .send({ reason: 'fixed' })
      .expect(202);
    expect(enable.body.change.kind).toBe('enable');
    expect((await tc.http.get('/v1/use-cases/one-more').set(tc.admin)).body.stage).toBe('disabled');
  });

  it('when changeControl asks for two approvals, then one key approves once, and lowering changeControl needs the two of the version in force', async () => {
    await put('two-more', plan('two-more', MANUAL, 'changeControl: { approvals: 2 }\n')).expect(201);
    const promote = await tc.http
      .post('/v1/use-cases/two-more/promote')
      .set(keys.bob!)
      .send({ reason: 'pilot', force: true })
      .expect(202);
    const id = promote.body.change.id as number;
    const first = await approve(id, keys.carol!).expect(200);
    expect(first.body).toMatchObject({ change: { state: 'pending' }, applied: null });
    const again = await approve(id, keys.carol!);
    expect({ status: again.status, error: again.body.error }).toEqual({
      status: 409,
      error: 'already_approved',
    });
    expect((await tc.http.get('/v1/use-cases/two-more').set(tc.admin)).body.stage).toBe('shadow');
    const second = await approve(id, keys.dave!).expect(200);
    expect(second.body.applied).toMatchObject({ approvedBy: ['key:rm-carol', 'key:rm-dave'] });

    const lowered = await put('two-more', plan('two-more', MANUAL), keys.owner!).expect(202);
    expect(lowered.body.change.approvalsRequired).toBe(2);
    expect(lowered.body.change.rules).toContainEqual({ rule: 'change-control', approvals: 2 });
    expect(lowered.body.change.rules).toContainEqual(
      expect.objectContaining({ path: 'changeControl.approvals', before: 2, after: 0 }),
    );
  });

  it('when another plan is applied while a change waits, then approving it is refused as stale and it is marked so', async () => {
    await put('moving', plan('moving', MANUAL)).expect(201);
    const held = await put('moving', plan('moving', AUTOMATIC), keys.owner!).expect(202);
    await put('moving', plan('moving', MANUAL, 'retentionDays: 90\n'), keys.owner!).expect(200);
    expect(
      (await tc.http.get('/v1/changes?useCase=moving&state=stale').set(tc.admin).expect(200)).body.changes,
    ).toHaveLength(1);
    const stale = await approve(held.body.change.id, keys.bob!);
    expect({ status: stale.status, error: stale.body.error }).toEqual({ status: 409, error: 'stale_change' });
    expect(stale.body.message).toContain('resubmit');
    const row = await tdb.database.rows<{ state: string }>(
      sql`select state from pending_changes where id = ${held.body.change.id}`,
    );
    expect(row).toEqual([{ state: 'stale' }]);
    expect((await tc.http.get('/v1/use-cases/moving/plan').set(tc.admin)).body.version).toBe(2);
  });

  it('when a change waits past SHADOWGATE_CHANGE_TTL, then it reads expired and cannot be approved', async () => {
    await put('slow', plan('slow', MANUAL)).expect(201);
    const held = await put('slow', plan('slow', AUTOMATIC), keys.owner!).expect(202);
    now = new Date(now.getTime() + 7 * DAY + 1000);
    const listed = await tc.http.get('/v1/changes?useCase=slow').set(tc.admin).expect(200);
    expect(listed.body.changes.map((c: { state: string }) => c.state)).toEqual(['expired']);
    const late = await approve(held.body.change.id, keys.bob!);
    expect({ status: late.status, error: late.body.error }).toEqual({ status: 409, error: 'change_expired' });
    const after = await approve(held.body.change.id, keys.carol!);
    expect({ status: after.status, error: after.body.error }).toEqual({
      status: 409,
      error: 'change_not_pending',
    });
    // The same text again is a new change, with a week of its own.
    const fresh = await put('slow', plan('slow', AUTOMATIC), keys.owner!).expect(202);
    expect(fresh.body.change.id).not.toBe(held.body.change.id);
  });

  it('when a release key rejects a change, then it is never applied and the webhook is told', async () => {
    await put('turned-down', plan('turned-down', MANUAL)).expect(201);
    const held = await put('turned-down', plan('turned-down', AUTOMATIC), keys.owner!).expect(202);
    const rejected = await tc.http
      .post(`/v1/changes/${held.body.change.id}/reject`)
      .set(keys.bob!)
      .send({ reason: 'no evidence floor review yet' })
      .expect(200);
    expect(rejected.body.change).toMatchObject({
      state: 'rejected',
      decidedBy: 'key:rm-bob',
      decisionReason: 'no evidence floor review yet',
    });
    const late = await approve(held.body.change.id, keys.carol!);
    expect({ status: late.status, error: late.body.error }).toEqual({
      status: 409,
      error: 'change_not_pending',
    });
    expect((await tc.http.get('/v1/use-cases/turned-down/plan').set(tc.admin)).body.version).toBe(1);
    await eventually(
      async () =>
        hookEvents.find((e) => e.useCase === 'turned-down' && e.type === 'change.rejected') ?? undefined,
      'change.rejected at the webhook',
    );
  });

  it('when the plan in force was stored by an earlier release, without the fields added since, then a new version is still judged against it', async () => {
    await put('older', plan('older', MANUAL)).expect(201);
    await tdb.database.rows(
      sql`update plan_versions set plan = plan - 'changeControl' where use_case = 'older'`,
    );
    const held = await put('older', plan('older', AUTOMATIC), keys.owner!).expect(202);
    expect(held.body.change.rules.map((r: { path?: string }) => r.path)).toEqual(['stages.shadow.approval']);
    await put('older', plan('older', MANUAL, 'retentionDays: 30\n'), keys.owner!).expect(200);
  });

  it('when keys are scoped, then they list and decide only the changes of their use cases', async () => {
    await put('scoped-a', plan('scoped-a', MANUAL)).expect(201);
    await put('scoped-b', plan('scoped-b', MANUAL)).expect(201);
    const held = await put('scoped-a', plan('scoped-a', AUTOMATIC), keys.owner!).expect(202);
    const viewerB = await createKey(tc, 'vw-b', 'viewer', ['scoped-b']);
    const releaseB = await createKey(tc, 'rm-b', 'release', ['scoped-b']);
    const listed = await tc.http.get('/v1/changes').set(viewerB).expect(200);
    expect(listed.body.changes).toEqual([]);
    expect((await tc.http.get('/v1/changes?useCase=scoped-a').set(viewerB)).status).toBe(403);
    expect((await tc.http.get(`/v1/changes/${held.body.change.id}`).set(viewerB)).status).toBe(403);
    expect((await approve(held.body.change.id, releaseB)).status).toBe(403);
    const all = await tc.http.get('/v1/changes?limit=2').set(tc.admin).expect(200);
    expect(all.body.changes).toHaveLength(2);
    expect(all.body.changes[0].id).toBe(held.body.change.id);
  });

  it('when an owner key sends widening plans without end, then the use case holds at most MAX_PENDING_PER_USE_CASE of them and the next is refused with too_many_pending', async () => {
    await put('flooded', plan('flooded', MANUAL)).expect(201);
    const ids: number[] = [];
    for (let k = 0; k < MAX_PENDING_PER_USE_CASE; k++) {
      // Each text differs (a comment), so none is the same request sent again.
      const held = await put('flooded', `${plan('flooded', AUTOMATIC)}# variant ${k}\n`, keys.owner!).expect(
        202,
      );
      ids.push(held.body.change.id);
    }
    const refused = await put('flooded', `${plan('flooded', AUTOMATIC)}# one more\n`, keys.owner!).expect(
      409,
    );
    expect(refused.body.error).toBe('too_many_pending');
    // Rejecting one makes room for the next.
    await tc.http
      .post(`/v1/changes/${ids[0]}/reject`)
      .set(keys.bob!)
      .send({ reason: 'not wanted' })
      .expect(200);
    await put('flooded', `${plan('flooded', AUTOMATIC)}# one more\n`, keys.owner!).expect(202);
  });

  it('when an owner withdraws its own held plan, then it is rejected by its requester and never applied; another owner key may not', async () => {
    await put('withdrawn', plan('withdrawn', MANUAL)).expect(201);
    const held = await put('withdrawn', plan('withdrawn', AUTOMATIC), keys.owner!).expect(202);
    const id = held.body.change.id;
    const otherOwner = await createKey(tc, 'po-other', 'owner');
    const refused = await tc.http
      .post(`/v1/changes/${id}/withdraw`)
      .set(otherOwner)
      .send({ reason: 'mine now' });
    expect([refused.status, refused.body.error]).toEqual([403, 'not_requester']);
    const withdrawn = await tc.http
      .post(`/v1/changes/${id}/withdraw`)
      .set(keys.owner!)
      .send({ reason: 'sent the wrong file' })
      .expect(200);
    expect(withdrawn.body.change).toMatchObject({ state: 'rejected', decidedBy: 'key:po-anna' });
    expect((await approve(id, keys.bob!)).body.error).toBe('change_not_pending');
    const [audit] = await tdb.database.rows<{ actor: string }>(
      sql`select actor from audit_events where action = 'change.withdrawn' and use_case = 'withdrawn'`,
    );
    expect(audit?.actor).toBe('key:po-anna');
  });
});
