import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unitHash } from '../../src/contracts/sampling.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { type Auth, applyApproved, createKey } from '../support/change-approval.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { waitForProgress } from '../support/progress.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const LABELS = ['approve', 'reject', 'escalate'];
const DAY = 86_400_000;

/**
 * The simulated AI always answers the reference label; the simulated humans agree
 * with it at a chosen rate (by a hash of the request id), per region if asked. So
 * each scenario's true agreement is known exactly.
 */
function humanLabel(requestId: string, reference: string, agreeRate: number): string {
  if (unitHash(requestId, 'human') < agreeRate) return reference;
  return LABELS[(LABELS.indexOf(reference) + 1) % LABELS.length]!;
}

function decisions(useCase: string, from: number, count: number, agree: (region: string) => number) {
  return Array.from({ length: count }, (_, k) => {
    const invoice = makeInvoice(from + k);
    const reference = referenceLabel(invoice.input, LABELS);
    return {
      useCase,
      requestId: `${useCase}-${invoice.requestId}`,
      input: invoice.input,
      context: invoice.context,
      human: { decision: humanLabel(invoice.requestId, reference, agree(invoice.context.region)) },
    };
  });
}

describe('promotion scenarios through the API', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  /** Approves the plans that allow an automatic promotion (README "Change control"). */
  let release: Auth;
  let now = new Date();
  const clock = () => now;
  /** Each tick moves the injected clock on, so it is a new tick slot. */
  const tick = () => {
    now = new Date(now.getTime() + 60_000);
    return tc.controller.engine.tick(now);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1 });
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      clock,
      // The week-long wait below is judged on 100 decisions.
      env: { SHADOWGATE_AUTOMATIC_MIN_SAMPLES: '50' },
    });
    release = await createKey(tc, 'rm-scenarios', 'release');
  });
  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  async function setUp(useCase: string, extra: string, count: number, agree: (region: string) => number) {
    const plan = labelPlan(useCase, `${sim.url}/decide`).replace(/stages:[\s\S]*$/, extra);
    expect(await applyApproved(tc, useCase, plan, release)).toMatchObject({ created: true });
    for (let start = 0; start < count; start += 500) {
      const batch = decisions(useCase, start, Math.min(500, count - start), agree);
      await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions: batch }).expect(202);
    }
    await waitForProgress({
      what: `${count} comparisons of ${useCase}`,
      read: async () =>
        (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin)).body.metrics.stages[0]?.samples ?? 0,
      done: (samples) => samples === count,
    });
    return (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin).expect(200)).body;
  }

  const gatedPlan = (approval: string, segments = '') => `stages:
  shadow:
    approval: ${approval}
    promoteWhen: { minSamples: 500, agreementLowerBound: 0.90${segments} }
  human-reviewed:
    approval: manual
    rollbackWhen: { window: 200, agreementBelow: 0.85 }
`;

  it('when 97% of 600 decisions agree under automatic approval, then the gate is eligible and the next tick promotes', async () => {
    const detail = await setUp('auto-97', gatedPlan('automatic'), 600, () => 0.97);
    expect(detail.gate.verdict).toBe('eligible');
    expect(detail.gate.targetStage).toBe('human-reviewed');
    const report = await tick();
    expect(report.promoted).toContain('auto-97');
    const after = await tc.http.get('/v1/use-cases/auto-97').set(tc.admin).expect(200);
    expect(after.body.stage).toBe('human-reviewed');
    const { body } = await tc.http.get('/v1/use-cases/auto-97/transitions').set(tc.admin).expect(200);
    const promotion = body.transitions.at(-1);
    expect(promotion).toMatchObject({
      fromStage: 'shadow',
      toStage: 'human-reviewed',
      // The engine names the plan version that allowed it, its author and its approver.
      actor: 'system (plan v1 by bootstrap-admin, approved by key:rm-scenarios)',
      forced: false,
    });
    expect(promotion.snapshot.gate.verdict).toBe('eligible');
    expect(promotion.snapshot.metrics.samples).toBe(600);
  });

  it('when 85% agree, then the gate is blocked on agreementLowerBound and a promotion is refused with 409', async () => {
    const detail = await setUp('blocked-85', gatedPlan('manual'), 600, () => 0.85);
    expect(detail.gate.verdict).toBe('blocked');
    const failing = detail.gate.criteria.filter((c: { holds: boolean }) => !c.holds);
    expect(failing.map((c: { name: string }) => c.name)).toEqual(['agreementLowerBound']);
    const refused = await tc.http
      .post('/v1/use-cases/blocked-85/promote')
      .set(tc.admin)
      .send({ reason: 'try it' })
      .expect(409);
    expect(refused.body.details.map((d: { path: string }) => d.path)).toEqual(['agreementLowerBound']);
    const forced = await tc.http
      .post('/v1/use-cases/blocked-85/promote')
      .set(tc.admin)
      .send({ reason: 'business sign-off despite the bound', force: true })
      .expect(200);
    expect(forced.body).toMatchObject({ toStage: 'human-reviewed', forced: true, actor: 'bootstrap-admin' });
  });

  it('when only 300 decisions are compared, then the gate is inconclusive on minSamples', async () => {
    const detail = await setUp('young-300', gatedPlan('automatic'), 300, () => 0.97);
    expect(detail.gate.verdict).toBe('inconclusive');
    const minSamples = detail.gate.criteria.find((c: { name: string }) => c.name === 'minSamples');
    expect(minSamples).toMatchObject({ required: 500, actual: 300, status: 'inconclusive', holds: false });
    const report = await tick();
    expect(report.promoted).not.toContain('young-300');
  });

  it('when one segment agrees 70% while the whole passes, then the gate is blocked on that segment', async () => {
    const segments = ', segmentAgreementLowerBound: 0.85, minSegmentSamples: 50';
    const detail = await setUp('apac-70', gatedPlan('automatic', segments), 1500, (region) =>
      region === 'APAC' ? 0.7 : 1,
    );
    const byName = Object.fromEntries(detail.gate.criteria.map((c: { name: string }) => [c.name, c]));
    expect(byName.agreementLowerBound.holds).toBe(true);
    expect(byName['segment:region=APAC'].holds).toBe(false);
    expect(byName['segment:region=EU'].holds).toBe(true);
    expect(detail.gate.verdict).toBe('blocked');
    expect((await tick()).promoted).not.toContain('apac-70');
  });

  it('when agreement falls to 60% over the guard window in human-reviewed, then the next tick rolls back with the evidence', async () => {
    await setUp('falls-60', gatedPlan('automatic'), 600, () => 0.98);
    expect((await tick()).promoted).toContain('falls-60');

    // In human-reviewed the AI suggests first, the human decides later and disagrees 40% of the time.
    for (let i = 0; i < 220; i++) {
      const invoice = makeInvoice(10_000 + i);
      const requestId = `falls-60-hr-${i}`;
      const suggestion = await tc.http
        .post('/v1/use-cases/falls-60/suggest')
        .set(tc.admin)
        .send({ requestId, input: invoice.input, context: invoice.context })
        .expect(200);
      const reference = referenceLabel(invoice.input, LABELS);
      expect(suggestion.body.decision).toBe(reference);
      await tc.http
        .post(`/v1/decisions/falls-60/${requestId}/human`)
        .set(tc.admin)
        .send({ decision: humanLabel(requestId, reference, 0.6), handlingMs: 20_000 })
        .expect(200);
    }
    const report = await tick();
    expect(report.rolledBack).toContain('falls-60');
    const { body } = await tc.http.get('/v1/use-cases/falls-60/transitions').set(tc.admin).expect(200);
    const rollback = body.transitions.at(-1);
    expect(rollback).toMatchObject({ fromStage: 'human-reviewed', toStage: 'shadow', actor: 'system' });
    expect(rollback.reason).toMatch(/agreementBelow 0\.85/);
    const check = rollback.snapshot.guard.checks[0];
    expect(check).toMatchObject({ name: 'agreementBelow', samples: 200, trips: true });
    expect(check.actual).toBeGreaterThan(0.45);
    expect(check.actual).toBeLessThan(0.75);

    // The journey, on the controller's clock: the gate's bound over its threshold when it promoted,
    // then the guard window under its guard at the tick that rolled back.
    const journey = (await tc.http.get('/v1/use-cases/falls-60/journey').set(tc.admin).expect(200)).body;
    expect(journey.visits.map((v: { stage: string }) => v.stage)).toEqual([
      'shadow',
      'human-reviewed',
      'shadow',
    ]);
    expect(journey.visits.at(-2).leftAt).toBe(rollback.at);
    const promoted = journey.points.filter((p: { stageVersion: number }) => p.stageVersion === 1).at(-1);
    expect(promoted).toMatchObject({ verdict: 'eligible', required: 0.9, samples: 600 });
    expect(promoted.lowerBound).toBeGreaterThanOrEqual(0.9);
    expect(promoted.at).toBe(body.transitions.at(-2).at);
    const tripped = journey.points.filter((p: { stage: string }) => p.stage === 'human-reviewed').at(-1);
    expect(tripped).toMatchObject({ guardThreshold: 0.85, guardSamples: 200, at: rollback.at });
    expect(tripped.guardAgreement).toBeCloseTo(check.actual, 12);
    // The evidence report's Journey: the same visits, each with the last point the ticks kept.
    const evidence = (
      await tc.http.get('/v1/use-cases/falls-60/report?format=json').set(tc.admin).expect(200)
    ).body;
    expect(evidence.journey.visits.map((v: { stage: string }) => v.stage)).toEqual(
      journey.visits.map((v: { stage: string }) => v.stage),
    );
    expect(evidence.journey.visits[1].lastJudged).toEqual(tripped);
  });

  it('when the plan requires 7 days in shadow, then the gate waits until the clock has passed them', async () => {
    const plan = `stages:
  shadow:
    approval: automatic
    promoteWhen: { minSamples: 50, minDuration: 7d, agreementLowerBound: 0.5 }
  human-reviewed: {}
`;
    const detail = await setUp('week-wait', plan, 100, () => 1);
    expect(detail.gate.verdict).toBe('inconclusive');
    expect((await tick()).promoted).not.toContain('week-wait');
    now = new Date(now.getTime() + 7 * DAY);
    expect((await tick()).promoted).toContain('week-wait');
  });
});
