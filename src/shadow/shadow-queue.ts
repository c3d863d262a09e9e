/**
 * The shadow-call queue port. Each mirrored decision owes one AI call; PostgreSQL records
 * what is owed and a periodic sweep re-enqueues it, so a queue may lose every job (a Redis
 * flush, a process crash) without losing work. The queue only schedules: per use case
 * concurrency, a rate limit, retries with backoff, and de-duplication by (useCase, requestId).
 * Handlers must be idempotent: a job may run again after a crash or a stalled lock.
 */

export interface ShadowJob {
  useCase: string;
  requestId: string;
}

export interface ShadowQueueSettings {
  /** Jobs in flight at once for this use case in this process. */
  concurrency: number;
  /** Jobs started per second for this use case (across processes for bull); bursts up to one second's worth. */
  rateLimitPerSecond?: number;
  /** Total attempts for retryable failures, the first included. */
  maxAttempts: number;
  /** Delay before the first retry; doubles for each later one (see `retryDelayMs`). */
  backoffMs: number;
}

export interface ShadowJobRun extends ShadowJob {
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
}

export type ShadowJobHandler = (job: ShadowJobRun) => Promise<void>;

/**
 * Thrown by a handler to ask for another attempt after backoff. It is honoured only while
 * attempts remain: the handler records the final failure itself when `attempt === maxAttempts`,
 * so the queue never needs a "failed for good" callback. Any other error thrown by a handler
 * is a bug in the handler: it is logged and the job is dropped, never retried.
 */
export class RetryLater extends Error {
  constructor(message = 'retry later', options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryLater';
  }
}

/** The pino subset the adapters log through. */
export interface ShadowQueueLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ShadowQueueDepth {
  waiting: number;
  active: number;
  /** Waiting for a retry's backoff (bull also counts jobs held back by its rate limiter). */
  delayed: number;
}

export interface ShadowQueue {
  readonly kind: 'bull' | 'in-process';
  /**
   * Adds jobs; a job already waiting, delayed or active for the same (useCase, requestId) is
   * not added twice. Accepts thousands of jobs per call. Rejects once the queue is closed.
   */
  enqueue(jobs: readonly ShadowJob[]): Promise<void>;
  /**
   * The jobs of `jobs` this queue does not hold (neither waiting, delayed nor active), in their
   * order: what the sweep must enqueue again. Cheaper than enqueueing them all, which would
   * also be correct.
   */
  absent(jobs: readonly ShadowJob[]): Promise<ShadowJob[]>;
  /**
   * Starts consumption of one use case's jobs, or re-configures it: the new handler and
   * settings apply to jobs started afterwards. Jobs enqueued before consume() wait for it.
   */
  consume(useCase: string, settings: ShadowQueueSettings, handler: ShadowJobHandler): Promise<void>;
  /** Stops consuming one use case (e.g. disabled) and resolves once its active jobs have finished; its waiting jobs stay. */
  pause(useCase: string): Promise<void>;
  /** Jobs not yet finished, for readiness and metrics: one use case, or all the use cases this instance has seen. */
  depth(useCase?: string): Promise<ShadowQueueDepth>;
  /** Throws quickly (about 2 s at most) when the backend is unreachable, naming it and its URL. */
  ping(): Promise<void>;
  /** Stops taking new jobs, waits for active ones (up to a timeout), releases connections. */
  close(): Promise<void>;
}

/** Upward jitter, as a fraction of the delay: retries of a burst of failures spread out but never come early. */
export const RETRY_JITTER = 0.2;

/**
 * Delay before the next attempt after `failedAttempts` failures (1 after the first):
 * backoffMs, 2×, 4×, … each stretched by up to RETRY_JITTER.
 */
export function retryDelayMs(
  backoffMs: number,
  failedAttempts: number,
  random: () => number = Math.random,
): number {
  const base = backoffMs * 2 ** Math.max(0, failedAttempts - 1);
  return Math.round(base * (1 + RETRY_JITTER * random()));
}

/** Refuses settings no queue could honour; the message names the field. */
export function assertValidSettings(useCase: string, s: ShadowQueueSettings): void {
  const problems: string[] = [];
  if (!Number.isInteger(s.concurrency) || s.concurrency < 1)
    problems.push('concurrency must be an integer >= 1');
  if (!Number.isInteger(s.maxAttempts) || s.maxAttempts < 1)
    problems.push('maxAttempts must be an integer >= 1');
  if (!Number.isFinite(s.backoffMs) || s.backoffMs < 0) problems.push('backoffMs must be a number >= 0');
  if (
    s.rateLimitPerSecond !== undefined &&
    !(Number.isFinite(s.rateLimitPerSecond) && s.rateLimitPerSecond > 0)
  ) {
    problems.push('rateLimitPerSecond must be a positive number');
  }
  if (problems.length > 0)
    throw new TypeError(`invalid queue settings for ${useCase}: ${problems.join('; ')}`);
}

/** Groups jobs by use case, dropping repeats of a (useCase, requestId) within the batch; order is kept. */
export function groupByUseCase(jobs: readonly ShadowJob[]): Map<string, string[]> {
  const groups = new Map<string, Set<string>>();
  for (const { useCase, requestId } of jobs) {
    let ids = groups.get(useCase);
    if (!ids) {
      ids = new Set();
      groups.set(useCase, ids);
    }
    ids.add(requestId);
  }
  return new Map([...groups].map(([useCase, ids]) => [useCase, [...ids]]));
}
