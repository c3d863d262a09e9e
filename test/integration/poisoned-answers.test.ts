import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UNRECORDED_ATTEMPTS } from '../../src/shadow/shadow-worker.js';
import { json, type OddAi, startOddAi } from '../support/bad-input-cases-ai-answers.js';
import { eventually, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * AI answers that fit the plan's decision schema but not the database: numbers beyond what the
 * columns and the rollups' sums hold, and a row the database refuses. Answers are written many
 * at a time, so each must fail alone: no call is made again for another call's sake, and none is
 * made without end.
 */

const MAX_ATTEMPTS = 3;
const BAD = [
  ...Array.from({ length: 5 }, (_, i) => `tokens-${i}`),
  ...Array.from({ length: 5 }, (_, i) => `cost-${i}`),
];

function plan(useCase: string, url: string): string {
  return `useCase: ${useCase}
owner: test@example.com
decision: { type: label, labels: [approve, reject, escalate] }
ai: { adapter: http, url: ${url}, timeoutMs: 5000, concurrency: 64, maxAttempts: ${MAX_ATTEMPTS} }
`;
}

interface Row {
  request_id: string;
  ai_state: string;
  ai_error: string | null;
  ai_attempts: number;
}

describe('poisoned AI answers against a running controller', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let poisoned: OddAi;
  let healthy: OddAi;

  const rows = (useCase: string) =>
    tdb.database.rows<Row>(sql`
      select request_id, ai_state, ai_error, ai_attempts from decisions
      where use_case = ${useCase} order by request_id`);
  const settled = (useCase: string, count: number) =>
    eventually(async () => {
      const found = await rows(useCase);
      return found.length === count && found.every((r) => r.ai_state !== 'owed') ? found : undefined;
    }, `the AI calls of ${useCase}`);
  const mirror = (decisions: Array<{ useCase: string; requestId: string }>) =>
    tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: decisions.map((d) => ({ ...d, input: { amount: 1 } })) })
      .expect(202);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    poisoned = await startOddAi(
      Object.fromEntries(
        BAD.map((id) => [
          id,
          json(
            id.startsWith('tokens')
              ? '{"decision":"approve","usage":{"inputTokens":3e9,"outputTokens":5}}'
              : '{"decision":"approve","cost":1e308}',
          ),
        ]),
      ),
    );
    healthy = await startOddAi({}, json('{"decision":"approve","confidence":0.9}'));
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    for (const [useCase, url] of [
      ['poisoned', poisoned.url],
      ['bystander', healthy.url],
      ['refusing', healthy.url],
    ] as const) {
      await tc.http
        .put(`/v1/use-cases/${useCase}/plan`)
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(plan(useCase, url))
        .expect(201);
    }
  });

  afterAll(async () => {
    await tc?.stop();
    await Promise.all([poisoned?.close(), healthy?.close()]);
    await tdb?.drop();
  });

  it('when an AI answers 3e9 input tokens or a cost of 1e308, then each call is one out-of-range error made once, and the calls of another use case sharing its batches are made once each', async () => {
    const good = Array.from({ length: 200 }, (_, i) => `good-${String(i).padStart(3, '0')}`);
    // Interleaved in one request: the calls run together and their answers are written together.
    await mirror(
      good.flatMap((requestId, i) => [
        { useCase: 'bystander', requestId },
        ...(i % 20 === 0 ? [{ useCase: 'poisoned', requestId: BAD[i / 20]! }] : []),
      ]),
    );

    const failed = await settled('poisoned', BAD.length);
    for (const row of failed) {
      expect(row).toMatchObject({ ai_state: 'error', ai_attempts: 1 });
      expect(row.ai_error).toMatch(
        row.request_id.startsWith('tokens')
          ? /^out-of-range: input tokens not a count up to 100,000,000/
          : /^out-of-range: cost of the call not an amount up to 1000 USD/,
      );
      expect(poisoned.calls.get(row.request_id), row.request_id).toBe(1);
    }
    const answered = await settled('bystander', good.length);
    expect(answered.every((r) => r.ai_state === 'done' && r.ai_attempts === 1)).toBe(true);
    expect(good.filter((id) => healthy.calls.get(id) !== 1)).toEqual([]);

    const { body } = await tc.controller.metrics.exposition();
    expect(body).toContain('shadowgate_ai_errors_total{use_case="poisoned",kind="out-of-range"} 10');
  });

  it(`when the database refuses one answer, then the others written with it are recorded once each, and the refused call is given up as unrecorded after maxAttempts + ${MAX_UNRECORDED_ATTEMPTS} attempts`, async () => {
    // A row the database refuses, as a value out of a column's range would be.
    await tdb.database.rows(sql`
      create function refuse_one_answer() returns trigger language plpgsql as $$
      begin
        if new.request_id = 'refused' and new.ai_state = 'done' then
          raise exception 'refused by the test' using errcode = '22003';
        end if;
        return new;
      end $$`);
    await tdb.database.rows(sql`
      create trigger refuse_one_answer before update on decisions
      for each row execute function refuse_one_answer()`);
    const others = Array.from({ length: 100 }, (_, i) => `other-${String(i).padStart(3, '0')}`);
    await mirror(
      [...others.slice(0, 50), 'refused', ...others.slice(50)].map((requestId) => ({
        useCase: 'refusing',
        requestId,
      })),
    );

    const recorded = await eventually(async () => {
      const found = (await rows('refusing')).filter((r) => r.request_id !== 'refused');
      return found.length === others.length && found.every((r) => r.ai_state === 'done') ? found : undefined;
    }, 'the answers written with the refused one');
    expect(recorded.every((r) => r.ai_attempts === 1)).toBe(true);
    expect(others.filter((id) => healthy.calls.get(id) !== 1)).toEqual([]);

    // The queue drops a job after maxAttempts; the sweep brings the call back until it is given up.
    const [refused] = await eventually(
      async () => {
        const found = (await rows('refusing')).filter((r) => r.request_id === 'refused');
        if (found[0]?.ai_state === 'owed') await tc.controller.worker.sweep();
        return found[0]?.ai_state === 'error' ? found : undefined;
      },
      'the refused call given up',
      60_000,
    );
    expect(refused?.ai_error).toMatch(/^unrecorded: /);
    expect(healthy.calls.get('refused')).toBe(MAX_ATTEMPTS + MAX_UNRECORDED_ATTEMPTS);
    expect(refused?.ai_attempts).toBe(MAX_ATTEMPTS + MAX_UNRECORDED_ATTEMPTS + 1);
    await tc.controller.worker.sweep();
    await new Promise((r) => setTimeout(r, 300));
    expect(healthy.calls.get('refused')).toBe(MAX_ATTEMPTS + MAX_UNRECORDED_ATTEMPTS);
  });
});
