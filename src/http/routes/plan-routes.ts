import { z } from 'zod';
import { badRequest, notFound } from '../../contracts/errors.js';
import { planEgressProblems } from '../../egress/egress.js';
import { checkUseCaseId, parsePlanText } from '../../plans/plan-loader.js';
import { planSchema } from '../../plans/plan-schema.js';
import { requesterOf } from '../../promotion/change-service.js';
import { principalOf, requireScope } from '../auth.js';
import { AUTH, BODY, type RouteSpec, USE_CASE } from '../route-spec.js';
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
export const planRoutes: RouteSpec[] = [
  {
    method: 'put',
    path: '/v1/use-cases/:id/plan',
    permission: 'apply-plan',
    budget: 'api',
    summary: 'apply a rollout plan (YAML, or JSON with a JSON content type)',
    description:
      '201 created (in `shadow`), 200 new version or `unchanged: true`; 202 `{pending: true, change}` when it widens the AI\'s authority or the plan in force asks for approvals (README "Change control"); YAML, or JSON with a JSON content type',
    body: [{ name: 'Plan', schema: planSchema }],
    textBody: true,
    responses: {
      200: 'a new plan version, or `unchanged: true` for the same text; `warnings` (GateWarning) and `majorityBaseline` judged on the evidence already there',
      201: 'the use case is created, in shadow',
      202: '`{pending: true, change}`: held for approval (README "Change control"); the same text again answers the same change',
      ...AUTH,
      ...BODY,
      409: 'quota_exceeded: the plan would create a use case past SHADOWGATE_MAX_USE_CASES',
    },
    handler:
      ({ services }) =>
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
        const { status, body } = await services.changes.submitPlan({
          id,
          plan: parsed.plan,
          text: req.body,
          textHash: parsed.hash,
          format,
          requester: requesterOf(principal),
        });
        res.status(status).json(body);
      },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/plan',
    permission: 'read',
    budget: 'api',
    summary: 'the text of the applied plan, or of an older version',
    description:
      'the applied plan (or version N): `{useCase, version, current, text, textHash, format, aiConfig, appliedBy, appliedAt, approvedBy}`',
    query: planQuerySchema,
    responses: {
      200: '{useCase, version, current, text, textHash, format, aiConfig, appliedBy, appliedAt, approvedBy}',
      ...USE_CASE,
      404: 'unknown use case or plan version',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        requireScope(principalOf(req), id);
        const query = parseOrThrow(planQuerySchema, req.query, 'plan query');
        const useCase = await services.useCases.get(id);
        if (!useCase) throw notFound(`unknown use case ${id}`);
        const version = query.version ?? useCase.planVersion;
        const record = await services.useCases.planVersion(id, version);
        if (!record) {
          throw notFound(
            `use case ${id} has no plan version ${version} (the latest is ${useCase.planVersion})`,
          );
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
          // Who approved it (README "Change control"); null when it needed no approval.
          approvedBy: record.approvedBy ?? null,
        });
      },
  },
];
