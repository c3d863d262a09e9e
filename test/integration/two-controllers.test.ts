import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import {
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { type Auth, applyApproved, createKey } from '../support/change-approval.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const USE_CASES = Array.from({ length: 50 }, (_, i) => `fleet-${i}`);
const PER_USE_CASE = 40;

describe('two controller processes against one database', () => {
  let tdb: TestDatabase;
  let first: TestController;
  let second: TestController;
  let sim: SimulatedAiSystem;
  let release: Auth;
  let otherRelease: Auth;
  // The gates below are judged on 40 decisions: the automatic ones' evidence floor is set to fit.
  const env = { SHADOWGATE_AUTOMATIC_MIN_SAMPLES: '10' };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1 });
    first = await startTestController({ database: tdb.database, queue: 'in-process', env });
    // The second controller has its own connection pool, as a second process would.
    const ownPool = await openDatabase({ url: tdb.url, maxConnections: 5 });
    second = await startTestController({ database: ownPool, queue: 'in-process', env });
    release = await createKey(first, 'rm-one', 'release');
    otherRelease = await createKey(first, 'rm-two', 'release');
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await second?.controller.database.close();
    await sim?.close();
    await tdb?.drop();
  });

  it('when both tick at once over 50 eligible use cases, then each promotion is recorded exactly once', async () => {
    const plan = (id: string) =>
      labelPlan(id, `${sim.url}/decide`).replace(
        /stages:[\s\S]*$/,
        `stages:
  shadow:
    approval: automatic
    promoteWhen: { minSamples: 10, agreementLowerBound: 0.5 }
  human-reviewed: {}
`,
      );
    for (const [i, id] of USE_CASES.entries()) {
      const via = i % 2 === 0 ? first : second;
      // Automatic approval widens the AI's authority: a release key approves the plan.
      expect(await applyApproved(first, id, plan(id), release, via)).toMatchObject({ created: true });
      const batch = Array.from({ length: PER_USE_CASE }, (_, k) => {
        const invoice = makeInvoice(i * 100 + k);
        const human = { decision: referenceLabel(invoice.input, ['approve', 'reject', 'escalate']) };
        return {
          useCase: id,
          requestId: invoice.requestId,
          input: invoice.input,
          context: invoice.context,
          human,
        };
      });
      await via.http.post('/v1/decisions').set(via.admin).send({ decisions: batch }).expect(202);
    }
    await eventually(async () => {
      const [row] = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from decisions where score is not null`,
      );
      return Number(row!.n) === USE_CASES.length * PER_USE_CASE ? true : undefined;
    }, 'every comparison');

    const now = Date.now();
    // The same tick slot: one of the two does the work.
    const sameSlot = await Promise.all([
      first.controller.engine.tick(new Date(now)),
      second.controller.engine.tick(new Date(now)),
    ]);
    expect(sameSlot.filter((r) => r.ran)).toHaveLength(1);
    // Two different slots at once: both evaluate every use case and race to promote.
    const raced = await Promise.all([
      first.controller.engine.tick(new Date(now + 3_600_000)),
      second.controller.engine.tick(new Date(now + 7_200_000)),
    ]);
    const promotions = [...sameSlot, ...raced].flatMap((r) => r.promoted);
    expect(new Set(promotions).size).toBe(promotions.length);
    expect(promotions.sort()).toEqual([...USE_CASES].sort());

    const perUseCase = await tdb.database.rows<{ use_case: string; n: number }>(sql`
      select use_case, count(*)::int as n from stage_transitions where to_stage = 'human-reviewed' group by use_case`);
    expect(perUseCase).toHaveLength(USE_CASES.length);
    expect(perUseCase.every((r) => Number(r.n) === 1)).toBe(true);
  });

  it('when their ticks overlap over 30 manual use cases that just became eligible, then each gate.eligible is announced once', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `manual-${i}`);
    const plan = (id: string) =>
      labelPlan(id, `${sim.url}/decide`).replace(
        /stages:[\s\S]*$/,
        `stages:
  shadow:
    promoteWhen: { minSamples: 10, agreementLowerBound: 0.5 }
  human-reviewed: {}
`,
      );
    for (const [i, id] of ids.entries()) {
      await first.http.put(`/v1/use-cases/${id}/plan`).set(first.admin).send(plan(id)).expect(201);
      const batch = Array.from({ length: PER_USE_CASE }, (_, k) => {
        const invoice = makeInvoice(50_000 + i * 100 + k);
        return {
          useCase: id,
          requestId: invoice.requestId,
          input: invoice.input,
          context: invoice.context,
          human: { decision: referenceLabel(invoice.input, ['approve', 'reject', 'escalate']) },
        };
      });
      await first.http.post('/v1/decisions').set(first.admin).send({ decisions: batch }).expect(202);
    }
    await eventually(async () => {
      const [row] = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from decisions where use_case like 'manual-%' and score is not null`,
      );
      return Number(row!.n) === ids.length * PER_USE_CASE ? true : undefined;
    }, 'every comparison');

    // Two slots at once, as when a slow tick runs on while another process takes the next slot:
    // both read that nothing was announced yet.
    const now = Date.now() + 10 * 3_600_000;
    const overlapping = await Promise.all([
      first.controller.engine.tick(new Date(now)),
      second.controller.engine.tick(new Date(now + 3_600_000)),
    ]);
    expect(overlapping.every((r) => r.ran)).toBe(true);
    expect(overlapping.map((r) => r.eligible.length)).toEqual([ids.length, ids.length]);
    const announced = await tdb.database.rows<{ use_case: string; n: number }>(sql`
      select use_case, count(*)::int as n from audit_events
      where action = 'gate.eligible' and use_case like 'manual-%' group by use_case`);
    expect(announced).toHaveLength(ids.length);
    expect(announced.filter((r) => Number(r.n) !== 1)).toEqual([]);
  });

  it('when both receive the approval of the same change at once, then it is applied once', async () => {
    const manual = (id: string) =>
      labelPlan(id, `${sim.url}/decide`).replace(
        /stages:[\s\S]*$/,
        'stages:\n  shadow:\n    promoteWhen: { minSamples: 10, agreementLowerBound: 0.5 }\n  human-reviewed: {}\n',
      );
    const automatic = (id: string) =>
      manual(id).replace('  shadow:\n', '  shadow:\n    approval: automatic\n');
    const versions = async (id: string) =>
      (
        await tdb.database.rows<{ n: number }>(
          sql`select count(*)::int as n from plan_versions where use_case = ${id}`,
        )
      ).map((r) => Number(r.n))[0];
    const approveAt = (via: TestController, change: number, as: Auth) =>
      via.http.post(`/v1/changes/${change}/approve`).set(as).send({ reason: 'looked at it' });

    // The same approval sent to both (a retry through another controller), and two release keys
    // approving one change through each: either way one plan version.
    for (const [id, keys] of [
      ['approve-twice', [release, release]],
      ['approve-both', [release, otherRelease]],
    ] as const) {
      await first.http.put(`/v1/use-cases/${id}/plan`).set(first.admin).send(manual(id)).expect(201);
      const held = await first.http.put(`/v1/use-cases/${id}/plan`).set(first.admin).send(automatic(id));
      expect(held.status).toBe(202);
      const answers = await Promise.all([
        approveAt(first, held.body.change.id, keys[0]),
        approveAt(second, held.body.change.id, keys[1]),
      ]);
      const applied = answers.filter((a) => a.status === 200 && a.body.applied !== null);
      expect(applied, JSON.stringify(answers.map((a) => [a.status, a.body]))).toHaveLength(1);
      for (const other of answers.filter((a) => !applied.includes(a))) {
        expect([200, 409]).toContain(other.status);
        // Refused as a repeat, or, once the other approval has applied it, as a change no longer pending.
        if (other.status === 409)
          expect(['already_approved', 'change_not_pending']).toContain(other.body.error);
      }
      expect(await versions(id)).toBe(2);
      const [row] = await tdb.database.rows<{ state: string }>(
        sql`select state from pending_changes where id = ${held.body.change.id}`,
      );
      expect(row?.state).toBe('applied');
    }

    // A stage change held by changeControl, approved through both at once: one transition.
    const id = 'promote-once';
    await first.http
      .put(`/v1/use-cases/${id}/plan`)
      .set(first.admin)
      .send(`${manual(id)}changeControl: { approvals: 1 }\n`)
      .expect(201);
    const held = await first.http
      .post(`/v1/use-cases/${id}/promote`)
      .set(first.admin)
      .send({ reason: 'pilot', force: true })
      .expect(202);
    const answers = await Promise.all([
      approveAt(first, held.body.change.id, release),
      approveAt(second, held.body.change.id, otherRelease),
    ]);
    expect(answers.filter((a) => a.status === 200 && a.body.applied !== null)).toHaveLength(1);
    const moved = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from stage_transitions where use_case = ${id} and to_stage = 'human-reviewed'`,
    );
    expect(Number(moved[0]?.n)).toBe(1);
  });
});
