import { afterEach, expect, it } from 'vitest';
import {
  RetryLater,
  type ShadowJob,
  type ShadowJobRun,
  type ShadowQueue,
  type ShadowQueueLogger,
  type ShadowQueueSettings,
} from '../../src/shadow/shadow-queue.js';

/** What every ShadowQueue adapter must do; run once per adapter by the integration tests. */

export interface QueueUnderTest {
  queue: ShadowQueue;
  /** Runs after the queue is closed (e.g. deletes the test's Redis keys). */
  cleanup?: () => Promise<void>;
}
export type QueueFactory = (options: {
  logger: ShadowQueueLogger;
  closeTimeoutMs?: number;
}) => Promise<QueueUnderTest>;

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export function recordingLogger(): { logger: ShadowQueueLogger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

/** Polls `check` every 10 ms; fails naming `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function jobsFor(useCase: string, count: number, from = 0): ShadowJob[] {
  return Array.from({ length: count }, (_, i) => ({ useCase, requestId: `r${from + i}` }));
}

export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function isIdle(queue: ShadowQueue, useCase?: string): Promise<boolean> {
  const d = await queue.depth(useCase);
  return d.waiting + d.active + d.delayed === 0;
}

function settings(overrides: Partial<ShadowQueueSettings> = {}): ShadowQueueSettings {
  return { concurrency: 4, maxAttempts: 3, backoffMs: 50, ...overrides };
}

function counter(): { runs: ShadowJobRun[]; count: (id: string) => number } {
  const runs: ShadowJobRun[] = [];
  return { runs, count: (id) => runs.filter((r) => r.requestId === id).length };
}

export function shadowQueueContract(create: QueueFactory): void {
  let made: QueueUnderTest[] = [];

  async function make(closeTimeoutMs?: number) {
    const log = recordingLogger();
    const made1 = await create({ logger: log.logger, ...(closeTimeoutMs ? { closeTimeoutMs } : {}) });
    made.push(made1);
    return { queue: made1.queue, log };
  }

  afterEach(async () => {
    for (const m of made) await m.queue.close();
    for (const m of made) await m.cleanup?.();
    made = [];
  });

  it('when jobs of two use cases are enqueued, then each is handled exactly once by its own handler', async () => {
    const { queue } = await make();
    const seen: string[] = [];
    await queue.consume('alpha', settings(), async (job) => {
      seen.push(`alpha:${job.useCase}:${job.requestId}`);
    });
    await queue.consume('beta', settings(), async (job) => {
      seen.push(`beta:${job.useCase}:${job.requestId}`);
    });
    await queue.enqueue([...jobsFor('alpha', 100), ...jobsFor('beta', 50)]);
    await waitFor(async () => seen.length >= 150 && (await isIdle(queue)), '150 handled jobs');
    const expected = [
      ...jobsFor('alpha', 100).map((j) => `alpha:alpha:${j.requestId}`),
      ...jobsFor('beta', 50).map((j) => `beta:beta:${j.requestId}`),
    ];
    expect([...seen].sort()).toEqual(expected.sort());
  });

  it('when a waiting job is enqueued again, then it is stored and handled once', async () => {
    const { queue } = await make();
    await queue.enqueue(jobsFor('alpha', 10));
    await queue.enqueue([...jobsFor('alpha', 10), { useCase: 'alpha', requestId: 'r3' }]);
    expect(await queue.depth('alpha')).toEqual({ waiting: 10, active: 0, delayed: 0 });
    const { runs, count } = counter();
    await queue.consume('alpha', settings(), async (job) => {
      runs.push(job);
    });
    await waitFor(async () => runs.length >= 10 && (await isIdle(queue)), '10 handled jobs');
    expect(runs).toHaveLength(10);
    expect(jobsFor('alpha', 10).map((j) => count(j.requestId))).toEqual(Array(10).fill(1));
  });

  it('when an active or a delayed job is enqueued again, then it is not added twice', async () => {
    const { queue } = await make();
    const firstAttempt = gate();
    const attempts: number[] = [];
    await queue.consume('alpha', settings({ backoffMs: 400 }), async (job) => {
      attempts.push(job.attempt);
      if (job.attempt === 1) {
        await firstAttempt.opened;
        throw new RetryLater('AI system busy');
      }
    });
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(() => attempts.length === 1, 'the first attempt');
    await queue.enqueue(jobsFor('alpha', 1));
    expect(await queue.depth('alpha')).toEqual({ waiting: 0, active: 1, delayed: 0 });
    firstAttempt.open();
    await waitFor(async () => (await queue.depth('alpha')).delayed === 1, 'the job to wait for its retry');
    await queue.enqueue(jobsFor('alpha', 1));
    expect(await queue.depth('alpha')).toEqual({ waiting: 0, active: 0, delayed: 1 });
    await waitFor(async () => attempts.length >= 2 && (await isIdle(queue)), 'the second attempt');
    expect(attempts).toEqual([1, 2]);
  });

  it('when asked which jobs it lacks, then it names those neither waiting, active nor delayed', async () => {
    const { queue } = await make();
    const firstAttempt = gate();
    const attempts: string[] = [];
    await queue.consume('alpha', settings({ concurrency: 1, backoffMs: 60_000 }), async (job) => {
      attempts.push(`${job.requestId}#${job.attempt}`);
      if (job.requestId === 'r0') {
        await firstAttempt.opened;
        throw new RetryLater('AI system busy');
      }
    });
    await queue.enqueue(jobsFor('alpha', 2));
    await waitFor(() => attempts.length === 1, 'r0 to be active');
    const asked = [...jobsFor('alpha', 3), { useCase: 'beta', requestId: 'r0' }];
    // r0 active, r1 waiting behind it (concurrency 1), r2 and beta's r0 never enqueued.
    expect(await queue.absent(asked)).toEqual([asked[2], asked[3]]);
    firstAttempt.open();
    // r1's handler has run and its job has left the active list (a finished job is removed with it).
    await waitFor(async () => {
      const depth = await queue.depth('alpha');
      return depth.delayed === 1 && depth.active === 0 && depth.waiting === 0 && attempts.length === 2;
    }, 'r1 done, r0 delayed');
    expect(await queue.absent(asked)).toEqual([asked[1], asked[2], asked[3]]);
    expect(await queue.absent([])).toEqual([]);
  });

  it('when jobs are slow, then no more than `concurrency` are in flight at once', async () => {
    const { queue } = await make();
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    await queue.consume('alpha', settings({ concurrency: 3 }), async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await pause(20);
      inFlight -= 1;
      done += 1;
    });
    await queue.enqueue(jobsFor('alpha', 30));
    await waitFor(async () => done === 30 && (await isIdle(queue)), '30 handled jobs');
    expect(maxInFlight).toBe(3);
  });

  it('when the rate limit is 20 per second, then 60 jobs take at least ~2 s to start', async () => {
    // Up to one second's worth starts at once, then 20 per second: starts 1-20, 21-40, 41-60.
    const { queue } = await make();
    const startedAt: number[] = [];
    await queue.consume('alpha', settings({ concurrency: 10, rateLimitPerSecond: 20 }), async () => {
      startedAt.push(Date.now());
    });
    await queue.enqueue(jobsFor('alpha', 60));
    await waitFor(async () => startedAt.length === 60 && (await isIdle(queue)), '60 handled jobs');
    const elapsed = Math.max(...startedAt) - Math.min(...startedAt);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
  });

  it('when a handler keeps asking to retry, then it gets maxAttempts attempts with growing delays and the job is dropped', async () => {
    const { queue } = await make();
    const calls: Array<{ attempt: number; maxAttempts: number; at: number }> = [];
    await queue.consume('alpha', settings({ maxAttempts: 3, backoffMs: 200 }), async (job) => {
      calls.push({ attempt: job.attempt, maxAttempts: job.maxAttempts, at: Date.now() });
      throw new RetryLater('AI system busy');
    });
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(async () => calls.length >= 3 && (await isIdle(queue)), 'three attempts');
    expect(calls.map((c) => [c.attempt, c.maxAttempts])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const [first, second, third] = calls.map((c) => c.at) as [number, number, number];
    // Delays are 200 ms then 400 ms, each stretched by up to 20 % jitter.
    expect(second - first).toBeGreaterThanOrEqual(195);
    expect(third - second).toBeGreaterThanOrEqual(395);
    expect(third - second).toBeGreaterThan(second - first);
  });

  it('when a handler throws something other than RetryLater, then the error is logged, the job is not retried and is gone', async () => {
    const { queue, log } = await make();
    const { runs, count } = counter();
    await queue.consume('alpha', settings({ maxAttempts: 3, backoffMs: 10 }), async (job) => {
      runs.push(job);
      if (runs.length === 1) throw new TypeError('bug in the handler');
    });
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(async () => runs.length >= 1 && (await isIdle(queue)), 'the failed job to finish');
    expect(count('r0')).toBe(1);
    const errors = log.entries.filter((e) => e.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.obj).toMatchObject({ useCase: 'alpha', requestId: 'r0', attempt: 1 });
    // Gone, not parked: the same job can be enqueued again and runs as a first attempt.
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(() => runs.length === 2, 'the re-enqueued job');
    expect(runs.map((r) => r.attempt)).toEqual([1, 1]);
  });

  it('when jobs are enqueued before consume(), then they wait for it', async () => {
    const { queue } = await make();
    await queue.enqueue(jobsFor('alpha', 5));
    expect(await queue.depth()).toEqual({ waiting: 5, active: 0, delayed: 0 });
    const { runs } = counter();
    await queue.consume('alpha', settings(), async (job) => {
      runs.push(job);
    });
    await waitFor(async () => runs.length === 5 && (await isIdle(queue)), '5 handled jobs');
  });

  it('when a use case is paused, then pause() waits for its active job and later jobs wait until it is consumed again', async () => {
    const { queue } = await make();
    const events: string[] = [];
    const slow = gate();
    const handler = async (job: ShadowJobRun) => {
      events.push(`start ${job.requestId}`);
      if (job.requestId === 'r0') await slow.opened;
      events.push(`end ${job.requestId}`);
    };
    await queue.consume('alpha', settings(), handler);
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(() => events.includes('start r0'), 'r0 to start');
    const paused = queue.pause('alpha').then(() => events.push('paused'));
    slow.open();
    await paused;
    expect(events).toEqual(['start r0', 'end r0', 'paused']);

    await queue.enqueue(jobsFor('alpha', 2, 1));
    // A paused queue shows no activity; observing "nothing happens" needs a short window.
    for (let i = 0; i < 6; i += 1) {
      await pause(50);
      expect(await queue.depth('alpha')).toEqual({ waiting: 2, active: 0, delayed: 0 });
    }
    expect(events).toHaveLength(3);

    await queue.consume('alpha', settings(), handler);
    await waitFor(async () => events.length === 7 && (await isIdle(queue)), 'r1 and r2 after resuming');
  });

  it('when consume() is called again with other settings, then the new concurrency and handler apply', async () => {
    const { queue } = await make();
    const byFirst: string[] = [];
    await queue.consume('alpha', settings({ concurrency: 1 }), async (job) => {
      byFirst.push(job.requestId);
    });
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(async () => byFirst.length === 1 && (await isIdle(queue)), 'the first handler');

    const bySecond: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await queue.consume('alpha', settings({ concurrency: 4 }), async (job) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await pause(30);
      inFlight -= 1;
      bySecond.push(job.requestId);
    });
    await queue.enqueue(jobsFor('alpha', 20, 1));
    await waitFor(
      async () => bySecond.length === 20 && (await isIdle(queue)),
      '20 jobs by the second handler',
    );
    expect(byFirst).toEqual(['r0']);
    expect(maxInFlight).toBe(4);
  });

  it('when closed with a job active, then close() resolves after the job finished and enqueue() rejects', async () => {
    const { queue } = await make();
    const events: string[] = [];
    await queue.consume('alpha', settings(), async () => {
      events.push('start');
      await pause(1500);
      events.push('end');
    });
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(() => events.includes('start'), 'the job to start');
    await queue.close();
    events.push('closed');
    expect(events).toEqual(['start', 'end', 'closed']);
    await expect(queue.enqueue(jobsFor('alpha', 1))).rejects.toThrow(/closed/);
  });

  it('when a job outlives the close timeout, then close() resolves anyway', async () => {
    const { queue } = await make(300);
    const stuck = gate();
    let started = false;
    await queue.consume('alpha', settings(), async () => {
      started = true;
      await stuck.opened;
    });
    await queue.enqueue(jobsFor('alpha', 1));
    await waitFor(() => started, 'the job to start');
    const t0 = Date.now();
    await queue.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    stuck.open();
  });

  it('when settings are invalid, then consume() refuses them naming the field', async () => {
    const { queue } = await make();
    await expect(queue.consume('alpha', settings({ concurrency: 0 }), async () => {})).rejects.toThrow(
      /alpha.*concurrency/,
    );
    await expect(queue.consume('alpha', settings({ rateLimitPerSecond: 0 }), async () => {})).rejects.toThrow(
      /rateLimitPerSecond/,
    );
  });

  it('when 5,000 trivial jobs are enqueued in one call, then all complete', async () => {
    const { queue } = await make();
    let done = 0;
    await queue.consume('alpha', settings({ concurrency: 50 }), async () => {
      done += 1;
    });
    await queue.enqueue(jobsFor('alpha', 5000));
    await waitFor(async () => done >= 5000 && (await isIdle(queue)), '5,000 handled jobs', 60_000);
    expect(done).toBe(5000);
  }, 90_000);
}
