import type { Logger } from 'pino';

/** Runs past their time kept aside at once; beyond them a stuck task is only reported. */
const MAX_STUCK_RUNS = 3;

export interface PeriodicOptions {
  /**
   * A run still going after this long is taken as stuck (a statement the database never
   * answers, a connection cut without a reset): it is logged and the next interval starts a
   * new run beside it, so one hung run does not stop the task for good. Default: ten intervals,
   * at least a minute. The task must be safe to run twice at once (the sweep and the tick are:
   * their writes are claimed in PostgreSQL).
   */
  stuckAfterMs?: number;
}

/**
 * Runs `task` every `ms`, one run at a time; a failure is logged and the next run goes ahead,
 * and a run that hangs is set aside after `stuckAfterMs` (see PeriodicOptions).
 */
export function periodic(
  name: string,
  ms: number,
  task: () => Promise<unknown>,
  logger: Logger,
  options: PeriodicOptions = {},
) {
  const stuckAfterMs = options.stuckAfterMs ?? Math.max(60_000, 10 * ms);
  let running: Promise<void> | null = null;
  let startedAt = 0;
  const stuck = new Set<Promise<void>>();

  const start = (): Promise<void> => {
    startedAt = Date.now();
    const current: Promise<void> = task()
      .then(() => undefined)
      .catch((error: unknown) =>
        logger.warn({ err: error, task: name }, `${name} failed; retried at the next interval`),
      )
      .finally(() => {
        if (running === current) running = null;
        if (stuck.delete(current)) logger.info({ task: name }, `a stuck ${name} run has ended`);
      });
    running = current;
    return current;
  };

  const run = (): Promise<void> => {
    if (!running) return start();
    const runningMs = Date.now() - startedAt;
    if (runningMs < stuckAfterMs) return running;
    if (stuck.size >= MAX_STUCK_RUNS) {
      logger.error(
        { task: name, runningMs, stuck: stuck.size },
        `${name}: ${stuck.size} runs have not finished; no new run starts until one does`,
      );
      startedAt = Date.now(); // reported once per stuckAfterMs, not at every interval
      return running;
    }
    logger.warn({ task: name, runningMs, stuckAfterMs }, `${name} has not finished; a new run starts`);
    stuck.add(running);
    return start();
  };

  let timer: NodeJS.Timeout | null = null;
  return {
    run,
    start() {
      timer ??= setInterval(run, ms);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
