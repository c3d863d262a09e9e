import { withinDeadline } from '../db/database-deadline.js';
import type { InFlightCalls } from './in-flight-calls.js';

/**
 * How long a job waits for one statement of its bookkeeping (the use case, the claim, the
 * outcome). postgres.js has no statement timeout of its own: a statement lost with its connection
 * would hold the job, and with it the queue's job, for good, and the sweep never re-enqueues a
 * job the queue still holds. Past it the job ends and the call stays owed (its lease, if the
 * claim landed, lapses), so the sweep brings it back.
 */
export const DB_STEP_MS = 30_000;

/** One statement of a shadow or challenger job's bookkeeping, waited for at most `ms`. */
export function databaseStep<T>(what: string, start: () => Promise<T>, ms = DB_STEP_MS): Promise<T> {
  return withinDeadline(start, ms, what);
}

/**
 * A claim statement, counted by `inFlight` while it runs and waited for at most `ms`. A claim
 * that lands after its deadline is not made by the job that gave up on it: it is not counted as
 * held (a stop would wait for it in vain), and its lease lapses for the sweep.
 */
export function claimStep<T extends { id: number } | null>(
  inFlight: InFlightCalls,
  what: string,
  claim: Promise<T>,
  ms = DB_STEP_MS,
): Promise<T> {
  const claiming = inFlight.track(claim, (claimed) => claimed?.id ?? null);
  return databaseStep(what, () => claiming, ms).catch((error: unknown) => {
    claiming.then((late) => late && inFlight.settle(late.id)).catch(() => {});
    throw error;
  });
}
