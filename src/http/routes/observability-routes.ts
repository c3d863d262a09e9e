import type { RequestHandler } from 'express';
import { forbidden } from '../../contracts/errors.js';
import { principalAllows } from '../../keys/roles.js';
import { authenticate, principalOf } from '../auth.js';
import { buildOpenApiDocument } from '../openapi-document.js';
import type { RouteSpec } from '../route-spec.js';

/**
 * `GET /metrics` (Prometheus) and `GET /v1/openapi.json`: no key, like the health probes, unless
 * the operator asks for one on /metrics (`SHADOWGATE_METRICS_AUTH=key`): its series name every
 * use case, so the key must be allowed to read and scoped to all of them.
 */
export const observabilityRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/metrics',
    quiet: true,
    permission: null,
    budget: null,
    summary: 'Prometheus metrics (text exposition format)',
    produces: ['text/plain'],
    responses: {
      200: 'the metrics',
      401: 'with SHADOWGATE_METRICS_AUTH=key: missing, malformed, unknown or revoked key',
      403: 'with SHADOWGATE_METRICS_AUTH=key: the key may not read, or not every use case',
    },
    handler: ({ metrics, metricsAuth, services }) => {
      if (!metrics) return null;
      const guard = metricsAuth === 'key' ? [authenticate(services.keys), readsEveryUseCase] : [];
      return [
        ...guard,
        async (_req, res) => {
          const { contentType, body } = await metrics.exposition();
          res.type(contentType).send(body);
        },
      ];
    },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    permission: null,
    budget: null,
    summary: 'this document',
    description: 'the OpenAPI 3.1 document of this API',
    responses: { 200: 'the OpenAPI document' },
    handler: ({ routes }) => {
      let document: object | undefined;
      return (_req, res) => {
        document ??= buildOpenApiDocument(routes);
        res.json(document);
      };
    },
  },
];

const readsEveryUseCase: RequestHandler = (req, _res, next) => {
  const principal = principalOf(req);
  if (!principalAllows(principal, 'read') || principal.useCases !== null) {
    throw forbidden('/metrics names every use case: it needs a key that may read, scoped to every use case');
  }
  next();
};
