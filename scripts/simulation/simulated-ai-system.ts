import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { embeddedInput } from './embedded-input.js';
import { type SimAnswerOptions, simulateOutcome } from './simulated-answer.js';
import { respond, sendJson } from './simulated-responses.js';

/**
 * A SIMULATED AI system for demos and tests: no model behind it. It answers
 * `POST /decide` (the `http` adapter's format) and `POST /v1/chat/completions`
 * (OpenAI format) with the reference label, or deliberately not, by a hash of
 * the request id, and counts what it did (`GET /stats`, `?byRequest=1` for
 * the per-request detail). Behind the chat endpoint the request id is the
 * `x-request-id` header, percent-decoded (else a hash of the prompt), and the input is
 * recovered from the prompt (see `embeddedInput`).
 *
 * Its drafting mode: a request whose input is a support ticket (support-tickets.ts) is answered
 * with a draft reply (a `text` decision), acceptable with probability `agreement`.
 *
 * Two hooks for scenario tests, both options (at start or through `setOptions`): `alwaysAnswer`
 * makes it answer one label to everything (the "majority trap" AI), and `failOnReference` makes it
 * fail for good on the requests of some reference labels (an AI that fails on the hard cases). A
 * request input carrying `referenceLabel` sets its reference label (see reference-labeler.ts).
 */

export interface SimOptions extends Partial<SimAnswerOptions> {
  host?: string;
  port?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Per-call `cost` field on `/decide` answers; omitted when undefined. */
  cost?: number;
  modelVersion?: string;
  /** Wrap chat answers in a ```json fence, as some models do. */
  fenceJson?: boolean;
  /** When set, calls without `Authorization: Bearer <key>` get 401. */
  requireApiKey?: string;
  log?: (line: string) => void;
}

export interface SimRequestStats {
  calls: number;
  /** The first label answered (null while none was). */
  decision: string | null;
  reference: string | null;
  agreed: boolean | null;
}

export interface SimStats {
  calls: number;
  /** Calls answered with one of the labels. */
  answered: number;
  /** Calls answered with a failure: HTTP 500, malformed JSON, a huge body, a wrong label. */
  errors: number;
  /** Calls still waiting for their answer. */
  pending: number;
  /** Calls whose client left before the answer (timeouts). */
  abandoned: number;
  distinctRequests: number;
  /** Calls beyond the first for a request id. */
  duplicateCalls: number;
  /** Request ids answered with a label at least once. */
  answeredRequests: number;
  /** Of those, the ones whose first answer was the reference label. */
  agreedWithReference: number;
  agreementRate: number | null;
  byRequest: Record<string, SimRequestStats>;
}

export interface SimulatedAiSystem {
  url: string;
  port: number;
  stats(): SimStats;
  setOptions(partial: Partial<SimOptions>): void;
  resetStats(): void;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

export async function startSimulatedAiSystem(initial: SimOptions = {}): Promise<SimulatedAiSystem> {
  let opts = withDefaults(initial);
  let requests = new Map<string, SimRequestStats>();
  let counts = { calls: 0, answered: 0, errors: 0, pending: 0, abandoned: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const handleCall = (
    res: ServerResponse,
    format: 'decide' | 'chat',
    requestId: string,
    input: unknown,
  ): void => {
    const record = requests.get(requestId) ?? { calls: 0, decision: null, reference: null, agreed: null };
    requests.set(requestId, record);
    const outcome = simulateOutcome(opts, requestId, input, record.calls);
    record.calls++;
    counts.calls++;
    counts.pending++;
    let settled = false;
    const settle = (how: 'answered' | 'errors' | 'abandoned'): boolean => {
      if (settled) return false;
      settled = true;
      counts.pending--;
      counts[how]++;
      return true;
    };
    res.on('close', () => settle('abandoned'));
    if (outcome.kind === 'timeout') return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (res.destroyed) return;
      if (outcome.kind === 'answer') {
        if (!settle('answered')) return;
        if (record.decision === null) {
          record.decision = outcome.decision;
          record.reference = outcome.reference;
          record.agreed = outcome.agreed;
        }
        opts.log(
          `[simulated-ai] ${requestId} → ${outcome.decision} (${outcome.agreed ? 'agrees' : 'disagrees'})`,
        );
      } else {
        if (!settle('errors')) return;
        opts.log(`[simulated-ai] ${requestId} → simulated failure ${outcome.kind}`);
      }
      respond(res, format, outcome, opts);
    }, outcome.latencyMs);
    timers.add(timer);
  };

