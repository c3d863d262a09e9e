import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSampled } from '../../src/contracts/sampling.js';
import { sequentialLowerBound } from '../../src/statistics/confidence-sequence.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { draftPlan, JUDGE_IDLE, JudgeFixtures } from '../support/judge-fixtures.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The judge's calibration against people on the real PostgreSQL (README "Is the judge right?"):
 * people's ratings come through the rating route; the judge's answers are written to `judge_calls`
 * as the judge worker writes them (state `done`, score, judge_version), since the worker is the
 * judge comparator's own. Each rated, judged decision of the calibration sample is folded into
 * `judge_calibration_rollups` once, whichever side arrives last, and the gate's
 * `judgeAgreementLowerBound` reads it.
 */

interface RollupRow {
  judge_version: string;
  rated: number;
  agreed: number;
  both_acceptable: number;
  judge_only: number;
  people_only: number;
  neither: number;
}

describe("the judge's calibration against people", () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let raw: postgres.Sql;
  let sim: SimulatedAiSystem;

  beforeAll(async () => {
    sim = await startSimulatedAiSystem({ modelVersion: 'drafter-1', latencyMs: 1 });
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process', judge: JUDGE_IDLE });
    raw = postgres(tdb.url, { max: 40, onnotice: () => {} });
  });
  afterAll(async () => {
    await raw?.end({ timeout: 5 });
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  const f = () => new JudgeFixtures(tc, tdb);
  const judgedUseCase = (useCase: string, rate = 1) => f().judgedUseCase(useCase, rate, `${sim.url}/decide`);
  const scoredDecisions = (useCase: string, scores: number[]) => f().scoredDecisions(useCase, scores);
  const owedJudgeCalls = (useCase: string, rate = 1) => f().owedJudgeCalls(useCase, rate);
  const judgeAnswers = (useCase: string, requestId: string, score: number) =>
    f().judgeAnswers(useCase, requestId, score);
  const rate = (useCase: string, requestId: string, acceptable: boolean, by?: string) =>
    f().rate(useCase, requestId, acceptable, by);

  const rollups = (useCase: string) =>
    tdb.database.rows<RollupRow>(sql`
      select judge_version, rated::int, agreed::int, both_acceptable::int, judge_only::int,
        people_only::int, neither::int
      from judge_calibration_rollups where use_case = ${useCase} order by judge_version`);

  const detailOf = async (useCase: string) =>
    (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin).expect(200)).body;

  it('when a rating comes before the judge answers, then it is folded once the judge answers, and only once', async () => {
    await judgedUseCase('fold-before');
    await scoredDecisions('fold-before', [1, 1]);
    await owedJudgeCalls('fold-before');

    const first = await rate('fold-before', 'r1', false);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({
      useCase: 'fold-before',
      requestId: 'r1',
      status: 'recorded',
      counted: true,
    });
    expect(await rollups('fold-before')).toEqual([]);

    await judgeAnswers('fold-before', 'r1', 0.9);
    const folded = [
      {
        judge_version: 'j1',
        rated: 1,
        agreed: 0,
        both_acceptable: 0,
        judge_only: 1,
        people_only: 0,
        neither: 0,
      },
    ];
    expect(await rollups('fold-before')).toEqual(folded);

    // The judge worker writes the row again (a lease renewal, a repeated answer): nothing more.
    await judgeAnswers('fold-before', 'r1', 0.9);
    await tdb.database.rows(
      sql`update judge_calls set attempts = attempts + 1 where use_case = 'fold-before'`,
    );
    // The same rating again (the SDK's retry) is a duplicate; another answer is refused.
    const again = await rate('fold-before', 'r1', false, 'someone-else');
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('duplicate');
    const other = await rate('fold-before', 'r1', true);
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('already_rated');
    expect(await rollups('fold-before')).toEqual(folded);

    const [stored] = await tdb.database.rows<{
      rated_by: string;
      judge_version: string;
      judge_score: number;
    }>(sql`select rated_by, judge_version, judge_score from judge_ratings where use_case = 'fold-before'`);
    expect(stored).toEqual({ rated_by: 'agent-7', judge_version: 'j1', judge_score: 0.9 });
  });

  it('when a rating comes after the judge answered, then it is folded at once, and only once', async () => {
    await judgedUseCase('fold-after');
    await scoredDecisions('fold-after', [1, 0]);
    await owedJudgeCalls('fold-after');
    await judgeAnswers('fold-after', 'r1', 1);
    await judgeAnswers('fold-after', 'r2', 0.2);
    expect(await rollups('fold-after')).toEqual([]);

    expect((await rate('fold-after', 'r1', true)).status).toBe(202);
    expect((await rate('fold-after', 'r2', true)).status).toBe(202);
    expect((await rate('fold-after', 'r2', true)).status).toBe(200);
    expect(await rollups('fold-after')).toEqual([
      {
        judge_version: 'j1',
        rated: 2,
        agreed: 1,
        both_acceptable: 1,
        judge_only: 0,
        people_only: 1,
        neither: 0,
      },
    ]);
  });

  it('when a judge call is inserted already answered, then a rating before it is folded too', async () => {
    await judgedUseCase('fold-inserted');
    await scoredDecisions('fold-inserted', [0]);
    expect((await rate('fold-inserted', 'r1', false)).status).toBe(202);
    await tdb.database.rows(sql`
      insert into judge_calls (decision_id, use_case, request_id, plan_version, state, score, judge_version, judged_at, calibration)
      select id, use_case, request_id, plan_version, 'done', 0, 'j1', now(), true
      from decisions where use_case = 'fold-inserted'`);
    expect(await rollups('fold-inserted')).toEqual([
      {
        judge_version: 'j1',
        rated: 1,
        agreed: 1,
        both_acceptable: 0,
        judge_only: 0,
        people_only: 0,
        neither: 1,
      },
    ]);
  });

  it('when a decision outside the calibration sample is rated, then the rating is kept and not counted', async () => {
    await judgedUseCase('sampled', 0.05);
    const scores = Array.from({ length: 200 }, () => 1);
    await scoredDecisions('sampled', scores);
    await owedJudgeCalls('sampled', 0.05);
    const ids = scores.map((_, i) => `r${i + 1}`);
    const inSample = ids.filter((id) => isSampled(id, 0.05, 'calibration'));
    const outside = ids.find((id) => !isSampled(id, 0.05, 'calibration'))!;
    expect(inSample.length).toBeGreaterThan(0);

    for (const id of [...inSample, outside]) await judgeAnswers('sampled', id, 1);
    const kept = await rate('sampled', outside, true);
    expect(kept.status).toBe(202);
    expect(kept.body.counted).toBe(false);
    for (const id of inSample) expect((await rate('sampled', id, true)).body.counted).toBe(true);

    expect(await rollups('sampled')).toEqual([
      {
        judge_version: 'j1',
        rated: inSample.length,
        agreed: inSample.length,
        both_acceptable: inSample.length,
        judge_only: 0,
        people_only: 0,
        neither: 0,
      },
    ]);
    const [row] = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from judge_ratings where use_case = 'sampled'`,
    );
    expect(row!.n).toBe(inSample.length + 1);
  });

  it('when ratings and judge answers of the same decisions commit at the same time, then each is folded exactly once', async () => {
    const n = 60;
    await judgedUseCase('race');
    await scoredDecisions(
      'race',
      Array.from({ length: n }, () => 1),
    );
    await owedJudgeCalls('race');
    const decisions = await raw<{ id: string; request_id: string; plan_version: number }[]>`
      select id, request_id, plan_version from decisions where use_case = 'race' order by id`;

    // Each pair: two transactions, both open before either writes, then each writes and commits.
    // Without the fold's lock both would look for the other side before it committed, and miss it.
    await Promise.all(
      decisions.map(async (d) => {
        let arrive!: () => void;
        let both = 0;
        const ready = new Promise<void>((resolve) => {
          arrive = () => {
            if (++both === 2) resolve();
          };
        });
        await Promise.all([
          raw.begin(async (tx) => {
            await tx`select 1`;
            arrive();
            await ready;
            await tx`insert into judge_ratings (decision_id, use_case, request_id, plan_version, acceptable, rated_by)
              values (${d.id}, 'race', ${d.request_id}, ${d.plan_version}, true, 'agent-1')`;
          }),
          raw.begin(async (tx) => {
            await tx`select 1`;
            arrive();
            await ready;
            await tx`update judge_calls set state = 'done', score = 1, judge_version = 'j1', judged_at = now()
              where decision_id = ${d.id}`;
          }),
        ]);
      }),
    );

    expect(await rollups('race')).toEqual([
      {
        judge_version: 'j1',
        rated: n,
        agreed: n,
        both_acceptable: n,
        judge_only: 0,
        people_only: 0,
        neither: 0,
      },
    ]);
    const [unfolded] = await raw<{ n: number }[]>`
      select count(*)::int as n from judge_ratings where use_case = 'race' and folded_at is null`;
    expect(unfolded!.n).toBe(0);
  });

  it('when the decision, the use case or a judge is missing, then the rating is refused with a clear answer', async () => {
    await judgedUseCase('refusals');
    await scoredDecisions('refusals', [1]);
    expect((await rate('refusals', 'no-such-request', true)).status).toBe(404);
    expect((await rate('no-such-use-case', 'r1', true)).status).toBe(404);

    await tc.http
      .put('/v1/use-cases/exact-only/plan')
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(draftPlan('exact-only'))
      .expect(201);
    await scoredDecisions('exact-only', [1]);
    const notJudged = await rate('exact-only', 'r1', true);
    expect(notJudged.status).toBe(409);
    expect(notJudged.body.error).toBe('not_judged');
  });

  it("when a judge's plan answers a suggestion, then `rate` says whether the request is in the calibration sample", async () => {
    await judgedUseCase('offered', 0.3);
    await tc.http
      .post('/v1/use-cases/offered/promote')
      .set(tc.admin)
      .send({ reason: 'suggestions are asked in human-reviewed', force: true })
      .expect(200);
    const ids = Array.from({ length: 30 }, (_, i) => `offer-${i}`);
    const offered: boolean[] = [];
    for (const requestId of ids) {
      const res = await tc.http
        .post('/v1/use-cases/offered/suggest')
        .set(tc.admin)
        .send({ requestId, input: { ticket: requestId, draft: 'Thanks, refunded.' } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      offered.push(res.body.rate);
    }
    expect(offered).toEqual(ids.map((id) => isSampled(id, 0.3, 'calibration')));
    expect(offered).toContain(true);
    expect(offered).toContain(false);

    // A plan without a judge never asks for ratings.
    await tc.http
      .put('/v1/use-cases/unjudged/plan')
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(draftPlan('unjudged', { aiUrl: `${sim.url}/decide` }))
      .expect(201);
    await tc.http.post('/v1/use-cases/unjudged/promote').set(tc.admin).send({ reason: 'r', force: true });
    const plain = await tc.http
      .post('/v1/use-cases/unjudged/suggest')
      .set(tc.admin)
      .send({ requestId: ids.find((id) => isSampled(id, 0.3, 'calibration')), input: { draft: 'x' } });
    expect(plain.status).toBe(200);
    expect(plain.body.rate).toBe(false);
  });

  const criterionOf = async (useCase: string) =>
    (await detailOf(useCase)).gate.criteria.find(
      (c: { name: string }) => c.name === 'judgeAgreementLowerBound',
    );

  /** A judge rated 100 times, checked inconclusive before any rating. */
  const ratedJudge = (useCase: string, agreeing: number) =>
    f().ratedJudge(useCase, agreeing, async () => {
      expect(await criterionOf(useCase)).toMatchObject({ status: 'inconclusive', required: 0.8, samples: 0 });
    });

  it('when a judge agrees with people 95% of the time on 100 ratings, then its calibration holds the default 0.8 and shows everywhere', async () => {
    await ratedJudge('judge-95', 95);
    const detail = await detailOf('judge-95');
    const bound = sequentialLowerBound(95, 100, 0.05)!;
    expect(detail.judgeCalibration).toMatchObject({
      currentJudgeVersion: 'judge-v1',
      versions: [{ judgeVersion: 'judge-v1', rated: 100, agreed: 95, agreement: 0.95 }],
    });
    expect(detail.judgeCalibration.versions[0].agreementLowerBound).toBeCloseTo(bound, 9);
    expect(detail.judgeCalibration.versions[0].kappa).toEqual(expect.any(Number));
    const criterion = detail.gate.criteria.find(
      (c: { name: string }) => c.name === 'judgeAgreementLowerBound',
    );
    expect(criterion).toMatchObject({
      status: 'holds',
      holds: true,
      required: 0.8,
      samples: 100,
      judgeVersion: 'judge-v1',
    });
    expect(criterion.actual).toBeCloseTo(bound, 9);
    // The AI's own agreement (the judge's scores: 96%) clears its bar too: the gate is eligible.
    expect(detail.gate.verdict).toBe('eligible');

    const metrics = await tc.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/shadowgate_judge_ratings\{use_case="judge-95",stage="shadow"\} 100/);
    expect(metrics.text).toMatch(/shadowgate_judge_agreement\{use_case="judge-95",stage="shadow"\} 0\.95/);
  });

  it('when a judge agrees with people only 70% of the time, then the gate stays inconclusive on its calibration', async () => {
    await ratedJudge('judge-70', 70);
    const detail = await detailOf('judge-70');
    const criterion = detail.gate.criteria.find(
      (c: { name: string }) => c.name === 'judgeAgreementLowerBound',
    );
    expect(criterion).toMatchObject({ status: 'inconclusive', holds: false, samples: 100, observed: 0.7 });
    expect(criterion.actual).toBeLessThan(0.8);
    expect(detail.gate.verdict).toBe('inconclusive');
  });
});
