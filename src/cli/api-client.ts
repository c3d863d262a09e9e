import { oneLine } from '../contracts/safe-text.js';
import { CliError, EXIT, exitCodeForStatus } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const TIMEOUT_MS = 60_000;

export interface ApiTarget {
  /** The controller's base URL, without a trailing slash. */
  url: string;
  key: string;
}

export interface ApiProblem {
  path: string;
  problem: string;
}

/** A refusal from the controller, with its `{error, message, details}` body when it sent one. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly problems: ApiProblem[],
  ) {
    super(
      `${apiMessage} (HTTP ${status})`,
      exitCodeForStatus(status),
      problems.map((p) => (p.path ? `${p.path}: ${p.problem}` : p.problem)),
    );
    this.name = 'ApiError';
  }
}

/** Flags win over the environment; the key is required, the URL defaults to the local controller. */
export function resolveTarget(
  flags: { url?: string | undefined; key?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): ApiTarget {
  const raw = flags.url ?? env.SHADOWGATE_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`invalid controller URL "${raw}" (--url or SHADOWGATE_URL)`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid controller URL "${raw}": expected http:// or https://`, EXIT.usage);
  }
  const key = flags.key ?? env.SHADOWGATE_KEY;
  if (!key) throw new CliError('no API key: pass --key or set SHADOWGATE_KEY', EXIT.usage);
  return { url: url.toString().replace(/\/+$/, ''), key };
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  body?: string;
  contentType?: string;
  accept?: string;
}

/** The controller's v1 API over fetch: every failure becomes a CliError with its exit code. */
export class ApiClient {
  constructor(readonly target: ApiTarget) {}

  async getJson<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>(await this.send('GET', path, query ? { query } : {}));
  }

  async getText(path: string, query: Query, accept: string): Promise<string> {
    return (await this.send('GET', path, { query, accept })).text();
  }

  async postJson<T>(path: string, body: unknown): Promise<T> {
    const response = await this.send('POST', path, {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    return this.json<T>(response);
  }

  async putText<T>(path: string, body: string, contentType: string): Promise<T> {
    return this.json<T>(await this.send('PUT', path, { body, contentType }));
  }

  async delete(path: string): Promise<void> {
    await this.send('DELETE', path, {});
  }

  /** A 2xx answer that is not JSON comes from something other than a controller (a proxy, a wrong port). */
  private async json<T>(response: Response): Promise<T> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new CliError(
        `the answer of the controller at ${this.target.url} broke off: ${transportProblem(error)}`,
        EXIT.unavailable,
      );
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `the controller at ${this.target.url} answered HTTP ${response.status} with a body that is not JSON (is it a Shadowgate controller?)`,
        EXIT.unavailable,
      );
    }
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const address = new URL(`${this.target.url}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) address.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.target.key}`,
      accept: options.accept ?? 'application/json',
    };
    if (options.contentType) headers['content-type'] = options.contentType;
    let response: Response;
    try {
      response = await fetch(address, {
        method,
        headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new CliError(
        `cannot reach the controller at ${this.target.url}: ${transportProblem(error)}`,
        EXIT.unavailable,
      );
    }
    if (response.ok) return response;
    throw await apiError(response);
  }
}

/** The controller's message and each problem on a line of their own: its text cannot add lines. */
async function apiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: { error?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not the controller's error format (a proxy, say): the status and the text say enough.
  }
  const message = oneLine(
    typeof body.message === 'string'
      ? body.message
      : text.trim().slice(0, 200) || response.statusText || 'request failed',
  );
  const problems = Array.isArray(body.details)
    ? body.details
        .filter((d): d is ApiProblem => typeof d === 'object' && d !== null && 'problem' in d)
        .map((d) => ({ path: oneLine(String(d.path ?? '')), problem: oneLine(String(d.problem)) }))
    : [];
  return new ApiError(
    response.status,
    typeof body.error === 'string' ? oneLine(body.error) : '',
    message,
    problems,
  );
}

const TRANSPORT_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** fetch reports "fetch failed" and keeps the reason in `cause` (an AggregateError for several addresses). */
export function transportProblem(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = e?.cause as
    | { code?: string; message?: string; errors?: Array<{ code?: string }> }
    | undefined;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (code && TRANSPORT_CODES[code]) return TRANSPORT_CODES[code];
  return cause?.message || code || e?.message || String(error);
}
