/**
 * Waiting on work the system does in the background (AI calls, deliveries, sweeps) without
 * an absolute budget: how long that work takes depends on the machine and on what else runs
 * on it, which is not what the tests are about. What they are about is that the work gets
 * done, so a wait fails only when the value it watches has not moved for `stallMs`, which a
 * slow machine does not cause and a stuck loop does.
 */
export interface ProgressWait {
  /** What is awaited, for the failure message: "every owed AI call". */
  what: string;
  /** Reads the value that moves as the work proceeds (a count, usually). */
  read: () => number | Promise<number>;
  /** True once the value says the work is done. */
  done: (value: number) => boolean;
  /** How long the value may stay the same before the wait fails. */
  stallMs?: number;
  intervalMs?: number;
}

export const DEFAULT_STALL_MS = 30_000;

/** Resolves with the final value; rejects when the value stalled for `stallMs`. */
export async function waitForProgress({
  what,
  read,
  done,
  stallMs = DEFAULT_STALL_MS,
  intervalMs = 100,
}: ProgressWait): Promise<number> {
  let last = await read();
  let movedAt = Date.now();
  for (;;) {
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const value = await read();
    if (value !== last) {
      last = value;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > stallMs) {
      throw new Error(`waiting for ${what}: stuck at ${value} for ${stallMs} ms`);
    }
  }
}
