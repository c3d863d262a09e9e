import { pino } from 'pino';
import { TokenBucket } from '../rate/token-bucket.js';
import {
  assertValidSettings,
  groupByUseCase,
  RetryLater,
  retryDelayMs,
  type ShadowJobHandler,
  type ShadowQueue,
  type ShadowQueueDepth,
  type ShadowQueueLogger,
  type ShadowQueueSettings,
} from './shadow-queue.js';

/**
 * The shadow queue in memory, for a single process without Redis. Jobs live only as long as
 * the process; the Postgres sweep re-enqueues what a restart dropped. Timers are unref'd so a
 * pending retry never keeps the process alive.
 */

export interface InProcessShadowQueueOptions {
  logger?: ShadowQueueLogger;
  /** How long close() waits for active handlers. Default 10 s. */
  closeTimeoutMs?: number;
}

/** A FIFO with O(1) shift. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

interface Pending {
  requestId: string;
  attempt: number;
}

interface Consumer {
  settings: ShadowQueueSettings;
  handler: ShadowJobHandler;
  bucket: TokenBucket | null;
}

interface Lane {
  useCase: string;
  waiting: Fifo<Pending>;
  delayed: Map<string, NodeJS.Timeout>;
  active: Map<string, Promise<void>>;
  /** Request ids waiting, delayed or active: what de-duplication looks at. */
  known: Set<string>;
  consumer: Consumer | null;
  wakeTimer: NodeJS.Timeout | null;
}

export function createInProcessShadowQueue(options: InProcessShadowQueueOptions = {}): ShadowQueue {
  const logger = options.logger ?? pino({ name: 'shadow-queue' });
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const lanes = new Map<string, Lane>();
  let closing: Promise<void> | null = null;

  function laneFor(useCase: string): Lane {
    let lane = lanes.get(useCase);
    if (!lane) {
      lane = {
        useCase,
        waiting: new Fifo(),
        delayed: new Map(),
        active: new Map(),
        known: new Set(),
        consumer: null,
        wakeTimer: null,
      };
      lanes.set(useCase, lane);
    }
    return lane;
  }

  function pump(lane: Lane): void {
    const consumer = lane.consumer;
    if (!consumer || closing) return;
    while (lane.active.size < consumer.settings.concurrency && lane.waiting.size > 0) {
      if (consumer.bucket) {
        const taken = consumer.bucket.take(1, Date.now());
        if (!taken.allowed) {
          if (!lane.wakeTimer) {
            lane.wakeTimer = setTimeout(() => {
              lane.wakeTimer = null;
              pump(lane);
            }, taken.waitMs).unref();
          }
          return;
        }
      }
      const next = lane.waiting.shift()!;
      const run = runJob(lane, consumer, next).finally(() => {
        lane.active.delete(next.requestId);
        if (!lane.delayed.has(next.requestId)) lane.known.delete(next.requestId);
        pump(lane);
      });
      lane.active.set(next.requestId, run);
    }
  }

  async function runJob(lane: Lane, consumer: Consumer, { requestId, attempt }: Pending): Promise<void> {
    const { maxAttempts, backoffMs } = consumer.settings;
    try {
      await consumer.handler({ useCase: lane.useCase, requestId, attempt, maxAttempts });
    } catch (err) {
      const where = { useCase: lane.useCase, requestId, attempt, maxAttempts };
      if (!(err instanceof RetryLater)) {
        logger.error({ ...where, err }, 'shadow job handler threw; the job is not retried');
      } else if (attempt >= maxAttempts) {
        logger.warn(where, 'RetryLater on the last attempt; the job is dropped');
      } else if (!closing) {
        const timer = setTimeout(
          () => {
            lane.delayed.delete(requestId);
            lane.waiting.push({ requestId, attempt: attempt + 1 });
            pump(lane);
          },
          retryDelayMs(backoffMs, attempt),
        ).unref();
        lane.delayed.set(requestId, timer);
      }
    }
  }

  async function settled(runs: Iterable<Promise<void>>, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs).unref();
    });
    const done = Promise.all(runs).then(() => true);
    try {
      return await Promise.race([done, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  function assertOpen(): void {
    if (closing) throw new Error('the in-process shadow queue is closed');
  }

  return {
    kind: 'in-process',

    async enqueue(jobs) {
      assertOpen();
      for (const [useCase, requestIds] of groupByUseCase(jobs)) {
        const lane = laneFor(useCase);
        for (const requestId of requestIds) {
          if (lane.known.has(requestId)) continue;
          lane.known.add(requestId);
          lane.waiting.push({ requestId, attempt: 1 });
        }
        pump(lane);
      }
    },

    async absent(jobs) {
      return jobs.filter((job) => !lanes.get(job.useCase)?.known.has(job.requestId));
    },

    async consume(useCase, settings, handler) {
      assertOpen();
      assertValidSettings(useCase, settings);
      const lane = laneFor(useCase);
      const previous = lane.consumer;
      const sameRate = previous?.settings.rateLimitPerSecond === settings.rateLimitPerSecond;
      const bucket =
        previous && sameRate
          ? previous.bucket
          : settings.rateLimitPerSecond === undefined
            ? null
            : laneRateBucket(settings.rateLimitPerSecond, Date.now());
      lane.consumer = { settings: { ...settings }, handler, bucket };
      pump(lane);
    },

    async pause(useCase) {
      const lane = lanes.get(useCase);
      if (!lane) return;
      lane.consumer = null;
      if (lane.wakeTimer) clearTimeout(lane.wakeTimer);
      lane.wakeTimer = null;
      await Promise.all(lane.active.values());
    },

    async depth(useCase) {
      const selected = useCase === undefined ? [...lanes.values()] : [lanes.get(useCase)];
      const depth: ShadowQueueDepth = { waiting: 0, active: 0, delayed: 0 };
      for (const lane of selected) {
        if (!lane) continue;
        depth.waiting += lane.waiting.size;
        depth.active += lane.active.size;
        depth.delayed += lane.delayed.size;
      }
      return depth;
    },

    async ping() {},

    close() {
      closing ??= (async () => {
        const runs: Promise<void>[] = [];
        for (const lane of lanes.values()) {
          lane.consumer = null;
          if (lane.wakeTimer) clearTimeout(lane.wakeTimer);
          for (const timer of lane.delayed.values()) clearTimeout(timer);
          lane.delayed.clear();
          runs.push(...lane.active.values());
        }
        if (!(await settled(runs, closeTimeoutMs))) {
          logger.warn({ closeTimeoutMs }, 'shadow queue closed with handlers still running');
        }
      })();
      return closing;
    },
  };
}

/** The AI call rate of a lane: a burst of at most one second's worth (at least one call). */
export function laneRateBucket(perSecond: number, nowMs: number): TokenBucket {
  return new TokenBucket(perSecond, Math.max(1, perSecond), nowMs);
}
