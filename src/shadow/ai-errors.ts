/**
 * The one error family of AI system calls. `transient` steers the shadow
 * queue: a transient failure is retried, a permanent one ends the call.
 *
 * Messages are stored with the decision, so they are short and never carry
 * more than a clipped excerpt of what the AI system sent.
 */

export type AiCallErrorKind =
  | 'timeout'
  | 'transport'
  | 'http-status'
  | 'bad-output'
  | 'too-large'
  /** The egress policy refused the destination or the secret: nothing was sent. */
  | 'egress-refused';

const MAX_MESSAGE_CHARS = 300;
const MAX_EXCERPT_CHARS = 200;

export class AiCallError extends Error {
  override readonly name = 'AiCallError';
  readonly transient: boolean;

  constructor(
    readonly kind: AiCallErrorKind,
    message: string,
    readonly latencyMs: number,
    /** The HTTP status, for `http-status` errors. */
    readonly status: number | null = null,
  ) {
    super(clip(message, MAX_MESSAGE_CHARS));
    this.transient = isTransient(kind, status);
  }
}

/** Timeouts, transport failures, 408, 429 and 5xx may pass on a retry; nothing else will. */
export function isTransient(kind: AiCallErrorKind, status: number | null): boolean {
  if (kind === 'timeout' || kind === 'transport') return true;
  if (kind === 'http-status' && status !== null) return status === 408 || status === 429 || status >= 500;
  return false;
}

/** A single-line excerpt of untrusted text, safe to put in a stored message. */
export function excerpt(text: string, max = MAX_EXCERPT_CHARS): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return clip(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(), max);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
