import { z } from 'zod';
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

/** A release manager's action: it answers with the transition it recorded. */
function action(
  name: Action,
  body: { name: string; schema: z.ZodType },
  what: string,
  text: { summary: string; description: string; conflict: string },
): RouteSpec {
  return {
    method: 'post',
    path: `/v1/use-cases/:id/${name}`,
    permission: 'release',
    budget: 'api',
    summary: text.summary,
    description: text.description,
    body: [body],
    responses: { 200: 'the transition recorded', ...USE_CASE, ...BODY, 409: text.conflict },
    handler:
      ({ services }) =>
      async (req, res) => {
        // Each action's schema is the one its service method takes.
        const input = parseOrThrow(body.schema, req.body ?? {}, what) as never;
        res.json(await services.release[name](useCaseIdParam(req.params.id), input, principalOf(req)));
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
      '`{reason, force?}`; 409 with error `challenger_not_eligible` listing the criteria that do not hold, unless `force` (recorded as forced)',
    body: [{ name: 'ChallengerPromote', schema: challengerPromoteSchema }],
    responses: {
      200: 'the champion and challenger after the swap',
      ...USE_CASE,
      ...BODY,
      409: 'no challenger, or its criteria do not hold (listed) and it was not forced',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const body = parseOrThrow(challengerPromoteSchema, req.body ?? {}, 'challenger promotion');
        res.json(await services.challengers.promote(useCaseIdParam(req.params.id), body, principalOf(req)));
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
      '`{reason, force?}`; 409 with error `gate_not_eligible` listing the criteria that do not hold, unless `force`',
    conflict:
      'the gate does not hold (the criteria are listed) unless forced, or the stage changed meanwhile',
  }),
  action('rollback', { name: 'Rollback', schema: rollbackSchema }, 'rollback', {
    summary: 'roll back to an earlier stage',
    description: '`{reason, to?}`',
    conflict: 'nothing to roll back to',
  }),
  action('disable', { name: 'KillSwitch', schema: killSwitchSchema }, 'disable', {
    summary: 'the kill switch: no AI calls while disabled',
    description: '`{reason}`: the kill switch (no AI calls while disabled)',
    conflict: 'already disabled',
  }),
  action('enable', { name: 'KillSwitch', schema: killSwitchSchema }, 'enable', {
    summary: 'back to the stage before disable',
    description: '`{reason}`: back to the stage before disable',
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
