import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bullLimiter, redactRedisUrl } from '../../src/shadow/bull-connections.js';
import { createBullShadowQueue } from '../../src/shadow/bull-shadow-queue.js';
import { createInProcessShadowQueue, laneRateBucket } from '../../src/shadow/in-process-shadow-queue.js';
import {
  assertValidSettings,
  groupByUseCase,
  retryDelayMs,
  type ShadowQueue,
  type ShadowQueueSettings,
} from '../../src/shadow/shadow-queue.js';
import {
  isIdle,
  jobsFor,
  recordingLogger,
  shadowQueueContract,
  waitFor,
} from '../support/shadow-queue-contract.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SETTINGS: ShadowQueueSettings = { concurrency: 4, maxAttempts: 3, backoffMs: 50 };

describe('shadow queue helpers', () => {
  it('when retries follow each other, then the delay doubles from backoffMs, stretched by at most 20 %', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(100, n, () => 0))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3].map((n) => retryDelayMs(100, n, () => 1))).toEqual([120, 240, 480]);
    expect(retryDelayMs(0, 5, () => 1)).toBe(0);
  });

  it('when a rate per second is given, then bull gets a window that yields exactly that rate', () => {
    expect(bullLimiter(20)).toEqual({ max: 20, duration: 1000 });
    expect(bullLimiter(2.5)).toEqual({ max: 2, duration: 800 });
    expect(bullLimiter(0.5)).toEqual({ max: 1, duration: 2000 });
  });

  it('when a lane is limited to 2 calls per second, then it bursts at most one second of calls', () => {
    const bucket = laneRateBucket(2, 1000);
    expect([bucket.take(1, 1000), bucket.take(1, 1000)]).toEqual([{ allowed: true }, { allowed: true }]);
    expect(bucket.take(1, 1000)).toEqual({ allowed: false, waitMs: 500 });
    // Idle time refills up to 2 tokens, not more.
    expect([9000, 9000, 9000].map((t) => bucket.take(1, t).allowed)).toEqual([true, true, false]);
  });

  it('when a rate below 1 per second is given, then the lane still holds one call', () => {
    const bucket = laneRateBucket(0.5, 0);
    expect(bucket.take(1, 0)).toEqual({ allowed: true });
    expect(bucket.take(1, 0)).toEqual({ allowed: false, waitMs: 2000 });
  });

  it('when jobs are grouped, then repeats in the batch are dropped and order is kept', () => {
    const groups = groupByUseCase([
      { useCase: 'a', requestId: '2' },
      { useCase: 'b', requestId: '1' },
      { useCase: 'a', requestId: '1' },
      { useCase: 'a', requestId: '2' },
    ]);
    expect([...groups]).toEqual([
      ['a', ['2', '1']],
      ['b', ['1']],
    ]);
  });

  it('when settings are out of range, then every problem is named', () => {
    expect(() => assertValidSettings('x', { concurrency: 1.5, maxAttempts: 0, backoffMs: -1 })).toThrow(
      'invalid queue settings for x: concurrency must be an integer >= 1; maxAttempts must be an integer >= 1; backoffMs must be a number >= 0',
    );
    expect(() => assertValidSettings('x', SETTINGS)).not.toThrow();
  });

  it('when a Redis URL carries a password, then logs see it masked', () => {
    expect(redactRedisUrl('redis://user:secret@cache:6380/2')).toBe('redis://user:***@cache:6380/2');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('in-process shadow queue', () => {
  shadowQueueContract(async ({ logger, closeTimeoutMs }) => ({
    queue: createInProcessShadowQueue({ logger, ...(closeTimeoutMs ? { closeTimeoutMs } : {}) }),
  }));
});

describe('bull shadow queue', () => {
  let admin: Redis;

  beforeAll(async () => {
    admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', () => {});
    try {
      await admin.connect();
      await admin.ping();
    } catch {
      admin.disconnect();
      throw new Error(
        `Redis is not reachable at ${REDIS_URL}: start it with redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no (or set REDIS_URL)`,
      );
    }
  });

  afterAll(() => {
    admin?.disconnect();
  });

  const newPrefix = () => `sgtest-${randomUUID().slice(0, 8)}`;

  async function deleteKeys(prefix: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  describe('contract', () => {
    shadowQueueContract(async ({ logger, closeTimeoutMs }) => {
      const prefix = newPrefix();
      const queue = createBullShadowQueue({
        redisUrl: REDIS_URL,
        prefix,
        logger,
        ...(closeTimeoutMs ? { closeTimeoutMs } : {}),
      });
      return { queue, cleanup: () => deleteKeys(prefix) };
    });
  });

  describe('with Redis', () => {
    const opened: ShadowQueue[] = [];
    const prefixes: string[] = [];

    function open(prefix = newPrefix()): ShadowQueue {
      prefixes.push(prefix);
      const queue = createBullShadowQueue({ redisUrl: REDIS_URL, prefix, logger: recordingLogger().logger });
      opened.push(queue);
      return queue;
    }

    afterEach(async () => {
      for (const queue of opened.splice(0)) await queue.close();
      for (const prefix of prefixes.splice(0)) await deleteKeys(prefix);
    });

    it('when jobs complete or fail, then their job keys are removed from Redis', async () => {
      const prefix = newPrefix();
      const queue = open(prefix);
      const handled: string[] = [];
      await queue.consume('alpha', SETTINGS, async (job) => {
        handled.push(job.requestId);
        if (job.requestId === 'r1') throw new Error('bug in the handler');
      });
      await queue.enqueue(jobsFor('alpha', 2));
      await waitFor(async () => handled.length === 2 && (await isIdle(queue)), 'both jobs');
      expect(await admin.exists(`${prefix}:ai-alpha:r0`, `${prefix}:ai-alpha:r1`)).toBe(0);
      expect(await admin.zcard(`${prefix}:ai-alpha:completed`)).toBe(0);
      expect(await admin.zcard(`${prefix}:ai-alpha:failed`)).toBe(0);
    });

    it("when Redis loses the prefix's keys, then enqueueing the same jobs again works", async () => {
      const prefix = newPrefix();
      const queue = open(prefix);
      await queue.enqueue(jobsFor('alpha', 10));
      expect((await queue.depth('alpha')).waiting).toBe(10);
      await deleteKeys(prefix);
      expect(await queue.depth('alpha')).toEqual({ waiting: 0, active: 0, delayed: 0 });

      await queue.enqueue(jobsFor('alpha', 10));
      expect((await queue.depth('alpha')).waiting).toBe(10);
      const handled: string[] = [];
      await queue.consume('alpha', SETTINGS, async (job) => {
        handled.push(job.requestId);
      });
      await waitFor(async () => handled.length === 10 && (await isIdle(queue)), '10 handled jobs');
      expect(handled.sort()).toEqual(
        jobsFor('alpha', 10)
          .map((j) => j.requestId)
          .sort(),
      );
    });

    // A FLUSHALL between bull taking a job's id off the wait list and reading the job leaves an id
    // without its job; bull's moveToActive then writes a job hash with no data (found by the fault
    // suite's challenger case: the hash outlived the job and hid the call from the sweep).
    it('when a job id comes without its job, then the handler never sees it and the sweep can enqueue it again', async () => {
      const prefix = newPrefix();
      prefixes.push(prefix);
      const { logger, entries } = recordingLogger();
      const queue = createBullShadowQueue({ redisUrl: REDIS_URL, prefix, logger });
      opened.push(queue);
      const handled: unknown[] = [];
      await queue.consume('alpha', SETTINGS, async (job) => {
        handled.push(job.requestId);
      });
      await admin.lpush(`${prefix}:ai-alpha:wait`, 'lost');
      await queue.enqueue(jobsFor('alpha', 1));
      await waitFor(
        async () => handled.includes('r0') && entries.some((e) => e.obj['jobId'] === 'lost'),
        'the job and the id without one',
      );
      await waitFor(() => isIdle(queue), 'an idle queue');
      expect(handled).toEqual(['r0']);
      expect(entries.find((e) => e.obj['jobId'] === 'lost')).toMatchObject({
        level: 'warn',
        msg: 'a job without data (Redis lost it): dropped',
      });
      // What bull left of it: a hash without data, which adding the job again would take for the job.
      expect(await admin.hexists(`${prefix}:ai-alpha:lost`, 'data')).toBe(0);
      const lost = { useCase: 'alpha', requestId: 'lost' };
      await admin.hset(`${prefix}:ai-alpha:lost`, 'processedOn', Date.now());

      // The sweep's view: the job is absent (a job that waits is not), and enqueued again it runs.
      const waiting = { useCase: 'beta', requestId: 'waits' };
      await queue.enqueue([waiting]);
      expect(await queue.absent([lost, waiting])).toEqual([lost]);
      expect(await admin.exists(`${prefix}:ai-alpha:lost`)).toBe(0);
      await queue.enqueue([lost]);
      await waitFor(() => handled.includes('lost'), 'the job enqueued again');
    });

    it('when two processes consume one use case at 20 per second, then the limit holds across both', async () => {
      const prefix = newPrefix();
      const [one, two] = [open(prefix), open(prefix)];
      const startedAt: number[] = [];
      const byProcess = [0, 0];
      const limited = { ...SETTINGS, concurrency: 10, rateLimitPerSecond: 20 };
      await one.consume('alpha', limited, async () => {
        startedAt.push(Date.now());
        byProcess[0]! += 1;
      });
      await two.consume('alpha', limited, async () => {
        startedAt.push(Date.now());
        byProcess[1]! += 1;
      });
      await one.enqueue(jobsFor('alpha', 60));
      await waitFor(async () => startedAt.length === 60 && (await isIdle(one)), '60 handled jobs');
      expect(Math.max(...startedAt) - Math.min(...startedAt)).toBeGreaterThanOrEqual(1900);
      expect(byProcess[0]! + byProcess[1]!).toBe(60);
    });
  });

  describe('without Redis', () => {
    it('when Redis is unreachable, then ping, enqueue and depth fail within ~2 s naming Redis and its URL, and close does not hang', async () => {
      const url = `redis://127.0.0.1:${await freePort()}`;
      const queue = createBullShadowQueue({
        redisUrl: url,
        prefix: newPrefix(),
        logger: recordingLogger().logger,
      });
      await queue.consume('alpha', SETTINGS, async () => {});

      // The bounds leave a busy machine 2 s past the 2 s ping timeout; the mistakes they catch
      // wait much longer: a command queued until Redis is back (forever), or close waiting
      // out its 10 s timeout.
      let t0 = Date.now();
      await expect(queue.ping()).rejects.toThrow(`Redis is not reachable at ${url}`);
      expect(Date.now() - t0).toBeLessThan(4_000);

      t0 = Date.now();
      await expect(queue.enqueue(jobsFor('alpha', 1))).rejects.toThrow(`Redis at ${url}`);
      await expect(queue.depth()).rejects.toThrow(`Redis at ${url}`);
      expect(Date.now() - t0).toBeLessThan(4_000);

      t0 = Date.now();
      await queue.close();
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('when Redis restarts, then a running worker handles jobs enqueued after it is back', async () => {
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      let server = await startRedis(port);
      const queue = createBullShadowQueue({
        redisUrl: url,
        prefix: newPrefix(),
        logger: recordingLogger().logger,
      });
      try {
        const handled: string[] = [];
        await queue.consume('alpha', SETTINGS, async (job) => {
          handled.push(job.requestId);
        });
        await queue.enqueue(jobsFor('alpha', 1));
        await waitFor(() => handled.includes('r0'), 'r0 before the restart');

        await stopRedis(server);
        await expect(queue.ping()).rejects.toThrow(`Redis is not reachable at ${url}`);
        server = await startRedis(port);

        await waitFor(
          async () => {
            try {
              await queue.enqueue(jobsFor('alpha', 1, 1));
              return true;
            } catch {
              return false;
            }
          },
          'enqueue to work again',
          10_000,
        );
        await waitFor(() => handled.includes('r1'), 'r1 after the restart', 20_000);
      } finally {
        await queue.close();
        await stopRedis(server);
      }
    });
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A private Redis this test may stop and start; the shared one is never touched. */
async function startRedis(port: number): Promise<ChildProcess> {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis(`redis://127.0.0.1:${port}`, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await waitFor(
      async () => {
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          return false;
        }
      },
      `redis-server on port ${port}`,
      5000,
    );
  } finally {
    probe.disconnect();
  }
  return server;
}

async function stopRedis(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGKILL');
  await exited;
}
