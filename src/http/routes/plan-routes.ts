import express, { Router } from 'express';
import { z } from 'zod';
import { badRequest, notFound } from '../../contracts/errors.js';
import { planEgressProblems } from '../../egress/egress.js';
import { actorName } from '../../keys/roles.js';
import { aiConfigKey } from '../../plans/ai-config-key.js';
import { checkUseCaseId, parsePlanText } from '../../plans/plan-loader.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requirePermission, requireScope } from '../auth.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/i;

export const planQuerySchema = z.strictObject({
  // plan_versions.version is an int4 column.
  version: z.coerce.number().int().positive().max(2_147_483_647).optional(),
});

/**
 * `PUT /v1/use-cases/:id/plan`: the body is kept verbatim, YAML or JSON by its content type.
 * `GET /v1/use-cases/:id/plan[?version=N]`: the text of the applied plan (or of an older version),
 * so a product owner can see what a new text would change.
 */
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
      const refused = planEgressProblems(parsed.plan, services.egress);
      if (refused.length > 0) {
        throw badRequest('the plan names a destination or secret this controller does not allow', refused);
      }
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
  router.get('/use-cases/:id/plan', requirePermission('read'), async (req, res) => {
    const id = useCaseIdParam(req.params.id);
    requireScope(principalOf(req), id);
    const query = parseOrThrow(planQuerySchema, req.query, 'plan query');
    const useCase = await services.useCases.get(id);
    if (!useCase) throw notFound(`unknown use case ${id}`);
    const version = query.version ?? useCase.planVersion;
    const record = await services.useCases.planVersion(id, version);
    if (!record) {
      throw notFound(`use case ${id} has no plan version ${version} (the latest is ${useCase.planVersion})`);
    }
    res.json({
      useCase: id,
      version: record.version,
      current: record.version === useCase.planVersion,
      text: record.text,
      textHash: record.textHash,
      format: record.format,
      aiConfig: record.aiConfig,
      appliedBy: record.appliedBy,
      appliedAt: record.appliedAt,
    });
  });
  return router;
}
