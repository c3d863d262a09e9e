import { z } from 'zod';
import { notFound } from '../../contracts/errors.js';
import { PERMISSIONS, principalAllows, ROLES } from '../../keys/roles.js';
import { BUCKETS, bucketRange, bucketStart } from '../../metrics/timeseries-range.js';
import { TIMESERIES_CONFIDENCE } from '../../metrics/timeseries-store.js';
import { MODES } from '../../plans/plan-schema.js';
import { principalOf, requireScope } from '../auth.js';
import { AUTH, READ_TIMEOUT, type RouteSpec, USE_CASE } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

export const timeseriesQuerySchema = z.strictObject({
  bucket: z.enum(BUCKETS).default('hour'),
  stage: z.enum(MODES).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

/**
 * `GET /v1/use-cases/:id/timeseries`: agreement, its Wilson interval, AI error rate, p95 latency
 * and AI cost per decision per UTC hour or day. `GET /v1/whoami`: what the key may do, so a
 * client (the dashboard) offers only the actions the key is allowed.
 */
export const timeseriesRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/whoami',
    permission: 'any',
    budget: 'api',
    summary: 'what the key may do',
    description: 'what the key may do: `{name, role, useCases, permissions}`',
    response: z.strictObject({
      name: z.string(),
      role: z.enum(ROLES),
      useCases: z.array(z.string()).nullable(),
      permissions: z.array(z.enum(PERMISSIONS)),
    }),
    responses: { 200: '{name, role, useCases, permissions}', 401: AUTH[401] },
    handler: () => (req, res) => {
      const principal = principalOf(req);
      res.json({
        name: principal.name,
        role: principal.role,
        useCases: principal.useCases,
        permissions: PERMISSIONS.filter((p) => principalAllows(principal, p)),
      });
    },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/timeseries',
    permission: 'read',
    budget: 'api',
    summary:
      'agreement with its interval, AI error rate, p95 latency and AI cost per hour or day, over the last 30 days unless from/to say otherwise',
    query: timeseriesQuerySchema,
    responses: {
      200: 'the points, with the range covered',
      ...USE_CASE,
      400: 'invalid use case id or query: a range over 744 hour or 366 day buckets, or from not before to',
      ...READ_TIMEOUT,
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        requireScope(principalOf(req), id);
        if (!(await services.useCases.get(id))) throw notFound(`unknown use case ${id}`);
        const query = parseOrThrow(timeseriesQuerySchema, req.query, 'timeseries query');
        const range = bucketRange(
          query.bucket,
          services.clock(),
          query.from ? new Date(query.from) : undefined,
          query.to ? new Date(query.to) : undefined,
        );
        const points = await services.timeseries.points({
          useCase: id,
          range,
          ...(query.stage ? { stage: query.stage } : {}),
        });
        res.json({
          useCase: id,
          bucket: query.bucket,
          stage: query.stage ?? null,
          from: bucketStart(range.bucket, range.first),
          to: bucketStart(range.bucket, range.end),
          confidence: TIMESERIES_CONFIDENCE,
          points,
        });
      },
  },
];
