import { z } from 'zod';
import { heldChangeSchema } from '../../contracts/change-contracts.js';
import { refuseControls } from '../../contracts/safe-text.js';
import { MODES } from '../../plans/plan-schema.js';
import { principalOf } from '../auth.js';
import { BODY, type RouteSpec, USE_CASE } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

/** Typed by a person, shown in reports, terminals and the dashboard: printable text on one or more lines. */
const reason = z
  .string()
  .trim()
  .min(3, 'a reason of at least 3 characters')
  .max(2000)
  .superRefine(refuseControls('text'));
export const promoteSchema = z.strictObject({ reason, force: z.boolean().optional() });
export const rollbackSchema = z.strictObject({ reason, to: z.enum(MODES).optional() });
export const killSwitchSchema = z.strictObject({ reason });

type Action = 'promote' | 'rollback' | 'disable' | 'enable';

/** A stage change as `…/transitions` lists it and a release action answers it. */
const transitionSchema = z.object({
  id: z.number().int(),
  useCase: z.string(),
  fromStage: z.string().nullable(),
  toStage: z.string(),
  stageVersion: z.number().int(),
  actor: z.string(),
  reason: z.string(),
  forced: z.boolean(),
  planVersion: z.number().int(),
  modelVersion: z.string().nullable(),
  snapshot: z.unknown(),
  at: z.string(),
  approvedBy: z.array(z.string()).nullable().describe('who approved it under change control'),
});

const HELD =
  '`{pending: true, change}`: held for approval, the plan asks for it (`changeControl`, README "Change control")';

/**
 * A release manager's action: it answers with the transition it recorded, or (all but `disable`,
 * under the plan's `changeControl`) 202 with the change held for approval.
 */
function action(
  name: Action,
  body: { name: string; schema: z.ZodType },
  what: string,
  text: { summary: string; description: string; conflict: string },
): RouteSpec {
  const held: Record<number, string> = name === 'disable' ? {} : { 202: HELD };
  return {
    method: 'post',
    path: `/v1/use-cases/:id/${name}`,
    permission: 'release',
    budget: 'api',
    summary: text.summary,
    description: text.description,
    body: [body],
    response: name === 'disable' ? transitionSchema : z.union([transitionSchema, heldChangeSchema]),
    responses: { 200: 'the transition recorded', ...held, ...USE_CASE, ...BODY, 409: text.conflict },
    handler:
      ({ services }) =>
      async (req, res) => {
        // Each action's schema is the one its service method takes.
        const input = parseOrThrow(body.schema, req.body ?? {}, what) as never;
        const answer = await services.release[name](useCaseIdParam(req.params.id), input, principalOf(req));
        res.status('pending' in answer ? 202 : 200).json(answer);
      },
  };
}

export const challengerPromoteSchema = z.strictObject({ reason, force: z.boolean().optional() });
export const challengerDiscardSchema = z.strictObject({ reason });

/** Champion and challenger (README): the verdict, the swap and the discard. */
const challengerRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/use-cases/:id/challenger',
    permission: 'read',
    budget: 'api',
    summary: 'the champion, the active challenger with its verdict, and earlier challengers',
    description:
      '`{champion: {planVersion, aiConfig}, challenger: {id, planVersion, aiConfig, changes, startedAt, verdict, criteria, paired, cohort, owedCalls, …} | null, history}`',
    responses: { 200: 'the champion and challenger', ...USE_CASE },
    handler:
      ({ services }) =>
      async (req, res) => {
        res.json(await services.challengers.show(useCaseIdParam(req.params.id), principalOf(req)));
      },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/challenger/promote',
    permission: 'release',
    budget: 'api',
    summary: 'swap the challenger in as champion',
    description:
      '`{reason, force?}`; 409 with error `challenger_not_eligible` listing the criteria that do not hold, unless `force` (recorded as forced); 202 `{pending: true, change}` under `changeControl`',
    body: [{ name: 'ChallengerPromote', schema: challengerPromoteSchema }],
    responses: {
      200: 'the champion and challenger after the swap',
      202: HELD,
      ...USE_CASE,
      ...BODY,
      409: 'no challenger, or its criteria do not hold (listed) and it was not forced',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const body = parseOrThrow(challengerPromoteSchema, req.body ?? {}, 'challenger promotion');
        const answer = await services.challengers.promote(
          useCaseIdParam(req.params.id),
          body,
          principalOf(req),
        );
        res.status('pending' in answer ? 202 : 200).json(answer);
      },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/challenger/discard',
    permission: 'release',
    budget: 'api',
    summary: "discard the challenger: the champion's plan version is applied again",
    description: "`{reason}`: the champion's plan version becomes a new plan version, the actor recorded",
    body: [{ name: 'ChallengerDiscard', schema: challengerDiscardSchema }],
    responses: { 200: 'the champion, without a challenger', ...USE_CASE, ...BODY, 409: 'no challenger' },
    handler:
      ({ services }) =>
      async (req, res) => {
        const body = parseOrThrow(challengerDiscardSchema, req.body ?? {}, 'challenger discard');
        res.json(await services.challengers.discard(useCaseIdParam(req.params.id), body, principalOf(req)));
      },
  },
];

export const releaseRoutes: RouteSpec[] = [
  action('promote', { name: 'Promote', schema: promoteSchema }, 'promotion', {
    summary: 'promote to the next stage',
    description:
      '`{reason, force?}`; 409 with error `gate_not_eligible` listing the criteria that do not hold, unless `force`; 202 `{pending: true, change}` under `changeControl`',
    conflict:
      'the gate does not hold (the criteria are listed) unless forced, or the stage changed meanwhile',
  }),
  action('rollback', { name: 'Rollback', schema: rollbackSchema }, 'rollback', {
    summary: 'roll back to an earlier stage',
    description: '`{reason, to?}`; 202 `{pending: true, change}` under `changeControl`',
    conflict: 'nothing to roll back to',
  }),
  action('disable', { name: 'KillSwitch', schema: killSwitchSchema }, 'disable', {
    summary: 'the kill switch: no AI calls while disabled',
    description: '`{reason}`: the kill switch (no AI calls while disabled); never held back',
    conflict: 'already disabled',
  }),
  action('enable', { name: 'KillSwitch', schema: killSwitchSchema }, 'enable', {
    summary: 'back to the stage before disable',
    description:
      '`{reason}`: back to the stage before disable; 202 `{pending: true, change}` under `changeControl`',
    conflict: 'not disabled',
  }),
  {
    method: 'get',
    path: '/v1/use-cases/:id/transitions',
    permission: 'read',
    budget: 'api',
    summary: 'every stage change with actor, reason, forced and its evidence snapshot',
    description:
      'every stage change with actor, reason, forced, plan and model version and its evidence snapshot',
    responses: { 200: 'the transitions', ...USE_CASE },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        res.json({ useCase: id, transitions: await services.release.transitions(id, principalOf(req)) });
      },
  },
  ...challengerRoutes,
];
