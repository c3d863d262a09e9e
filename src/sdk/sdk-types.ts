/**
 * What a workflow service sees of the SDK. Generic over the service's input type `I`
 * and decision type `D`: the SDK never re-validates a decision against the plan's
 * schema on the live path (the controller does, when it records it).
 */

import type { ContextValue, DecisionContext, Mode } from './wire.js';

export type { ContextValue, DecisionContext, Mode };

/** Any object type whose fields are all scalars, interfaces included (they have no index signature). */
export type ScalarFields<C> = { [K in keyof C]: ContextValue };

export interface DecideRequest<I, C extends ScalarFields<C> = DecisionContext> {
  /** With the use case, the idempotency key of the decision: the same request id is the same decision. */
  requestId: string;
  /** Serialised in the background: do not mutate it after `decide` returned. */
  input: I;
  context?: C;
}

/** What the human path is given: the AI's suggestion when one arrived in time. */
export interface HumanContext<D> {
  suggestion?: D;
  /** The AI's confidence in the suggestion, when it gave one. */
  confidence?: number | null;
  mode: Mode;
}

export type HumanPath<D> = (ctx: HumanContext<D>) => Promise<D>;

export interface DecideResult<D> {
  decision: D;
  decidedBy: 'human' | 'ai';
  /** The mode the flag gave this request (a request outside the boundary is `human-reviewed`). */
  mode: Mode;
  /** The AI's suggestion, when one arrived in time. */
  suggestion?: D;
  /**
   * Offer this request to people for a rating (`rateSuggestion`): the controller's suggestion said
   * the plan's judge wants it in its calibration sample. Only a suggestion carries it (human-reviewed
   * and above); in shadow the service rates what it chooses and the controller counts the sample.
   */
  rate?: true;
}

/** People's rating of what the AI produced, for the judge's calibration. */
export interface SuggestionRating {
  /** Whether the AI's output was acceptable as it was. */
  acceptable: boolean;
  /** Who rated (one line, at most 200 characters). */
  by: string;
}

/** An autonomous decision drawn for human audit; the verdict comes back through `recordHuman`. */
export interface AuditRequest<I, D, C = DecisionContext> {
  useCase: string;
  requestId: string;
  input: I;
  /** The request's context (`{}` when it had none). */
  context: C | Record<string, never>;
  decision: D;
  confidence: number | null;
}

export interface DecideOptions<I, D, C = DecisionContext> {
  /** Called (never awaited) for autonomous decisions the controller drew for audit. */
  onAudit?: (audit: AuditRequest<I, D, C>) => unknown;
  /** Recorded as who made the human decision (e.g. a clerk's id). */
  decidedBy?: string;
}

export interface HumanDecision<D> {
  decision: D;
  decidedBy?: string;
  handlingMs?: number;
}

export interface ShadowgateOptions {
  /** The controller's base URL, e.g. http://shadowgate:8080. */
  url: string;
  /** A Shadowgate API key with the `ingest` role. */
  apiKey: string;
  appName: string;
  /** A real Unleash server; without it the flags are read from the controller (`${url}/api`). */
  unleash?: {
    /** The client API base, e.g. http://unleash:4242/api. */
    url: string;
    apiKey: string;
    /** Keep a backup of the flags on disk and start from it; by default flags live in memory only. */
    backupPath?: string;
  };
  /** How often the flags are polled (default 10 s). */
  refreshIntervalMs?: number;
  /** How long `ready()` waits for the first flags (default 3 s). */
  readyTimeoutMs?: number;
  /**
   * How long `decide` waits for an AI suggestion before the human decides without it
   * (default 1.5 s). A service's own latency budget, so it is set here, not in the plan.
   */
  suggestionDeadlineMs?: number;
  /**
   * In shadow, a human path that has not answered after this long (default 1 s) gets its
   * request mirrored at once, without the human decision, so the AI is called while the
   * person is still deciding; the decision follows when it comes. A fast human path is
   * mirrored once, with its decision. 0 mirrors every request before the human decides.
   */
  earlyMirrorMs?: number;
  buffer?: {
    /** Items held for the controller, in flight included (default 10,000); the oldest are dropped beyond it. */
    maxItems?: number;
    /** Items per ingest request (default 500, at most 1,000). */
    batchSize?: number;
    /** How often buffered items are sent when no batch fills up (default 1 s). */
    flushIntervalMs?: number;
  };
  retry?: {
    /** First backoff (default 200 ms), doubled per failed attempt, with jitter. */
    baseMs?: number;
    /** Longest backoff (default 30 s). */
    maxMs?: number;
    /**
     * Attempts for an item the controller failed with an unexpected status (500…);
     * an unreachable controller (refused, timeout, 502/503/504, 429) is retried without limit (default 8).
     */
    maxAttempts?: number;
  };
  /** Timeout of one request to the controller off the live path (default 10 s). */
  requestTimeoutMs?: number;
  /** How long `close()` keeps sending what is buffered (default 5 s). */
  closeTimeoutMs?: number;
  onEvent?: (event: ShadowgateEvent) => void;
}

export type ShadowgateEvent =
  | { type: 'dropped'; count: number; reason: 'overflow' | 'closed'; requestIds: string[] }
  | { type: 'failed'; count: number; status: number | null; reason: string; requestIds: string[] }
  | { type: 'retry'; count: number; attempt: number; delayMs: number; reason: string }
  | { type: 'warn'; message: string; error?: unknown };

export type ShadowgateEventType = ShadowgateEvent['type'];

export interface ShadowgateStats {
  /** Items the controller took (stored, or duplicates of what it had). */
  sent: number;
  /** Item sends repeated after a transient failure. */
  retried: number;
  /** Items dropped unconfirmed: buffer overflow, still buffered when `close()` gave up, or in a request `close()` aborted. */
  dropped: number;
  /** Items the controller refused for good (conflict, bad request, key refused, attempts exhausted). */
  failed: number;
  /** Items waiting or in flight. */
  buffered: number;
  /** Suggestions not back by the deadline (the human decided without them). */
  suggestionsLate: number;
  /** Suggestions that failed (controller unreachable or refusing, AI error). */
  suggestionsFailed: number;
  /** Audit hooks that threw or rejected. */
  auditErrors: number;
}
