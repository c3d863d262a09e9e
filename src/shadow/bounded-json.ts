import type { ClientRequest, IncomingMessage } from 'node:http';
import { DestinationPolicy } from '../egress/destination-policy.js';
import { EgressRefusedError } from '../egress/egress-refused-error.js';
import { GuardedHttp } from '../egress/guarded-http.js';
import { AiCallError } from './ai-errors.js';

/**
 * One JSON POST to an AI system, with the guarantees every adapter needs: a
 * deadline covering the whole exchange (headers and body), the caller's abort
 * signal honoured, and the answer read under a hard byte cap by streaming, so
 * an oversized answer is cut off instead of buffered.
 */

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** Enough of an error body to explain a status; the rest is discarded unread. */
const ERROR_BODY_BYTES = 4096;

export interface PostJsonOptions {
  /** Where the call may go and its connection pool (`aiEgress`). */
  egress: GuardedHttp;
  headers?: Record<string, string>;
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
  /** Who is called, in an HTTP error's message (default "AI system"; a judge says "judge"). */
  peer?: string;
}

export interface PostedJson {
  json: unknown;
  /** `performance.now()` when the call started, for latency of later failures. */
  startedAt: number;
}

export function elapsedMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

/**
 * Connections are kept alive between calls. A free socket is closed after 4 s idle, or 1 s before
 * the idle timeout the server announces (Keep-Alive: timeout=N), so a call rarely meets a
 * connection the server has just closed. node:http rather than fetch: fetch cost about four times
 * the CPU per call here (web streams, abort signals), the shadow worker's largest cost at 1,000
 * calls/s.
 */
const AGENT_OPTIONS = { keepAlive: true, timeout: 4_000 };

/** AI calls under `policy`, over connections of their own; a controller makes one. */
export function aiEgress(policy: DestinationPolicy): GuardedHttp {
  return new GuardedHttp(policy, AGENT_OPTIONS);
}

/** The default policy, for clients built without one: loopback, link-local, metadata… refused. */
export const DEFAULT_AI_EGRESS = aiEgress(new DestinationPolicy('SHADOWGATE_AI_DESTINATIONS'));

export async function postBoundedJson(
  url: string,
  payload: unknown,
  opts: PostJsonOptions,
): Promise<PostedJson> {
  const startedAt = performance.now();
  if (opts.signal?.aborted) throw new AiCallError('transport', 'call aborted by the caller', 0);

  let stopped: 'timeout' | 'aborted' | null = null;
  let req: ClientRequest | undefined;
  let res: IncomingMessage | undefined;
  const stop = (why: 'timeout' | 'aborted'): void => {
    stopped ??= why;
    res?.destroy();
    req?.destroy();
  };
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
  const onCallerAbort = (): void => stop('aborted');
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });

  try {
    const body = JSON.stringify(payload);
    const request = opts.egress.request(new URL(url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': Buffer.byteLength(body),
        ...opts.headers,
      },
    });
    req = request;
    res = await new Promise<IncomingMessage>((resolve, reject) => {
      request.on('error', reject); // stays attached: a late socket error must not go unhandled
      request.once('response', resolve);
      request.end(body);
    });
    if (stopped) throw new Error(stopped);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw await statusError(res, status, startedAt, opts.peer);
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    if (declared > opts.maxResponseBytes) {
      res.destroy();
      throw tooLarge(opts.maxResponseBytes, startedAt);
    }
    const { text, truncated } = await readBoundedText(res, opts.maxResponseBytes);
    if (truncated) throw tooLarge(opts.maxResponseBytes, startedAt);
    try {
      return { json: JSON.parse(text), startedAt };
    } catch {
      const size = Buffer.byteLength(text);
      throw new AiCallError(
        'bad-output',
        `answer is not JSON (${size} bytes)`,
        elapsedMs(startedAt),
        null,
        text,
      );
    }
  } catch (err) {
    if (err instanceof AiCallError) throw err;
    const latencyMs = elapsedMs(startedAt);
    if (err instanceof EgressRefusedError) throw new AiCallError('egress-refused', err.message, latencyMs);
    if (stopped === 'timeout')
      throw new AiCallError('timeout', `no answer within ${opts.timeoutMs} ms`, latencyMs);
    if (stopped === 'aborted') throw new AiCallError('transport', 'call aborted by the caller', latencyMs);
    throw new AiCallError('transport', `transport error: ${describe(err)}`, latencyMs);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/**
 * An HTTP error: the message says the status and the body's size; the body, which may echo the
 * request, goes only to `upstreamText`.
 */
async function statusError(
  res: IncomingMessage,
  status: number,
  startedAt: number,
  peer = 'AI system',
): Promise<AiCallError> {
  const { text, truncated } = await readBoundedText(res, ERROR_BODY_BYTES);
  const size = Buffer.byteLength(text);
  const body = size === 0 ? '' : ` (a body of ${truncated ? `over ${ERROR_BODY_BYTES}` : size} bytes)`;
  return new AiCallError(
    'http-status',
    `${peer} answered HTTP ${status}${body}`,
    elapsedMs(startedAt),
    status,
    text.trim() === '' ? null : text,
  );
}

/**
 * Reads at most `maxBytes` of a body (a Node or a web stream). Past the cap reading stops, the
 * stream is cancelled (closing the connection) and `truncated` is true; what was read is returned.
 */
export async function readBoundedText(
  body: AsyncIterable<Uint8Array> | null,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  if (body === null) return { text: '', truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early destroys a Node stream and cancels a web stream.
  for await (const value of body) {
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      return { text: decode(chunks), truncated: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: decode(chunks), truncated: false };
}

function decode(chunks: Uint8Array[]): string {
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number, startedAt: number): AiCallError {
  return new AiCallError('too-large', `answer larger than ${maxBytes} bytes`, elapsedMs(startedAt));
}

/** The most specific reason undici gives (it wraps socket errors in `cause`). */
function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} ${cause.message}` : cause.message;
  }
  return String(cause);
}
