import { z } from 'zod';
import { notFound } from '../../contracts/errors.js';
import { refuseControls } from '../../contracts/safe-text.js';
import type { DriftReading } from '../../metrics/drift-service.js';
import type { DriftWindow } from '../../metrics/drift-store.js';
import { fieldJudge } from '../../metrics/use-case-reader.js';
import type { UseCase } from '../../plans/use-case-store.js';
import { actorName } from '../../keys/roles.js';
import { principalOf, requireScope } from '../auth.js';
import { BODY, type RouteSpec, USE_CASE } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

/** Typed by a person, shown in the audit log: printable text, as the release actions take it. */
export const baselineSchema = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(3, 'a reason of at least 3 characters')
    .max(2000)
    .superRefine(refuseControls('text')),
});

const HOUR_MS = 3_600_000;
const hourStart = (hour: number | null) => (hour === null ? null : new Date(hour * HOUR_MS).toISOString());
const hourEnd = (hour: number | null) =>
  hour === null ? null : new Date((hour + 1) * HOUR_MS).toISOString();

const windowSchema = z.strictObject({
  stageVersion: z.number().int(),
  from: z.string().nullable().describe('start of the first hour summed'),
  to: z.string().nullable().describe('end of the last hour summed'),
  decisions: z.number().int(),
});

const valueSchema = z.strictObject({
  value: z.string().describe('a category, or a bucket as `[low, high)`'),
  reference: z.number(),
  current: z.number(),
  referenceShare: z.number(),
  currentShare: z.number(),
  psi: z.number(),
});

const rateSchema = z.strictObject({
  current: z.number().nullable(),
  samples: z.number().int(),
  reference: z.number().nullable(),
  referenceSamples: z.number().int(),
  byReason: z.record(z.string(), z.number()).optional(),
});

export const driftResponseSchema = z.strictObject({
  useCase: z.string(),
  stage: z.string(),
  stageVersion: z.number().int(),
  window: z.union([z.number().int(), z.string()]),
  minWindow: z.number().int(),
  reference: z.strictObject({
    id: z.number().int(),
    takenAt: z.string(),
    takenBy: z.string(),
    reason: z.string(),
    trippedAt: z.string().nullable(),
    window: windowSchema,
  }),
  current: windowSchema,
  fields: z.array(
    z.strictObject({
      field: z.string(),
      kind: z.enum(['segment', 'numeric', 'built-in']),
      type: z.enum(['categorical', 'numeric']),
      referenceTotal: z.number(),
      currentTotal: z.number(),
      psi: z.number().nullable(),
      jsDistance: z.number().nullable(),
      unseenShare: z.number().nullable(),
      ks: z.number().nullable(),
      wasserstein: z.number().nullable(),
      normalisedWasserstein: z.number().nullable(),
      values: z.array(valueSchema),
      /** True when the stage's driftAbove guard names the field. */
      watched: z.boolean(),
      /** The PSI above which the field is drifted: the guard's, else a major shift (0.25). */
      threshold: z.number(),
      verdict: z.enum(['stable', 'drifted', 'insufficient']),
    }),
  ),
  overrideRate: rateSchema,
  escalationRate: rateSchema,
  guards: z.array(
    z.strictObject({
      stage: z.string(),
      guard: z.enum(['driftAbove', 'overrideRateAbove', 'escalationRateAbove']),
      threshold: z.number(),
      status: z.enum(['stable', 'drifted', 'insufficient']),
      actual: z.number().nullable(),
      drifted: z.array(z.string()).optional(),
    }),
  ),
});

const windowOf = (w: Omit<DriftWindow, 'cells'>) => ({
  stageVersion: w.stageVersion,
  from: hourStart(w.fromHour),
  to: hourEnd(w.toHour),
  decisions: w.decisions,
});

function driftBody(useCase: UseCase, r: DriftReading): z.infer<typeof driftResponseSchema> {
  const judge = fieldJudge(useCase.plan, r);
  return {
    useCase: useCase.id,
    stage: r.stage,
    stageVersion: r.stageVersion,
    window: r.window,
    minWindow: r.minWindow,
    reference: {
      id: r.reference.id,
      takenAt: r.reference.takenAt.toISOString(),
      takenBy: r.reference.takenBy,
      reason: r.reference.reason,
      trippedAt: r.reference.trippedAt?.toISOString() ?? null,
      window: windowOf(r.reference.window),
    },
    current: windowOf(r.current),
    ...r.view,
    fields: r.view.fields.map((f) => ({ ...f, ...judge(f) })),
  };
}

/**
 * Drift (README "Drift"): the current window against the stage visit's reference, and a release
 * key's re-baseline.
 */
export const driftRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/use-cases/:id/drift',
    permission: 'read',
    budget: 'api',
    summary:
      'per field the reference and current distributions with PSI, JS distance, KS and Wasserstein, the override and escalation rates, and what each drift guard would do',
    description:
      "`{stage, window, reference, current, fields: [{field, psi, jsDistance, ks, wasserstein, values, watched, threshold, verdict}], overrideRate, escalationRate, guards: [{guard, threshold, status, actual}]}`; the stage visit's reference is taken at its first drift reading if it has none",
    response: driftResponseSchema,
    responses: { 200: 'the drift of the current window', ...USE_CASE },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        requireScope(principalOf(req), id);
        const useCase = await services.useCases.get(id);
        if (!useCase) throw notFound(`unknown use case ${id}`);
        res.json(driftBody(useCase, await services.drift.read(useCase, services.clock())));
      },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/drift/baseline',
    permission: 'release',
    budget: 'api',
    summary: 're-baseline drift: the current window becomes the reference (audited)',
    description:
      '`{reason}`: the current window of the stage visit becomes the reference the drift guards compare against, and a guard that tripped may trip again; recorded as `drift.baseline`. Answers as `GET …/drift` does',
    body: [{ name: 'DriftBaseline', schema: baselineSchema }],
    response: driftResponseSchema,
    responses: { 200: 'the drift against the new reference', ...USE_CASE, ...BODY },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        const principal = principalOf(req);
        requireScope(principal, id);
        const { reason } = parseOrThrow(baselineSchema, req.body ?? {}, 'baseline');
        const useCase = await services.useCases.get(id);
        if (!useCase) throw notFound(`unknown use case ${id}`);
        const now = services.clock();
        await services.drift.rebaseline(useCase, actorName(principal), reason, now);
        res.json(driftBody(useCase, await services.drift.read(useCase, now)));
      },
  },
];
