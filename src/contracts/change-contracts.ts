import { MODES } from '@shadowgate/sdk/wire';
import { z } from 'zod';
import { useCaseIdSchema } from './decision-contracts.js';
import { refuseControls } from './safe-text.js';

/**
 * The wire of change control (README "Change control"): the pending change as the API shows it,
 * the routes' queries and bodies. The controller answers with these shapes; the route × role test
 * checks every answer against them.
 */

export const CHANGE_KINDS = ['plan', 'promote', 'rollback', 'enable', 'challenger-promote'] as const;

/** `applying` lasts while the approval that completed a change applies it. */
export const CHANGE_STATES = [
  'pending',
  'applying',
  'applied',
  'rejected',
  'stale',
  'expired',
  'failed',
] as const;

/** pending_changes.id is a bigserial: a positive integer JavaScript holds exactly. */
export const changeIdSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'a change id: a positive whole number')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n), 'a change id: at most 9007199254740991');

/** Typed by a release manager, shown in reports, terminals and the dashboard. */
export const decisionReasonSchema = z
  .string()
  .trim()
  .min(3, 'a reason of at least 3 characters')
  .max(2000)
  .superRefine(refuseControls('text'));

export const changeDecisionSchema = z.strictObject({ reason: decisionReasonSchema });

export const MAX_CHANGES_LISTED = 200;

export const changeQuerySchema = z.strictObject({
  useCase: useCaseIdSchema.optional(),
  state: z.enum(CHANGE_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_CHANGES_LISTED).default(50),
});

const isoTime = z.string().describe('ISO 8601');

/** Why a change is held: a widening of the AI's authority, or the plan's `changeControl`. */
export const changeRuleSchema = z.union([
  z.object({ rule: z.literal('change-control'), approvals: z.number().int() }),
  z.object({ path: z.string(), rule: z.string(), before: z.unknown(), after: z.unknown() }),
]);

export const changeViewSchema = z.strictObject({
  id: z.number().int().positive(),
  useCase: z.string(),
  kind: z.enum(CHANGE_KINDS),
  state: z
    .enum(CHANGE_STATES)
    .describe('pending past its expiry reads `expired`; pending on a base no longer current reads `stale`'),
  requestedBy: z.string().describe('`key:<name>`, `bootstrap-admin` or `cli:serve`'),
  createdAt: isoTime,
  expiresAt: isoTime,
  basePlanVersion: z.number().int().nullable().describe('null: the use case did not exist yet'),
  baseStageVersion: z.number().int().nullable(),
  approvalsRequired: z.number().int().min(1),
  approvals: z.array(z.strictObject({ by: z.string(), at: isoTime, reason: z.string() })),
  rules: z.array(changeRuleSchema),
  plan: z.strictObject({ textHash: z.string(), format: z.enum(['yaml', 'json']) }).nullable(),
  stage: z
    .strictObject({ reason: z.string(), force: z.boolean().optional(), to: z.enum(MODES).optional() })
    .nullable(),
  decidedAt: isoTime.nullable(),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable(),
  result: z
    .unknown()
    .describe('applied: the plan version or transition; stale or failed: `{error, message, details}`'),
});

export const heldChangeSchema = z.strictObject({ pending: z.literal(true), change: changeViewSchema });

export const changeDetailSchema = changeViewSchema.extend({
  current: z.boolean().describe('the plan and stage versions it was requested on are still in force'),
  inForce: z
    .strictObject({ planVersion: z.number().int(), stage: z.string(), stageVersion: z.number().int() })
    .nullable(),
  text: z.string().nullable(),
  diff: z.string().nullable().describe('unified diff of the plan version in force and the held text'),
  aiConfigChanges: z.array(z.string()).nullable(),
  evidence: z
    .enum(['restart', 'challenger', 're-judge'])
    .nullable()
    .describe(
      'restart: a new AI configuration in shadow; challenger: judged beside the champion; re-judge: the evidence is kept and judged again',
    ),
});
