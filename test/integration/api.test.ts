import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { countRows } from '../support/db-snapshot.js';
import {
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The API as a workflow service and a product owner use it: plans, ingest, sampling, health and
 * metrics. The simulated AI always returns the reference label (agreement 1.0), so with human
 * labels chosen here every comparison, and so every metric, is known in advance.
 */

const invoice = (amount: number, vendorVerified: boolean, poNumber: string) => ({
  amount,
  vendorVerified,
  poNumber,
  currency: 'EUR',
});

/**
 * Reference labels (the invoice policy of scripts/simulation/reference-labeler.ts): over 50,000
 * escalate; an unverified vendor over 1,000 reject; a verified vendor with a PO approve.
 */
const KNOWN = [
  { requestId: 'k-1', input: invoice(100, true, 'PO-1'), ai: 'approve', human: 'approve', region: 'EU' },
  { requestId: 'k-2', input: invoice(200, true, 'PO-2'), ai: 'approve', human: 'approve', region: 'EU' },
  { requestId: 'k-3', input: invoice(60_000, true, 'PO-3'), ai: 'escalate', human: 'escalate', region: 'US' },
  { requestId: 'k-4', input: invoice(5_000, false, 'PO-4'), ai: 'reject', human: 'reject', region: 'US' },
  { requestId: 'k-5', input: invoice(300, true, 'PO-5'), ai: 'approve', human: 'reject', region: 'EU' },
  { requestId: 'k-6', input: invoice(70_000, true, 'PO-6'), ai: 'escalate', human: 'approve', region: 'EU' },
  { requestId: 'k-7', input: invoice(400, true, 'PO-7'), ai: 'approve', human: null, region: 'EU' },
];

interface StageBody {
  stage: string;
  decisions: number;
  samples: number;
  pendingHuman: number;
  pendingAi: number;
  cohorts: Array<Record<string, unknown> & { aiCalls: number }>;
}

describe('the v1 API as its users depend on it', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let aiUrl: string;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1, latencyMs: 2, inputTokens: 300, outputTokens: 20 });
    aiUrl = `${sim.url}/decide`;
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
  });

  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  const applyPlan = (useCase: string, text: string) =>
    tc.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(text);

  const metrics = async (useCase: string, query = ''): Promise<StageBody[]> => {
    const res = await tc.http.get(`/v1/use-cases/${useCase}/metrics${query}`).set(tc.admin).expect(200);
    return res.body.stages;
  };

  it('when a plan is first applied, then the use case starts in shadow with a transition naming who did it', async () => {
    const first = await applyPlan('lifecycle', labelPlan('lifecycle', aiUrl)).expect(201);
    expect(first.body).toMatchObject({
      useCase: 'lifecycle',
      planVersion: 1,
      created: true,
      unchanged: false,
      stage: 'shadow',
    });
    const transitions = await tdb.database.rows<Record<string, unknown>>(
      sql`select from_stage, to_stage, actor, plan_version from stage_transitions where use_case = 'lifecycle'`,
    );
    expect(transitions).toEqual([
      { from_stage: null, to_stage: 'shadow', actor: 'bootstrap-admin', plan_version: 1 },
    ]);
  });

  it('when the same plan text is applied again, then nothing changes; when the text changes, then it is a new version', async () => {
    const text = labelPlan('versions', aiUrl);
    await applyPlan('versions', text).expect(201);

    const again = await applyPlan('versions', text).expect(200);
    expect(again.body).toMatchObject({ planVersion: 1, created: false, unchanged: true, stage: 'shadow' });
    expect(await countRows(tdb.database, 'plan_versions', `use_case = 'versions'`)).toBe(1);

    const changed = await applyPlan(
      'versions',
      text.replace('humanCostPerDecision: 1.8', 'humanCostPerDecision: 2.1'),
    ).expect(200);
    expect(changed.body).toMatchObject({ planVersion: 2, created: false, unchanged: false, stage: 'shadow' });
    expect(await countRows(tdb.database, 'plan_versions', `use_case = 'versions'`)).toBe(2);
    // A new plan version is no stage change.
    expect(await countRows(tdb.database, 'stage_transitions', `use_case = 'versions'`)).toBe(1);

    const detail = await tc.http.get('/v1/use-cases/versions').set(tc.admin).expect(200);
    expect(detail.body).toMatchObject({ id: 'versions', stage: 'shadow', planVersion: 2 });
  });

  it('when one decision is mirrored and then retried, then it is stored and called once', async () => {
    await applyPlan('single', labelPlan('single', aiUrl)).expect(201);
    const decision = { useCase: 'single', requestId: 'one-1', input: invoice(100, true, 'PO-9') };

    const first = await tc.http.post('/v1/decisions').set(tc.admin).send(decision).expect(202);
    expect(first.body).toEqual({ accepted: 1, duplicates: 0, aiCallsOwed: 1 });
    const retry = await tc.http.post('/v1/decisions').set(tc.admin).send(decision).expect(202);
    expect(retry.body).toEqual({ accepted: 0, duplicates: 1, aiCallsOwed: 0 });

    await eventually(
      async () =>
        (await countRows(tdb.database, 'decisions', `use_case = 'single' and ai_state = 'done'`)) === 1
          ? true
          : undefined,
      'the AI answer',
    );
    expect(await countRows(tdb.database, 'decisions', `use_case = 'single'`)).toBe(1);
    expect(sim.stats().byRequest['one-1']?.calls).toBe(1);
  });

  it('when a retry measured another handling time or names another clerk, then it is still a duplicate; another decision is a conflict', async () => {
    const decision = (human: object) => ({
      useCase: 'single',
      requestId: 'timed-1',
      input: invoice(250, true, 'PO-7'),
      human,
    });
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send(decision({ decision: 'approve', decidedBy: 'clerk-1', handlingMs: 1200 }))
      .expect(202);
    const retry = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send(decision({ decision: 'approve', decidedBy: 'clerk-2', handlingMs: 1350 }))
      .expect(202);
    expect(retry.body).toEqual({ accepted: 0, duplicates: 1, aiCallsOwed: 0 });
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send(decision({ decision: 'reject' }))
      .expect(409);
  });

  it('when a request stored without its human decision is mirrored again with one, then it is completed and compared; a different decision is still a conflict', async () => {
    const mirror = (requestId: string, human?: object) => ({
      useCase: 'single',
      requestId,
      input: invoice(260, true, 'PO-8'),
      context: { region: 'EU' },
      ...(human ? { human } : {}),
    });
    // Mirrored before the clerk decided; the AI answers meanwhile (agreement 1: approve).
    await tc.http.post('/v1/decisions').set(tc.admin).send(mirror('late-1')).expect(202);
    await eventually(
      async () =>
        (await countRows(tdb.database, 'decisions', `request_id = 'late-1' and ai_state = 'done'`)) === 1
          ? true
          : undefined,
      'the AI answer',
    );
    const completed = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send(mirror('late-1', { decision: 'approve', decidedBy: 'clerk-3' }))
      .expect(202);
    expect(completed.body).toEqual({ accepted: 1, duplicates: 0, aiCallsOwed: 0 });
    const [row] = await tdb.database.rows<{ human: unknown; by: string; score: number }>(
      sql`select human_decision as human, human_decided_by as by, score from decisions where request_id = 'late-1'`,
    );
    expect(row).toEqual({ human: 'approve', by: 'clerk-3', score: 1 });
    // Either send again: duplicates. Another decision: a conflict, as through the human route.
    for (const again of [mirror('late-1', { decision: 'approve' }), mirror('late-1')]) {
      const retry = await tc.http.post('/v1/decisions').set(tc.admin).send(again).expect(202);
      expect(retry.body).toEqual({ accepted: 0, duplicates: 1, aiCallsOwed: 0 });
    }
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send(mirror('late-1', { decision: 'reject' }))
      .expect(409);
    // Another input is another payload, human decision or not.
    await tc.http.post('/v1/decisions').set(tc.admin).send(mirror('late-2')).expect(202);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ ...mirror('late-2', { decision: 'approve' }), input: invoice(261, true, 'PO-8') })
      .expect(409);
  });

  it('when shadow.sampleRate is 0.5, then about half the calls are owed, chosen by request id alone', async () => {
    const sampled = (id: string) => labelPlan(id, aiUrl, '    sampleRate: 0.5\n');
    await applyPlan('sampled-a', sampled('sampled-a')).expect(201);
    await applyPlan('sampled-b', sampled('sampled-b')).expect(201);
    const batch = (useCase: string) => ({
      decisions: Array.from({ length: 200 }, (_, i) => ({ useCase, requestId: `s-${i}`, input: { n: i } })),
    });

    const a = await tc.http.post('/v1/decisions').set(tc.admin).send(batch('sampled-a')).expect(202);
    const owed = a.body.aiCallsOwed as number;
    // Binomial(200, 0.5) has a standard deviation of about 7: 70..130 is over four of them.
    expect(owed).toBeGreaterThanOrEqual(70);
    expect(owed).toBeLessThanOrEqual(130);
    expect(a.body.accepted).toBe(200);

    const retry = await tc.http.post('/v1/decisions').set(tc.admin).send(batch('sampled-a')).expect(202);
    expect(retry.body).toEqual({ accepted: 0, duplicates: 200, aiCallsOwed: 0 });

    // The same request ids in another use case are sampled the same way.
    const b = await tc.http.post('/v1/decisions').set(tc.admin).send(batch('sampled-b')).expect(202);
    expect(b.body.aiCallsOwed).toBe(owed);
    const mirroredIds = async (useCase: string) =>
      (
        await tdb.database.rows<{ request_id: string }>(
          sql`select request_id from decisions where use_case = ${useCase} and ai_state <> 'none' order by request_id`,
        )
      ).map((r) => r.request_id);
    const idsA = await mirroredIds('sampled-a');
    expect(idsA).toHaveLength(owed);
    expect(await mirroredIds('sampled-b')).toEqual(idsA);
  });

  it('when /healthz and /readyz are asked, then both answer ok with the database and queue checked', async () => {
    const health = await tc.http.get('/healthz').expect(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await tc.http.get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { database: 'ok', queue: 'ok' } });
  });

  describe('metrics of decisions whose human and AI labels are known', () => {
    beforeAll(async () => {
      await applyPlan('known', labelPlan('known', aiUrl)).expect(201);
      const decisions = KNOWN.map((k) => ({
        useCase: 'known',
        requestId: k.requestId,
        input: k.input,
        context: { region: k.region },
        ...(k.human ? { human: { decision: k.human, decidedBy: 'clerk-1' } } : {}),
      }));
      await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
      await eventually(async () => {
        const [shadow] = await metrics('known');
        return shadow?.pendingAi === 0 && shadow.cohorts[0]?.aiCalls === KNOWN.length ? true : undefined;
      }, 'every AI call of the known decisions');
    });

    it('when the metrics are read, then samples, agreement, kappa, confusion matrix and costs are the hand-computed ones', async () => {
      const stages = await metrics('known');
      expect(stages.map((s) => s.stage)).toEqual(['shadow']);
      const [shadow] = stages;
      expect(shadow).toMatchObject({ decisions: 7, samples: 6, pendingHuman: 1, pendingAi: 0 });
      expect(shadow!.cohorts).toHaveLength(1);
      const c = shadow!.cohorts[0]!;
      expect(c).toMatchObject({
        stage: 'shadow',
        modelVersion: 'sim-1',
        samples: 6,
        decisions: 7,
        aiCalls: 7,
        aiErrors: 0,
        aiErrorRate: 0,
        inputTokens: 7 * 300,
        outputTokens: 7 * 20,
        pendingHuman: 1,
        pendingAi: 0,
      });
      // 4 of 6 agree: k-5 (human reject, AI approve) and k-6 (human approve, AI escalate) do not.
      expect(c.agreement).toBeCloseTo(4 / 6, 10);
      // Wilson 95%: (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n) with p = 2/3, n = 6, z = 1.96.
      expect(c.agreementLowerBound).toBeCloseTo(0.29999, 4);
      // Human marginals (approve, reject, escalate) 3, 2, 1; AI 3, 1, 2: pe = 13/36, po = 24/36.
      expect(c.kappa).toBeCloseTo(11 / 23, 10);
      expect(c.confusion).toEqual({
        labels: ['approve', 'reject', 'escalate'],
        matrix: [
          [2, 0, 1],
          [1, 1, 0],
          [0, 0, 1],
        ],
      });
      expect(c.perLabel).toEqual([
        {
          label: 'approve',
          precision: 2 / 3,
          recall: 2 / 3,
          support: 3,
          hits: 2,
          predicted: 3,
          aiFailures: 0,
        },
        { label: 'reject', precision: 1, recall: 1 / 2, support: 2, hits: 1, predicted: 1, aiFailures: 0 },
        { label: 'escalate', precision: 1 / 2, recall: 1, support: 1, hits: 1, predicted: 2, aiFailures: 0 },
      ]);
      // Per call 0.0001 + 300 × 0.15/1e6 + 20 × 0.60/1e6 = 0.000157 USD.
      expect(c.aiCostPerDecision).toBeCloseTo(0.000157, 10);
      // 6 of 7 decisions carry a human decision at 1.80 USD.
      expect(c.humanCostPerDecision).toBeCloseTo((1.8 * 6) / 7, 10);
      expect(c.costPerDecision).toBeCloseTo(0.000157 + (1.8 * 6) / 7, 10);
      // One batch is stored at one instant: no arrival rate, so no monthly projection.
      expect(c).toMatchObject({ monthlyVolume: null, monthlyCost: null, monthlySavings: null });
      expect(c.latencyP50Ms as number).toBeGreaterThanOrEqual(2);
      expect(c.latencyP95Ms as number).toBeGreaterThanOrEqual(c.latencyP50Ms as number);
      expect(c.segments).toEqual([
        {
          segment: 'region',
          value: 'EU',
          samples: 4,
          agreement: 0.5,
          agreementLowerBound: expect.any(Number),
          aiFailures: 0,
        },
        {
          segment: 'region',
          value: 'US',
          samples: 2,
          agreement: 1,
          agreementLowerBound: expect.any(Number),
          aiFailures: 0,
        },
      ]);
    });

    it('when the metrics are filtered by segment, then only decisions with that context value count', async () => {
      const [eu] = await metrics('known', '?segment=region:EU');
      expect(eu).toMatchObject({ stage: 'shadow', decisions: 5, samples: 4, pendingHuman: 1 });
      expect(eu!.cohorts[0]).toMatchObject({
        agreement: 0.5,
        confusion: {
          labels: ['approve', 'reject', 'escalate'],
          matrix: [
            [2, 0, 1],
            [1, 0, 0],
            [0, 0, 0],
          ],
        },
      });
      const [us] = await metrics('known', '?segment=region=US');
      expect(us).toMatchObject({ decisions: 2, samples: 2, pendingHuman: 0 });
      expect(us!.cohorts[0]).toMatchObject({ agreement: 1 });
      expect(await metrics('known', '?segment=region:APAC')).toEqual([]);
    });

    it('when the metrics are filtered by stage and time, then only matching decisions count', async () => {
      const [shadow] = await metrics('known', '?stage=shadow&segment=region:US');
      expect(shadow).toMatchObject({ stage: 'shadow', decisions: 2 });
      expect(await metrics('known', '?stage=human-reviewed')).toEqual([]);
      const hourAway = (sign: number) =>
        encodeURIComponent(new Date(Date.now() + sign * 3_600_000).toISOString());
      expect(await metrics('known', `?from=${hourAway(1)}`)).toEqual([]);
      expect(await metrics('known', `?to=${hourAway(-1)}`)).toEqual([]);
      const [window] = await metrics('known', `?from=${hourAway(-1)}&to=${hourAway(1)}`);
      expect(window).toMatchObject({ decisions: 7, samples: 6 });
    });
  });
});
