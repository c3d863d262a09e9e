import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimOptions,
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { stableUnit } from '../../scripts/simulation/stable-hash.js';
import { waitForProgress } from '../support/progress.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { type Auth, applyApproved, createKey } from '../support/change-approval.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 14's scenarios through the API, on invoice traffic whose clerks approve 90%, reject 7% and
 * escalate 3% (a seeded draw per request). Each input carries the clerk's label as
 * `referenceLabel`, so the simulated AI's "right answer" is the clerk's: an AI with agreement 0.97
 * is right on 97% of the requests of every label, and one that always answers `approve` agrees
 * about 90% of the time while catching no rejection (the majority trap).
 */

const BATCH = 100;
/** The promise: a good AI is promoted within this many decisions. */
const PROMOTED_WITHIN = 1_500;
/**
 * Fifteen batches, each waited on and ticked, take about 15 s here and several times that on two
 * busy cores. The waits themselves fail only when the work stalls (support/progress.ts); this
 * is the outer limit beyond them.
 */
const DRIVE_TIMEOUT_MS = 300_000;

interface Criterion {
  name: string;
  status: 'holds' | 'inconclusive' | 'blocked';
  required: number | string;
  actual: number | string | null;
  samples?: number;
}

interface Gate {
  verdict: string;
  criteria: Criterion[];
  majorityBaseline: { label: string; agreement: number } | null;
  warnings: Array<{ code: string; message: string }>;
}

/** The clerk's label of the k-th request: the same for every use case, 90/7/3 over many. */
function clerkLabel(k: number): string {
  const u = stableUnit('label-gates', k);
  return u < 0.9 ? 'approve' : u < 0.97 ? 'reject' : 'escalate';
}

function decisions(useCase: string, from: number, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const k = from + i;
    const invoice = makeInvoice(k);
    const label = clerkLabel(k);
    return {
      useCase,
      requestId: `${useCase}-${k}`,
      input: { ...invoice.input, referenceLabel: label },
      context: invoice.context,
      human: { decision: label },
    };
  });
}

const rejectsIn = (n: number) =>
  Array.from({ length: n }, (_, k) => clerkLabel(k)).filter((l) => l === 'reject').length;

const stages = (promoteWhen: string, approval = 'automatic') => `stages:
  shadow:
    approval: ${approval}
    promoteWhen: { minSamples: 500, agreementLowerBound: 0.85${promoteWhen} }
  human-reviewed: { approval: manual }
`;

/** The first plan of issue 14: the rejections must be caught. */
const RECALL = stages(', labelRecallLowerBound: { reject: 0.7 }');
/** The second: approving an invoice the clerk rejected costs 500 USD; at most 5 USD a decision on average. */
const COST = `errorCosts: { approve: { reject: 500 } }
${stages(', maxErrorCostPerDecision: 5')}`;
/** Agreement alone: what the issue warns about. */
const AGREEMENT_ONLY = stages('', 'manual');

