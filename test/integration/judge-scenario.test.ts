import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { type SimulatedJudge, startSimulatedJudge } from '../../scripts/simulation/simulated-judge.js';
import { agentReply, isAcceptableDraft, makeTicket } from '../../scripts/simulation/support-tickets.js';
import { isSampled } from '../../src/contracts/sampling.js';
import { CALIBRATION_SALT } from '../../src/plans/judge-comparator.js';
import { type Auth, applyApproved, createKey } from '../support/change-approval.js';
import { waitForProgress } from '../support/progress.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 17's Done-when, on the real controller (PostgreSQL, the in-process queue): support reply
 * drafts (text decisions) scored by a judge that is itself checked against people. The simulated
 * drafting AI's drafts are acceptable (token-f1 to the agent's reply >= 0.5) 96% of the time; the
 * simulated judge scores by the same truth, wrong with a chosen probability; the people's ratings
 * are that truth. So what each scenario should show is known:
 *
 * - a judge right 95% of the time: the AI measures about 0.96·0.95 + 0.04·0.05 = 91% by it, above
 *   the gate's 0.85 bound from a few hundred drafts; the judge agrees with people about 95% of the
 *   time, so its calibration criterion (0.8) holds after about 70 ratings and not before;
 * - a judge right 70% of the time: it agrees with people about 70% of the time, below the bar, so
 *   the criterion never holds however many ratings come;
 * - a judge that is down: every judged comparison waits (no score, never 0 or 1) and is judged
 *   once the judge answers again.
 */

const DRAFTS = 800;
/** A quarter of the drafts are offered for rating, so the scenario needs 800 drafts, not 3,000. */
const CALIBRATION_RATE = 0.25;

interface Criterion {
  name: string;
  status: 'holds' | 'inconclusive' | 'blocked';
  required: unknown;
  actual: unknown;
}

/** Judged by the AI's agreement and the judge's calibration; promoted by the tick (approved once). */
const GATED = `stages:
  shadow:
    approval: automatic
    promoteWhen: { minSamples: 500, agreementLowerBound: 0.85, judgeAgreementLowerBound: 0.8 }
  human-reviewed: { approval: manual }
`;

function draftingPlan(useCase: string, aiUrl: string, judgeUrl: string, stages = GATED): string {
  return `useCase: ${useCase}
owner: support@example.com
decision: { type: text, maxLength: 2000 }
comparator:
  type: judge
  url: ${judgeUrl}
  timeoutMs: 2000
  pricing: { perCall: 0.001 }
  rubric: Score 1 if the draft could be sent after light edits, else 0.
  calibrationRate: ${CALIBRATION_RATE}
ai:
  adapter: http
  url: ${aiUrl}
  timeoutMs: 2000
  concurrency: 16
${stages}`;
}

function decisions(useCase: string, from: number, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const ticket = makeTicket(from + i);
    return {
      useCase,
      requestId: `${useCase}-${ticket.requestId}`,
      input: ticket.input,
      context: ticket.context,
      human: { decision: agentReply(ticket.input) },
    };
  });
}

