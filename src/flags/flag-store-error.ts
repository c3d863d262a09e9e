/**
 * What went wrong with a flag write, as far as a person can act on it:
 * - `unreachable`: no connection, a timeout, a 5xx; retried as is and catches up by itself;
 * - `refused`: the token was refused (401, 403): it lacks a permission or is not an admin token;
 * - `pending-approval`: Unleash holds the change for approval (change requests are on for the
 *   project and environment and the token may not skip them);
 * - `failed`: anything else Unleash rejected (a 4xx, a name taken outside the project).
 * The reconcile loop retries all of them at every flag sync.
 */
export type FlagStoreProblem = 'unreachable' | 'refused' | 'pending-approval' | 'failed';

export class FlagStoreError extends Error {
  /** What was being done and what went wrong, without where Unleash is: fit for any key to read. */
  readonly reason: string;

  constructor(
    message: string,
    readonly problem: FlagStoreProblem,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FlagStoreError';
    this.reason = options?.reason ?? message;
  }

  get unreachable(): boolean {
    return this.problem === 'unreachable';
  }
}

export const isUnreachable = (error: unknown): boolean =>
  error instanceof FlagStoreError && error.unreachable;