  const server = createServer((req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'simulation failed' });
      else res.destroy();
    });
  });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/stats') {
      const { byRequest, ...summary } = snapshot();
      return sendJson(
        res,
        200,
        url.searchParams.get('byRequest') === '1' ? { ...summary, byRequest } : summary,
      );
    }
    if (req.method !== 'POST' || (path !== '/decide' && path !== '/v1/chat/completions')) {
      return sendJson(res, 404, { error: 'not found (simulated AI system)' });
    }
    if (opts.requireApiKey !== undefined && req.headers.authorization !== `Bearer ${opts.requireApiKey}`) {
      return sendJson(res, 401, { error: { message: 'missing or wrong API key (simulated AI system)' } });
    }
    const body = await readJson(req);
    if (body === undefined) return sendJson(res, 400, { error: 'body is not JSON of at most 5 MiB' });
    const header = req.headers['x-request-id'];
    if (path === '/decide') {
      const requestId = typeof body.requestId === 'string' ? body.requestId : String(header ?? '');
      if (requestId === '') return sendJson(res, 400, { error: 'requestId is required' });
      return handleCall(res, 'decide', requestId, body.input);
    }
    const prompt = userMessage(body);
    const requestId =
      typeof header === 'string' && header !== '' ? decodeHeader(header) : `prompt-${sha256(prompt)}`;
    return handleCall(res, 'chat', requestId, embeddedInput(prompt));
  };

  const snapshot = (): SimStats => {
    const byRequest: Record<string, SimRequestStats> = {};
    let answeredRequests = 0;
    let agreed = 0;
    for (const [id, r] of requests) {
      byRequest[id] = { calls: r.calls, decision: r.decision, reference: r.reference, agreed: r.agreed };
      if (r.decision !== null) answeredRequests++;
      if (r.agreed === true) agreed++;
    }
    return {
      ...counts,
      distinctRequests: requests.size,
      duplicateCalls: counts.calls - requests.size,
      answeredRequests,
      agreedWithReference: agreed,
      agreementRate: answeredRequests === 0 ? null : agreed / answeredRequests,
      byRequest,
    };
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(initial.port ?? 0, initial.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  opts.log(`[simulated-ai] simulated AI system (no model) listening on http://${host}:${address.port}`);

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats: snapshot,
    setOptions: (partial) => {
      opts = withDefaults({ ...opts, ...partial });
    },
    resetStats: () => {
      requests = new Map();
      counts = { calls: 0, answered: 0, errors: 0, pending: counts.pending, abandoned: 0 };
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The controller percent-encodes request ids that are not plain ASCII (see request-id-header.ts). */
function decodeHeader(header: string): string {
  try {
    return decodeURIComponent(header);
  } catch {
    return header;
  }
}

export type ResolvedSimOptions = SimAnswerOptions &
  Required<Pick<SimOptions, 'inputTokens' | 'outputTokens' | 'modelVersion' | 'fenceJson' | 'log'>> &
  Pick<SimOptions, 'cost' | 'requireApiKey'>;

/** Options as the simulation runs with them; throws on a hook naming a label it does not have. */
function withDefaults(o: SimOptions): ResolvedSimOptions {
  const labels = o.labels ?? ['approve', 'reject', 'escalate'];
  const failOnReference = o.failOnReference ?? [];
  for (const label of [...(o.alwaysAnswer === undefined ? [] : [o.alwaysAnswer]), ...failOnReference]) {
    if (!labels.includes(label)) {
      throw new Error(
        `simulated AI: ${JSON.stringify(label)} is not one of its labels (${labels.join(', ')})`,
      );
    }
  }
  return {
    labels,
    agreement: o.agreement ?? 0.92,
    latencyMs: o.latencyMs ?? 0,
    errorRate: o.errorRate ?? 0,
    transientErrors: o.transientErrors ?? false,
    failure: o.failure ?? 'none',
    confidence: o.confidence ?? null,
    seed: o.seed ?? 'sim',
    ...(o.alwaysAnswer === undefined ? {} : { alwaysAnswer: o.alwaysAnswer }),
    failOnReference,
    inputTokens: o.inputTokens ?? 400,
    outputTokens: o.outputTokens ?? 20,
    modelVersion: o.modelVersion ?? 'sim-1',
    fenceJson: o.fenceJson ?? false,
    log: o.log ?? (() => {}),
    cost: o.cost,
    requireApiKey: o.requireApiKey,
  };
}

function userMessage(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const user = messages.filter((m) => m?.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : '';
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

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
