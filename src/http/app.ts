import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { RateLimits } from '../keys/key-rate-limiter.js';
import type { ControllerMetrics } from '../observability/metrics-registry.js';
import { requestContext } from '../observability/request-context.js';
import { dashboardRoutes } from '../dashboard/dashboard-routes.js';
import { authenticate } from './auth.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { rateLimitPerKey } from './rate-limit.js';
import type { HttpServices } from './http-services.js';
import { decisionRoutes } from './routes/decision-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { keyRoutes } from './routes/key-routes.js';
import { planRoutes } from './routes/plan-routes.js';
import { type MetricsAuth, observabilityRoutes } from './routes/observability-routes.js';
import { releaseRoutes } from './routes/release-routes.js';
import { reportRoutes } from './routes/report-routes.js';
import { timeseriesRoutes } from './routes/timeseries-routes.js';
import { useCaseRoutes } from './routes/use-case-routes.js';

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

/** The controller's HTTP API; listening is the caller's business. */
export function createApp(services: HttpServices, options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    requestContext({
      logger: options.logger,
      onIngestRequest: (route, status, seconds) => options.metrics?.ingestRequest(route, status, seconds),
    }),
  );
  app.use(observabilityRoutes(options.metrics, { mode: options.metricsAuth ?? 'none', keys: services.keys }));
  app.use(healthRoutes(services));
  app.use(dashboardRoutes());

  const v1 = express.Router();
  v1.use(authenticate(services.keys));
  v1.use(rateLimitPerKey(options.rateLimits ?? { ingest: 0, api: 0 }));
  v1.use(planRoutes(services, options.bodyLimit));
  v1.use(express.json({ limit: options.bodyLimit, strict: false }));
  v1.use(decisionRoutes(services));
  v1.use(useCaseRoutes(services));
  v1.use(releaseRoutes(services));
  v1.use(reportRoutes(services));
  v1.use(timeseriesRoutes(services));
  v1.use(keyRoutes(services));
  app.use('/v1', v1);
  if (options.unleashClientApi) app.use('/api', options.unleashClientApi);

  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));
  return app;
}
