import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ResolvedSimOptions } from './simulated-ai-system.js';
import { type SimOutcome, WRONG_LABEL } from './simulated-answer.js';

/** The simulated AI system's answers on the wire, in both formats it speaks. */

const HUGE_BYTES = 10 * 1024 * 1024;

export function respond(
  res: ServerResponse,
  format: 'decide' | 'chat',
  outcome: Exclude<SimOutcome, { kind: 'timeout' }>,
  o: ResolvedSimOptions,
): void {
  if (outcome.kind === 'huge') {
    void streamHuge(res);
    return;
  }
  const [status, body] = answerBody(format, outcome, o);
  sendRaw(res, status, body);
}

function answerBody(
  format: 'decide' | 'chat',
  outcome: Exclude<SimOutcome, { kind: 'timeout' | 'huge' }>,
  o: ResolvedSimOptions,
): [number, string] {
  if (outcome.kind === 'http-500') {
    return [500, JSON.stringify({ error: { message: 'simulated server error', type: 'server_error' } })];
  }
  if (outcome.kind === 'malformed-json') {
    if (format === 'decide') return [200, '{"decision": "approve", "confidence": 0.9'];
    return [200, JSON.stringify(chatCompletion('Sure! I would approve this one.', o))];
  }
  const decision = outcome.kind === 'answer' ? outcome.decision : WRONG_LABEL;
  const confidence = outcome.kind === 'answer' ? outcome.confidence : 0.5;
  if (format === 'chat') {
    const content = JSON.stringify({ decision, confidence });
    return [200, JSON.stringify(chatCompletion(o.fenceJson ? '```json\n' + content + '\n```' : content, o))];
  }
  const answer = {
    decision,
    confidence,
    modelVersion: o.modelVersion,
    usage: { inputTokens: o.inputTokens, outputTokens: o.outputTokens },
    ...(o.cost === undefined ? {} : { cost: o.cost }),
    simulated: true,
  };
  return [200, JSON.stringify(answer)];
}

function chatCompletion(content: string, o: ResolvedSimOptions): unknown {
  return {
    id: `chatcmpl-sim-${sha256(content).slice(0, 12)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: o.modelVersion,
    system_fingerprint: 'simulated-ai-system',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: o.inputTokens,
      completion_tokens: o.outputTokens,
      total_tokens: o.inputTokens + o.outputTokens,
    },
  };
}

/** 10 MiB of valid-looking JSON, chunked (no length announced) and written as fast as the client reads. */
async function streamHuge(res: ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json', 'x-simulated': 'true' });
  const chunk = 'x'.repeat(64 * 1024);
  res.write('{"decision":"approve","padding":"');
  for (let sent = 0; sent < HUGE_BYTES && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) await drainedOrClosed(res);
  }
  if (!res.destroyed) res.end('"}');
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendRaw(res, status, JSON.stringify(body));
}

function sendRaw(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-simulated': 'true',
  });
  res.end(text);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