describe('drafts judged by a judge that is checked against people', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let release: Auth;
  let ingest: Auth;
  let now = new Date();
  const tick = () => {
    now = new Date(now.getTime() + 60_000);
    return tc.controller.engine.tick(now);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 0.96, seed: 'judge-scenario' });
    tc = await startTestController({ database: tdb.database, queue: 'in-process', clock: () => now });
    release = await createKey(tc, 'rm-judge', 'release');
    ingest = await createKey(tc, 'support-desk', 'ingest');
  });
  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  const detailOf = async (useCase: string) =>
    (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin).expect(200)).body;
  const criterion = (detail: { gate: { criteria: Criterion[] } }, name: string) =>
    detail.gate.criteria.find((c) => c.name === name);

  /** Applies the plan, sends the drafts' decisions, waits until every draft is judged. */
  async function judgedDrafts(useCase: string, judge: SimulatedJudge) {
    const plan = draftingPlan(useCase, `${sim.url}/decide`, judge.url);
    expect(await applyApproved(tc, useCase, plan, release)).toMatchObject({ created: true });
    const sent = decisions(useCase, 0, DRAFTS);
    for (let i = 0; i < sent.length; i += 400) {
      await tc.http
        .post('/v1/decisions')
        .set(ingest)
        .send({ decisions: sent.slice(i, i + 400) })
        .expect(202);
    }
    await waitForProgress({
      what: `the ${DRAFTS} drafts of ${useCase} judged`,
      read: async () => (await detailOf(useCase)).metrics.stages[0]?.samples ?? 0,
      done: (samples) => samples === DRAFTS,
    });
    return sent;
  }

  /** The people's ratings of the calibration sample: the truth, acceptable or not. */
  function ratingsOf(sent: ReturnType<typeof decisions>) {
    return sent
      .filter((d) => isSampled(d.requestId, CALIBRATION_RATE, CALIBRATION_SALT))
      .map((d) => {
        const draft = sim.stats().byRequest[d.requestId]?.decision;
        if (typeof draft !== 'string') throw new Error(`no draft for ${d.requestId}`);
        return { requestId: d.requestId, acceptable: isAcceptableDraft(d.human.decision, draft) };
      });
  }

  async function rate(useCase: string, ratings: Array<{ requestId: string; acceptable: boolean }>) {
    for (const r of ratings) {
      const res = await tc.http
        .post(`/v1/decisions/${useCase}/${encodeURIComponent(r.requestId)}/rating`)
        .set(ingest)
        .send({ acceptable: r.acceptable, by: 'agent-1' });
      expect([200, 202], JSON.stringify(res.body)).toContain(res.status);
      // In the calibration sample: it counts.
      expect(res.body.counted).toBe(true);
    }
  }

  it('when a drafting AI acceptable 96% of the time is judged by a judge agreeing with people 95% of the time, then the gate is inconclusive on the judge calibration until enough ratings, and then the tick promotes', async () => {
    const judge = await startSimulatedJudge({ accuracy: 0.95, judgeVersion: 'judge-95' });
    try {
      const sent = await judgedDrafts('drafts-judge-95', judge);
      const ratings = ratingsOf(sent);
      expect(ratings.length).toBeGreaterThan(150);

      // Every other criterion holds on the judge's scores; without ratings the judge is unproven.
      const before = await detailOf('drafts-judge-95');
      expect(before.metrics.stages[0].cohorts[0].agreement).toBeGreaterThan(0.87);
      expect(criterion(before, 'agreementLowerBound')?.status).toBe('holds');
      expect(criterion(before, 'minSamples')?.status).toBe('holds');
      expect(criterion(before, 'judgeAgreementLowerBound')?.status).toBe('inconclusive');
      expect(before.gate.verdict).toBe('inconclusive');
      let report = await tick();
      expect(report.promoted).not.toContain('drafts-judge-95');

      // A few ratings: still unproven (the bound of 30 ratings cannot reach 0.8).
      await rate('drafts-judge-95', ratings.slice(0, 30));
      const few = await detailOf('drafts-judge-95');
      expect(criterion(few, 'judgeAgreementLowerBound')?.status).toBe('inconclusive');
      report = await tick();
      expect(report.promoted).not.toContain('drafts-judge-95');
      expect((await detailOf('drafts-judge-95')).stage).toBe('shadow');

      // All of them: the judge has shown it agrees with people; the next tick promotes.
      await rate('drafts-judge-95', ratings.slice(30));
      const after = await detailOf('drafts-judge-95');
      const calibration = after.judgeCalibration.versions[0];
      expect(calibration).toMatchObject({ judgeVersion: 'judge-95', rated: ratings.length });
      expect(Math.abs(calibration.agreement - 0.95)).toBeLessThan(0.05);
      expect(criterion(after, 'judgeAgreementLowerBound')?.status).toBe('holds');
      expect(after.gate.verdict).toBe('eligible');
      report = await tick();
      expect(report.promoted).toContain('drafts-judge-95');
      expect((await detailOf('drafts-judge-95')).stage).toBe('human-reviewed');
    } finally {
      await judge.close();
    }
  }, 300_000);

  it('when the same AI is judged by a judge agreeing with people 70% of the time, then however many ratings come the calibration criterion stays inconclusive and nothing is promoted', async () => {
    const judge = await startSimulatedJudge({ accuracy: 0.7, judgeVersion: 'judge-70' });
    try {
      const sent = await judgedDrafts('drafts-judge-70', judge);
      const ratings = ratingsOf(sent);
      await rate('drafts-judge-70', ratings);
      const detail = await detailOf('drafts-judge-70');
      // Every rating counted: some 200, four times the criterion's 50-rating floor.
      const calibration = detail.judgeCalibration.versions[0];
      expect(calibration).toMatchObject({ judgeVersion: 'judge-70', rated: ratings.length });
      expect(calibration.rated).toBeGreaterThan(150);
      expect(Math.abs(calibration.agreement - 0.7)).toBeLessThan(0.08);
      expect(calibration.agreementLowerBound).toBeLessThan(0.8);
      expect(criterion(detail, 'judgeAgreementLowerBound')?.status).toBe('inconclusive');
      expect(detail.gate.verdict).not.toBe('eligible');
      const report = await tick();
      expect(report.promoted).not.toContain('drafts-judge-70');
      expect((await detailOf('drafts-judge-70')).stage).toBe('shadow');
    } finally {
      await judge.close();
    }
  }, 300_000);

  it('when the judge is down, then the comparisons stay pending (no score, never 0 or 1), and once it recovers every one is judged exactly once', async () => {
    const judge = await startSimulatedJudge({ accuracy: 0.95, outage: true });
    try {
      const useCase = 'drafts-judge-outage';
      // No gate: this one is about the judge's calls, not what they promote.
      const plan = draftingPlan(useCase, `${sim.url}/decide`, judge.url, '');
      await applyApproved(tc, useCase, plan, release);
      const sent = decisions(useCase, 0, 100);
      await tc.http.post('/v1/decisions').set(ingest).send({ decisions: sent }).expect(202);
      // The AI answers every draft; the judge refuses every call.
      await waitForProgress({
        what: 'the drafts answered and the judge tried',
        read: async () => (await detailOf(useCase)).metrics.stages[0]?.pendingAi ?? sent.length,
        done: (pending) => pending === 0,
      });
      await waitForProgress({
        what: 'a call to the judge for every draft',
        read: () => Object.keys(judge.stats().byRequest).length,
        done: (n) => n === sent.length,
      });
      const scored = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from decisions where use_case = ${useCase} and score is not null`,
      );
      expect(scored[0]!.n).toBe(0);
      // Owed, not failed: a judge that is down is retried, never given up on.
      const owed = await tdb.database.rows<{ state: string; n: number }>(
        sql`select state, count(*)::int as n from judge_calls where use_case = ${useCase} group by state`,
      );
      expect(owed).toEqual([{ state: 'owed', n: sent.length }]);
      expect((await detailOf(useCase)).metrics.stages[0].samples).toBe(0);

      judge.setOptions({ outage: false });
      await waitForProgress({
        what: 'every draft judged after the judge recovered',
        read: async () => (await detailOf(useCase)).metrics.stages[0]?.samples ?? 0,
        done: (samples) => samples === sent.length,
      });
      const calls = await tdb.database.rows<{ state: string; n: number }>(
        sql`select state, count(*)::int as n from judge_calls where use_case = ${useCase} group by state`,
      );
      expect(calls).toEqual([{ state: 'done', n: sent.length }]);
      // Judged once: one answered call per draft after the recovery, none lost, none twice.
      const byRequest = Object.values(judge.stats().byRequest);
      expect(byRequest).toHaveLength(sent.length);
      expect(byRequest.every((r) => r.answered === 1)).toBe(true);
      expect(judge.stats().answered).toBe(sent.length);
    } finally {
      await judge.close();
    }
  }, 300_000);
});
