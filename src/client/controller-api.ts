import type { z } from 'zod';
import type { CHANGE_STATES, changeDetailSchema, changeViewSchema } from '../contracts/change-contracts.js';
import { oneLine } from '../contracts/safe-text.js';
import type { Role } from '../keys/roles.js';

/**
 * The controller's v1 API over fetch, as an operator's tools speak it: the CLI, the demo, the
 * fault suite and the benchmarks. Every call carries the bearer key and a timeout. A refusal
 * (4xx, 5xx) becomes a ControllerApiError with the controller's `{error, message, details}`;
 * no usable answer at all (unreachable, timed out, broken off, not JSON) a
 * ControllerUnavailableError. Text from the answer is made single-line before it is kept, so
 * printing an error cannot add lines or move a terminal's cursor.
 */

export const DEFAULT_TIMEOUT_MS = 60_000;

export interface ControllerTarget {
  /** The controller's base URL, without a trailing slash. */
  url: string;
  key: string;
}

export interface ApiProblem {
  path: string;
  problem: string;
}

/** The controller answered with an error status. */
export class ControllerApiError extends Error {
  constructor(
    /** `METHOD /path` of the request refused. */
    readonly request: string,
    readonly status: number,
    /** The body's `error` code (e.g. `gate_not_eligible`); empty when it sent none. */
    readonly code: string,
    readonly apiMessage: string,
    readonly problems: readonly ApiProblem[],
  ) {
    super([`${request}: ${apiMessage} (HTTP ${status})`, ...problemLines(problems)].join('; '));
    this.name = 'ControllerApiError';
  }

  /** Each problem as `path: problem` (the problem alone when it has no path). */
  get problemLines(): string[] {
    return problemLines(this.problems);
  }
}

/** No answer to act on: the controller is unreachable, timed out, broke off, or is not a controller. */
export class ControllerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControllerUnavailableError';
  }
}

export interface ControllerApiOptions {
  /** Per request, headers to the whole body. Default 60 s. */
  timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  body?: string;
  contentType?: string;
  accept?: string;
}

/** `PUT /v1/use-cases/:id/plan`. */
export interface PlanApplied {
  useCase: string;
  planVersion: number;
  created: boolean;
  unchanged: boolean;
  stage: string;
  aiConfig: string;
}

/** A change held back for approval, as `GET /v1/changes` lists it (README "Change control"). */
export type ChangeView = z.infer<typeof changeViewSchema>;
export type ChangeRule = ChangeView['rules'][number];
export type ChangeState = (typeof CHANGE_STATES)[number];
/** `GET /v1/changes/:changeId`: the change, the diff against the plan in force, its effect on the evidence. */
export type ChangeDetail = z.infer<typeof changeDetailSchema>;

/**
 * What a plan or a manual stage change answers when change control holds it back (202): nothing
 * was applied; a release key approves it with `approveChange`.
 */
export interface HeldChange {
  pending: true;
  change: ChangeView;
}

/** `POST /v1/changes/:changeId/approve`: `applied` stays null until the approvals are complete. */
export interface ApprovalOutcome {
  change: ChangeView;
  applied: unknown;
}

/** True for the 202 of a change held back for approval (whatever the route would answer otherwise). */
export function isHeld(answer: unknown): answer is HeldChange {
  const a = answer as Partial<HeldChange> | null;
  return a?.pending === true && typeof a.change === 'object' && a.change !== null;
}

export class ControllerApi {
  readonly timeoutMs: number;

  constructor(
    readonly target: ControllerTarget,
    options: ControllerApiOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The same controller, spoken to with another key. */
  withKey(key: string): ControllerApi {
    return new ControllerApi({ url: this.target.url, key }, { timeoutMs: this.timeoutMs });
  }

  async getJson<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>(await this.send('GET', path, query ? { query } : {}));
  }

  async getText(path: string, query: Query, accept: string): Promise<string> {
    return this.text(await this.send('GET', path, { query, accept }));
  }

