import { sql } from 'drizzle-orm';
import { isSampled } from '../../src/contracts/sampling.js';
import type { TestController } from './test-controller.js';
import type { TestDatabase } from './test-database.js';

/**
 * A use case scored by a judge, for the calibration tests: the judge's answers are written to
 * `judge_calls` as the judge worker writes them (state `done`, score, judge_version), so the
 * controller under test runs its judge worker on a poll that never comes (`JUDGE_IDLE`) and the
 * plan's judge is never called.
 */

/** The judge options of a test controller whose judge worker stays idle. */
export const JUDGE_IDLE = { pollMs: 3_600_000 };

/** A text plan; with `calibrationRate`, its comparator is a judge (unreachable: never called). */
export function draftPlan(
  useCase: string,
  { aiUrl = 'http://127.0.0.1:9/decide', calibrationRate }: { aiUrl?: string; calibrationRate?: number } = {},
): string {
  const comparator =
    calibrationRate === undefined
      ? '{ type: exact }'
      : `{ type: judge, url: http://127.0.0.1:9/judge, timeoutMs: 2000, calibrationRate: ${calibrationRate} }`;
  return `useCase: ${useCase}
owner: support@example.com
decision: { type: text, maxLength: 2000 }
comparator: ${comparator}
ai:
  adapter: http
  url: ${aiUrl}
  timeoutMs: 2000
  maxAttempts: 1
stages:
  shadow:
    promoteWhen: { minSamples: 100, agreementLowerBound: 0.9 }
  human-reviewed: {}
`;
}

export class JudgeFixtures {
  constructor(
    private readonly tc: TestController,
    private readonly tdb: TestDatabase,
  ) {}

  /** A use case whose plan's comparator is a judge. */
  async judgedUseCase(useCase: string, calibrationRate = 1, aiUrl?: string): Promise<void> {
    await this.tc.http
      .put(`/v1/use-cases/${useCase}/plan`)
      .set(this.tc.admin)
      .set('content-type', 'application/yaml')
      .send(draftPlan(useCase, { calibrationRate, ...(aiUrl ? { aiUrl } : {}) }))
      .expect(201);
  }

  /** Decisions r1…rN compared and scored (by the judge: `scores[i]`), in the use case's current cohort. */
  async scoredDecisions(useCase: string, scores: number[]): Promise<void> {
    await this.tdb.database.rows(sql`
      insert into decisions (use_case, request_id, payload_hash, input, context, stage, stage_version,
        plan_version, ai_config, human_decision, human_at, ai_state, ai_decision, ai_model_version, ai_at, score,
        compared_at)
      select u.id, 'r' || i, 'h' || i, '{}'::jsonb, '{}'::jsonb, u.stage, u.stage_version, u.plan_version,
        p.ai_config, '"the reply"'::jsonb, now(), 'done', '"a draft"'::jsonb, 'drafter-1', now(), s.score,
        now()
      from use_cases u join plan_versions p on p.use_case = u.id and p.version = u.plan_version,
        unnest(${sql.param(scores)}::float8[]) with ordinality s(score, i)
      where u.id = ${useCase}`);
  }

  /** The owed judge calls of those decisions, as the comparison recorder leaves them. */
  async owedJudgeCalls(useCase: string, calibrationRate = 1): Promise<void> {
    const decisions = await this.tdb.database.rows<{ id: number; request_id: string; plan_version: number }>(
      sql`select id, request_id, plan_version from decisions where use_case = ${useCase}`,
    );
    for (const d of decisions) {
      const calibration = isSampled(d.request_id, calibrationRate, 'calibration');
      await this.tdb.database.rows(sql`
        insert into judge_calls (decision_id, use_case, request_id, plan_version, calibration)
        values (${d.id}, ${useCase}, ${d.request_id}, ${d.plan_version}, ${calibration})`);
    }
  }

  /** The judge's answer to one decision, as the judge worker writes it. */
  judgeAnswers(useCase: string, requestId: string, score: number, version = 'j1') {
    return this.tdb.database.rows(sql`
      update judge_calls set state = 'done', score = ${score}, judge_version = ${version}, judged_at = now()
      where use_case = ${useCase} and request_id = ${requestId}`);
  }

  /** The judge (`version`) answers every owed call with the decision's score. */
  judgeAnswersAll(useCase: string, version: string) {
    return this.tdb.database.rows(sql`
      update judge_calls j set state = 'done', score = d.score, judge_version = ${version}, judged_at = now()
      from decisions d where d.id = j.decision_id and j.use_case = ${useCase}`);
  }

  rate(useCase: string, requestId: string, acceptable: boolean, by = 'agent-7') {
    return this.tc.http
      .post(`/v1/decisions/${useCase}/${encodeURIComponent(requestId)}/rating`)
      .set(this.tc.admin)
      .send({ acceptable, by });
  }

  /**
   * 300 judged decisions of which the AI's drafts are acceptable 96% of the time (judge-v1's
   * scores); people rate the first 100 and agree with the judge on `agreeing` of them.
   */
  async ratedJudge(useCase: string, agreeing: number, afterJudged?: () => Promise<void>): Promise<void> {
    await this.judgedUseCase(useCase);
    const scores = Array.from({ length: 300 }, (_, i) => (i % 25 === 0 ? 0 : 1));
    await this.scoredDecisions(useCase, scores);
    await this.owedJudgeCalls(useCase);
    await this.judgeAnswersAll(useCase, 'judge-v1');
    await afterJudged?.();
    for (let i = 0; i < 100; i++) {
      const judgeSaysAcceptable = scores[i]! >= 0.5;
      const res = await this.rate(
        useCase,
        `r${i + 1}`,
        i < agreeing ? judgeSaysAcceptable : !judgeSaysAcceptable,
      );
      if (res.status !== 202) throw new Error(`rating r${i + 1}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
}
