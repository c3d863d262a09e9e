import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { AiSecrets } from '../../src/egress/ai-secrets.js';
import {
  DestinationPolicy,
  type DestinationRules,
  parseDestinations,
} from '../../src/egress/destination-policy.js';
import { type AiSpec, aiSpecSchema, type DecisionSpec } from '../../src/plans/plan-schema.js';
import { AiCallError } from '../../src/shadow/ai-errors.js';
import type { AiRequest, AiSystemClient } from '../../src/shadow/ai-system-client.js';
import { aiEgress, readBoundedText } from '../../src/shadow/bounded-json.js';
import { createAiSystemClient as createClient } from '../../src/shadow/create-ai-system-client.js';
import { renderPrompt } from '../../src/shadow/openai-chat-ai-client.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';

const LABELS = ['approve', 'reject', 'escalate'];
const decision: DecisionSpec = { type: 'label', labels: LABELS };
const pricing = { perCall: 0.001, inputPerMTok: 0.15, outputPerMTok: 0.6 };
// 0.001 + 400 × 0.15 / 1e6 + 20 × 0.6 / 1e6
const PRICED_COST = 0.001072;
const PROMPT =
  'Decide this invoice.\nInvoice: {{input}}\nContext: {{context}}\nAnswer with one of {{labels}}.';

/** The simulated AI systems listen on 127.0.0.1, which the default policy refuses. */
const loopback = aiEgress(
  new DestinationPolicy('SHADOWGATE_AI_DESTINATIONS', parseDestinations('127.0.0.0/8') as DestinationRules),
);

function createAiSystemClient(...[ai, decision, opts]: Parameters<typeof createClient>): AiSystemClient {
  return createClient(ai, decision, { egress: loopback, ...opts });
}

let sim: SimulatedAiSystem;
beforeEach(async () => {
  sim = await startSimulatedAiSystem({ agreement: 1, inputTokens: 400, outputTokens: 20 });
});
afterEach(async () => {
  await sim.close();
});

function aiSpec(adapter: 'http' | 'openai-chat', extra: Record<string, unknown> = {}): AiSpec {
  return aiSpecSchema.parse(
    adapter === 'http'
      ? { adapter, url: `${sim.url}/decide`, timeoutMs: 2000, pricing, ...extra }
      : {
          adapter,
          url: `${sim.url}/v1/chat/completions`,
          model: 'gpt-x',
          prompt: PROMPT,
          timeoutMs: 2000,
          pricing,
          ...extra,
        },
  );
}

function client(adapter: 'http' | 'openai-chat', extra: Record<string, unknown> = {}): AiSystemClient {
  return createAiSystemClient(aiSpec(adapter, extra), decision);
}

function request(i: number): AiRequest {
  const { requestId, input, context } = makeInvoice(i);
  return { useCase: 'invoice-triage', requestId, input, context: { ...context } };
}

async function aiError(promise: Promise<unknown>): Promise<AiCallError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AiCallError) return err;
    throw err;
  }
  throw new Error('expected an AiCallError');
}

