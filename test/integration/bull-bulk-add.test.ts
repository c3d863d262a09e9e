import { randomUUID } from 'node:crypto';
import Queue from 'bull';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addJobsInOneCall } from '../../src/shadow/bull-bulk-add.js';
import { waitFor } from '../support/shadow-queue-contract.js';

/**
 * The one-call adder must write what bull's own add writes, or bull's workers, limiter and counts
 * would misread the jobs ingest enqueues. Each test compares against bull itself on real Redis.
 */

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const OPTIONS = {
  attempts: 1_000_000,
  backoff: { type: 'shadow-exponential' },
  removeOnComplete: true,
  removeOnFail: true,
} as const;
/** Ids a client may send: quotes, backslashes, slashes and letters outside ASCII survive as they were. */
const IDS = ['r-1', 'with "quotes"', 'back\\slash', 'a/b', 'ünï-cødé-東京', 'r-6'];

describe('adding many bull jobs in one Redis call', () => {
  let admin: Redis;
  const queues: Queue.Queue[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await admin.ping();
  });

  afterAll(() => admin?.disconnect());

  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.close();
    for (const prefix of prefixes.splice(0)) {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.unlink(...keys);
    }
  });

  function open(): { queue: Queue.Queue; prefix: string } {
    const prefix = `sgtest-bulk-${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    const queue = new Queue('ai-alpha', REDIS_URL, { prefix });
    queues.push(queue);
    return { queue, prefix };
  }

  /** A job's hash with its add time taken out (the two adds run at different milliseconds). */
  async function storedJob(prefix: string, id: string): Promise<Record<string, unknown>> {
    const hash = await admin.hgetall(`${prefix}:ai-alpha:${id}`);
    const opts = JSON.parse(hash['opts'] ?? '{}') as Record<string, unknown>;
    delete opts['timestamp'];
    const { timestamp, ...rest } = hash;
    expect(Number(timestamp)).toBeGreaterThan(0);
    return { ...rest, data: JSON.parse(hash['data'] ?? 'null'), opts };
  }

  it('when jobs are added, then Redis holds each as bull add writes it, in the same wait order', async () => {
    const ours = open();
    const bulls = open();
    expect(await addJobsInOneCall(ours.queue, { useCase: 'alpha' }, OPTIONS, IDS)).toBe(IDS.length);
    for (const id of IDS)
      await bulls.queue.add({ useCase: 'alpha', requestId: id }, { ...OPTIONS, jobId: id });

    for (const id of IDS) {
      const expected = await storedJob(bulls.prefix, id);
      expect(expected['data']).toEqual({ useCase: 'alpha', requestId: id });
      expect(await storedJob(ours.prefix, id)).toEqual(expected);
    }
    expect(await admin.lrange(`${ours.prefix}:ai-alpha:wait`, 0, -1)).toEqual(
      await admin.lrange(`${bulls.prefix}:ai-alpha:wait`, 0, -1),
    );
    expect(await ours.queue.getJobCounts()).toEqual(await bulls.queue.getJobCounts());
    const job = await ours.queue.getJob('with "quotes"');
    expect(job?.data).toEqual({ useCase: 'alpha', requestId: 'with "quotes"' });
    expect(job?.opts.jobId).toBe('with "quotes"');
  });

  it('when a job is still held, then adding it again adds nothing, and only the new ids of a batch are added', async () => {
    const { queue, prefix } = open();
    expect(await addJobsInOneCall(queue, { useCase: 'alpha' }, OPTIONS, ['r-1', 'r-2'])).toBe(2);
    expect(await addJobsInOneCall(queue, { useCase: 'alpha' }, OPTIONS, ['r-2', 'r-1'])).toBe(0);
    expect(await addJobsInOneCall(queue, { useCase: 'alpha' }, OPTIONS, ['r-1', 'r-3'])).toBe(1);
    expect(await admin.lrange(`${prefix}:ai-alpha:wait`, 0, -1)).toEqual(['r-3', 'r-2', 'r-1']);
  });

  it('when the queue is paused, then jobs wait in the paused list and a worker runs them, in order, once resumed', async () => {
    const { queue, prefix } = open();
    await queue.pause();
    const ids = Array.from({ length: 2_500 }, (_, k) => `r-${k}`);
    expect(await addJobsInOneCall(queue, { useCase: 'alpha' }, OPTIONS, ids)).toBe(ids.length);
    expect(await admin.llen(`${prefix}:ai-alpha:paused`)).toBe(ids.length);
    expect(await admin.llen(`${prefix}:ai-alpha:wait`)).toBe(0);

    const seen: string[] = [];
    void queue.process(1, async (job) => {
      seen.push((job.data as { requestId: string }).requestId);
    });
    await queue.resume();
    await waitFor(async () => seen.length === ids.length, 'every job run');
    expect(seen).toEqual(ids);
  });
});
