import { z } from 'zod';
import { MODES } from '../../plans/plan-schema.js';
import { MAX_JOURNEY_POINTS, journeyView } from '../../promotion/journey-store.js';
import { principalOf } from '../auth.js';
import { READ_TIMEOUT, type RouteSpec, USE_CASE } from '../route-spec.js';
import { useCaseIdParam } from './params.js';

const fraction = z.number().nullable();

export const journeyResponseSchema = z.strictObject({
  useCase: z.string(),
  now: z.string().describe("the controller's time: where the visit the use case is in ends for now"),
  visits: z
    .array(
      z.strictObject({
        stage: z.string(),
        stageVersion: z.number().int(),
        enteredAt: z.string(),
        leftAt: z.string().nullable().describe('null: the visit the use case is in'),
        actor: z.string(),
        reason: z.string(),
        forced: z.boolean(),
        planVersion: z.number().int(),
      }),
    )
    .describe('each stage visit, from the transition that began it to the one that ended it'),
  points: z
    .array(
      z.strictObject({
        stageVersion: z.number().int(),
        seq: z.number().int(),
        at: z.string().describe("the controller's time of the tick"),
        stage: z.enum(MODES),
        planVersion: z.number().int(),
        samples: z.number().int().describe('compared decisions of the cohort the gate counts'),
        agreement: fraction,
        lowerBound: fraction.describe("the gate's sequential agreement lower bound (else the cohort's)"),
        required: fraction.describe("the gate's agreementLowerBound threshold"),
        targetStage: z.string().nullable(),
        verdict: z.enum(['eligible', 'inconclusive', 'blocked', 'none']),
        guardSamples: z.number().int().nullable(),
        guardAgreement: fraction.describe("the guard window's agreement"),
        guardThreshold: fraction.describe("the guard's agreementBelow"),
      }),
    )
    .describe(`what each tick judged, thinned; the newest ${MAX_JOURNEY_POINTS} at most, oldest first`),
  truncated: z.boolean().describe('older points exist than the ones answered'),
});

/** The answer as the route's schema states it: the same shape as JourneyView (the route test checks every answer). */
export type JourneyResponse = z.infer<typeof journeyResponseSchema>;

/**
 * `GET /v1/use-cases/:id/journey`: the stage visits and, on the same (controller's) clock, the
 * gate's evidence as the ticks saw it: the dashboard's journey view.
 */
export const journeyRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/use-cases/:id/journey',
    permission: 'read',
    budget: 'api',
    summary: 'the stage visits, and agreement with its gate and guard thresholds as each tick saw it',
    description: `\`{visits, points, truncated}\`: each stage visit (entered, left, by whom, why) and, on the controller's clock, the cohort's agreement and sequential lower bound against the gate's threshold and the guard window's agreement against its guard, thinned as evidence grows (at most ${MAX_JOURNEY_POINTS})`,
    response: journeyResponseSchema,
    responses: { 200: 'the journey', ...USE_CASE, ...READ_TIMEOUT },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        // Scope and existence are checked with the transitions, before any point is read.
        const transitions = await services.release.transitions(id, principalOf(req));
        const points = await services.journey.read(id, MAX_JOURNEY_POINTS + 1);
        res.json(journeyView(id, transitions, points, services.clock()));
      },
  },
];
