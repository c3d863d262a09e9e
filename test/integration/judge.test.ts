import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import {
  acceptable,
  type SimulatedJudge,
  simulatedScore,
  startSimulatedJudge,
} from '../../scripts/simulation/simulated-judge.js';
import { isSampled } from '../../src/contracts/sampling.js';
import { waitForProgress } from '../support/progress.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 17's judge comparator end to end on the real PostgreSQL: text decisions whose drafts the
 * simulated AI writes, scored by the simulated judge (token-f1 of at least 0.5 is acceptable).
 * The judge's calls are owed in PostgreSQL, claimed by the judge worker and written with the
 * decision's score; an outage leaves the comparisons pending and loses none; a permanent failure
 * leaves its decision pending with the error shown; a new judge restarts the evidence.
 */

function judgedPlan(useCase: string, aiUrl: string, judgeUrl: string, judgeExtra = ''): string {
  return `useCase: ${useCase}
owner: support@example.com
decision: { type: text, maxLength: 2000 }
comparator:
  type: judge
  url: ${judgeUrl}
  timeoutMs: 5000
  rubric: The draft makes the same promise to the customer as the agent's reply.
  calibrationRate: 0.3
  pricing: { perCall: 0.002 }
${judgeExtra}
ai:
  adapter: http
  url: ${aiUrl}
  timeoutMs: 5000
  maxAttempts: 3
`;
}

/** Agent replies and AI drafts: some drafts close to the reply (acceptable), some not. */
function drafts(prefix: string, n: number) {
  const replies = [
    [
      'Your refund was issued today and reaches your card within five days.',
      'Your refund was issued today; it reaches your card in five days.',
    ],
    ['We have sent a replacement parcel by express post.', 'A replacement parcel went out by express post.'],
    ['Please reset your password from the login page.', 'Our office is closed on public holidays.'],
    ['The invoice is attached again for your records.', 'Sorry for the delay.'],
  ] as const;
  return Array.from({ length: n }, (_, i) => {
    const [human, draft] = replies[i % replies.length]!;
    return { requestId: `${prefix}-${i}`, human, draft };
  });
}

