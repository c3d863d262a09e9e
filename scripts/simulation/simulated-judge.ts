import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { jsonEqual } from '../../src/comparison/json-equal.js';
import { tokenF1 } from '../../src/comparison/text-similarity.js';
import { unitHash } from '../../src/contracts/sampling.js';
import { sendJson } from './simulated-responses.js';
import { ACCEPTABLE_F1 } from './support-tickets.js';

/**
 * A SIMULATED judge for demos and tests: no model behind it. It answers `POST /judge` (the judge
 * contract, README "Judge comparator") with a score of 1 when the AI's answer is acceptable and 0
 * when not, by a known truth: for a text, token-f1 of the two answers at least ACCEPTABLE_F1
 * (src/comparison/text-similarity.ts); for anything else, JSON equality. It is wrong with
 * probability 1 − `accuracy`, drawn per request from `unitHash(requestId, 'judge-error')`, so a
 * run's mistakes are the same every time. `GET /stats` counts what it did.
 *
 * Faults, at start or through `setOptions` while it runs: `outage` answers 503 to every call (a
 * test makes it fail, then recover), `errorRate` answers 500 to that share of attempts (drawn per
 * request and attempt, so a retry may pass), `failStatus` answers that status to every call
 * (a 4xx: a permanent failure), `invalidAnswer` answers a score of 7.
 */

/** The line between an acceptable draft and not, shared with the drafting simulation. */
export { ACCEPTABLE_F1 };
/** The salt of the judge's mistakes: the calibration of a run can be worked out from it. */
export const JUDGE_ERROR_SALT = 'judge-error';

export interface SimJudgeOptions {
  host?: string;
  port?: number;
  /** The share of requests it judges right (default 1). */
  accuracy?: number;
  latencyMs?: number;
  /** The `cost` of each answer, USD (default: none reported). */
  costPerCall?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** The share of attempts answered HTTP 500 (default 0). */
  errorRate?: number;
  /** Every call answered 503 while true. */
  outage?: boolean;
  /** Every call answered with this status while set (e.g. 400: a permanent failure). */
  failStatus?: number | null;
  /** Every call answered 200 with a score out of [0, 1] while true (an invalid answer). */
  invalidAnswer?: boolean;
  judgeVersion?: string;
  log?: (line: string) => void;
}

export interface SimJudgeStats {
  calls: number;
  answered: number;
  failed: number;
  /** Calls per request id (all attempts). */
  byRequest: Record<string, { calls: number; answered: number; score: number | null }>;
}

export interface SimulatedJudge {
  url: string;
  port: number;
  stats(): SimJudgeStats;
  setOptions(partial: Partial<SimJudgeOptions>): void;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/** Whether the AI's answer is acceptable: the truth the simulated judge knows. */
export function acceptable(human: unknown, ai: unknown): boolean {
  if (typeof human === 'string' && typeof ai === 'string') return tokenF1(human, ai) >= ACCEPTABLE_F1;
  return jsonEqual(human, ai);
}

/** The score the simulated judge gives a request: the truth, flipped on its mistakes. */
export function simulatedScore(requestId: string, human: unknown, ai: unknown, accuracy: number): 0 | 1 {
  const right = acceptable(human, ai);
  const mistaken = unitHash(requestId, JUDGE_ERROR_SALT) >= accuracy;
  return right !== mistaken ? 1 : 0;
}

export async function startSimulatedJudge(initial: SimJudgeOptions = {}): Promise<SimulatedJudge> {
  let opts = { ...initial };
  const byRequest = new Map<string, SimJudgeStats['byRequest'][string]>();
  const counts = { calls: 0, answered: 0, failed: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const judge = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readJson(req);
    const requestId = typeof body?.requestId === 'string' ? body.requestId : null;
    if (!body || requestId === null) return sendJson(res, 400, { error: 'expected the judge contract' });
    const record = byRequest.get(requestId) ?? { calls: 0, answered: 0, score: null };
    byRequest.set(requestId, record);
    const attempt = record.calls++;
    counts.calls++;
    const fail = (status: number) => {
      counts.failed++;
      opts.log?.(`[simulated-judge] ${requestId} → HTTP ${status}`);
      sendJson(res, status, { error: 'simulated judge failure' });
    };
    if (opts.outage) return fail(503);
    if (opts.failStatus) return fail(opts.failStatus);
    if (
      (opts.errorRate ?? 0) > 0 &&
      unitHash(`${requestId}#${attempt}`, 'judge-fault') < (opts.errorRate ?? 0)
    )
      return fail(500);
    if (opts.invalidAnswer) {
      counts.failed++;
      return sendJson(res, 200, { score: 7, verdict: 'acceptable' });
    }
    const score = simulatedScore(requestId, body.human, body.ai, opts.accuracy ?? 1);
    const answer = {
      score,
      verdict: score === 1 ? 'acceptable' : 'unacceptable',
      rationale:
        score === 1
          ? "The AI's answer says what the person's says."
          : "The AI's answer departs from the person's.",
      usage: { inputTokens: opts.inputTokens ?? 400, outputTokens: opts.outputTokens ?? 40 },
      ...(opts.costPerCall === undefined ? {} : { cost: opts.costPerCall }),
      judgeVersion: opts.judgeVersion ?? 'simulated-judge-1',
    };
    const send = () => {
      if (res.destroyed) return;
      counts.answered++;
      record.answered++;
      record.score = score;
      sendJson(res, 200, answer);
    };
    const latency = opts.latencyMs ?? 0;
    if (latency <= 0) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, latency);
    timers.add(timer);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const handled =
      req.method === 'POST' && path === '/judge'
        ? judge(req, res)
        : req.method === 'GET' && path === '/stats'
          ? Promise.resolve(sendJson(res, 200, { ...counts, byRequest: Object.fromEntries(byRequest) }))
          : Promise.resolve(sendJson(res, 404, { error: 'POST /judge or GET /stats' }));
    handled.catch(() =>
      res.headersSent ? res.destroy() : sendJson(res, 500, { error: 'simulation failed' }),
    );
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/judge`,
    port,
    stats: () => ({ ...counts, byRequest: structuredClone(Object.fromEntries(byRequest)) }),
    setOptions(partial) {
      opts = { ...opts, ...partial };
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `tsx scripts/simulation/simulated-judge.ts --port 9100 --accuracy 0.95 --latency 50 --cost 0.001` */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const at = process.argv.indexOf(`--${name}`);
    return at < 0 ? undefined : process.argv[at + 1];
  };
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  const judge = await startSimulatedJudge({
    port: num('port') ?? 9100,
    accuracy: num('accuracy') ?? 1,
    latencyMs: num('latency') ?? 0,
    errorRate: num('error-rate') ?? 0,
    ...(num('cost') === undefined ? {} : { costPerCall: num('cost') }),
    judgeVersion: arg('judge-version') ?? 'simulated-judge-1',
    log: (line) => console.log(line),
  });
  console.log(`simulated judge at ${judge.url}`);
}
