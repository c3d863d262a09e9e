import { z } from 'zod';
import type { RouteSpec } from '../route-spec.js';

/** Liveness says the process answers; readiness checks what a request needs. */
export const healthRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/healthz',
    quiet: true,
    permission: null,
    budget: null,
    summary: 'liveness',
    response: z.strictObject({ status: z.literal('ok') }),
    responses: { 200: 'the process answers' },
    handler: () => (_req, res) => {
      res.json({ status: 'ok' });
    },
  },
  {
    method: 'get',
    path: '/readyz',
    quiet: true,
    permission: null,
    budget: null,
    summary: 'readiness: database, queue, flags, each `ok` or `unavailable` (checked at most once a second)',
    description:
      'readiness with `checks: {database, queue, flags}`, each `ok` or `unavailable` (503 when one is; why is in the log), checked at most once a second whatever the number of probes',
    response: z.strictObject({
      status: z.enum(['ready', 'not ready', 'stopping']),
      checks: z.record(z.string(), z.enum(['ok', 'unavailable'])),
    }),
    responses: {
      200: 'ready',
      503: 'a dependency is unavailable (see checks; why is in the log), or the process is stopping (`status: stopping`, no checks)',
    },
    handler:
      ({ services }) =>
      async (_req, res) => {
        if (services.stopping?.()) {
          res.status(503).json({ status: 'stopping', checks: {} });
          return;
        }
        const checks = await services.readiness();
        const ready = Object.values(checks).every((c) => c === 'ok');
        res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
      },
  },
];
