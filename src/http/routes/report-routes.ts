import { z } from 'zod';
import { notFound } from '../../contracts/errors.js';
import { renderReportMarkdown } from '../../report/report-markdown.js';
import { principalOf, requireScope } from '../auth.js';
import { READ_TIMEOUT, type RouteSpec, USE_CASE } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

export const reportQuerySchema = z.strictObject({
  format: z.enum(['markdown', 'json']).default('markdown'),
});

/** `GET /v1/use-cases/:id/report`: the evidence report, Markdown unless `?format=json`. */
export const reportRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/use-cases/:id/report',
    permission: 'read',
    budget: 'api',
    summary: 'the evidence report (Markdown unless format=json)',
    query: reportQuerySchema,
    produces: ['text/markdown', 'application/json'],
    responses: { 200: 'the evidence report', ...USE_CASE, ...READ_TIMEOUT },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        requireScope(principalOf(req), id);
        const query = parseOrThrow(reportQuerySchema, req.query, 'report query');
        const useCase = await services.useCases.get(id);
        if (!useCase) throw notFound(`unknown use case ${id}`);
        const report = await services.report.report(useCase, services.clock());
        if (query.format === 'json') {
          res.json(report);
          return;
        }
        // Browsers must not guess another type (HTML) for text that quotes untrusted values.
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.type('text/markdown; charset=utf-8').send(renderReportMarkdown(report));
      },
  },
];
