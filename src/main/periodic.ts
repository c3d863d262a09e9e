import type { Logger } from 'pino';

/** Runs `task` every `ms`, never two at once; a failure is logged and the next run goes ahead. */
export function periodic(name: string, ms: number, task: () => Promise<unknown>, logger: Logger) {
  let running: Promise<void> | null = null;
  const run = (): Promise<void> => {
    if (running) return running;
    running = task()
      .then(() => undefined)
      .catch((error: unknown) =>
        logger.warn({ err: error, task: name }, `${name} failed; retried at the next interval`),
      )
      .finally(() => {
        running = null;
      });
    return running;
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
