import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { waitForProgress } from '../support/progress.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * A drafting use case end to end on the real PostgreSQL: text decisions mirrored with the clerk's
 * reply, the simulated AI drafting the text each input's `draft` names, the drafts compared with
 * text-similarity (token-f1) and the use case's agreement the mean of the scores worked by hand.
 */

const MAX_LENGTH = 4_000;

function textPlan(useCase: string, aiUrl: string): string {
  return `useCase: ${useCase}
owner: support@example.com
decision: { type: text, maxLength: ${MAX_LENGTH} }
comparator: { type: text-similarity, method: token-f1 }
ai:
  adapter: http
  url: ${aiUrl}
  timeoutMs: 2000
  maxAttempts: 1
`;
}

/** A long reply of incompressible words: it must be stored and compared, not break an index. */
const LONG = Array.from({ length: 110 }, (_, i) => createHash('md5').update(`w${i}`).digest('hex')).join(' ');

// human, AI draft, token-f1 worked by hand (text-similarity.test.ts works the first one through)
const CASES: Array<[string, string, number]> = [
  ['The cat sat on the mat.', 'A cat sat on a mat, the end', 5 / 7],
  ['Refund issued.', 'refund   ISSUED', 1],
  ['Yes', 'No', 0],
  [LONG, LONG, 1],
];

describe('text decisions compared with text-similarity', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    sim = await startSimulatedAiSystem({ modelVersion: 'drafter-1' });
  });
  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  const detailOf = async (useCase: string) =>
    (await tc.http.get(`/v1/use-cases/${useCase}`).set(tc.admin).expect(200)).body;

  it('when drafts are answered, then each is scored by token-f1 and the agreement is their mean; a draft past maxLength is an AI error', async () => {
    await tc.http
      .put('/v1/use-cases/reply-draft/plan')
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(textPlan('reply-draft', `${sim.url}/decide`))
      .expect(201);

    const decisions = CASES.map(([human, draft], i) => ({
      useCase: 'reply-draft',
      requestId: `r${i}`,
      input: { ticket: `ticket ${i}`, draft },
      human: { decision: human },
    }));
    // The AI drafts one character past the bound: an AI error, never stored as a decision.
    decisions.push({
      useCase: 'reply-draft',
      requestId: 'too-long',
      input: { ticket: 'long', draft: 'x'.repeat(MAX_LENGTH + 1) },
      human: { decision: 'A short reply.' },
    });
    const ingest = await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions });
    expect(ingest.status, JSON.stringify(ingest.body)).toBe(202);

    await waitForProgress({
      what: 'the AI calls of the drafts',
      read: async () => (await detailOf('reply-draft')).metrics.stages[0]?.pendingAi ?? decisions.length,
      done: (pending) => pending === 0,
    });

    const detail = await detailOf('reply-draft');
    const cohort = detail.metrics.stages[0].cohorts[0];
    const expected = CASES.reduce((sum, [, , score]) => sum + score, 0) / CASES.length;
    expect(cohort.samples).toBe(CASES.length);
    expect(cohort.agreement).toBeCloseTo(expected, 9);
    expect(cohort.aiErrorRate).toBeCloseTo(1 / decisions.length, 9);
    // Label evidence does not exist for text.
    expect(cohort.kappa).toBeNull();
    expect(cohort.perLabel).toBeNull();
    expect(cohort.confusion).toBeNull();
    expect(cohort.majorityBaseline).toBeNull();

    const stored = await tdb.database.rows<{
      request_id: string;
      ai_decision: unknown;
      score: number | null;
    }>(
      sql`select request_id, ai_decision, score from decisions where use_case = 'reply-draft' order by request_id`,
    );
    const tooLong = stored.find((r) => r.request_id === 'too-long')!;
    expect(tooLong.ai_decision).toBeNull();
    expect(tooLong.score).toBeNull();
    expect(stored.find((r) => r.request_id === 'r3')!.score).toBe(1);
  });

  it('when a human reply is past maxLength, then the request is refused with the field and nothing is stored', async () => {
    const res = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({
        useCase: 'reply-draft',
        requestId: 'human-too-long',
        input: { ticket: 'x' },
        human: { decision: 'y'.repeat(MAX_LENGTH + 1) },
      })
      .expect(400);
    expect(res.body.details).toEqual([
      {
        path: 'human.decision',
        problem: `expected text of at most ${MAX_LENGTH} characters, got ${MAX_LENGTH + 1}`,
      },
    ]);
  });
});
