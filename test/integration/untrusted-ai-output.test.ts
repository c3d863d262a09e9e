import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import {
  MAX_AI_RESPONSE_BYTES,
  ODD_ANSWERS,
  type OddAi,
  REFUSED_ANSWERS,
  startOddAi,
} from '../support/bad-input-cases-ai-answers.js';
import { countRows } from '../support/db-snapshot.js';
import { eventually, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The AI system's output is untrusted (OWASP LLM: improper output handling, unbounded
 * consumption). Against a running controller: answers are read under a byte cap, checked against
 * the plan's decision schema, stored as data and never interpreted; failures are stored as AI
 * errors with a bounded message; and the plan's maxDailyCost stops calls before they are made.
 */

/** `kind: ` + AiCallError's 300-character cap + what the AI sent (plans here store inputs in full), 200 at most. */
const MAX_STORED_ERROR = 'bad-output: '.length + 300 + '; from the AI system: '.length + 200;

/** The periodic tick never comes during the test; it ticks the engine itself. */
const TICK_MS = 3_600_000;

function plan(
  useCase: string,
  url: string,
  options: { decision?: string; timeoutMs?: number; ai?: string } = {},
): string {
  return `useCase: ${useCase}
owner: test@example.com
decision: ${options.decision ?? '{ type: label, labels: [approve, reject, escalate] }'}
ai:
  adapter: http
  url: ${url}
  timeoutMs: ${options.timeoutMs ?? 300}
  maxAttempts: 1
${options.ai ?? ''}`;
}

interface AiRow {
  request_id: string;
  ai_state: string;
  ai_error: string | null;
  ai_decision: unknown;
  ai_model_version: string | null;
  score: number | null;
}