describe.each(['http', 'openai-chat'] as const)(
  'the %s adapter against the simulated AI system',
  (adapter) => {
    it('when the AI answers, then decision, confidence, model version, tokens, cost and latency are recorded', async () => {
      sim.setOptions({ latencyMs: 30 });
      const req = request(1);
      const answer = await client(adapter).decide(req);
      expect(answer.decision).toBe(referenceLabel(req.input, LABELS));
      expect(answer.confidence).toBeGreaterThanOrEqual(0.7);
      expect(answer.confidence).toBeLessThanOrEqual(0.99);
      expect(answer.modelVersion).toBe('sim-1');
      expect([answer.inputTokens, answer.outputTokens]).toEqual([400, 20]);
      expect(answer.costUsd).toBeCloseTo(PRICED_COST, 12);
      expect(answer.latencyMs).toBeGreaterThanOrEqual(29);
      expect(answer.latencyMs).toBeLessThan(1000);
    });

    it('when the AI answers HTTP 500, then the error is a transient http-status', async () => {
      sim.setOptions({ failure: 'http-500' });
      const err = await aiError(client(adapter).decide(request(2)));
      expect([err.kind, err.status, err.transient]).toEqual(['http-status', 500, true]);
      expect(err.message).toContain('HTTP 500');
    });

    it('when the AI never answers, then the call ends as a transient timeout soon after timeoutMs', async () => {
      sim.setOptions({ failure: 'timeout' });
      const started = performance.now();
      const err = await aiError(client(adapter, { timeoutMs: 300 }).decide(request(3)));
      const elapsed = performance.now() - started;
      expect([err.kind, err.transient]).toEqual(['timeout', true]);
      expect(err.latencyMs).toBeGreaterThanOrEqual(295);
      expect(elapsed).toBeLessThan(300 + 700);
    });

    it('when the AI answers malformed JSON, then the error is a permanent bad-output', async () => {
      sim.setOptions({ failure: 'malformed-json' });
      const err = await aiError(client(adapter).decide(request(4)));
      expect([err.kind, err.transient]).toEqual(['bad-output', false]);
      expect(err.message).toMatch(/not JSON/);
    });

    it('when the AI streams a 10 MB answer, then it is cut off as a permanent too-large', async () => {
      sim.setOptions({ failure: 'huge' });
      const started = performance.now();
      const err = await aiError(client(adapter).decide(request(5)));
      expect([err.kind, err.transient]).toEqual(['too-large', false]);
      expect(err.message).toBe('answer larger than 1048576 bytes');
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it('when the AI answers a label outside the plan, then the error is a permanent bad-output', async () => {
      sim.setOptions({ failure: 'wrong-label' });
      const err = await aiError(client(adapter).decide(request(6)));
      expect([err.kind, err.transient]).toEqual(['bad-output', false]);
      expect(err.message).toMatch(/^decision does not fit the plan/);
    });

    it('when the AI reports a confidence above 1, then the error is a permanent bad-output', async () => {
      sim.setOptions({ confidence: 1.5 });
      const err = await aiError(client(adapter).decide(request(7)));
      expect([err.kind, err.transient]).toEqual(['bad-output', false]);
      expect(err.message).toMatch(/confidence/);
    });

    it('when one request id is asked again, then the same answer comes back and the calls are counted', async () => {
      sim.setOptions({ agreement: 0.5 });
      const c = client(adapter);
      for (let i = 0; i < 20; i++) {
        const answers = await Promise.all([1, 2, 3].map(() => c.decide(request(i))));
        expect(new Set(answers.map((a) => `${a.decision}/${a.confidence}`)).size).toBe(1);
      }
      const stats = sim.stats();
      expect([stats.calls, stats.distinctRequests, stats.duplicateCalls]).toEqual([60, 20, 40]);
      expect(stats.byRequest['inv-000004']?.calls).toBe(3);
      const { byRequest: _, ...summary } = stats;
      expect(await (await fetch(`${sim.url}/stats`)).json()).toEqual(summary);
    });

    it('when the AI system is unreachable, then the error is a transient transport error', async () => {
      const url = sim.url;
      await sim.close();
      sim = await startSimulatedAiSystem();
      const dead = createAiSystemClient(
        aiSpecSchema.parse({ ...aiSpec(adapter), url: `${url}/decide` }),
        decision,
      );
      const err = await aiError(dead.decide(request(8)));
      expect([err.kind, err.transient]).toEqual(['transport', true]);
      expect(err.message).toMatch(/ECONNREFUSED/);
    });

    it('when the caller aborts, then the call ends at once as a transient transport error', async () => {
      sim.setOptions({ failure: 'timeout' });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const err = await aiError(client(adapter).decide(request(9), controller.signal));
      expect([err.kind, err.transient, err.message]).toEqual([
        'transport',
        true,
        'call aborted by the caller',
      ]);
      expect(err.latencyMs).toBeLessThan(1000);
    });
  },
);

describe('a client built without egress settings', () => {
  it('when its AI system is on loopback, then the call is refused (egress-refused) and nothing is sent', async () => {
    const err = await aiError(createClient(aiSpec('http'), decision).decide(request(14)));
    expect([err.kind, err.transient]).toEqual(['egress-refused', false]);
    expect(err.message).toMatch(/loopback/);
    expect(sim.stats().calls).toBe(0);
  });
});

describe.each(['http', 'openai-chat'] as const)('the %s adapter against a hostile AI', (adapter) => {
  it.each([
    ['3e9 input tokens', { inputTokens: 3e9 }],
    ['3e9 output tokens', { outputTokens: 3e9 }],
    ['100,000,001 input tokens', { inputTokens: 100_000_001 }],
  ])('when the AI reports %s, then the call is a permanent out-of-range error', async (_what, usage) => {
    sim.setOptions(usage);
    const err = await aiError(client(adapter).decide(request(20)));
    expect([err.kind, err.transient]).toEqual(['out-of-range', false]);
    expect(err.message).toMatch(/tokens/);
  });

  it('when the AI reports 100,000,000 tokens each way, then the answer is taken', async () => {
    sim.setOptions({ inputTokens: 100_000_000, outputTokens: 100_000_000 });
    const noPrice = createAiSystemClient(aiSpec(adapter, { pricing: { perCall: 0.001 } }), decision);
    await expect(noPrice.decide(request(21))).resolves.toMatchObject({
      inputTokens: 100_000_000,
      outputTokens: 100_000_000,
    });
  });

  it('when the price table makes a call cost more than the ceiling, then the call is out-of-range', async () => {
    sim.setOptions({ inputTokens: 50_000_000 });
    const dear = createAiSystemClient(aiSpec(adapter, { pricing: { inputPerMTok: 100 } }), decision);
    const err = await aiError(dear.decide(request(22)));
    expect([err.kind, err.transient]).toEqual(['out-of-range', false]);
    expect(err.message).toMatch(/cost/);
  });

  it.each([
    ['a terminal escape (OSC 52)', 'm1\u001b]52;c;aGk=\u0007'],
    ['Markdown', '**eligible** [x](http://e)'],
    ['HTML', '<script>alert(1)</script>'],
    ['a line break', 'sim\n## Gate: eligible'],
    ['a space', 'sim 1'],
    ['201 characters', 'm'.repeat(201)],
  ])('when the model version holds %s, then the call is a permanent bad-output', async (_what, version) => {
    sim.setOptions({ modelVersion: version });
    const err = await aiError(client(adapter).decide(request(23)));
    expect([err.kind, err.transient]).toEqual(['bad-output', false]);
    expect(err.message).toMatch(/model/);
  });

  it.each([
    'ft:gpt-4o-mini-2024-07-18:acme:triage:9xYz',
    'models/gemini-1.5-pro-002',
    'meta-llama/Llama-3.1-8B-Instruct@v2+fp8',
    'claude_3.5',
  ])('when the model version is %s, then it is taken as is', async (version) => {
    sim.setOptions({ modelVersion: version });
    await expect(client(adapter).decide(request(24))).resolves.toMatchObject({ modelVersion: version });
  });

  it('when the request id is outside Latin-1, then the call is answered and x-request-id carries it percent-encoded', async () => {
    const seen: string[] = [];
    const url = await stubAi(
      adapter === 'http'
        ? { decision: 'approve' }
        : { model: 'm', choices: [{ message: { content: '{"decision":"approve"}' } }] },
      (headers) => seen.push(String(headers['x-request-id'])),
    );
    const ai = aiSpecSchema.parse(adapter === 'http' ? { adapter, url } : { ...aiSpec(adapter), url });
    for (const requestId of ['請求-42 ü', 'café%20', 'plain-id_1:2/3']) {
      const req = { ...request(25), requestId };
      await expect(createAiSystemClient(ai, decision).decide(req)).resolves.toMatchObject({
        decision: 'approve',
      });
    }
    expect(seen.map((h) => decodeURIComponent(h))).toEqual(['請求-42 ü', 'café%20', 'plain-id_1:2/3']);
    expect(seen[2]).toBe('plain-id_1:2/3');
    for (const header of seen) expect(header).toMatch(/^[\x21-\x7e]+$/);
  });

  it('when the AI answers 400 echoing the request, then the message says only the status and the body is kept apart, out of any serialisation', async () => {
    const url = await echoAi(400);
    const ai = aiSpecSchema.parse(adapter === 'http' ? { adapter, url } : { ...aiSpec(adapter), url });
    const req = { ...request(26), input: { ssn: '078-05-1120', name: 'Jane Roe' } };
    const err = await aiError(createAiSystemClient(ai, decision).decide(req));
    expect([err.kind, err.status, err.transient]).toEqual(['http-status', 400, false]);
    expect(err.message).toMatch(/^AI system answered HTTP 400\b/);
    expect(err.message).not.toContain('078-05-1120');
    // The excerpt is the body's first 200 characters: the http request puts the input there.
    expect(err.upstreamText).toContain(adapter === 'http' ? '078-05-1120' : '"model":"gpt-x"');
    expect(JSON.stringify(err)).not.toContain('078-05-1120');
    expect(JSON.stringify({ ...err })).not.toContain('078-05-1120');
    expect(String(err.stack)).not.toContain('078-05-1120');
  });

  it('when a 200 answer is not JSON and echoes the request, then the message does not quote it', async () => {
    const url = await echoAi(200, 'text');
    const ai = aiSpecSchema.parse(adapter === 'http' ? { adapter, url } : { ...aiSpec(adapter), url });
    const req = { ...request(27), input: { ssn: '078-05-1120' } };
    const err = await aiError(createAiSystemClient(ai, decision).decide(req));
    expect([err.kind, err.transient]).toEqual(['bad-output', false]);
    expect(err.message).toMatch(/not JSON/);
    expect(err.message).not.toContain('078-05-1120');
    // The excerpt is the body's first 200 characters: the http request puts the input there.
    expect(err.upstreamText).toContain(adapter === 'http' ? '078-05-1120' : '"model":"gpt-x"');
  });
});

describe('the http adapter', () => {
  it('when the answer carries a cost, then that cost is used instead of the price table', async () => {
    sim.setOptions({ cost: 0.0042 });
    const answer = await client('http').decide(request(10));
    expect(answer.costUsd).toBe(0.0042);
  });

  it('when the answer carries no usage and no cost, then the cost is the per-call price', async () => {
    const url = await stubAi({ decision: 'reject' });
    const ai = aiSpecSchema.parse({ adapter: 'http', url, pricing });
    const answer = await createAiSystemClient(ai, decision).decide(request(11));
    expect(answer).toMatchObject({
      decision: 'reject',
      confidence: null,
      modelVersion: null,
      inputTokens: null,
    });
    expect(answer.costUsd).toBe(0.001);
  });

  it('when a comparator is given and the decision is not comparable by it, then the error is bad-output', async () => {
    const url = await stubAi({ decision: 'lots' });
    const ai = aiSpecSchema.parse({ adapter: 'http', url });
    const numeric = createAiSystemClient(
      ai,
      { type: 'json' },
      { comparator: { type: 'numeric', tolerance: 0 } },
    );
    const err = await aiError(numeric.decide(request(11)));
    expect([err.kind, err.transient]).toEqual(['bad-output', false]);
    await expect(createAiSystemClient(ai, { type: 'json' }).decide(request(11))).resolves.toMatchObject({
      decision: 'lots',
    });
  });
});

/** A one-answer HTTP server standing in for an AI system, closed after the test. */
async function stubAi(answer: unknown, onHeaders?: (headers: IncomingHttpHeaders) => void): Promise<string> {
  return listen((req, res) => {
    onHeaders?.(req.headers);
    res.end(JSON.stringify(answer));
  });
}

/** An AI system that answers `status` with the request it got, as some do in their error bodies. */
async function echoAi(status: number, format: 'json' | 'text' = 'json'): Promise<string> {
  return listen(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.writeHead(status, { 'content-type': format === 'json' ? 'application/json' : 'text/plain' });
    res.end(format === 'json' ? `{"error":"invalid request","request":${body}}` : `I could not read ${body}`);
  });
}

async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('the openai-chat adapter', () => {
  it('when the model wraps its JSON in a ```json fence, then the answer is still read', async () => {
    sim.setOptions({ fenceJson: true });
    const req = request(12);
    const answer = await client('openai-chat').decide(req);
    expect(answer.decision).toBe(referenceLabel(req.input, LABELS));
  });

  it('when the content opens a fence and then holds 1 MB of spaces, then it is refused as bad-output at once', async () => {
    const content = '```' + ' '.repeat(1_000_000);
    const url = await stubAi({ model: 'm', choices: [{ message: { content } }] });
    const chat = createAiSystemClient(aiSpecSchema.parse({ ...aiSpec('openai-chat'), url }), decision, {
      maxResponseBytes: 2 * 1024 * 1024,
    });
    const started = performance.now();
    const err = await aiError(chat.decide(request(14)));
    // A backtracking fence pattern took about a minute on this input.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect([err.kind, err.message]).toEqual([
      'bad-output',
      'answer content is not JSON (1000003 characters)',
    ]);
  });

  it('when the server wants a key, then a missing key is a permanent 401 and the allowed secret is sent', async () => {
    sim.setOptions({ requireApiKey: 'sk-sim' });
    const err = await aiError(client('openai-chat').decide(request(13)));
    expect([err.kind, err.status, err.transient]).toEqual(['http-status', 401, false]);
    const secrets = AiSecrets.create([{ name: 'SG_TEST_SIM_KEY', hosts: null }], () => 'sk-sim', []);
    if (Array.isArray(secrets)) throw new Error(secrets.join('; '));
    const spec = aiSpec('openai-chat', { apiKeyEnv: 'SG_TEST_SIM_KEY' });
    const keyed = createAiSystemClient(spec, decision, { secrets });
    await expect(keyed.decide(request(13))).resolves.toMatchObject({ modelVersion: 'sim-1' });
    // Without the operator's grant the same plan sends nothing: a permanent egress-refused error.
    const refused = await aiError(createAiSystemClient(spec, decision).decide(request(13)));
    expect([refused.kind, refused.transient]).toEqual(['egress-refused', false]);
  });

  it('when the prompt is rendered, then placeholders are replaced and non-strings are JSON', () => {
    const req: AiRequest = { useCase: 'u', requestId: 'r', input: 'cost $& more', context: { tier: 'low' } };
    expect(renderPrompt('{{input}} | {{ context }} | {{labels}} | {{other}}', req, ['a', 'b'])).toBe(
      'cost $& more | {"tier":"low"} | ["a","b"] | {{other}}',
    );
  });
});

