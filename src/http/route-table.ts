import { changeRoutes } from './routes/change-routes.js';
import { decisionRoutes } from './routes/decision-routes.js';
import { driftRoutes } from './routes/drift-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { journeyRoutes } from './routes/journey-routes.js';
import { keyRoutes } from './routes/key-routes.js';
import { observabilityRoutes } from './routes/observability-routes.js';
import { planRoutes } from './routes/plan-routes.js';
import { releaseRoutes } from './routes/release-routes.js';
import { reportRoutes } from './routes/report-routes.js';
import { timeseriesRoutes } from './routes/timeseries-routes.js';
import { useCaseRoutes } from './routes/use-case-routes.js';
import type { RouteSpec } from './route-spec.js';

/**
 * Every route of the controller's API, once: app.ts mounts it, openapi-document.ts describes it,
 * the rate limiter charges its budget, test/integration/route-roles.test.ts calls it as every
 * role and `npm run docs:routes` writes the README's tables from it. Served beside it and not
 * in it: the dashboard's files and the Unleash client API under /api.
 */
export const ROUTE_TABLE: readonly RouteSpec[] = [
  ...healthRoutes,
  ...observabilityRoutes,
  ...planRoutes,
  ...useCaseRoutes,
  ...reportRoutes,
  ...releaseRoutes,
  ...changeRoutes,
  ...timeseriesRoutes,
  ...journeyRoutes,
  ...driftRoutes,
  ...decisionRoutes,
  ...keyRoutes,
];

/** `GET /v1/use-cases/:id`: how the tables and tests name a route. */
export function routeName(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method.toUpperCase()} ${route.path}`;
}
