import pino, { type DestinationStream, type Logger } from 'pino';
import { quotesValues, sqlstateOf } from '../db/database.js';

/**
 * Fields never written to a log line: credentials wherever they appear (one level deep, as
 * the controller logs them), and decision inputs, which stay in the database only.
 */
export const REDACTED_LOG_PATHS = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'key',
  '*.key',
  'token',
  '*.token',
  'password',
  '*.password',
  'adminKey',
  '*.adminKey',
  'SHADOWGATE_ADMIN_KEY',
  '*.SHADOWGATE_ADMIN_KEY',
  'UNLEASH_ADMIN_TOKEN',
  '*.UNLEASH_ADMIN_TOKEN',
  'input',
  '*.input',
  'pendingInput',
  '*.pendingInput',
];

const CENSOR = '[redacted]';

/** Structured JSON logs (stdout unless a destination is given); secrets, keys and inputs are redacted. */
export function createLogger(level: string, name = 'shadowgate', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACTED_LOG_PATHS, censor: CENSOR },
    serializers: { err: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

type SerializedError = ReturnType<typeof pino.stdSerializers.err> & Record<string, unknown>;

/**
 * pino's error serializer, without query parameters: a failed drizzle query puts its
 * parameters (a decision's input, a key's hash) in its message and stack, and postgres.js
 * may attach them as `parameters`. PostgreSQL's own message and detail of a data or integrity
 * error quote values too: they are replaced by the SQLSTATE.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const out = { ...pino.stdSerializers.err(error) } as SerializedError;
  const leaks = parameterTexts(error);
  const sqlstate = sqlstateOf(error);
  const quoting = quotesValues(sqlstate) ? databaseMessages(error) : [];
  const scrub = (text: string) =>
    quoting.reduce(
      (t, message) => t.split(message).join(`[SQLSTATE ${sqlstate}: message left out]`),
      leaks.reduce((t, leak) => t.split(`params: ${leak}`).join(`params: ${CENSOR}`), text),
    );
  out.message = scrub(out.message);
  if (typeof out.stack === 'string') out.stack = scrub(out.stack);
  delete out.params;
  delete out.parameters;
  if (quoting.length > 0) {
    out.sqlstate = sqlstate;
    delete out.detail;
  }
  return out;
}

/** The messages of the errors in a chain that carry a SQLSTATE (PostgreSQL's, through drizzle's wrapper). */
function databaseMessages(error: Error): string[] {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && current.message) messages.push(current.message);
    current = current.cause;
  }
  return messages;
}

function parameterTexts(error: Error): string[] {
  const texts: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current) && seen.size < 10) {
    seen.add(current);
    for (const field of ['params', 'parameters'] as const) {
      const value = (current as unknown as Record<string, unknown>)[field];
      if (Array.isArray(value) && value.length > 0) texts.push(String(value));
    }
    current = current.cause;
  }
  // Longest first, so a text that contains another is replaced whole.
  return texts.sort((a, b) => b.length - a.length);
}
