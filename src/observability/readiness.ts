import type { Logger } from 'pino';

export type CheckState = 'ok' | 'unavailable';

export interface ReadinessOptions {
  /** Each dependency's check: resolves when it answers. */
  checks: Record<string, () => Promise<void>>;
  logger: Logger;
  /** How long a result is served again (default 1 s). */
  cacheMs?: number;
  /** A check that has not answered by then is unavailable (default 2 s). */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Readiness for callers without a key: each dependency is `ok` or `unavailable`, nothing more
 * (what failed, with its hosts and messages, goes to the log only). Probes share one run of the
 * checks, in flight or done within `cacheMs`, so a flood of probes costs the dependencies one
 * ping each per second.
 */
export function cachedReadiness(options: ReadinessOptions): () => Promise<Record<string, CheckState>> {
  const { checks, logger, cacheMs = 1_000, timeoutMs = 2_000, now = Date.now } = options;
  let last: { at: number; result: Promise<Record<string, CheckState>> } | null = null;

  const check = async (name: string, run: () => Promise<void>): Promise<[string, CheckState]> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([run(), timeout]);
      return [name, 'ok'];
    } catch (error) {
      logger.warn({ check: name, err: error }, 'readiness check failed');
      return [name, 'unavailable'];
    } finally {
      clearTimeout(timer);
    }
  };

  const runAll = async () =>
    Object.fromEntries(await Promise.all(Object.entries(checks).map(([name, run]) => check(name, run))));

  return () => {
    // A run still in flight counts as fresh: its result is the one every waiting probe gets.
    if (last === null || now() - last.at > cacheMs) {
      const run = { at: Number.POSITIVE_INFINITY, result: runAll() };
      run.result.finally(() => {
        run.at = now();
      });
      last = run;
    }
    return last.result;
  };
}
