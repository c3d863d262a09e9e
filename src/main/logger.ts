import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; secrets and keys are redacted wherever they appear. */
export function createLogger(level: string, name = 'shadowgate'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['authorization', 'req.headers.authorization', '*.apiKey', '*.secret', '*.key', 'adminKey'],
      censor: '[redacted]',
    },
  });
}
