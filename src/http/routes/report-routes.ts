import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../contracts/errors.js';
import { renderReportMarkdown } from '../../report/report-markdown.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requirePermission, requireScope } from '../auth.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

export const reportQuerySchema = z.strictObject({
  format: z.enum(['markdown', 'json']).default('markdown'),
});

/** `GET /v1/use-cases/:id/report`: the evidence report, Markdown unless `?format=json`. */
export function reportRoutes(services: HttpServices): Router {
  const router = Router();
  router.get('/use-cases/:id/report', requirePermission('read'), async (req, res) => {
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
  });
  return router;
}
