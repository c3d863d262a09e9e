import type { ProblemDetail, SuggestionAnswer } from './wire.js';
import { retryAfterMs } from './backoff.js';

/**
 * The SDK's HTTP calls to the controller, each bounded in time. Nothing here throws:
 * every answer, refusal and transport failure comes back as an outcome the caller
 * can act on (retry, drop, fall back).
 */

export type SendOutcome =
  | { kind: 'ok'; status: number; body: unknown }
  /** A 4xx the same request will get again: do not retry it as is. */
  | { kind: 'refused'; status: number; message: string; details: ProblemDetail[] }
  /**
   * Worth retrying. `unreachable` (refused connection, timeout, 429, 502–504) is
   * retried for as long as it takes; anything else (500…) a bounded number of times.
   */
  | {
      kind: 'transient';
      status: number | null;
      message: string;
      unreachable: boolean;
      retryAfterMs?: number;
      /** The request surely never reached the controller (the connection was refused or never made). */
      undelivered?: boolean;
    };

/** The part of the controller's answer the SDK acts on. */
export type SuggestionBody = Pick<
  SuggestionAnswer,
  'decision' | 'confidence' | 'modelVersion' | 'autonomous' | 'audit' | 'rate'
>;

export type SuggestOutcome =
  | { kind: 'ok'; suggestion: SuggestionBody }
  | { kind: 'late' }
  /** `delivered: false` when the request surely never reached the controller (connection refused…). */
  | { kind: 'failed'; status: number | null; message: string; unreachable: boolean; delivered: boolean };

export interface ControllerClientOptions {
  url: string;
  apiKey: string;
  requestTimeoutMs: number;
}

export class ControllerClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: ControllerClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };
  }

  /** `POST /v1/decisions` with a body already serialised (`{"decisions":[…]}`). */
  postBatch(body: string, stop?: AbortSignal): Promise<SendOutcome> {
    return this.post('/v1/decisions', body, this.options.requestTimeoutMs, stop);
  }

  postLateHuman(useCase: string, requestId: string, body: string, stop?: AbortSignal): Promise<SendOutcome> {
    const path = `/v1/decisions/${encodeURIComponent(useCase)}/${encodeURIComponent(requestId)}/human`;
    return this.post(path, body, this.options.requestTimeoutMs, stop);
  }

  postRating(useCase: string, requestId: string, body: string, stop?: AbortSignal): Promise<SendOutcome> {
    const path = `/v1/decisions/${encodeURIComponent(useCase)}/${encodeURIComponent(requestId)}/rating`;
    return this.post(path, body, this.options.requestTimeoutMs, stop);
  }

  /**
   * `POST /v1/use-cases/:id/suggest`, settled by `deadlineMs` at the latest: past it the
   * request is aborted and the outcome is `late` (the controller records the AI's answer
   * anyway, since it created the decision before calling the AI).
   */
  async suggest(useCase: string, body: string, deadlineMs: number): Promise<SuggestOutcome> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<SuggestOutcome>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve({ kind: 'late' });
      }, deadlineMs);
    });
    const work = this.request(
      `/v1/use-cases/${encodeURIComponent(useCase)}/suggest`,
      body,
      abort.signal,
    ).then((outcome): SuggestOutcome => {
      if (abort.signal.aborted) return { kind: 'late' };
      if (outcome.kind !== 'ok') {
        const transient = outcome.kind === 'transient';
        return {
          kind: 'failed',
          status: outcome.status,
          message: outcome.message,
          unreachable: transient && outcome.unreachable,
          delivered: !(transient && outcome.undelivered === true),
        };
      }
      const suggestion = asSuggestion(outcome.body);
      return suggestion
        ? { kind: 'ok', suggestion }
        : {
            kind: 'failed',
            status: outcome.status,
            message: 'malformed suggestion',
            unreachable: false,
            delivered: true,
          };
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Aborted at `timeoutMs`, or at once when `stop` fires (the SDK is closing). */
  private post(path: string, body: string, timeoutMs: number, stop?: AbortSignal): Promise<SendOutcome> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    timer.unref();
    const onStop = () => abort.abort();
    if (stop?.aborted) abort.abort();
    else stop?.addEventListener('abort', onStop, { once: true });
    return this.request(path, body, abort.signal).finally(() => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    });
  }

  private async request(path: string, body: string, signal: AbortSignal): Promise<SendOutcome> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}${path}`, { method: 'POST', headers: this.headers, body, signal });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) return { kind: 'transient', status: null, message: 'timed out', unreachable: true };
      const message = transportMessage(error);
      return {
        kind: 'transient',
        status: null,
        message,
        unreachable: true,
        undelivered: NOT_CONNECTED.has(message),
      };
    }
    const parsed = parseJson(text);
    if (response.ok) return { kind: 'ok', status: response.status, body: parsed };
    const message = errorMessage(parsed) ?? `HTTP ${response.status}`;
    const status = response.status;
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfter = retryAfterMs(response.headers.get('retry-after'));
      return {
        kind: 'transient',
        status,
        message,
        unreachable: status === 408 || status === 429 || (status >= 502 && status <= 504),
        ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
      };
    }
    return { kind: 'refused', status, message, details: errorDetails(parsed) };
  }
}

/** Transport errors raised before a byte of the request could reach the controller. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const message = (body as { message?: unknown }).message;
  return typeof message === 'string' ? message : undefined;
}

function errorDetails(body: unknown): ProblemDetail[] {
  if (typeof body !== 'object' || body === null) return [];
  const details = (body as { details?: unknown }).details;
  if (!Array.isArray(details)) return [];
  return details.flatMap((d) =>
    typeof d === 'object' && d !== null && typeof (d as ProblemDetail).path === 'string'
      ? [{ path: (d as ProblemDetail).path, problem: String((d as ProblemDetail).problem ?? '') }]
      : [],
  );
}

function transportMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The envelope only: the decision itself is the plan's business and is not re-validated here. */
function asSuggestion(body: unknown): SuggestionBody | undefined {
  if (typeof body !== 'object' || body === null || !('decision' in body)) return undefined;
  const b = body as Record<string, unknown>;
  return {
    decision: b.decision,
    confidence: typeof b.confidence === 'number' ? b.confidence : null,
    modelVersion: typeof b.modelVersion === 'string' ? b.modelVersion : null,
    autonomous: b.autonomous === true,
    audit: b.audit === true,
    rate: b.rate === true,
  };
}
