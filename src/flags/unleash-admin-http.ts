import { FlagStoreError, type FlagStoreProblem } from './flag-store-error.js';
import { classifyAnswer } from './unleash-answer.js';

export interface UnleashAdminHttpOptions {
  /** Unleash's base URL; a trailing `/api` is tolerated and dropped. */
  url: string;
  adminToken: string;
  fetch?: typeof fetch;
  /** Per request; default 3 s. */
  timeoutMs?: number;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

export type AdminRequest = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  what: string,
  options?: { body?: unknown; accept?: number[] },
) => Promise<AdminResponse>;

/**
 * One Admin API call with a timeout. A status outside 2xx and `accept`, or a write answered with
 * a change request instead of the change, throws a FlagStoreError naming Unleash, its URL, what
 * was being done and what went wrong (its `problem` says what kind: unleash-answer.ts); the
 * token never appears in a message.
 */
export function unleashAdminHttp(options: UnleashAdminHttpOptions): {
  baseUrl: string;
  request: AdminRequest;
} {
  const baseUrl = options.url.replace(/\/+$/, '').replace(/\/api$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 3_000;

  const request: AdminRequest = async (method, path, what, { body, accept = [] } = {}) => {
    const fail = (problem: string, kind: FlagStoreProblem, cause?: unknown) =>
      new FlagStoreError(`Unleash at ${baseUrl}: ${what} (${method} ${path}) failed: ${problem}`, kind, {
        cause,
        reason: `${what}: ${problem}`,
      });
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: options.adminToken,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw fail(connectionProblem(error, timeoutMs), 'unreachable', error);
    }
    const parsed = parseJson(text);
    if (!response.ok && accept.includes(response.status)) return { status: response.status, body: parsed };
    const answer = classifyAnswer(method, response.status, parsed, text);
    if (answer.kind !== 'done') throw fail(answer.problem, answer.kind);
    return { status: response.status, body: parsed };
  };
  return { baseUrl, request };
}

function connectionProblem(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return `could not connect (${cause.code})`;
  return `could not connect (${(error as Error)?.message ?? String(error)})`;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