describe('the judge comparator', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let ai: SimulatedAiSystem;
  let judge: SimulatedJudge;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    ai = await startSimulatedAiSystem({ modelVersion: 'drafter-1' });
    judge = await startSimulatedJudge({ accuracy: 0.9, costPerCall: 0.002, latencyMs: 5 });
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      judge: { pollMs: 100, backoffMs: 50 },
    });
  });
  afterAll(async () => {
    await tc?.stop();
    await Promise.all([ai?.close(), judge?.close()]);
    await tdb?.drop();
  });

  const apply = async (useCase: string, text: string) => {
    const res = await tc.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(text);
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
    return res.body;
  };
  const detailOf = async (useCase: string) =>
    (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin).expect(200)).body;
  const mirror = async (useCase: string, items: ReturnType<typeof drafts>) => {
    const res = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({
        decisions: items.map((d) => ({
          useCase,
          requestId: d.requestId,
          input: { ticket: `ticket ${d.requestId}`, draft: d.draft },
          human: { decision: d.human },
        })),
      });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  };
  const judgeCalls = (useCase: string) =>
    tdb.database.rows<{
      request_id: string;
      state: string;
      attempts: number;
      score: number | null;
      error: string | null;
      calibration: boolean;
      judge_version: string | null;
      cost: number | null;
      decision_score: number | null;
    }>(sql`
      select j.request_id, j.state, j.attempts, j.score, j.error, j.calibration, j.judge_version, j.cost,
        d.score as decision_score
      from judge_calls j join decisions d on d.id = j.decision_id
      where j.use_case = ${useCase} order by j.request_id`);
  const countWhere = async (useCase: string, state: string) =>
    (await judgeCalls(useCase)).filter((c) => c.state === state).length;

  it('when text decisions are judged, then each gets the judge score, the rollups count them and the judge is measured apart', async () => {
    const useCase = 'judged-drafts';
    await apply(useCase, judgedPlan(useCase, `${ai.url}/decide`, judge.url));
    const items = drafts('d', 40);
    await mirror(useCase, items);

    await waitForProgress({
      what: 'every judge call answered',
      read: () => countWhere(useCase, 'done'),
      done: (n) => n === items.length,
    });

    const calls = await judgeCalls(useCase);
    for (const item of items) {
      const call = calls.find((c) => c.request_id === item.requestId)!;
      const expected = simulatedScore(item.requestId, item.human, item.draft, 0.9);
      expect(call).toMatchObject({
        state: 'done',
        attempts: 1,
        score: expected,
        decision_score: expected,
        judge_version: 'simulated-judge-1',
        cost: 0.002,
        calibration: isSampled(item.requestId, 0.3, 'calibration'),
      });
    }
    // The simulated judge is right on some and wrong on others: both kinds are in the run.
    const mistakes = items.filter(
      (i) => simulatedScore(i.requestId, i.human, i.draft, 0.9) !== (acceptable(i.human, i.draft) ? 1 : 0),
    );
    expect(mistakes.length).toBeGreaterThan(0);
    expect(calls.some((c) => c.calibration) && calls.some((c) => !c.calibration)).toBe(true);

    // The rollups count the judged scores: the cohort's agreement is their mean.
    const detail = await detailOf(useCase);
    const cohort = detail.metrics.stages[0].cohorts[0];
    const mean =
      items.reduce((s, i) => s + simulatedScore(i.requestId, i.human, i.draft, 0.9), 0) / items.length;
    expect(cohort.samples).toBe(items.length);
    expect(cohort.agreement).toBeCloseTo(mean, 9);
    // The judge's block: its own calls, cost and latency, apart from the AI's.
    expect(detail.judge).toMatchObject({
      done: items.length,
      owed: 0,
      failed: 0,
      retrying: 0,
      lastError: null,
    });
    expect(detail.judge.totalCost).toBeCloseTo(0.002 * items.length, 9);
    expect(detail.judge.costPerJudgedDecision).toBeCloseTo(0.002, 9);
    expect(detail.judge.latencyP50Ms).toBeGreaterThanOrEqual(0);
    expect(detail.judge.latencyP95Ms).toBeGreaterThanOrEqual(detail.judge.latencyP50Ms);
    expect(detail.judge.versions).toEqual([{ judgeVersion: 'simulated-judge-1', done: items.length }]);
    expect(cohort.aiCostPerDecision ?? 0).toBe(0); // the simulated AI reports no cost: the judge's is not in it
    const metrics = (await tc.http.get(`/v1/use-cases/${useCase}/metrics`).set(tc.admin).expect(200)).body;
    expect(metrics.judge).toEqual(detail.judge);

    // The judge's cost is on the day's AI spend (ai.maxDailyCost counts it).
    const [spend] = await tdb.database.rows<{ cost: number }>(
      sql`select sum(cost)::float8 as cost from daily_ai_spend where use_case = ${useCase}`,
    );
    expect(Number(spend!.cost)).toBeCloseTo(0.002 * items.length, 9);

    const prom = (await tc.http.get('/metrics').expect(200)).text;
    expect(prom).toContain(
      `shadowgate_judge_calls_total{use_case="${useCase}",outcome="done"} ${items.length}`,
    );
    expect(prom).toMatch(new RegExp(`shadowgate_judge_cost_usd_total\\{use_case="${useCase}"\\} 0\\.08`));
    expect(prom).toContain(`shadowgate_judge_latency_seconds_count{use_case="${useCase}"} ${items.length}`);
  });

  it('when the judge is down, then the comparisons stay pending; once it is back every owed call is judged once, across a restart', async () => {
    const useCase = 'judge-outage';
    judge.setOptions({ outage: true });
    await apply(useCase, judgedPlan(useCase, `${ai.url}/decide`, judge.url));
    const items = drafts('o', 30);
    await mirror(useCase, items);

    // Every call was tried and failed at least once: each is owed still, its last error shown.
    const attempted = () =>
      items.filter((i) => (judge.stats().byRequest[i.requestId]?.calls ?? 0) > 0).length;
    await waitForProgress({
      what: 'every judge call tried',
      read: attempted,
      done: (n) => n === items.length,
    });
    await waitForProgress({
      what: 'every failure written',
      read: async () => (await judgeCalls(useCase)).filter((c) => c.error !== null).length,
      done: (n) => n === items.length,
    });
    const during = await judgeCalls(useCase);
    expect(during.map((c) => c.state)).toEqual(items.map(() => 'owed'));
    expect(during.map((c) => c.decision_score)).toEqual(items.map(() => null));
    expect(during[0]!.error).toMatch(/^http-status: .*503/);
    const pending = (await detailOf(useCase)).judge;
    expect(pending).toMatchObject({ done: 0, owed: items.length, failed: 0, retrying: items.length });
    expect(pending.lastError).toMatchObject({ state: 'owed', error: expect.stringContaining('503') });
    expect((await detailOf(useCase)).metrics.stages[0].cohorts[0]?.samples ?? 0).toBe(0);

    // The controller stops mid-outage (its claims handed back) and a new one takes over.
    await tc.stop();
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      judge: { pollMs: 100, backoffMs: 50 },
    });
    judge.setOptions({ outage: false });
    await waitForProgress({
      what: 'every owed judge call answered after the outage',
      read: () => countWhere(useCase, 'done'),
      done: (n) => n === items.length,
    });
    const after = await judgeCalls(useCase);
    for (const item of items) {
      const call = after.find((c) => c.request_id === item.requestId)!;
      expect(call.decision_score).toBe(simulatedScore(item.requestId, item.human, item.draft, 0.9));
      expect(call.error).toBeNull();
      // Answered once: none judged twice, none lost.
      expect(judge.stats().byRequest[item.requestId]!.answered).toBe(1);
    }
    expect((await detailOf(useCase)).metrics.stages[0].cohorts[0].samples).toBe(items.length);
    const prom = (await tc.http.get('/metrics').expect(200)).text;
    expect(prom).not.toMatch(new RegExp(`shadowgate_judge_calls_owed\\{use_case="${useCase}"\\}`));
  });

  it('when the judge refuses a call for good (HTTP 400), then the decision stays pending with the error shown, never scored', async () => {
    const useCase = 'judge-refuses';
    judge.setOptions({ failStatus: 400 });
    try {
      await apply(useCase, judgedPlan(useCase, `${ai.url}/decide`, judge.url));
      await mirror(useCase, drafts('p', 3));
      await waitForProgress({
        what: 'the judge calls failed for good',
        read: () => countWhere(useCase, 'error'),
        done: (n) => n === 3,
      });
    } finally {
      judge.setOptions({ failStatus: null });
    }
    const calls = await judgeCalls(useCase);
    expect(calls.map((c) => [c.state, c.attempts, c.decision_score, c.score])).toEqual([
      ['error', 1, null, null],
      ['error', 1, null, null],
      ['error', 1, null, null],
    ]);
    const detail = await detailOf(useCase);
    expect(detail.judge).toMatchObject({ done: 0, owed: 0, failed: 3 });
    expect(detail.judge.lastError).toMatchObject({
      state: 'error',
      error: expect.stringContaining('HTTP 400'),
    });
    expect(detail.metrics.stages[0].cohorts[0]?.samples ?? 0).toBe(0);
    // A repair does not score them either, nor owe a second call.
    expect(await tc.controller.worker.sweep()).toBeDefined();
    expect((await judgeCalls(useCase)).map((c) => c.decision_score)).toEqual([null, null, null]);
    const prom = (await tc.http.get('/metrics').expect(200)).text;
    expect(prom).toContain(`shadowgate_judge_calls_total{use_case="${useCase}",outcome="failed"} 3`);
  });

  it('when the judge answers off the contract, then it is asked again a few times and then failed for good', async () => {
    const useCase = 'judge-invalid';
    judge.setOptions({ invalidAnswer: true });
    try {
      await apply(useCase, judgedPlan(useCase, `${ai.url}/decide`, judge.url));
      await mirror(useCase, drafts('i', 2));
      await waitForProgress({
        what: 'the invalid answers failed for good',
        read: () => countWhere(useCase, 'error'),
        done: (n) => n === 2,
      });
    } finally {
      judge.setOptions({ invalidAnswer: false });
    }
    const calls = await judgeCalls(useCase);
    for (const call of calls) {
      expect(call).toMatchObject({ state: 'error', attempts: 3, score: null, decision_score: null });
      expect(call.error).toMatch(/^bad-output: judge answer does not fit: score/);
    }
  });

  it('when a process died between the answer and the judge call it owed, then the sweep repairs it and it is judged', async () => {
    const useCase = 'judge-repair';
    judge.setOptions({ outage: true });
    await apply(useCase, judgedPlan(useCase, `${ai.url}/decide`, judge.url));
    await mirror(useCase, drafts('r', 2));
    await waitForProgress({
      what: 'the judge calls owed',
      read: async () => (await judgeCalls(useCase)).length,
      done: (n) => n === 2,
    });
    // As if the process had died before the comparison owed r-1's call: both sides, no score, no call.
    await tdb.database.rows(sql`delete from judge_calls where use_case = ${useCase} and request_id = 'r-1'`);
    judge.setOptions({ outage: false });
    await tc.controller.worker.sweep();
    await waitForProgress({
      what: 'both judged',
      read: () => countWhere(useCase, 'done'),
      done: (n) => n === 2,
    });
    const calls = await judgeCalls(useCase);
    expect(calls.map((c) => c.decision_score)).toEqual(
      drafts('r', 2).map((d) => simulatedScore(d.requestId, d.human, d.draft, 0.9)),
    );
    // Repaired once: a second sweep owes nothing more.
    await tc.controller.worker.sweep();
    expect(await judgeCalls(useCase)).toHaveLength(2);
  });

  it('when a worker took a call and died (its lease lapses), then the call is claimed again and judged', async () => {
    const useCase = 'judge-lease';
    judge.setOptions({ outage: true });
    await apply(useCase, judgedPlan(useCase, `${ai.url}/decide`, judge.url));
    await mirror(useCase, drafts('l', 1));
    await waitForProgress({
      what: 'the judge call owed',
      read: async () => (await judgeCalls(useCase)).length,
      done: (n) => n === 1,
    });
    // Another process claims it for a moment and is killed before it answers (nothing released).
    await waitForProgress({
      what: 'a claim of our own',
      read: async () => ((await tc.controller.judgeWorker.calls.claim(useCase, 300)) ? 1 : 0),
      done: (n) => n === 1,
    });
    judge.setOptions({ outage: false });
    await waitForProgress({
      what: 'the call judged once its lease lapsed',
      read: () => countWhere(useCase, 'done'),
      done: (n) => n === 1,
    });
    expect(judge.stats().byRequest['l-0']!.answered).toBe(1);
  });

  it('when the judge changes (a new rubric), then the evidence restarts under a new AI configuration', async () => {
    const useCase = 'judge-changed';
    await apply(useCase, judgedPlan(useCase, `${ai.url}/decide`, judge.url));
    await mirror(useCase, drafts('a', 8));
    await waitForProgress({
      what: 'the first judge done',
      read: () => countWhere(useCase, 'done'),
      done: (n) => n === 8,
    });
    const first = await detailOf(useCase);
    expect(first.metrics.stages[0].cohorts[0].samples).toBe(8);

    // The calibration rate raised (more verdicts checked by people): the same configuration, its
    // evidence kept, and nothing to approve.
    const raised = judgedPlan(useCase, `${ai.url}/decide`, judge.url).replace(
      'calibrationRate: 0.3',
      'calibrationRate: 0.5',
    );
    await apply(useCase, raised);
    expect((await detailOf(useCase)).aiConfig).toBe(first.aiConfig);

    await apply(useCase, raised.replace("as the agent's reply.", "as the agent's reply, in the same tone."));
    const second = await detailOf(useCase);
    expect(second.aiConfig).not.toBe(first.aiConfig);
    await mirror(useCase, drafts('b', 4));
    await waitForProgress({
      what: 'the new judge done',
      read: () => countWhere(useCase, 'done'),
      done: (n) => n === 12,
    });
    const cohorts = (await detailOf(useCase)).metrics.stages[0].cohorts as Array<{
      aiConfig: string;
      samples: number;
    }>;
    expect(cohorts.find((c) => c.aiConfig === first.aiConfig)?.samples).toBe(8);
    expect(cohorts.find((c) => c.aiConfig === second.aiConfig)?.samples).toBe(4);

    // Lowering the calibration rate widens: it is held for a release key's approval.
    const held = await tc.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(
        judgedPlan(useCase, `${ai.url}/decide`, judge.url).replace(
          "as the agent's reply.",
          "as the agent's reply, in the same tone.",
        ),
      )
      .expect(202);
    expect(held.body.change.rules).toEqual([
      { path: 'comparator.calibrationRate', rule: 'calibration-lowered', before: 0.5, after: 0.3 },
    ]);
  });

  it('when the judge changes above shadow, then the new judge is a challenger and the champion keeps its evidence', async () => {
    const useCase = 'judge-challenger';
    const stages = 'stages:\n  human-reviewed: {}\n';
    const plan = judgedPlan(useCase, `${ai.url}/decide`, judge.url) + stages;
    await apply(useCase, plan);
    await tc.http
      .post(`/v1/use-cases/${useCase}/promote`)
      .set(tc.admin)
      .send({ reason: 'test set-up', force: true })
      .expect(200);
    const champion = await detailOf(useCase);
    expect(champion.stage).toBe('human-reviewed');
    await apply(useCase, plan.replace("as the agent's reply.", 'as the reply, word for word.'));
    const after = await detailOf(useCase);
    expect(after.aiConfig).toBe(champion.aiConfig);
    expect(after.challenger).toMatchObject({ planVersion: 2, changes: ['comparator'] });
  });
});
