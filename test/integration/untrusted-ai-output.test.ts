import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatedAiSystem, startSimulatedAiSystem } from '../../src/simulation/simulated-ai-system.js';
import { countRows } from '../support/db-snapshot.js';
import { eventually, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The AI system's output is untrusted (OWASP LLM: improper output handling, unbounded
 * consumption). Against a running controller: answers are read under a byte cap, checked against
 * the plan's decision schema, stored as data and never interpreted; failures are stored as AI
 * errors with a bounded message; and the plan's maxDailyCost stops calls before they are made.
 */

const MAX_AI_RESPONSE_BYTES = 64 * 1024;
/** `kind: ` + AiCallError's 300-character cap. */
const MAX_STORED_ERROR = 'bad-output: '.length + 300;

type Answer = (res: ServerResponse) => void;

const json =
  (body: string, status = 200): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

/** An AI system of our own that answers each request id with a scripted, odd answer. */
interface OddAi {
  url: string;
  /** Bytes the socket took of each streamed answer before the client let go, by request id. */
  streamed: Map<string, number>;
  calls: Map<string, number>;
  close(): Promise<void>;
}

async function startOddAi(answers: Record<string, Answer>): Promise<OddAi> {
  const streamed = new Map<string, number>();
  const calls = new Map<string, number>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { requestId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { requestId: string };
    calls.set(requestId, (calls.get(requestId) ?? 0) + 1);
    const answer =
      answers[requestId] ?? (requestId.startsWith('stream-') ? streamAnswer(streamed, requestId) : undefined);
    if (!answer) return json('{"error":"no scripted answer"}', 404)(res);
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`,
    streamed,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const STREAM_BYTES = 50 * 1024 * 1024;
const TICK_MS = 3_600_000;

/** 50 MiB of JSON, chunked (no length announced), written only as fast as the client reads. */
function streamAnswer(streamed: Map<string, number>, requestId: string): Answer {
  return (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('close', () => streamed.set(requestId, res.socket?.bytesWritten ?? Number.NaN));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    res.write('{"decision":"approve","padding":"');
    const pump = (): void => {
      while (sent < STREAM_BYTES && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}');
    };
    pump();
  };
}

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
      ['http-500', 'http-status: AI system answered HTTP 500: {"error":{"message":"simulated server error"'],
      ['timeout', 'timeout: no answer within 300 ms'],
      ['malformed-json', 'bad-output: answer is not JSON: {"decision": "approve", "confidence": 0.9'],
      ['huge', `too-large: answer larger than ${MAX_AI_RESPONSE_BYTES} bytes`],
      [
        'wrong-label',
        'bad-output: decision does not fit the plan: expected one of approve, reject, escalate, got "sim-unknown-label"',
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

  it.each(REFUSED.map((c) => [c.id, c] as const))(
    'when the AI answers %s, then the call is an AI error saying why, with a bounded message',
    async (requestId, { useCase, error }) => {
      await mirror(useCase, [requestId], useCase === 'odd-json' ? { route: 'pay' } : 'approve');
      const stored = await errorOf(useCase, requestId);
      expect(stored).toContain(error);
      expect(stored.length).toBeLessThanOrEqual(MAX_STORED_ERROR);
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

    const now = Date.now();
    const first = await tc.controller.engine.tick(new Date(now));
    const second = await tc.controller.engine.tick(new Date(now + TICK_MS));
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

const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

/** Request id → the use case it is mirrored to and the error stored (a fragment); answers in ODD_ANSWERS. */
const REFUSED: Array<{ id: string; useCase: 'odd-labels' | 'odd-json'; error: string }> = [
  {
    id: 'a wrong label',
    useCase: 'odd-labels',
    error:
      'bad-output: decision does not fit the plan: expected one of approve, reject, escalate, got "maybe"',
  },
  {
    id: 'a decision nested one level too deep',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: decision:',
  },
  { id: 'an object where a label is expected', useCase: 'odd-labels', error: 'got an object' },
  { id: 'a confidence of 7', useCase: 'odd-labels', error: 'bad-output: answer does not fit: confidence:' },
  {
    id: 'a confidence given as text',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: confidence:',
  },
  {
    id: 'a confidence of 1e999',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: confidence:',
  },
  {
    id: 'negative token counts',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: usage.inputTokens:',
  },
  { id: 'a negative cost', useCase: 'odd-labels', error: 'bad-output: answer does not fit: cost:' },
  {
    id: 'a script where a label is expected',
    useCase: 'odd-labels',
    error: 'got "<script>alert(1)</script>"',
  },
  {
    id: 'an HTML page',
    useCase: 'odd-labels',
    error: 'bad-output: answer is not JSON: <html><head><script>alert(1)</script>',
  },
  { id: 'an array', useCase: 'odd-labels', error: 'bad-output: answer does not fit: (root):' },
  { id: 'a null decision', useCase: 'odd-labels', error: 'got null' },
  { id: 'a label of 30,000 characters', useCase: 'odd-labels', error: 'got "xxxxxxxx' },
  {
    id: 'HTTP 500 with 100 KB of text',
    useCase: 'odd-labels',
    error: 'http-status: AI system answered HTTP 500: {"error":"eee',
  },
  {
    id: 'a Content-Length over the cap',
    useCase: 'odd-labels',
    error: `too-large: answer larger than ${MAX_AI_RESPONSE_BYTES} bytes`,
  },
  // Answers that fit the plan but could not be stored: refused before PostgreSQL sees them.
  {
    id: 'a NUL in the model version',
    useCase: 'odd-labels',
    error: 'bad-output: answer cannot be stored: modelVersion: contains a NUL character',
  },
  {
    id: 'a NUL in a JSON decision',
    useCase: 'odd-json',
    error: 'bad-output: answer cannot be stored: decision.note: contains a NUL character',
  },
  {
    id: 'an unpaired surrogate in a JSON decision',
    useCase: 'odd-json',
    error: 'bad-output: answer cannot be stored: decision: contains an unpaired UTF-16 surrogate',
  },
  {
    id: 'a JSON decision nested 10,000 levels deep',
    useCase: 'odd-json',
    error: 'bad-output: answer cannot be stored: decision[0][0]: nested deeper than 64 levels',
  },
];

const ODD_ANSWERS: Record<string, Answer> = {
  'a wrong label': json('{"decision":"maybe","confidence":0.9}'),
  'a decision nested one level too deep': json('{"answer":{"decision":"approve"}}'),
  'an object where a label is expected': json('{"decision":{"label":"approve"}}'),
  'a confidence of 7': json('{"decision":"approve","confidence":7}'),
  'a confidence given as text': json('{"decision":"approve","confidence":"0.9"}'),
  'a confidence of 1e999': json('{"decision":"approve","confidence":1e999}'),
  'negative token counts': json('{"decision":"approve","usage":{"inputTokens":-5,"outputTokens":3}}'),
  'a negative cost': json('{"decision":"approve","cost":-1}'),
  'a script where a label is expected': json('{"decision":"<script>alert(1)</script>"}'),
  'an HTML page': (res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><head><script>alert(1)</script></head><body>${'<p>hello</p>'.repeat(1000)}</body></html>`);
  },
  'an array': json('["approve"]'),
  'a null decision': json('{"decision":null}'),
  'a label of 30,000 characters': json(JSON.stringify({ decision: 'x'.repeat(30_000) })),
  'HTTP 500 with 100 KB of text': json(`{"error":"${'e'.repeat(100_000)}"}`, 500),
  'a NUL in the model version': json('{"decision":"approve","modelVersion":"m\\u0000"}'),
  'a NUL in a JSON decision': json('{"decision":{"note":"a\\u0000b"}}'),
  'an unpaired surrogate in a JSON decision': json('{"decision":"appro\\ud800ve"}'),
  'a JSON decision nested 10,000 levels deep': json(`{"decision":${deep(10_000)}}`),
  'a Content-Length over the cap': (res) => {
    // Announces 20 MB, sends a little and waits: the client must not wait for the rest.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 20 * 1024 * 1024 });
    res.write('{"decision":"approve","padding":"');
  },
  proto: json('{"decision":"approve","__proto__":{"polluted":true}}'),
  'proto-json': json('{"decision":{"__proto__":{"polluted":true},"route":"pay"}}'),
  markup: json('{"decision":"<script>alert(1)</script>"}'),
};
