import type { Request } from 'express';
import { z } from 'zod';
import { notFound } from '../../contracts/errors.js';
import { type FlagSyncStatus, UNCHECKED } from '../../flags/flag-sync-status.js';
import { inScope } from '../../keys/roles.js';
import { summarize } from '../../metrics/use-case-reader.js';
import { MODES } from '../../plans/plan-schema.js';
import type { UseCase } from '../../plans/use-case-store.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requireScope } from '../auth.js';
import { AUTH, READ_TIMEOUT, type RouteSpec, USE_CASE } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';
import { driftResponseSchema } from './drift-routes.js';
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

/**
 * The detail's `drift` (README "Drift"): made of the parts of `GET …/drift`'s answer, so each fact
 * is described once; per field its PSI and verdict instead of every value.
 */
const drift = driftResponseSchema.shape;
export const driftSummarySchema = z.strictObject({
  stage: drift.stage,
  window: drift.window,
  minWindow: drift.minWindow,
  reference: drift.reference
    .pick({ takenAt: true, takenBy: true, trippedAt: true })
    .extend({ decisions: drift.current.shape.decisions }),
  current: drift.current.pick({ decisions: true }),
  fields: z.array(
    drift.fields.element
      .pick({ field: true, type: true, psi: true, referenceTotal: true, currentTotal: true })
      .extend({
        watched: z.boolean().describe("the stage's `driftAbove` guard names the field"),
        threshold: z
          .number()
          .describe("the guard's `psi` for a field it names, else 0.25 (the conventional major shift)"),
        verdict: z
          .enum(['stable', 'drifted', 'insufficient'])
          .describe(
            'insufficient until the window holds `drift.minWindow` of the field and the reference some',
          ),
      }),
  ),
  overrideRate: drift.overrideRate,
  escalationRate: drift.escalationRate,
  guards: drift.guards,
});

/**
 * `GET /v1/use-cases/:id`: the fields described here are checked; the metrics and the gate
 * (README "Metrics", "Gates and guards") pass as they are.
 */
const detailResponseSchema = z.looseObject({
  id: z.string(),
  stage: z.enum(MODES),
  stageVersion: z.number().int(),
  planVersion: z.number().int(),
  drift: driftSummarySchema
    .nullable()
    .describe('the drift of the current window against the reference, as `GET …/drift` reads it'),
});

/** Whether the flag says what the stage says (flags/flag-sync-status.ts); built-in flags always do. */
const flagOf = (services: HttpServices, useCase: string): FlagSyncStatus =>
  services.flagStatus?.(useCase) ?? UNCHECKED;

async function load(services: HttpServices, req: Request): Promise<UseCase> {
  const id = useCaseIdParam(req.params.id);
  requireScope(principalOf(req), id);
  const useCase = await services.useCases.get(id);
  if (!useCase) throw notFound(`unknown use case ${id}`);
  return useCase;
}

export const useCaseRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/use-cases',
    permission: 'read',
    budget: 'api',
    summary: "use cases in the key's scope, with their stage and whether their flag is in sync",
    responses: { 200: 'the use cases', ...AUTH },
    handler:
      ({ services }) =>
      async (req, res) => {
        const principal = principalOf(req);
        const all = await services.useCases.list();
        res.json({
          useCases: all
            .filter((u) => inScope(principal, u.id))
            .map((u) => ({ ...summarize(u), flag: flagOf(services, u.id) })),
        });
      },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id',
    permission: 'read',
    budget: 'api',
    summary:
      'stage, plan version, metrics per stage and cohort, the gate, drift in brief and the flag sync state',
    description:
      'stage, plan version, `metrics.stages[]` (per stage: totals and one entry per cohort), `gate`, `drift` (`{reference, current, fields: [{field, psi, threshold, verdict}], overrideRate, escalationRate, guards}`: `GET …/drift` in brief), `judgeCalibration` (a plan judged by a judge: its agreement with people per judge version, `{currentJudgeVersion, versions: [{judgeVersion, rated, agreement, agreementLowerBound, kappa}]}`, else null) and `flag` (does the flag say what the stage says: `{state, detail, reason, since, checkedAt}`)',
    response: detailResponseSchema,
    responses: { 200: 'the use case', ...USE_CASE },
    handler:
      ({ services }) =>
      async (req, res) => {
        const useCase = await load(services, req);
        const now = services.clock();
        const [detail, { champion, challenger }] = await Promise.all([
          services.reader.detail(useCase, now),
          services.challengers.view(useCase.id, now),
        ]);
        res.json({ ...detail, champion, challenger, flag: flagOf(services, useCase.id) });
      },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/metrics',
    permission: 'read',
    budget: 'api',
    summary: 'the metrics, filtered by stage, time range or segment',
    description: 'the same metrics, filtered by stage, time range or segment (`segment=region:EU`)',
    query: metricsQuerySchema,
    responses: { 200: 'metrics per stage and cohort', ...USE_CASE, ...READ_TIMEOUT },
    handler:
      ({ services }) =>
      async (req, res) => {
        const useCase = await load(services, req);
        const query = parseOrThrow(metricsQuerySchema, req.query, 'metrics query');
        const [name, value] = query.segment ? query.segment.split(/[:=](.*)/s) : [];
        const filter = {
          ...(query.stage ? { stage: query.stage } : {}),
          ...(query.from ? { from: new Date(query.from) } : {}),
          ...(query.to ? { to: new Date(query.to) } : {}),
          ...(name && value !== undefined ? { segment: { name, value } } : {}),
        };
        const [stages, judge] = await Promise.all([
          services.reader.stages(useCase, filter),
          services.reader.judgeSummary(useCase),
        ]);
        res.json({ useCase: useCase.id, filter: query, stages, judge });
      },
  },
];
