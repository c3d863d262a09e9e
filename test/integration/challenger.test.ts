import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/**
 * Issue 13: champion and challenger. A use case holds limited-autonomous with one AI system (the
 * champion); a plan version points it at another (the challenger). The champion keeps answering
 * and deciding; the challenger is asked the same requests off the live path and judged against the
 * humans and, paired per request, against the champion.
 */

const LABELS = ['approve', 'reject', 'escalate'];

function plan(useCase: string, url: string, approval: 'manual' | 'automatic') {
  return labelPlan(useCase, url).replace(
    /stages:[\s\S]*$/,
    `stages:
  shadow:
    promoteWhen: { minSamples: 100, agreementLowerBound: 0.85 }
  human-reviewed:
    promoteWhen: { minSamples: 100, agreementLowerBound: 0.85 }
  limited-autonomous:
    auditRate: 1
challenger: { approval: ${approval}, margin: 0.02 }
`,
  );
}

describe('champion and challenger', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let champion: SimulatedAiSystem;
  let worse: SimulatedAiSystem;
  let better: SimulatedAiSystem;
  let release: Auth;
  let now = new Date();
  const clock = () => now;
  const tick = () => {
    now = new Date(now.getTime() + 60_000);
    return tc.controller.engine.tick(now);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    champion = await startSimulatedAiSystem({
      agreement: 0.96,
      confidence: 0.95,
      modelVersion: 'champion-1',
    });
    worse = await startSimulatedAiSystem({ agreement: 0.5, confidence: 0.95, modelVersion: 'worse-1' });
    better = await startSimulatedAiSystem({ agreement: 0.99, confidence: 0.95, modelVersion: 'better-1' });
    tc = await startTestController({ database: tdb.database, queue: 'in-process', clock });
    release = await createKey(tc, 'rm-challenger', 'release');
  });
  afterAll(async () => {
    await tc?.stop();
    await Promise.all([champion?.close(), worse?.close(), better?.close()]);
    await tdb?.drop();
  });

  async function limitedAutonomous(useCase: string, approval: 'manual' | 'automatic') {
    // An automatic swap widens the AI's authority: a release key approves it (README "Change control").
    const created = await applyApproved(
      tc,
      useCase,
      plan(useCase, `${champion.url}/decide`, approval),
      release,
    );
    expect(created).toMatchObject({ created: true });
    for (let i = 0; i < 2; i++) {
      await tc.http
        .post(`/v1/use-cases/${useCase}/promote`)
        .set(tc.admin)
        .send({ reason: 'test set-up', force: true })
        .expect(200);
    }
  }

  /** Suggestions for invoices [from, to), then each one's human decision (an audit: auditRate 1). */
  async function decide(useCase: string, from: number, to: number) {
    const answers: Array<{ autonomous: boolean; modelVersion: string | null }> = [];
    for (let start = from; start < to; start += 25) {
      const batch = Array.from({ length: Math.min(25, to - start) }, (_, k) => makeInvoice(start + k));
      const suggested = await Promise.all(
        batch.map((inv) =>
          tc.http
            .post(`/v1/use-cases/${useCase}/suggest`)
            .set(tc.admin)
            .send({ requestId: inv.requestId, input: inv.input, context: inv.context })
            .expect(200),
        ),
      );
      answers.push(...suggested.map((r) => r.body as { autonomous: boolean; modelVersion: string | null }));
      await Promise.all(
        batch.map((inv) =>
          tc.http
            .post(`/v1/decisions/${useCase}/${inv.requestId}/human`)
            .set(tc.admin)
            .send({ decision: referenceLabel(inv.input, LABELS) })
            .expect(200),
        ),
      );
    }
    return answers;
  }

  async function owedChallengerCalls(useCase: string): Promise<number> {
    const [row] = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from challenger_calls where use_case = ${useCase} and state = 'owed'`,
    );
    return Number(row?.n ?? 0);
  }

  const settled = (useCase: string) =>
    eventually(
      async () => ((await owedChallengerCalls(useCase)) === 0 ? true : undefined),
      'challenger calls made',
      60_000,
    );

  it('a worse challenger never decides: the champion keeps deciding, the challenger is asked the same requests and ends blocked', async () => {
    await limitedAutonomous('worse', 'automatic');
    const applied = await tc.http
      .put('/v1/use-cases/worse/plan')
      .set(tc.admin)
      .send(plan('worse', `${worse.url}/decide`, 'automatic'))
      .expect(200);
    expect(applied.body.stage).toBe('limited-autonomous');

    const before = (await tc.http.get('/v1/use-cases/worse').set(tc.admin).expect(200)).body;
    expect(before.champion).toEqual({ planVersion: 1, aiConfig: expect.any(String) });
    expect(before.challenger).toMatchObject({ planVersion: 2, changes: ['ai.url'], verdict: 'inconclusive' });
    expect(before.aiConfig).toBe(before.champion.aiConfig);

    const answers = await decide('worse', 0, 300);
    // The champion answered every suggestion and decided alone; the challenger was never asked live.
    expect(answers.every((a) => a.modelVersion === 'champion-1')).toBe(true);
    expect(answers.filter((a) => a.autonomous).length).toBe(300);
    await settled('worse');
    expect(worse.stats().distinctRequests).toBe(300);

    const report = await tick();
    expect(report.challengersSwapped).toEqual([]);
    const view = (await tc.http.get('/v1/use-cases/worse/challenger').set(tc.admin).expect(200)).body;
    expect(view.challenger.verdict).toBe('blocked');
    expect(view.challenger.cohort.samples).toBe(300);
    expect(view.challenger.cohort.agreement).toBeLessThan(0.65);
    expect(view.challenger.paired.n).toBe(300);
    expect(view.challenger.paired.upper).toBeLessThan(-0.02);
    const blocking = view.challenger.criteria.filter((c: { status: string }) => c.status === 'blocked');
    expect(blocking.map((c: { name: string }) => c.name)).toContain('championNonInferiority');

    // A release key cannot swap it in without force; the stage and the champion are unchanged.
    const refused = await tc.http
      .post('/v1/use-cases/worse/challenger/promote')
      .set(tc.admin)
      .send({ reason: 'try it' })
      .expect(409);
    expect(refused.body.error).toBe('challenger_not_eligible');
    const after = (await tc.http.get('/v1/use-cases/worse').set(tc.admin).expect(200)).body;
    expect(after).toMatchObject({ stage: 'limited-autonomous', champion: before.champion });

    // Discarded: the champion's plan comes back as plan version 3, and no challenger remains.
    const discarded = await tc.http
      .post('/v1/use-cases/worse/challenger/discard')
      .set(tc.admin)
      .send({ reason: 'it is worse than the champion' })
      .expect(200);
    expect(discarded.body.challenger).toBeNull();
    expect(discarded.body.champion.aiConfig).toBe(before.champion.aiConfig);
    expect(discarded.body.history[0]).toMatchObject({
      state: 'discarded',
      endReason: 'it is worse than the champion',
    });
    const latest = (await tc.http.get('/v1/use-cases/worse').set(tc.admin).expect(200)).body;
    expect(latest).toMatchObject({ planVersion: 3, challenger: null, aiConfig: before.champion.aiConfig });
  });

  it('a better challenger (0.99 against 0.96) takes over automatically, then decides alone', async () => {
    await limitedAutonomous('better', 'automatic');
    await tc.http
      .put('/v1/use-cases/better/plan')
      .set(tc.admin)
      .send(plan('better', `${better.url}/decide`, 'automatic'))
      .expect(200);
    let decided = 0;
    let swappedAt: number | null = null;
    while (decided < 3_000 && swappedAt === null) {
      const answers = await decide('better', decided, decided + 250);
      expect(answers.every((a) => a.modelVersion === 'champion-1')).toBe(true);
      decided += 250;
      await settled('better');
      if ((await tick()).challengersSwapped.includes('better')) swappedAt = decided;
    }
    expect(swappedAt, 'swapped within 3,000 decisions').not.toBeNull();

    const detail = (await tc.http.get('/v1/use-cases/better').set(tc.admin).expect(200)).body;
    expect(detail).toMatchObject({
      stage: 'limited-autonomous',
      challenger: null,
      earnedModelVersion: 'better-1',
    });
    expect(detail.champion.planVersion).toBe(2);
    const answers = await decide('better', 10_000, 10_020);
    expect(answers.every((a) => a.modelVersion === 'better-1' && a.autonomous)).toBe(true);
    const [promoted] = await tdb.database.rows<{ actor: string; details: { verdict: string } }>(
      sql`select actor, details from audit_events where use_case = 'better' and action = 'challenger.promoted'`,
    );
    // Named after the plan version that allowed the swap and its author, as automatic promotions are.
    expect(promoted).toMatchObject({
      actor: 'system (plan v2 by bootstrap-admin)',
      details: { verdict: 'eligible' },
    });
    const drift = (await tc.http.get('/v1/use-cases/better/drift').set(tc.admin).expect(200)).body;
    expect(drift.reference).toMatchObject({
      reason: 'a challenger was swapped in',
      takenBy: 'system (plan v2 by bootstrap-admin)',
    });
  });

  it('a further change replaces the challenger, the same configuration under new thresholds keeps it, the champion’s configuration discards it', async () => {
    await limitedAutonomous('changes', 'manual');
    const toWorse = plan('changes', `${worse.url}/decide`, 'manual');
    const started = await tc.http.put('/v1/use-cases/changes/plan').set(tc.admin).send(toWorse).expect(200);
    expect(started.body.challenger).toMatchObject({
      action: 'challenger.started',
      details: { changes: ['ai.url'] },
    });
    await decide('changes', 0, 20);
    await settled('changes');
    const first = (await tc.http.get('/v1/use-cases/changes/challenger').set(tc.admin).expect(200)).body;
    expect(first.challenger.cohort.decisions).toBe(20);

    // Other thresholds (a tighter margin: applied at once), the same challenger configuration: the
    // same challenger, its evidence kept.
    const rethought = await tc.http
      .put('/v1/use-cases/changes/plan')
      .set(tc.admin)
      .send(toWorse.replace('margin: 0.02', 'margin: 0.01'))
      .expect(200);
    expect(rethought.body.challenger).toBeNull();
    const kept = (await tc.http.get('/v1/use-cases/changes/challenger').set(tc.admin).expect(200)).body;
    expect(kept.challenger).toMatchObject({ id: first.challenger.id, planVersion: 3, margin: 0.01 });
    expect(kept.challenger.cohort.decisions).toBe(20);

    // Another configuration: a new challenger whose evidence starts over; the champion is unchanged.
    await tc.http
      .put('/v1/use-cases/changes/plan')
      .set(tc.admin)
      .send(plan('changes', `${better.url}/decide`, 'manual').replace('margin: 0.02', 'margin: 0.01'))
      .expect(200);
    const replaced = (await tc.http.get('/v1/use-cases/changes/challenger').set(tc.admin).expect(200)).body;
    expect(replaced.challenger.id).not.toBe(first.challenger.id);
    expect(replaced.challenger.cohort).toBeNull();
    expect(replaced.champion).toEqual(first.champion);
    expect(replaced.history[0]).toMatchObject({ id: first.challenger.id, state: 'replaced' });

    // The champion's configuration again: no challenger, the champion serves as before.
    const back = await tc.http
      .put('/v1/use-cases/changes/plan')
      .set(tc.admin)
      .send(plan('changes', `${champion.url}/decide`, 'manual').replace('margin: 0.02', 'margin: 0.01'))
      .expect(200);
    expect(back.body.challenger).toMatchObject({ action: 'challenger.discarded' });
    const after = (await tc.http.get('/v1/use-cases/changes').set(tc.admin).expect(200)).body;
    expect(after).toMatchObject({ challenger: null, aiConfig: first.champion.aiConfig, planVersion: 5 });
    expect(after.champion.planVersion).toBe(5);
  });

  it('two release keys swapping at once swap once; its cost counts in the day’s spend; a rollback to shadow ends a challenger', async () => {
    await limitedAutonomous('twice', 'manual');
    await tc.http
      .put('/v1/use-cases/twice/plan')
      .set(tc.admin)
      .send(plan('twice', `${better.url}/decide`, 'manual'))
      .expect(200);
    await decide('twice', 0, 40);
    await settled('twice');
    const [spend] = await tdb.database.rows<{ spent: number; calls: number }>(sql`
      select (select sum(cost) from daily_ai_spend where use_case = 'twice')::float8 as spent,
        ((select coalesce(sum(ai_cost), 0) from decisions where use_case = 'twice')
          + (select coalesce(sum(cost), 0) from challenger_calls where use_case = 'twice'))::float8 as calls`);
    expect(spend!.spent).toBeGreaterThan(0);
    expect(spend!.spent).toBeCloseTo(spend!.calls, 9);

    const both = await Promise.all(
      [0, 1].map(() =>
        tc.http
          .post('/v1/use-cases/twice/challenger/promote')
          .set(tc.admin)
          .send({ reason: 'now', force: true }),
      ),
    );
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    const promoted = await tdb.database.rows(
      sql`select 1 from audit_events where use_case = 'twice' and action = 'challenger.promoted'`,
    );
    expect(promoted).toHaveLength(1);
    // A swap by hand re-takes the drift reference as the tick's does: the new configuration is
    // compared with its own traffic, not the champion's (README "Drift").
    const drift = (await tc.http.get('/v1/use-cases/twice/drift').set(tc.admin).expect(200)).body;
    expect(drift.reference).toMatchObject({
      reason: 'a challenger was swapped in',
      takenBy: 'bootstrap-admin',
    });

    await tc.http
      .put('/v1/use-cases/twice/plan')
      .set(tc.admin)
      .send(plan('twice', `${worse.url}/decide`, 'manual'))
      .expect(200);
    await tc.http
      .post('/v1/use-cases/twice/rollback')
      .set(tc.admin)
      .send({ reason: 'back to shadow', to: 'shadow' })
      .expect(200);
    const inShadow = (await tc.http.get('/v1/use-cases/twice/challenger').set(tc.admin).expect(200)).body;
    expect(inShadow.challenger).toBeNull();
    expect(inShadow.history[0]).toMatchObject({ state: 'ended' });
    expect(inShadow.champion.planVersion).toBe(3);
  });

  it('a challenger that ends owes nothing more: its owed calls are cancelled and their raw inputs dropped', async () => {
    await limitedAutonomous('ended', 'manual');
    await tc.http
      .put('/v1/use-cases/ended/plan')
      .set(tc.admin)
      .send(plan('ended', `${worse.url}/decide`, 'manual'))
      .expect(200);
    // Disabled: decisions are still stored and owe the challenger a call, which waits.
    await tc.http.post('/v1/use-cases/ended/disable').set(tc.admin).send({ reason: 'hold' }).expect(200);
    const invoices = Array.from({ length: 10 }, (_, i) => makeInvoice(500 + i));
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({
        decisions: invoices.map((inv) => ({
          useCase: 'ended',
          requestId: inv.requestId,
          input: inv.input,
          context: inv.context,
          human: { decision: referenceLabel(inv.input, LABELS) },
        })),
      })
      .expect(202);
    const held = async () =>
      (
        await tdb.database.rows<{ state: string; kept: boolean }>(
          sql`select state, pending_input is not null as kept from challenger_calls where use_case = 'ended'`,
        )
      ).map((r) => `${r.state}${r.kept ? '+input' : ''}`);
    expect(await held()).toEqual(Array(10).fill('owed+input'));

    await tc.http
      .put('/v1/use-cases/ended/plan')
      .set(tc.admin)
      .send(plan('ended', `${champion.url}/decide`, 'manual').replace('margin: 0.02', 'margin: 0.01'))
      .expect(200);
    expect(await held()).toEqual(Array(10).fill('cancelled'));
  });

  it('in shadow a new configuration has nothing to earn: it serves at once', async () => {
    await tc.http
      .put('/v1/use-cases/in-shadow/plan')
      .set(tc.admin)
      .send(plan('in-shadow', `${champion.url}/decide`, 'manual'))
      .expect(201);
    await tc.http
      .put('/v1/use-cases/in-shadow/plan')
      .set(tc.admin)
      .send(plan('in-shadow', `${better.url}/decide`, 'manual'))
      .expect(200);
    const detail = (await tc.http.get('/v1/use-cases/in-shadow').set(tc.admin).expect(200)).body;
    expect(detail).toMatchObject({ challenger: null, champion: { planVersion: 2 } });
  });
});
