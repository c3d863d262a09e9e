/**
 * A flag backend failure. `unreachable` marks the kind worth retrying as is (no
 * connection, a timeout, a 5xx); the others (a refused token, a rejected request)
 * need a person, though the reconcile loop retries them too.
 */
export class FlagStoreError extends Error {
  constructor(
    message: string,
    readonly unreachable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FlagStoreError';
  }
}

export const isUnreachable = (error: unknown): boolean =>
  error instanceof FlagStoreError && error.unreachable;
