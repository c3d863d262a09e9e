import type Queue from 'bull';
import type { ChainableCommander, Redis } from 'ioredis';
import { pino } from 'pino';
import { addJobsInOneCall } from './bull-bulk-add.js';
import { bullLimiter, createBullConnections } from './bull-connections.js';
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
import { settlesWithin } from '../contracts/settles-within.js';

/**
 * The shadow queue on Redis with bull, on the connections and queues of bull-connections.ts:
 * one bull queue per use case. Each use case has a producer (enqueue, depth) and, while
 * consumed, a worker: a separate bull queue instance holding the concurrency and the limiter,
 * which bull fixes when the worker starts. Re-configuring either closes that worker (waiting for its active jobs)
 * and starts a new one; handler, maxAttempts and backoffMs change in place.
 *
 * jobId = requestId, so adding a job that is still waiting, delayed or active is a no-op; jobs
 * are removed from Redis when they complete or fail (Postgres keeps the record). Jobs are added
 * a thousand to one Redis call in bull's own layout (bull-bulk-add.ts), not through addBulk.
 */

export interface BullShadowQueueOptions {
  redisUrl: string;
  /** Key prefix of every queue; default `shadowgate`. Tests use one prefix each. */
  prefix?: string;
  logger?: ShadowQueueLogger;
  /** How long close() and pause() wait for active jobs. Default 10 s. */
  closeTimeoutMs?: number;
  /** Default 2 s. */
  pingTimeoutMs?: number;
}

interface JobData {
  useCase: string;
  requestId: string;
}

interface Worker {
  queue: Queue.Queue<JobData>;
  concurrency: number;
  rateLimitPerSecond: number | undefined;
  current: { settings: ShadowQueueSettings; handler: ShadowJobHandler };
  bclients: Redis[];
  stopped: boolean;
}

interface Lane {
  producer: Queue.Queue<JobData>;
  worker: Worker | null;
  /** Serialises consume() and pause() of one use case. */
  lock: Promise<void>;
}

const ADD_BATCH = 1000;
const BACKOFF_TYPE = 'shadow-exponential';
/**
 * Bull's own attempt limit is put out of reach: enqueue() does not know the consumer's
 * settings, so the worker enforces maxAttempts and backoff (custom strategy) when a job fails.
 */
const BULL_ATTEMPTS = 1_000_000;
const JOB_OPTIONS = {
  attempts: BULL_ATTEMPTS,
  backoff: { type: BACKOFF_TYPE },
  removeOnComplete: true,
  removeOnFail: true,
} as const;

/** 1 when the job hash holds a job; else 0, deleting a hash without data (a job Redis lost) if there is one. */
const JOB_WITH_DATA = `
if redis.call('HEXISTS', KEYS[1], 'data') == 1 then return 1 end
redis.call('DEL', KEYS[1])
return 0`;

