/**
 * The one error family of AI system calls. `transient` steers the shadow
 * queue: a transient failure is retried, a permanent one ends the call.
 *
 * The message is our own words only (a status, a size, a field path of our schema): it may be
 * stored, logged and told to an API caller. What the AI system sent (an error body, an answer
 * that is not JSON, a value that does not fit) may echo the decision's input, so a clipped
 * excerpt of it is kept apart in `upstreamText`, which no serialisation of the error carries:
 * it is stored and logged only where the plan's `storeInput` is `full` (see `storedAiError`).
 */

export const AI_CALL_ERROR_KINDS = [
  'timeout',
  'transport',
  'http-status',
  'bad-output',
  'too-large',
  'out-of-range',
  /** The egress policy refused the destination or the secret: nothing was sent. */
  'egress-refused',
] as const;
export type AiCallErrorKind = (typeof AI_CALL_ERROR_KINDS)[number];

const MAX_MESSAGE_CHARS = 300;
const MAX_EXCERPT_CHARS = 200;

export class AiCallError extends Error {
  override readonly name = 'AiCallError';
  readonly transient: boolean;
  /** A single-line excerpt of what the AI system sent, or null; never enumerable (see above). */
  declare readonly upstreamText: string | null;

  constructor(
    readonly kind: AiCallErrorKind,
    message: string,
    readonly latencyMs: number,
    /** The HTTP status, for `http-status` errors. */
    readonly status: number | null = null,
    upstreamText: string | null = null,
  ) {
    super(clip(message, MAX_MESSAGE_CHARS));
    this.transient = isTransient(kind, status);
    Object.defineProperty(this, 'upstreamText', {
      value: upstreamText === null ? null : excerpt(upstreamText),
      enumerable: false,
    });
  }
}

/** Timeouts, transport failures, 408, 429 and 5xx may pass on a retry; nothing else will. */
export function isTransient(kind: AiCallErrorKind, status: number | null): boolean {
  if (kind === 'timeout' || kind === 'transport') return true;
  if (kind === 'http-status' && status !== null) return status === 408 || status === 429 || status >= 500;
  return false;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters (NUL included) are what is removed
const CONTROL = /[\u0000-\u001f\u007f]+/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A single-line excerpt of untrusted text, safe to store in a text column. */
export function excerpt(text: string, max = MAX_EXCERPT_CHARS): string {
  // Only the start is read: the rest would be clipped anyway.
  const head = text.slice(0, 4 * max);
  return clip(head.replace(CONTROL, ' ').trim(), max).replace(LONE_SURROGATE, '\uFFFD');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
