/**
 * Exit codes a script can rely on. They are part of the CLI's contract (README "CLI",
 * `shadowgate --help`): change them only with a major version.
 */
export const EXIT = {
  ok: 0,
  /** The command ran and its answer is negative: an invalid plan, a gate or challenger that does not hold, a diff. */
  negative: 1,
  /** Wrong arguments or configuration: a missing option, an unknown command, no key, a 400. */
  usage: 2,
  /** 401 or 403: the key is missing on the server, revoked, or lacks the role or scope. */
  auth: 3,
  notFound: 4,
  /** 409 other than a gate that does not hold (e.g. the stage changed meanwhile). */
  conflict: 5,
  /** The controller cannot be reached, timed out, or answered 5xx. */
  unavailable: 6,
  /**
   * Held for approval (202 `{pending: true}`): nothing was applied yet; a release key other than
   * the requester approves the change (README "Change control").
   */
  held: 7,
  /** A fault of the CLI itself (EX_SOFTWARE): not an answer a script should act on. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  the answer is negative: invalid plan, gate (or challenger) not eligible on promote, plan diff found changes
  2  usage error: bad or missing arguments, no key, a request the controller refused (400)
  3  authentication or authorization (401, 403)
  4  not found (404)
  5  conflict (409 other than a gate that does not hold)
  6  controller unreachable, timed out, or a server error (5xx)
  7  held for approval: the change is pending (202), nothing applied yet (shadowgate changes approve ID)
  70 a fault of the CLI itself`;

/** An error that ends the command: its message (and detail lines) go to stderr, then it exits. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code for an HTTP error status from the controller. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return EXIT.usage;
  return EXIT.unavailable;
}
