import { Router } from 'express';
import type { ControllerMetrics } from '../../observability/metrics-registry.js';
import { openApiDocument } from '../../observability/openapi.js';

/** `GET /metrics` (Prometheus) and `GET /v1/openapi.json`: no key, like the health probes. */
export function observabilityRoutes(metrics: ControllerMetrics | undefined): Router {
  const router = Router();
  if (metrics) {
    router.get('/metrics', async (_req, res) => {
      const { contentType, body } = await metrics.exposition();
      res.type(contentType).send(body);
    });
  }
  router.get('/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  return router;
}
