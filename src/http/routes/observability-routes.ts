import { type RequestHandler, Router } from 'express';
import { forbidden } from '../../contracts/errors.js';
import type { KeyStore } from '../../keys/key-store.js';
import { principalAllows } from '../../keys/roles.js';
import type { ControllerMetrics } from '../../observability/metrics-registry.js';
import { openApiDocument } from '../../observability/openapi.js';
import { authenticate, principalOf } from '../auth.js';

/** Who may scrape /metrics: anyone (`none`, the default), or a key that may read every use case. */
export type MetricsAuth = 'none' | 'key';

/**
 * `GET /metrics` (Prometheus) and `GET /v1/openapi.json`: no key, like the health probes, unless
 * the operator asks for one on /metrics (`SHADOWGATE_METRICS_AUTH=key`): its series name every
 * use case, so the key must be allowed to read and scoped to all of them.
 */
export function observabilityRoutes(
  metrics: ControllerMetrics | undefined,
  auth: { mode: MetricsAuth; keys: KeyStore },
): Router {
  const router = Router();
  if (metrics) {
    const guard: RequestHandler[] = auth.mode === 'key' ? [authenticate(auth.keys), readsEveryUseCase] : [];
    router.get('/metrics', ...guard, async (_req, res) => {
      const { contentType, body } = await metrics.exposition();
      res.type(contentType).send(body);
    });
  }
  router.get('/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  return router;
}

const readsEveryUseCase: RequestHandler = (req, _res, next) => {
  const principal = principalOf(req);
  if (!principalAllows(principal, 'read') || principal.useCases !== null) {
    throw forbidden('/metrics names every use case: it needs a key that may read, scoped to every use case');
  }
  next();
};