describe('gates that see the rare labels (90/7/3 traffic)', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  const sims: SimulatedAiSystem[] = [];
  let alwaysApprove: SimulatedAiSystem;
  let good: SimulatedAiSystem;
  let failsOnRejects: SimulatedAiSystem;
  /** Approves the plans that allow an automatic promotion. */
  let release: Auth;
  let now = new Date();
  const clock = () => now;
  /** Each tick moves the injected clock on, so it is a tick slot of its own. */
  const tick = () => {
    now = new Date(now.getTime() + 60_000);
    return tc.controller.engine.tick(now);
  };

  const startSim = async (options: SimOptions) => {
    const sim = await startSimulatedAiSystem(options);
    sims.push(sim);
    return sim;
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process', clock });
    release = await createKey(tc, 'rm-label-gates', 'release');
    alwaysApprove = await startSim({ alwaysAnswer: 'approve', modelVersion: 'always-approve' });
    good = await startSim({ agreement: 0.97, modelVersion: 'good-97' });
    failsOnRejects = await startSim({ agreement: 1, failOnReference: ['reject'], modelVersion: 'fails' });
  });
  afterAll(async () => {
    await tc?.stop();
    await Promise.all(sims.map((s) => s.close()));
    await tdb?.drop();
  });

  /** Applies a plan; one allowing an automatic promotion is approved by a release key (README "Change control"). */
  function apply(useCase: string, ai: SimulatedAiSystem, tail: string, description?: string) {
    let plan = labelPlan(useCase, `${ai.url}/decide`).replace(/stages:[\s\S]*$/, tail);
    if (description) plan = plan.replace('description: test use case', `description: ${description}`);
    return applyApproved(tc, useCase, plan, release);
  }

  const detailOf = async (useCase: string) =>
    (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin).expect(200)).body;

  /** Sends decisions [from, from + count) and waits until the AI has answered or failed each. */
  async function send(useCase: string, from: number, count: number) {
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: decisions(useCase, from, count) })
      .expect(202);
    const total = from + count;
    await waitForProgress({
      what: `the AI calls of ${useCase}'s first ${total} decisions`,
      read: async () => {
        const shadow = (await detailOf(useCase)).metrics.stages.find(
          (s: { stage: string }) => s.stage === 'shadow',
        );
        // the decisions not yet stored or answered, as one count that falls to 0
        return total - (shadow?.decisions ?? 0) + (shadow?.pendingAi ?? total);
      },
      done: (left) => left === 0,
    });
  }

  /**
   * Batches of decisions, a tick after each, until the tick promotes the use case or `limit`
   * decisions are sent. Returns the decisions sent when it was promoted, or null.
   */
  async function driveUntilPromoted(useCase: string, limit: number): Promise<number | null> {
    for (let sent = 0; sent < limit; ) {
      const n = Math.min(BATCH, limit - sent);
      await send(useCase, sent, n);
      sent += n;
      const report = await tick();
      if (report.promoted.includes(useCase)) return sent;
    }
    return null;
  }

  const blockedNames = (gate: Gate) => gate.criteria.filter((c) => c.status !== 'holds').map((c) => c.name);
  const criterion = (gate: Gate, name: string) => gate.criteria.find((c) => c.name === name);

  describe('when the AI always answers approve', () => {
    it(
      'then under labelRecallLowerBound {reject: 0.7} it stays in shadow, blocked on reject recall, while the agreement bound holds',
      async () => {
        expect(await apply('trap-recall', alwaysApprove, RECALL)).toMatchObject({ created: true });
        expect(await driveUntilPromoted('trap-recall', PROMOTED_WITHIN)).toBeNull();

        const detail = await detailOf('trap-recall');
        expect(detail.stage).toBe('shadow');
        const gate: Gate = detail.gate;
        expect(gate.verdict).toBe('blocked');
        expect(blockedNames(gate)).toEqual(['labelRecallLowerBound:reject']);
        const recall = criterion(gate, 'labelRecallLowerBound:reject')!;
        expect(recall).toMatchObject({
          status: 'blocked',
          required: 0.7,
          samples: rejectsIn(PROMOTED_WITHIN),
        });
        expect(recall.actual).toBe(0);
        // the trap is real: the plain agreement is about 90% and its bound clears 0.85
        expect(criterion(gate, 'agreementLowerBound')!.status).toBe('holds');
        const cohort = detail.metrics.stages[0].cohorts[0];
        expect(cohort.agreement).toBeGreaterThan(0.88);
        expect(cohort.agreement).toBeLessThan(0.92);
        expect(gate.warnings).toEqual([]);
      },
      DRIVE_TIMEOUT_MS,
    );

    it(
      'then under maxErrorCostPerDecision 5 with 500 USD for approving a rejection it stays in shadow, blocked on the error cost',
      async () => {
        expect(await apply('trap-cost', alwaysApprove, COST)).toMatchObject({ created: true });
        expect(await driveUntilPromoted('trap-cost', PROMOTED_WITHIN)).toBeNull();

        const detail = await detailOf('trap-cost');
        expect(detail.stage).toBe('shadow');
        const gate: Gate = detail.gate;
        expect(gate.verdict).toBe('blocked');
        expect(blockedNames(gate)).toEqual(['maxErrorCostPerDecision']);
        const cost = criterion(gate, 'maxErrorCostPerDecision')!;
        expect(cost).toMatchObject({ status: 'blocked', required: 5 });
        // every rejection approved: 500 USD × its share of the compared decisions, far above 5
        const cohort = detail.metrics.stages[0].cohorts[0];
        expect(cohort.errorCost.perDecision).toBeCloseTo(
          (500 * rejectsIn(PROMOTED_WITHIN)) / PROMOTED_WITHIN,
          6,
        );
        expect(cohort.errorCost.lowerBound).toBeGreaterThan(5);
        expect(criterion(gate, 'agreementLowerBound')!.status).toBe('holds');
        expect(gate.warnings).toEqual([]);
      },
      DRIVE_TIMEOUT_MS,
    );

    it(
      'then an agreement-only plan lets it through with a majority-baseline warning, in the gate and in the answer to the next plan',
      async () => {
        const created = await apply('trap-agreement', alwaysApprove, AGREEMENT_ONLY);
        expect(created.created).toBe(true);
        // no traffic yet, nothing to judge the bar against
        expect(created.warnings).toEqual([]);
        for (let sent = 0; sent < PROMOTED_WITHIN; sent += 500) await send('trap-agreement', sent, 500);

        const gate: Gate = (await detailOf('trap-agreement')).gate;
        expect(gate.verdict).toBe('eligible');
        expect(gate.majorityBaseline?.label).toBe('approve');
        expect(gate.majorityBaseline?.agreement).toBeGreaterThan(0.88);
        expect(gate.warnings).toHaveLength(1);
        expect(gate.warnings[0]).toMatchObject({ code: 'majority-baseline' });
        expect(gate.warnings[0]!.message).toMatch(/"approve"/);

        const again = (await apply('trap-agreement', alwaysApprove, AGREEMENT_ONLY, 'triage, reworded')) as {
          planVersion: number;
          majorityBaseline: { label: string };
          warnings: Array<{ code: string }>;
        };
        expect(again.planVersion).toBe(2);
        expect(again.majorityBaseline.label).toBe('approve');
        expect(again.warnings.map((w) => w.code)).toEqual(['majority-baseline']);
      },
      DRIVE_TIMEOUT_MS,
    );
  });

  describe('when the AI is right 97% of the time on every label', () => {
    it.each([
      ['good-recall', RECALL],
      ['good-cost', COST],
    ])(
      'then %s is promoted to human-reviewed by the tick within 1,500 decisions',
      async (useCase, plan) => {
        expect(await apply(useCase, good, plan)).toMatchObject({ created: true });
        const promotedAt = await driveUntilPromoted(useCase, PROMOTED_WITHIN);
        expect(promotedAt).not.toBeNull();
        expect(promotedAt!).toBeLessThanOrEqual(PROMOTED_WITHIN);

        expect((await detailOf(useCase)).stage).toBe('human-reviewed');
        const { body } = await tc.http.get(`/v1/use-cases/${useCase}/transitions`).set(tc.admin).expect(200);
        const promotion = body.transitions.at(-1);
        expect(promotion).toMatchObject({
          fromStage: 'shadow',
          toStage: 'human-reviewed',
          actor: 'system (plan v1 by bootstrap-admin, approved by key:rm-label-gates)',
        });
        expect(promotion.snapshot.gate.verdict).toBe('eligible');
        expect(promotion.snapshot.gate.warnings).toEqual([]);
        expect(promotion.snapshot.metrics.samples).toBe(promotedAt);
      },
      DRIVE_TIMEOUT_MS,
    );
  });

  describe('when the AI fails for good on every request the clerk rejected', () => {
    const SENT = 800;
    const failing = `stages:
  shadow:
    promoteWhen: { minSamples: 500, agreementLowerBound: 0.85, labelRecallLowerBound: { reject: 0.7 } }
  human-reviewed: { approval: manual }
`;

    it('then under aiFailures disagree (the default) the reject recall counts those failures as misses', async () => {
      expect(await apply('fails-disagree', failsOnRejects, failing)).toMatchObject({ created: true });
      await send('fails-disagree', 0, SENT);
      const detail = await detailOf('fails-disagree');
      const cohort = detail.metrics.stages[0].cohorts[0];
      const rejects = rejectsIn(SENT);
      expect(cohort.aiFailedWithHuman).toBe(rejects);
      expect(cohort.samples).toBe(SENT - rejects);
      expect(cohort.agreement).toBe(1);
      const recall = criterion(detail.gate, 'labelRecallLowerBound:reject')!;
      expect(recall).toMatchObject({ samples: rejects, actual: 0, status: 'blocked' });
      expect(criterion(detail.gate, 'agreementLowerBound')!.samples).toBe(SENT);
      expect(detail.gate.verdict).toBe('blocked');
    });

    it('then under aiFailures exclude they are left out: no reject sample, so the criterion waits', async () => {
      expect(await apply('fails-exclude', failsOnRejects, `aiFailures: exclude\n${failing}`)).toMatchObject({
        created: true,
      });
      await send('fails-exclude', 0, SENT);
      const detail = await detailOf('fails-exclude');
      const cohort = detail.metrics.stages[0].cohorts[0];
      expect(cohort.aiFailedWithHuman).toBe(rejectsIn(SENT));
      const recall = criterion(detail.gate, 'labelRecallLowerBound:reject')!;
      expect(recall).toMatchObject({ samples: 0, actual: null, status: 'inconclusive' });
      expect(criterion(detail.gate, 'agreementLowerBound')!.samples).toBe(SENT - rejectsIn(SENT));
      // never a pass on labels it has not seen answered
      expect(detail.gate.verdict).toBe('inconclusive');
    });
  });
});