describe('reading a body under a cap', () => {
  it('when a 10 MiB stream meets a 1 MiB cap, then reading stops near the cap and the stream is cancelled', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(120);
    let pulled = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 10 * 1024 * 1024) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    const { text, truncated } = await readBoundedText(stream, 1024 * 1024);
    expect(truncated).toBe(true);
    expect(text.length).toBe(1024 * 1024);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThanOrEqual(1024 * 1024 + 2 * chunk.byteLength);
  });
});

describe('the simulated agreement rate', () => {
  it('when 2,000 requests go out at agreement 0.9, then the realised rate is within 0.03 and stats match the clients', async () => {
    sim.setOptions({ agreement: 0.9 });
    const clients = { http: client('http'), chat: client('openai-chat') };
    let agreed = 0;
    for (let batch = 0; batch < 40; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, async (_, k) => {
          const req = request(batch * 50 + k);
          const answer = await (k % 2 === 0 ? clients.http : clients.chat).decide(req);
          return answer.decision === referenceLabel(req.input, LABELS);
        }),
      );
      agreed += answers.filter(Boolean).length;
    }
    const stats = sim.stats();
    expect(Math.abs(agreed / 2000 - 0.9)).toBeLessThanOrEqual(0.03);
    expect(stats).toMatchObject({
      calls: 2000,
      answered: 2000,
      errors: 0,
      duplicateCalls: 0,
      answeredRequests: 2000,
      agreedWithReference: agreed,
    });
    expect(stats.agreementRate).toBe(agreed / 2000);
  });

  it('when errors are per request, then a retried failing request fails again and stats count each call', async () => {
    sim.setOptions({ errorRate: 0.2 });
    const c = client('http');
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        c.decide(request(i)).then(
          () => 'ok',
          (e: AiCallError) => e.kind,
        ),
      ),
    );
    const failed = outcomes.flatMap((o, i) => (o === 'ok' ? [] : [i]));
    expect(failed.length).toBeGreaterThan(20);
    expect(failed.length).toBeLessThan(60);
    const retried = await Promise.all(failed.map((i) => aiError(c.decide(request(i)))));
    expect(retried.every((e) => e.kind === 'http-status')).toBe(true);
    expect(sim.stats()).toMatchObject({
      calls: 200 + failed.length,
      errors: 2 * failed.length,
      answered: 200 - failed.length,
    });
  });
});
