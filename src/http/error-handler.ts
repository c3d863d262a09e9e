import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ShadowgateError } from '../contracts/errors.js';
import { isStatementTimeout, loggableDatabaseError } from '../db/database.js';

/** Body-parser failures carry `type` and `status`; they are the client's fault. */
interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** PostgreSQL connection failures: the request may be retried once the database is back. */
function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'CONNECTION_CLOSED' ||
    code === 'CONNECTION_ENDED' ||
    code === 'CONNECTION_DESTROYED' ||
    code === 'CONNECT_TIMEOUT' ||
    code === 'DATABASE_DEADLINE' || // no answer in time: a silent connection (database-deadline.ts)
    code === '57P01' || // admin_shutdown
    code === '57P03' // cannot_connect_now
  );
}

/**
 * PostgreSQL refusing text it cannot store (a NUL character, an invalid Unicode escape): what
 * request validation missed, still the client's fault, and nothing was stored.
 */
function isUnstorableText(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '22021' || code === '22P05';
}

/** The one renderer: `{error, message, details: [{path, problem}]}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof ShadowgateError) {
      res.status(err.status).json({ error: err.code, message: err.message, details: err.details });
      return;
    }
    const bodyError = err as BodyParserError;
    if (bodyError?.type === 'entity.too.large') {
      res.status(413).json({
        error: 'payload_too_large',
        message: `request body over the limit of ${bodyError.limit} bytes`,
        details: [],
      });
      return;
    }
    if (bodyError?.type === 'entity.parse.failed') {
      res.status(400).json({
        error: 'bad_request',
        message: `malformed JSON body: ${bodyError.message}`,
        details: [{ path: '', problem: 'the body is not valid JSON' }],
      });
      return;
    }
    // The router could not decode a path parameter (`%E0%A4%A`, an encoded lone surrogate).
    if (err instanceof URIError && bodyError.status === 400) {
      res.status(400).json({
        error: 'bad_request',
        message: `malformed address: ${err.message}`,
        details: [{ path: '', problem: 'not valid percent-encoded UTF-8' }],
      });
      return;
    }
    if (bodyError?.type && bodyError.status && bodyError.status < 500) {
      res.status(bodyError.status).json({ error: 'bad_request', message: bodyError.message, details: [] });
      return;
    }
    // Errors the body parser passes on untyped but marked as the client's: zlib's, for a body that
    // is not the gzip or brotli its Content-Encoding says.
    if ((err as { expose?: boolean })?.expose === true && bodyError.status && bodyError.status < 500) {
      res.status(bodyError.status).json({
        error: 'bad_request',
        message: `the request body could not be read: ${bodyError.message}`,
        details: [{ path: '', problem: 'could not be decoded' }],
      });
      return;
    }
    if (isUnstorableText(err) || isUnstorableText((err as { cause?: unknown })?.cause)) {
      res.status(400).json({
        error: 'bad_request',
        message: 'the request holds text that cannot be stored: a NUL character or invalid Unicode',
        details: [],
      });
      return;
    }
    // A database error is logged by its SQLSTATE and names only: its text can quote the request.
    const logged = loggableDatabaseError(err);
    const errorField = logged ? { db: logged } : { err };
    if (isStatementTimeout(err)) {
      logger.warn({ ...errorField, method: req.method, path: req.path }, 'read stopped at its time limit');
      res.status(503).json({
        error: 'read_timeout',
        message:
          'the read ran past its time limit and was stopped; ask a shorter time range, or the whole stage without a filter',
        details: [],
      });
      return;
    }
    if (isDatabaseUnavailable(err) || isDatabaseUnavailable((err as { cause?: unknown })?.cause)) {
      logger.warn({ ...errorField, path: req.path }, 'database unavailable');
      res.setHeader('Retry-After', '1');
      res
        .status(503)
        .json({ error: 'unavailable', message: 'the database is unavailable; retry shortly', details: [] });
      return;
    }
    logger.error({ ...errorField, method: req.method, path: req.path }, 'unhandled error');
    res
      .status(500)
      .json({ error: 'internal', message: 'internal error; see the controller log', details: [] });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not_found', message: `no route ${req.method} ${req.path}`, details: [] });
};