export function createBullShadowQueue(options: BullShadowQueueOptions): ShadowQueue {
  const { redisUrl, prefix = 'shadowgate', closeTimeoutMs = 10_000, pingTimeoutMs = 2_000 } = options;
  const logger = options.logger ?? pino({ name: 'shadow-queue' });
  const conns = createBullConnections({ redisUrl, prefix, logger });
  const { safeUrl } = conns;
  const lanes = new Map<string, Lane>();
  let closing: Promise<void> | null = null;

  function laneFor(useCase: string): Lane {
    let lane = lanes.get(useCase);
    if (!lane) {
      lane = { producer: conns.newQueue<JobData>(useCase, []), worker: null, lock: Promise.resolve() };
      lanes.set(useCase, lane);
    }
    return lane;
  }

  function serial(lane: Lane, work: () => Promise<void>): Promise<void> {
    const result = lane.lock.then(work);
    lane.lock = result.catch(() => {});
    return result;
  }

  async function runJob(useCase: string, worker: Worker, job: Queue.Job<JobData>): Promise<void> {
    const { settings, handler } = worker.current;
    const requestId = job.data?.requestId;
    if (typeof requestId !== 'string') {
      // Redis lost the job (a flush) between bull taking its id off the wait list and reading it:
      // bull's moveToActive wrote a job hash with no data. Nothing to run; `absent` counts such a
      // hash as no job, so the sweep enqueues again what PostgreSQL still owes.
      logger.warn({ useCase, jobId: job.id }, 'a job without data (Redis lost it): dropped');
      return;
    }
    const attempt = job.attemptsMade + 1;
    const { maxAttempts } = settings;
    try {
      await handler({ useCase, requestId, attempt, maxAttempts });
    } catch (err) {
      const where = { useCase, requestId, attempt, maxAttempts };
      if (err instanceof RetryLater) {
        if (attempt < maxAttempts) throw err;
        logger.warn(where, 'RetryLater on the last attempt; the job is dropped');
        return;
      }
      logger.error({ ...where, err }, 'shadow job handler threw; the job is not retried');
      await job.discard();
      throw err;
    }
  }

  function startWorker(useCase: string, settings: ShadowQueueSettings, handler: ShadowJobHandler): Worker {
    const bclients: Redis[] = [];
    const rate = settings.rateLimitPerSecond;
    const current = { settings: { ...settings }, handler };
    const queue = conns.newQueue<JobData>(useCase, bclients, {
      ...(rate === undefined ? {} : { limiter: bullLimiter(rate) }),
      settings: {
        // A job that was active in a process that died is handed out again once its lock lapses and
        // a stall check sees it. With bull's defaults (30 s each) that took up to a minute after a
        // crash, and the sweep cannot re-enqueue a job Redis still holds as active; these keep it
        // near the PostgreSQL lease. A job handed out twice is harmless: the call is claimed there.
        lockDuration: 10_000,
        stalledInterval: 5_000,
        backoffStrategies: {
          [BACKOFF_TYPE]: (attemptsMade: number) =>
            retryDelayMs(worker.current.settings.backoffMs, attemptsMade),
        },
      },
    });
    const worker: Worker = {
      queue,
      concurrency: settings.concurrency,
      rateLimitPerSecond: rate,
      current,
      bclients,
      stopped: false,
    };
    queue
      .process(settings.concurrency, (job) => runJob(useCase, worker, job))
      .catch((err: Error) => {
        if (!worker.stopped)
          logger.error({ useCase, redis: safeUrl, err: err.message }, 'bull worker stopped');
      });
    return worker;
  }

  async function stopWorker(useCase: string, worker: Worker): Promise<void> {
    worker.stopped = true;
    if (!(await settlesWithin(worker.queue.close(), closeTimeoutMs))) {
      logger.warn({ useCase, closeTimeoutMs }, 'shadow jobs still active after the close timeout');
    }
    conns.release(worker.bclients);
  }

  function assertOpen(): void {
    if (closing) throw new Error('the bull shadow queue is closed');
  }

  return {
    kind: 'bull',

    async enqueue(jobs) {
      assertOpen();
      conns.assertConnected('enqueue');
      for (const [useCase, requestIds] of groupByUseCase(jobs)) {
        const { producer } = laneFor(useCase);
        for (let i = 0; i < requestIds.length; i += ADD_BATCH) {
          try {
            await addJobsInOneCall(producer, { useCase }, JOB_OPTIONS, requestIds.slice(i, i + ADD_BATCH));
          } catch (err) {
            throw new Error(`enqueue on Redis at ${safeUrl} failed: ${(err as Error).message}`, {
              cause: err,
            });
          }
        }
      }
    },

    async absent(jobs) {
      /** One pipeline's replies, in order; a failed command fails the whole. */
      const run = async (client: Redis, fill: (pipeline: ChainableCommander) => void): Promise<unknown[]> => {
        const pipeline = client.pipeline();
        fill(pipeline);
        if (pipeline.length === 0) return [];
        let results: Array<[Error | null, unknown]> | null;
        try {
          results = await pipeline.exec();
        } catch (err) {
          throw new Error(`absent on Redis at ${safeUrl} failed: ${(err as Error).message}`, { cause: err });
        }
        return Array.from({ length: pipeline.length }, (_, k) => {
          const [error, value] = results?.[k] ?? [new Error('no reply'), null];
          if (error)
            throw new Error(`absent on Redis at ${safeUrl} failed: ${error.message}`, { cause: error });
          return value;
        });
      };
      assertOpen();
      conns.assertConnected('absent');
      const missing = new Set<string>();
      for (const [useCase, requestIds] of groupByUseCase(jobs)) {
        const { producer } = laneFor(useCase);
        for (let i = 0; i < requestIds.length; i += ADD_BATCH) {
          const batch = requestIds.slice(i, i + ADD_BATCH);
          // A job's hash lives while it waits, is delayed or active: finished jobs are removed. A
          // hash without data is what bull leaves of a job Redis lost while it was being taken
          // (see runJob): it is deleted, or adding the job again would be a no-op for good.
          const found = await run(producer.client, (p) => {
            for (const requestId of batch) p.hexists(producer.toKey(requestId), 'data');
          });
          const without = batch.filter((_, k) => found[k] === 0);
          const kept = await run(producer.client, (p) => {
            for (const requestId of without) p.eval(JOB_WITH_DATA, 1, producer.toKey(requestId));
          });
          without.forEach((requestId, k) => {
            if (kept[k] === 0) missing.add(`${useCase}\u0000${requestId}`);
          });
        }
      }
      return jobs.filter((job) => missing.has(`${job.useCase}\u0000${job.requestId}`));
    },

    async consume(useCase, settings, handler) {
      assertOpen();
      assertValidSettings(useCase, settings);
      const lane = laneFor(useCase);
      await serial(lane, async () => {
        const running = lane.worker;
        if (
          running &&
          running.concurrency === settings.concurrency &&
          running.rateLimitPerSecond === settings.rateLimitPerSecond
        ) {
          running.current = { settings: { ...settings }, handler };
          return;
        }
        if (running) {
          lane.worker = null;
          await stopWorker(useCase, running);
        }
        assertOpen();
        lane.worker = startWorker(useCase, settings, handler);
      });
    },

    async pause(useCase) {
      const lane = lanes.get(useCase);
      if (!lane) return;
      await serial(lane, async () => {
        const running = lane.worker;
        lane.worker = null;
        if (running) await stopWorker(useCase, running);
      });
    },

    async depth(useCase) {
      conns.assertConnected('depth');
      const selected = useCase === undefined ? [...lanes.values()] : [laneFor(useCase)];
      const counts = await Promise.all(selected.map((lane) => lane.producer.getJobCounts()));
      const depth: ShadowQueueDepth = { waiting: 0, active: 0, delayed: 0 };
      for (const c of counts) {
        depth.waiting += c.waiting + ((c as { paused?: number }).paused ?? 0);
        depth.active += c.active;
        depth.delayed += c.delayed;
      }
      return depth;
    },

    async ping() {
      assertOpen();
      const client = conns.client();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${pingTimeoutMs} ms`)), pingTimeoutMs);
      });
      try {
        await Promise.race([client.ping(), late]);
      } catch (err) {
        throw new Error(`Redis is not reachable at ${safeUrl}: ${(err as Error).message}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },

    close() {
      closing ??= conns.close(async () => {
        const stops = [...lanes].map(async ([useCase, lane]) => {
          const running = lane.worker;
          lane.worker = null;
          if (running) await stopWorker(useCase, running);
          await lane.producer.close();
        });
        await settlesWithin(Promise.all(stops), closeTimeoutMs + 1000);
      });
      return closing;
    },
  };
}
