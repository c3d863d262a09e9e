import { z } from 'zod';
import {
  changeDecisionSchema,
  changeDetailSchema,
  changeIdSchema,
  changeQuerySchema,
  changeViewSchema,
} from '../../contracts/change-contracts.js';
import { badRequest } from '../../contracts/errors.js';
import { principalOf } from '../auth.js';
import { AUTH, BODY, type RouteSpec } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';

function changeIdParam(value: unknown): number {
  const parsed = changeIdSchema.safeParse(value);
  if (!parsed.success) {
    throw badRequest('invalid change id in the URL', [
      { path: 'changeId', problem: parsed.error.issues[0]!.message },
    ]);
  }
  return parsed.data;
}

const CHANGE = { ...AUTH, 400: 'invalid change id', 404: 'unknown change' };

/** What an approval or a rejection cannot do, each with its error code. */
const DECISION_REFUSALS = {
  403: 'the key lacks the role or the scope; `self_approval`: the key that requested the change cannot approve it',
  409: '`already_approved` (this key approved it), `change_not_pending` (applied, rejected, stale, expired or failed), `change_expired`, `stale_change` (its plan or stage version is no longer current: resubmit), or what applying it met (`gate_not_eligible`, …; the change is then `failed`)',
};

const approvalAnswerSchema = z.strictObject({
  change: changeViewSchema,
  applied: z
    .unknown()
    .describe(
      "null until the approvals are complete; then what applying it did: a plan change's `PUT …/plan` answer, a stage change's transition, a challenger swap's champion and challenger",
    ),
});

/**
 * Change control (README "Change control"): the changes held back for approval, and the release
 * keys' approvals and rejections. Applying a change is the approval that completes it.
 */
export const changeRoutes: RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/changes',
    permission: 'read',
    budget: 'api',
    summary: 'changes held back for approval, newest first',
    description:
      '`{changes: [{id, useCase, kind, state, requestedBy, approvalsRequired, approvals, rules, expiresAt, …}]}`, newest first, at most `limit` (≤ 200, default 50); a scoped key sees its use cases only',
    query: changeQuerySchema,
    response: z.strictObject({ changes: z.array(changeViewSchema) }),
    responses: { 200: 'the changes', ...AUTH, 400: 'invalid query' },
    handler:
      ({ services }) =>
      async (req, res) => {
        const query = parseOrThrow(changeQuerySchema, req.query, 'changes query');
        res.json({ changes: await services.changes.list(principalOf(req), query) });
      },
  },
  {
    method: 'get',
    path: '/v1/changes/:changeId',
    permission: 'read',
    budget: 'api',
    summary: 'one change: the diff against the plan in force, its effect on the evidence, why it is held',
    description:
      '`{change: {…, current, inForce, text, diff, aiConfigChanges, evidence}}`: a plan change shows its text, the diff against the version in force and what it does to the evidence (`restart`, `challenger`, `re-judge`)',
    response: z.strictObject({ change: changeDetailSchema }),
    responses: { 200: 'the change', ...CHANGE },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = changeIdParam(req.params.changeId);
        res.json({ change: await services.changes.show(id, principalOf(req)) });
      },
  },
  {
    method: 'post',
    path: '/v1/changes/:changeId/approve',
    permission: 'release',
    budget: 'api',
    summary: 'approve a change; the approval that completes it applies it',
    description:
      '`{reason}` → `{change, applied}`; never by the key that requested it, never twice by one key; the approval that completes the count applies the change once',
    body: [{ name: 'ChangeDecision', schema: changeDecisionSchema }],
    response: approvalAnswerSchema,
    responses: {
      200: 'the approval recorded (and the change applied when complete)',
      ...CHANGE,
      ...BODY,
      ...DECISION_REFUSALS,
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = changeIdParam(req.params.changeId);
        const body = parseOrThrow(changeDecisionSchema, req.body ?? {}, 'approval');
        res.json(await services.changes.approve(id, body.reason, principalOf(req)));
      },
  },
  {
    method: 'post',
    path: '/v1/changes/:changeId/reject',
    permission: 'release',
    budget: 'api',
    summary: 'reject a pending change',
    description: '`{reason}` → `{change}`: the change is `rejected` and never applied',
    body: [{ name: 'ChangeDecision', schema: changeDecisionSchema }],
    response: z.strictObject({ change: changeViewSchema }),
    responses: {
      200: 'the change, rejected',
      ...CHANGE,
      ...BODY,
      409: '`change_not_pending` or `change_expired`',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = changeIdParam(req.params.changeId);
        const body = parseOrThrow(changeDecisionSchema, req.body ?? {}, 'rejection');
        res.json(await services.changes.reject(id, body.reason, principalOf(req)));
      },
  },
  {
    method: 'post',
    path: '/v1/changes/:changeId/withdraw',
    permission: 'apply-plan',
    budget: 'api',
    summary: 'withdraw a pending plan change the calling key requested',
    description:
      '`{reason}` → `{change}`: the change is `rejected` by its requester and never applied; only the key that requested it may (an owner clears its own mistakes; a release key rejects)',
    body: [{ name: 'ChangeDecision', schema: changeDecisionSchema }],
    response: z.strictObject({ change: changeViewSchema }),
    responses: {
      200: 'the change, withdrawn (state `rejected`, decided by its requester)',
      ...CHANGE,
      ...BODY,
      403: 'the key lacks the role or the scope; `not_requester`: another key requested the change',
      409: '`change_not_pending` or `change_expired`',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = changeIdParam(req.params.changeId);
        const body = parseOrThrow(changeDecisionSchema, req.body ?? {}, 'withdrawal');
        res.json(await services.changes.withdraw(id, body.reason, principalOf(req)));
      },
  },
];
