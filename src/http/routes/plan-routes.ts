import express, { Router } from 'express';
import { badRequest } from '../../contracts/errors.js';
import { actorName } from '../../keys/roles.js';
import { aiConfigKey } from '../../plans/ai-config-key.js';
import { checkUseCaseId, parsePlanText } from '../../plans/plan-loader.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requirePermission, requireScope } from '../auth.js';
import { useCaseIdParam } from './params.js';

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/i;

/** `PUT /v1/use-cases/:id/plan`: the body is kept verbatim, YAML or JSON by its content type. */
export function planRoutes(services: HttpServices, bodyLimit: number): Router {
  const router = Router();
  router.put(
    '/use-cases/:id/plan',
    requirePermission('apply-plan'),
    express.text({ type: () => true, limit: bodyLimit }),
    async (req, res) => {
      const principal = principalOf(req);
      const id = useCaseIdParam(req.params.id);
      requireScope(principal, id);
      if (typeof req.body !== 'string' || req.body.trim() === '') {
        throw badRequest('empty plan: send the rollout plan as YAML or JSON', [
          { path: '', problem: 'required' },
        ]);
      }
      const format = JSON_TYPES.test(req.get('content-type') ?? '') ? 'json' : 'yaml';
      const parsed = parsePlanText(req.body, format);
      if (!parsed.ok) {
        throw badRequest(
          'invalid rollout plan',
          parsed.problems.map((p) => ({
            path: p.path,
            problem: p.line ? `${p.problem} (line ${p.line})` : p.problem,
          })),
        );
      }
      const mismatch = checkUseCaseId(parsed.plan, id);
      if (mismatch) throw badRequest('the plan names another use case than the URL', [mismatch]);
      const result = await services.useCases.applyPlan({
        id,
        plan: parsed.plan,
        text: req.body,
        textHash: parsed.hash,
        format,
        aiConfig: aiConfigKey(parsed.plan),
        actor: actorName(principal),
      });
      await services.onPlanApplied(result.useCase);
      res.status(result.created ? 201 : 200).json({
        useCase: id,
        planVersion: result.useCase.planVersion,
        created: result.created,
        unchanged: result.unchanged,
        stage: result.useCase.stage,
        aiConfig: result.useCase.aiConfig,
      });
    },
  );
  return router;
}
