import { Router } from 'express';
import {
  decisionBatchSchema,
  lateHumanSchema,
  mirroredDecisionSchema,
  plainDecision,
  plainDecisionBatch,
} from '../../contracts/decision-contracts.js';
import { badRequest } from '../../contracts/errors.js';
import { suggestRequestSchema } from '../../ingest/suggestion-service.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requirePermission } from '../auth.js';
import { parseOrThrow } from '../validate.js';
import { requestIdParam, useCaseIdParam } from './params.js';

export function decisionRoutes(services: HttpServices): Router {
  const router = Router();

  /** One decision, or `{decisions: [...]}`; all or nothing. */
  router.post('/decisions', requirePermission('ingest'), async (req, res) => {
    const principal = principalOf(req);
    const body: unknown = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest('expected a JSON object: one decision or {decisions: [...]}', [
        { path: '', problem: 'expected an object' },
      ]);
    }
    if ('decisions' in body) {
      // Plainly valid batches skip zod; anything else is checked in full, every problem named.
      const batch = plainDecisionBatch(body) ?? parseOrThrow(decisionBatchSchema, body, 'decision batch');
      const paths = batch.decisions.map((_, i) => `decisions[${i}]`);
      res.status(202).json(await services.ingest.ingest(batch.decisions, principal, paths));
      return;
    }
    const decision = plainDecision(body) ?? parseOrThrow(mirroredDecisionSchema, body, 'decision');
    res.status(202).json(await services.ingest.ingest([decision], principal, ['']));
  });

  router.post('/decisions/:useCase/:requestId/human', requirePermission('ingest'), async (req, res) => {
    const useCase = useCaseIdParam(req.params.useCase);
    const requestId = requestIdParam(req.params.requestId);
    const human = parseOrThrow(lateHumanSchema, req.body, 'human decision');
    const outcome = await services.ingest.recordLateHuman(useCase, requestId, human, principalOf(req));
    res.status(200).json({ useCase, requestId, ...outcome, compared: outcome.score !== null });
  });

  /** A synchronous AI suggestion, recorded with the decision. */
  router.post('/use-cases/:id/suggest', requirePermission('ingest'), async (req, res) => {
    const id = useCaseIdParam(req.params.id);
    const request = parseOrThrow(suggestRequestSchema, req.body, 'suggestion request');
    res.json(await services.suggestions.suggest(id, request, principalOf(req)));
  });

  return router;
}
