import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { dashboardRoutes } from '../dashboard/dashboard-routes.js';
import type { RateLimits } from '../keys/key-rate-limiter.js';
import type { ControllerMetrics } from '../observability/metrics-registry.js';
import { requestContext } from '../observability/request-context.js';
import { authenticate, requirePermission } from './auth.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import type { HttpServices } from './http-services.js';
import { rateLimitPerKey } from './rate-limit.js';
import { useCasePathPrefixes, type MetricsAuth, type RouteContext, type RouteSpec } from './route-spec.js';
import { ROUTE_TABLE, routeName } from './route-table.js';

/** Where unleash-client polls the controller's own flags every few seconds (see unleashClientApi). */
const UNLEASH_CLIENT_PATH = '/api/client/';
const QUIET_PATHS = new Set(ROUTE_TABLE.filter((route) => route.quiet).map((route) => route.path));

export interface AppOptions {
  bodyLimit: number;
  logger: Logger;
  /** Mounted at /api so unleash-client can read the controller's own flags. */
  unleashClientApi?: express.Router;
  /** Served at /metrics (without it, /metrics answers 404). */
  metrics?: ControllerMetrics;
  /** Requests per second per key on /v1, by budget; unset or 0: unlimited. */
  rateLimits?: RateLimits;
  /** Whether /metrics needs a key (default `none`). */
  metricsAuth?: MetricsAuth;
}

/** The controller's HTTP API, mounted from the route table; listening is the caller's business. */
export function createApp(services: HttpServices, options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    requestContext({
      logger: options.logger,
      quietPath: (path) => QUIET_PATHS.has(path) || path.startsWith(UNLEASH_CLIENT_PATH),
      useCasePrefixes: useCasePathPrefixes(ROUTE_TABLE),
      onIngestRequest: (route, status, seconds) => options.metrics?.ingestRequest(route, status, seconds),
    }),
  );
  const context: RouteContext = {
    services,
    bodyLimit: options.bodyLimit,
    metricsAuth: options.metricsAuth ?? 'none',
    routes: ROUTE_TABLE,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
  // A stopping controller finishes the requests it has and closes each connection after its
  // answer, so clients reconnect to a controller that stays.
  app.use((_req, res, next) => {
    if (services.stopping?.()) res.setHeader('Connection', 'close');
    next();
  });
  const limit = rateLimitPerKey(options.rateLimits ?? { ingest: 0, api: 0 });
  const v1 = express.Router();
  for (const route of ROUTE_TABLE) {
    const handlers = route.handler(context);
    if (handlers === null) continue;
    if (route.permission === null) {
      app[route.method](route.path, handlers);
      continue;
    }
    if (!route.path.startsWith('/v1/') || route.budget === null) {
      throw new Error(`${routeName(route)}: a keyed route lives under /v1 and has a budget`);
    }
    v1[route.method](
      route.path.slice('/v1'.length),
      ...measured(route),
      ...refusedWhileStopping(route, services),
      authenticate(services.keys),
      // The budget is spent before the permission is checked: a refused request counts too.
      limit(route.budget),
      ...guards(route, context),
      handlers,
    );
  }
  // A /v1 request no route takes needs a key all the same, and spends the api budget before its 404.
  v1.use(authenticate(services.keys), limit('api'));
  app.use(dashboardRoutes());
  app.use('/v1', v1);
  if (options.unleashClientApi) app.use('/api', options.unleashClientApi);

  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));
  return app;
}

/** The SDK-facing routes (those on the ingest budget) have their handling time measured, refusals too. */
function measured(route: RouteSpec): RequestHandler[] {
  if (route.budget !== 'ingest') return [];
  const name = routeName(route);
  return [
    (req, _res, next) => {
      req.measuredRoute = name;
      next();
    },
  ];
}

/**
 * The SDK's routes bring work (decisions that owe AI calls, suggestions that make one): a stopping
 * controller answers them 503 with Retry-After, which the SDK retries, and takes none of it on.
 */
function refusedWhileStopping(route: RouteSpec, services: HttpServices): RequestHandler[] {
  if (route.budget !== 'ingest') return [];
  return [
    (_req, res, next) => {
      if (!services.stopping?.()) return next();
      res.setHeader('Retry-After', '1');
      res
        .status(503)
        .json({ error: 'unavailable', message: 'the controller is stopping; retry', details: [] });
    },
  ];
}

/** The permission check, then the body parser the route's body needs. */
function guards(route: RouteSpec, context: RouteContext): RequestHandler[] {
  const guards: RequestHandler[] = route.permission === 'any' ? [] : [requirePermission(route.permission!)];
  if (route.textBody) guards.push(express.text({ type: () => true, limit: context.bodyLimit }));
  else if (route.body) guards.push(express.json({ limit: context.bodyLimit, strict: false }));
  return guards;
}
