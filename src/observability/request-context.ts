import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    /** The caller's `x-request-id`, or one made here; echoed in the response. */
    requestId?: string;
    /** A child logger carrying `reqId`. */
    log?: Logger;
    /** Set by an SDK-facing route as it takes the request: its handling time is measured under this name. */
    measuredRoute?: string;
  }
}

export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller's id is taken as is when it is short and plain; anything else is replaced, not logged. */
const ACCEPTABLE_ID = /^[\w.:@/+=-]{1,128}$/;

export interface RequestContextOptions {
  logger: Logger;
  /** Whether a request to `path` is logged at debug (probes, scrapes, flag polling); the rest at info. */
  quietPath: (path: string) => boolean;
  /** The path prefixes a use case id follows (`/v1/use-cases/`): the access log names it. */
  useCasePrefixes: readonly string[];
  /** Receives the handling time of the SDK-facing routes. */
  onIngestRequest?: (route: string, status: number, seconds: number) => void;
}

/**
 * Gives each request an id (the caller's `x-request-id` or a new one), echoes it, hangs a
 * child logger on the request and writes one access log line when the response ends:
 * method, path, status, duration, use case and the key's name. Never headers, bodies or keys.
 */
export function requestContext(options: RequestContextOptions): RequestHandler {
  return (req, res, next) => {
    const offered = req.get(REQUEST_ID_HEADER);
    const requestId = offered && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
    const started = process.hrtime.bigint();
    req.requestId = requestId;
    req.log = options.logger.child({ reqId: requestId });
    res.setHeader(REQUEST_ID_HEADER, requestId);

    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const path = req.originalUrl.split('?')[0] ?? '';
      const finished = res.writableFinished;
      const line: Record<string, unknown> = {
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1e6) / 1e3,
      };
      const useCase = useCaseOf(req, path, options.useCasePrefixes);
      if (useCase) line.useCase = useCase;
      if (req.principal) line.actor = req.principal.name;
      if (!finished) line.aborted = true;
      const level = options.quietPath(path) ? 'debug' : 'info';
      req.log?.[level](line, 'request');

      if (req.measuredRoute) options.onIngestRequest?.(req.measuredRoute, res.statusCode, seconds);
    });
    next();
  };
}

/** The use case a request is about: from the path, else from a mirrored decision (or a batch of one use case). */
export function useCaseOf(
  req: Pick<Request, 'body'>,
  path: string,
  useCasePrefixes: readonly string[],
): string | undefined {
  for (const prefix of useCasePrefixes) {
    if (!path.startsWith(prefix)) continue;
    const id = path.slice(prefix.length).split('/')[0];
    if (isUseCaseId(id)) return id;
  }
  if (path !== '/v1/decisions') return undefined;
  const body = req.body as { useCase?: unknown; decisions?: Array<{ useCase?: unknown }> } | undefined;
  if (isUseCaseId(body?.useCase)) return body.useCase;
  if (!Array.isArray(body?.decisions)) return undefined;
  const ids = new Set(body.decisions.map((d) => d?.useCase));
  const [only] = ids;
  return ids.size === 1 && isUseCaseId(only) ? only : undefined;
}

const isUseCaseId = (value: unknown): value is string =>
  typeof value === 'string' && /^[a-z0-9-]{1,64}$/.test(value);