describe('untrusted AI output against a running controller', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let pricedSim: SimulatedAiSystem;
  let odd: OddAi;

  const mirror = async (useCase: string, requestIds: string[], human?: unknown) => {
    const res = await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({
        decisions: requestIds.map((requestId) => ({
          useCase,
          requestId,
          input: { amount: requestId.length },
          ...(human === undefined ? {} : { human: { decision: human } }),
        })),
      });
    expect(res.status).toBe(202);
    return res.body as { accepted: number; aiCallsOwed: number };
  };
  const rows = (useCase: string, requestIds: string[]) =>
    tdb.database.rows<AiRow>(sql`
      select request_id, ai_state, ai_error, ai_decision, ai_model_version, score from decisions
      where use_case = ${useCase} and request_id = any(${sql.param(requestIds)}::text[]) order by request_id`);
  /** Waits until none of the decisions owes its AI call any more. */
  const settled = (useCase: string, requestIds: string[]) =>
    eventually(
      async () => {
        const found = await rows(useCase, requestIds);
        return found.length === requestIds.length && found.every((r) => r.ai_state !== 'owed')
          ? found
          : undefined;
      },
      `AI calls of ${requestIds.join(', ')}`,
    );
  const errorOf = async (useCase: string, requestId: string) => {
    const [row] = await settled(useCase, [requestId]);
    expect(row?.ai_state).toBe('error');
    return row?.ai_error ?? '';
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1, latencyMs: 0 });
    pricedSim = await startSimulatedAiSystem({ agreement: 1, latencyMs: 0, cost: 0.25 });
    odd = await startOddAi(ODD_ANSWERS);
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: {
        SHADOWGATE_MAX_AI_RESPONSE_BYTES: String(MAX_AI_RESPONSE_BYTES),
        SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: '0',
        SHADOWGATE_RATE_LIMIT_API_PER_SEC: '0',
        // The test ticks the engine itself, at times of its choosing.
        SHADOWGATE_TICK_MS: String(TICK_MS),
      },
    });
    const apply = (useCase: string, text: string) =>
      tc.http
        .put(`/v1/use-cases/${useCase}/plan`)
        .set(tc.admin)
        .set('content-type', 'application/yaml')
        .send(text)
        .expect(201);
    await apply('sim-failures', plan('sim-failures', `${sim.url}/decide`));
    await apply('odd-labels', plan('odd-labels', odd.url, { timeoutMs: 5000 }));
    await apply('odd-json', plan('odd-json', odd.url, { decision: '{ type: json }', timeoutMs: 5000 }));
    await apply(
      'budget',
      plan('budget', `${pricedSim.url}/decide`, { ai: '  concurrency: 1\n  maxDailyCost: 0.5\n' }),
    );
  });

  afterAll(async () => {
    await tc?.stop();
    await Promise.all([sim?.close(), pricedSim?.close(), odd?.close()]);
    await tdb?.drop();
  });

  it('when the simulated AI goes through its failure modes, then each call is stored as the AI error of its kind, and a healthy AI is answered again after', async () => {
    const expected: Array<
      [failure: 'http-500' | 'timeout' | 'malformed-json' | 'huge' | 'wrong-label', error: string]
    > = [
      [
        'http-500',
        'http-status: AI system answered HTTP 500 (a body of 68 bytes); from the AI system: {"error":{"message":"simulated server error"',
      ],
      ['timeout', 'timeout: no answer within 300 ms'],
      [
        'malformed-json',
        'bad-output: answer is not JSON (41 bytes); from the AI system: {"decision": "approve", "confidence": 0.9',
      ],
      ['huge', `too-large: answer larger than ${MAX_AI_RESPONSE_BYTES} bytes`],
      [
        'wrong-label',
        'bad-output: decision does not fit the plan: expected one of approve, reject, escalate; from the AI system: "sim-unknown-label"',
      ],
    ];
    for (const [failure, error] of expected) {
      sim.setOptions({ failure });
      await mirror('sim-failures', [`sim-${failure}`]);
      expect(await errorOf('sim-failures', `sim-${failure}`)).toContain(error);
    }
    sim.setOptions({ failure: 'none' });
    await mirror('sim-failures', ['sim-healthy']);
    const [healthy] = await settled('sim-failures', ['sim-healthy']);
    expect(healthy).toMatchObject({ ai_state: 'done', ai_error: null, ai_model_version: 'sim-1' });
    expect(sim.stats().calls).toBe(6);
  });

  it('when request ids are outside Latin-1, then their AI calls are made and answered', async () => {
    sim.setOptions({ failure: 'none' });
    const ids = ['請求-42 ü', 'заявка №7', 'emoji 🧾 1'];
    await mirror('sim-failures', ids);
    const found = await settled('sim-failures', ids);
    expect(found.map((r) => [r.ai_state, r.ai_error])).toEqual(ids.map(() => ['done', null]));
    for (const id of ids) expect(sim.stats().byRequest[id]?.calls, id).toBe(1);
  });

  it('when answers stream 50 MiB each, then each is cut off at the cap as too-large and the process does not hold them', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `stream-${i}`);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      await mirror('odd-labels', ids);
      const found = await settled('odd-labels', ids);
      expect(found.map((r) => [r.ai_state, r.ai_error])).toEqual(
        ids.map(() => ['error', `too-large: answer larger than ${MAX_AI_RESPONSE_BYTES} bytes`]),
      );
    } finally {
      clearInterval(sampler);
    }
    await eventually(async () => (odd.streamed.size >= ids.length ? true : undefined), 'streams closed');
    // What the sockets took before the client let go: the cap plus kernel buffers, far from 50 MiB each.
    for (const id of ids) expect(odd.streamed.get(id)).toBeLessThan(12 * 1024 * 1024);
    // Buffering the six answers would need 300 MiB at least.
    expect(peak - baseline).toBeLessThan(120 * 1024 * 1024);
  });

  it.each(REFUSED_ANSWERS.map((c) => [c.id, c] as const))(
    'when the AI answers %s, then the call is an AI error saying why, with a bounded message',
    async (requestId, { useCase, error }) => {
      await mirror(useCase, [requestId], useCase === 'odd-json' ? { route: 'pay' } : 'approve');
      const stored = await errorOf(useCase, requestId);
      expect(stored).toContain(error);
      expect(stored.length).toBeLessThanOrEqual(MAX_STORED_ERROR);
      expect(odd.calls.get(requestId)).toBe(1);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters must not be stored
      expect(stored).not.toMatch(/[\u0000-\u001f]/);
    },
  );

  it('when the answer carries a __proto__ field, then the decision is read as data and Object.prototype is not polluted', async () => {
    await mirror('odd-labels', ['proto'], 'approve');
    await mirror('odd-json', ['proto-json'], { route: 'pay' });
    const [label] = await settled('odd-labels', ['proto']);
    const [data] = await settled('odd-json', ['proto-json']);
    expect(label).toMatchObject({ ai_state: 'done', ai_decision: 'approve', score: 1 });
    expect(data?.ai_state).toBe('done');
    const [text] = await tdb.database.rows<{ t: string }>(
      sql`select ai_decision::text as t from decisions where request_id = 'proto-json'`,
    );
    expect(text?.t).toBe('{"route": "pay", "__proto__": {"polluted": true}}');
    expect(data?.score).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('when a JSON decision holds markup, then it is stored verbatim as data and compared as text', async () => {
    await mirror('odd-json', ['markup'], '<script>alert(1)</script>');
    const [row] = await settled('odd-json', ['markup']);
    expect(row).toMatchObject({ ai_state: 'done', ai_decision: '<script>alert(1)</script>', score: 1 });
  });

  it('when the day’s spend reaches maxDailyCost, then no further call reaches the AI, decisions stay owed, and the tick records guard.budget once', async () => {
    // 0.25 USD a call against 0.5 a day: two calls, then the budget is spent.
    await mirror('budget', ['b-1', 'b-2']);
    expect((await settled('budget', ['b-1', 'b-2'])).map((r) => r.ai_state)).toEqual(['done', 'done']);
    expect(pricedSim.stats().calls).toBe(2);
    // The worker trusts a day's spend for 2 s; past that it sees the budget spent.
    await new Promise((r) => setTimeout(r, 2_100));

    const later = Array.from({ length: 5 }, (_, i) => `b-late-${i}`);
    expect(await mirror('budget', later)).toMatchObject({ accepted: 5, aiCallsOwed: 5 });
    await tc.controller.worker.sweep();
    await new Promise((r) => setTimeout(r, 500));
    expect(pricedSim.stats().calls).toBe(2);
    expect((await rows('budget', later)).map((r) => r.ai_state)).toEqual(later.map(() => 'owed'));

    // Two tick slots (an hour apart) inside the UTC day the spend was booked on: ticks an hour
    // apart from the time of the test would cross midnight when it runs after 23:00 UTC.
    const [spend] = await tdb.database.rows<{ day: string }>(
      sql`select day::text as day from daily_ai_spend where use_case = 'budget' limit 1`,
    );
    const dayStart = Date.parse(`${spend!.day}T00:00:01Z`);
    const first = await tc.controller.engine.tick(new Date(dayStart));
    const second = await tc.controller.engine.tick(new Date(dayStart + TICK_MS));
    expect([first.ran, second.ran]).toEqual([true, true]);
    expect(first.overBudget).toContain('budget');
    expect(second.overBudget).toContain('budget');
    expect(
      await countRows(tdb.database, 'audit_events', "action = 'guard.budget' and use_case = 'budget'"),
    ).toBe(1);
    const [event] = await tdb.database.rows<{ details: { spent: number; maxDailyCost: number } }>(
      sql`select details from audit_events where action = 'guard.budget'`,
    );
    expect(event?.details).toMatchObject({ spent: 0.5, maxDailyCost: 0.5 });
    expect(pricedSim.stats().calls).toBe(2);
  });
});