  async postJson<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>(await this.sendJson('POST', path, body));
  }

  async putJson<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>(await this.sendJson('PUT', path, body));
  }

  /** Sends `body` verbatim (a YAML plan, say). */
  async putText<T>(path: string, body: string, contentType: string): Promise<T> {
    return this.json<T>(await this.send('PUT', path, { body, contentType }));
  }

  async delete(path: string): Promise<void> {
    await this.send('DELETE', path, {});
  }

  /**
   * Applies a plan: text is sent as YAML (JSON text is YAML too), an object as JSON. A plan that
   * widens the AI's authority, or changes a use case whose plan asks for approvals, is held back
   * instead (`isHeld`).
   */
  applyPlan(useCase: string, plan: string | object): Promise<PlanApplied | HeldChange> {
    const path = `/v1/use-cases/${encodeURIComponent(useCase)}/plan`;
    return typeof plan === 'string'
      ? this.putText<PlanApplied | HeldChange>(path, plan, 'application/yaml')
      : this.putJson<PlanApplied | HeldChange>(path, plan);
  }

  /** Changes held back for approval, newest first (a scoped key sees its use cases only). */
  async listChanges(
    query: { useCase?: string | undefined; state?: ChangeState | undefined; limit?: number | undefined } = {},
  ): Promise<ChangeView[]> {
    const { changes } = await this.getJson<{ changes: ChangeView[] }>('/v1/changes', { ...query });
    return changes;
  }

  async change(id: number | string): Promise<ChangeDetail> {
    const { change } = await this.getJson<{ change: ChangeDetail }>(changePath(id));
    return change;
  }

  /** Never by the key that asked (403 `self_approval`); the approval that completes the count applies it. */
  approveChange(id: number | string, reason: string): Promise<ApprovalOutcome> {
    return this.postJson<ApprovalOutcome>(`${changePath(id)}/approve`, { reason });
  }

  async rejectChange(id: number | string, reason: string): Promise<ChangeView> {
    const { change } = await this.postJson<{ change: ChangeView }>(`${changePath(id)}/reject`, { reason });
    return change;
  }

  /** Only by the key that requested it (else 403 `not_requester`): the change ends `rejected`. */
  async withdrawChange(id: number | string, reason: string): Promise<ChangeView> {
    const { change } = await this.postJson<{ change: ChangeView }>(`${changePath(id)}/withdraw`, { reason });
    return change;
  }

  /** Makes a key and returns its secret (shown only in this answer). */
  async createKey(name: string, role: Role, useCases?: readonly string[]): Promise<string> {
    const created = await this.postJson<{ key: string }>('/v1/keys', {
      name,
      role,
      ...(useCases ? { useCases } : {}),
    });
    return created.key;
  }

  private sendJson(method: string, path: string, body: unknown): Promise<Response> {
    return this.send(method, path, { body: JSON.stringify(body), contentType: 'application/json' });
  }

  private async text(response: Response): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      throw new ControllerUnavailableError(
        `the answer of the controller at ${this.target.url} broke off: ${transportProblem(error, this.timeoutMs)}`,
      );
    }
  }

  /** A 2xx answer that is not JSON comes from something other than a controller (a proxy, a wrong port). */
  private async json<T>(response: Response): Promise<T> {
    const text = await this.text(response);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ControllerUnavailableError(
        `the controller at ${this.target.url} answered HTTP ${response.status} with a body that is not JSON (is it a Shadowgate controller?)`,
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
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ControllerUnavailableError(
        `cannot reach the controller at ${this.target.url}: ${transportProblem(error, this.timeoutMs)}`,
      );
    }
    if (response.ok) return response;
    throw await refusal(`${method} ${path}`, response);
  }
}

function changePath(id: number | string): string {
  return `/v1/changes/${encodeURIComponent(String(id))}`;
}

/** The controller's message and problems, each on one line; a body of another shape is quoted briefly. */
async function refusal(request: string, response: Response): Promise<ControllerApiError> {
  const text = await response.text().catch(() => '');
  let body: { error?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not the controller's error format (a proxy, say): the status and the text say enough.
  }
  body ??= {};
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
  return new ControllerApiError(
    request,
    response.status,
    typeof body.error === 'string' ? oneLine(body.error) : '',
    message,
    problems,
  );
}

function problemLines(problems: readonly ApiProblem[]): string[] {
  return problems.map((p) => (p.path ? `${p.path}: ${p.problem}` : p.problem));
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
export function transportProblem(error: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): string {
  const e = error as { name?: string; message?: string; cause?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e?.cause as
    | { code?: string; message?: string; errors?: Array<{ code?: string }> }
    | undefined;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (code && TRANSPORT_CODES[code]) return TRANSPORT_CODES[code];
  return cause?.message || code || e?.message || String(error);
}
