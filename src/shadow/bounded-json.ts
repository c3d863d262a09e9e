import { AiCallError, excerpt } from './ai-errors.js';

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
  headers?: Record<string, string>;
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
}

export interface PostedJson {
  json: unknown;
  /** `performance.now()` when the call started, for latency of later failures. */
  startedAt: number;
}

export function elapsedMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

export async function postBoundedJson(
  url: string,
  payload: unknown,
  opts: PostJsonOptions,
): Promise<PostedJson> {
  const startedAt = performance.now();
  if (opts.signal?.aborted) throw new AiCallError('transport', 'call aborted by the caller', 0);

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onCallerAbort = (): void => controller.abort();
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });

  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...opts.headers },
      body: JSON.stringify(payload),
      signal: controller.signal,
    });
    if (!res.ok) {
      const { text } = await readBoundedText(res.body, ERROR_BODY_BYTES);
      const detail = text.trim() === '' ? '' : `: ${excerpt(text)}`;
      throw new AiCallError(
        'http-status',
        `AI system answered HTTP ${res.status}${detail}`,
        elapsedMs(startedAt),
        res.status,
      );
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > opts.maxResponseBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(opts.maxResponseBytes, startedAt);
    }
    const { text, truncated } = await readBoundedText(res.body, opts.maxResponseBytes);
    if (truncated) throw tooLarge(opts.maxResponseBytes, startedAt);
    try {
      return { json: JSON.parse(text), startedAt };
    } catch {
      throw new AiCallError('bad-output', `answer is not JSON: ${excerpt(text, 100)}`, elapsedMs(startedAt));
    }
  } catch (err) {
    if (err instanceof AiCallError) throw err;
    const latencyMs = elapsedMs(startedAt);
    if (timedOut) throw new AiCallError('timeout', `no answer within ${opts.timeoutMs} ms`, latencyMs);
    if (opts.signal?.aborted) throw new AiCallError('transport', 'call aborted by the caller', latencyMs);
    throw new AiCallError('transport', `transport error: ${describe(err)}`, latencyMs);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/**
 * Reads at most `maxBytes` of a body. Past the cap the stream is cancelled
 * (closing the connection) and `truncated` is true; what was read is returned.
 */
export async function readBoundedText(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  if (body === null) return { text: '', truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      await reader.cancel().catch(() => {});
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
