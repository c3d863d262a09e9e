import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../contracts/errors.js';
import { inScope } from '../../keys/roles.js';
import { MODES } from '../../plans/plan-schema.js';
import type { UseCase } from '../../plans/use-case-store.js';
import { summarize } from '../../metrics/use-case-reader.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requirePermission, requireScope } from '../auth.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

export const metricsQuerySchema = z.strictObject({
  stage: z.enum(MODES).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  segment: z
    .string()
    .regex(/^[^:=]+[:=].+$/, 'NAME:VALUE, e.g. region:EU')
    .optional(),
});

export function useCaseRoutes(services: HttpServices): Router {
  const router = Router();
  const read = requirePermission('read');

  async function load(req: Parameters<Parameters<Router['get']>[1]>[0]): Promise<UseCase> {
    const id = useCaseIdParam(req.params.id);
    requireScope(principalOf(req), id);
    const useCase = await services.useCases.get(id);
    if (!useCase) throw notFound(`unknown use case ${id}`);
    return useCase;
  }

  router.get('/use-cases', read, async (req, res) => {
    const principal = principalOf(req);
    const all = await services.useCases.list();
    res.json({ useCases: all.filter((u) => inScope(principal, u.id)).map(summarize) });
  });

  router.get('/use-cases/:id', read, async (req, res) => {
    res.json(await services.reader.detail(await load(req), services.clock()));
  });

  router.get('/use-cases/:id/metrics', read, async (req, res) => {
    const useCase = await load(req);
    const query = parseOrThrow(metricsQuerySchema, req.query, 'metrics query');
    const [name, value] = query.segment ? query.segment.split(/[:=](.*)/s) : [];
    const filter = {
      ...(query.stage ? { stage: query.stage } : {}),
      ...(query.from ? { from: new Date(query.from) } : {}),
      ...(query.to ? { to: new Date(query.to) } : {}),
      ...(name && value !== undefined ? { segment: { name, value } } : {}),
    };
    res.json({ useCase: useCase.id, filter: query, stages: await services.reader.stages(useCase, filter) });
  });

  return router;
}
