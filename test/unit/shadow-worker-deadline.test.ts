import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { abandonedWork, DatabaseDeadlineError } from '../../src/db/database-deadline.js';
import type { ShadowJobHandler } from '../../src/shadow/shadow-queue.js';
import { ShadowWorker } from '../../src/shadow/shadow-worker.js';

/** A use case in shadow, as much of it as the worker reads before it calls the AI. */
const useCase = {
  id: 'invoices',
  stage: 'shadow',
  plan: { ai: { concurrency: 1, maxAttempts: 2, timeoutMs: 1000 } },
} as never;

function workerWithClaim(claim: Promise<unknown[]>) {
  let handler: ShadowJobHandler | null = null;
  const worker = new ShadowWorker({
    queue: {
      consume: async (_useCase: string, _settings: unknown, h: ShadowJobHandler) => {
        handler = h;
      },
    } as never,
    calls: { claimMany: () => claim } as never,
    useCases: { get: async () => useCase } as never,
    plans: {} as never,
    comparisons: {} as never,
    clients: {} as never,
    logger: pino({ level: 'silent' }),
    dbStepMs: 50,
  });
  return {
    worker,
    run: () => handler!({ useCase: 'invoices', requestId: 'r1', attempt: 1, maxAttempts: 2 }),
  };
}

describe('shadow worker, when PostgreSQL does not answer a job', () => {
  it('when the claim statement does not answer (lost with its connection), then the job ends with a deadline error instead of holding its queue job for good', async () => {
    let land: (rows: unknown[]) => void = () => {};
    const { worker, run } = workerWithClaim(
      new Promise((resolve) => {
        land = resolve;
      }),
    );
    await worker.sync(useCase);
    await expect(run()).rejects.toBeInstanceOf(DatabaseDeadlineError);
    // The unit files share one module graph: the abandoned statement is let go, so the count of
    // abandoned work that other files read is back to zero.
    land([]);
    while (abandonedWork() > 0) await new Promise((resolve) => setImmediate(resolve));
  });

  it('when the claim lands after its deadline, then the call it claimed is not counted as held (a stop would wait for it in vain); its lease frees it for the sweep', async () => {
    let land: (rows: unknown[]) => void = () => {};
    const { worker, run } = workerWithClaim(
      new Promise((resolve) => {
        land = resolve;
      }),
    );
    await worker.sync(useCase);
    await expect(run()).rejects.toBeInstanceOf(DatabaseDeadlineError);
    expect(worker.inFlight.count).toBe(1); // the claim statement is still out
    land([{ id: 7, useCase: 'invoices', requestId: 'r1', attempts: 1 }]);
    while (worker.inFlight.count > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(worker.inFlight.count).toBe(0);
    expect(abandonedWork()).toBe(0);
  });
});
