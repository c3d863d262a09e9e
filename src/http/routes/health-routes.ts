import { Router } from 'express';
import type { HttpServices } from '../http-services.js';

/** Liveness says the process answers; readiness checks what a request needs. */
export function healthRoutes(services: HttpServices): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = await services.readiness();
    const ready = Object.values(checks).every((c) => c === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return router;
}
