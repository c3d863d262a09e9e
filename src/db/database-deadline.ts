/**
 * A bound on how long a request waits for the database. postgres.js has no query timeout of
 * its own, and a connection whose network went silent (a partition, a dead middlebox, no reset)
 * answers nothing until TCP gives up, minutes later: the caller would wait that long, holding
 * its request. Past the deadline the caller gets this error (answered 503 with Retry-After);
 * the query itself runs on, or fails, when the connection does, so the work must be safe to
 * repeat (ingest is: a resent decision is stored once).
 *
 * Work abandoned that way still holds memory (a batch of decisions, its statement) until the
 * connection answers or dies. Under a long partition with steady ingest, every resent batch
 * would queue another copy inside postgres.js without limit; so once MAX_ABANDONED pieces wait
 * past their deadline, new work is refused at once with the same error, without being started,
 * until some of them settle.
 */
export class DatabaseDeadlineError extends Error {
  readonly code = 'DATABASE_DEADLINE';

  constructor(what: string, message: string) {
    super(`${what}: ${message}`);
    this.name = 'DatabaseDeadlineError';
  }
}

/** How many pieces of work may wait past their deadline before new work is refused. */
export const MAX_ABANDONED = 64;

let abandoned = 0;

/** The pieces of work that passed their deadline and have not settled yet. */
export function abandonedWork(): number {
  return abandoned;
}

/**
 * Starts `start()` and waits for it at most `ms`; refuses without starting it while
 * MAX_ABANDONED earlier pieces are still waiting on the database past their deadline.
 */
export function withinDeadline<T>(start: () => Promise<T>, ms: number, what: string): Promise<T> {
  if (abandoned >= MAX_ABANDONED) {
    return Promise.reject(
      new DatabaseDeadlineError(
        what,
        `${abandoned} earlier requests still wait on the database; not started`,
      ),
    );
  }
  const work = start();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandoned += 1;
      const settled = () => {
        abandoned -= 1;
      };
      work.then(settled, settled);
      reject(new DatabaseDeadlineError(what, `the database did not answer within ${ms} ms`));
    }, ms);
  });
  // work's own late rejection is handled by the race, which subscribed to it.
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
