import { CHANGE_KINDS, CHANGE_STATES } from '../contracts/change-contracts.js';
import { ShadowgateError } from '../contracts/errors.js';
import type { Principal } from '../keys/roles.js';
import type { WideningChange } from '../plans/plan-change-control.js';
import type { Mode, Plan } from '../plans/plan-schema.js';
import type { UseCase } from '../plans/use-case-store.js';

/**
 * Change control (README "Change control"): the values of a change held back for approval, and
 * the plain rules about them. No I/O here.
 */

export { CHANGE_KINDS, CHANGE_STATES };
export type ChangeKind = (typeof CHANGE_KINDS)[number];
export type StageChangeKind = Exclude<ChangeKind, 'plan'>;
export type ChangeState = (typeof CHANGE_STATES)[number];

export interface PlanPayload {
  text: string;
  format: 'yaml' | 'json';
  textHash: string;
}

export interface StagePayload {
  reason: string;
  force?: boolean;
  to?: Mode;
}

/** One approval; `key` tells approvers apart (a key id, or `bootstrap:<name>`) and is never shown. */
export interface Approval {
  by: string;
  key: string;
  at: string;
  reason: string;
}

/** Why a change is held: a widening of the AI's authority, or the plan's `changeControl`. */
export type ChangeRule = WideningChange | { rule: 'change-control'; approvals: number };

export interface PendingChange {
  id: number;
  useCase: string;
  kind: ChangeKind;
  payload: PlanPayload | StagePayload;
  basePlanVersion: number | null;
  baseStageVersion: number | null;
  requestedBy: string;
  requestedKey: string;
  rules: ChangeRule[];
  approvalsRequired: number;
  approvals: Approval[];
  state: ChangeState;
  createdAt: Date;
  expiresAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionReason: string | null;
  result: unknown;
}

/** A change as the API shows it (`GET /v1/changes`, the 202 of a held change). */
export interface ChangeView {
  id: number;
  useCase: string;
  kind: ChangeKind;
  state: ChangeState;
  requestedBy: string;
  createdAt: string;
  expiresAt: string;
  basePlanVersion: number | null;
  baseStageVersion: number | null;
  approvalsRequired: number;
  approvals: Array<{ by: string; at: string; reason: string }>;
  rules: ChangeRule[];
  /** A plan change: the new text's hash and format (the text is in `GET /v1/changes/:id`). */
  plan: { textHash: string; format: 'yaml' | 'json' } | null;
  /** A stage change: what was asked. */
  stage: StagePayload | null;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  result: unknown;
}

/** What a route held back answers (202). */
export interface HeldChange {
  pending: true;
  change: ChangeView;
}

/** What the approval that completes a stage change passes to the release action it applies. */
export interface ApprovedChange {
  /** The requester: the action is theirs. */
  actor: string;
  approvedBy: string[];
  basePlanVersion: number;
  baseStageVersion: number;
}

/** A stage change to hold back, as the release and challenger services ask for it. */
export interface HoldRequest {
  kind: StageChangeKind;
  useCase: UseCase;
  payload: StagePayload;
  principal: Principal;
}

export type HoldBack = (request: HoldRequest) => Promise<HeldChange>;

/** How approvals are told apart: a stored key by its id, the bootstrap admin key by its name. */
export function identityOf(principal: Principal): string {
  return principal.keyId ?? `bootstrap:${principal.name}`;
}

/** The further approvals every change of a use case needs under this plan (`changeControl`). */
export function requiredApprovals(plan: Plan): number {
  return plan.changeControl?.approvals ?? 0;
}

/**
 * The state a reader sees: a pending change past its expiry is `expired`, one whose base (the
 * plan and stage versions it was requested on) is no longer current is `stale`, before either
 * is written.
 */
export function effectiveState(
  change: Pick<PendingChange, 'state' | 'expiresAt' | 'basePlanVersion' | 'baseStageVersion'>,
  useCase: Pick<UseCase, 'planVersion' | 'stageVersion'> | null,
  now: Date,
): ChangeState {
  if (change.state !== 'pending') return change.state;
  if (change.expiresAt.getTime() <= now.getTime()) return 'expired';
  return baseIsCurrent(change, useCase) ? 'pending' : 'stale';
}

export function baseIsCurrent(
  change: Pick<PendingChange, 'basePlanVersion' | 'baseStageVersion'>,
  useCase: Pick<UseCase, 'planVersion' | 'stageVersion'> | null,
): boolean {
  return (
    (useCase?.planVersion ?? null) === change.basePlanVersion &&
    (useCase?.stageVersion ?? null) === change.baseStageVersion
  );
}

export function changeView(change: PendingChange, state: ChangeState = change.state): ChangeView {
  const isPlan = change.kind === 'plan';
  const payload = change.payload;
  return {
    id: change.id,
    useCase: change.useCase,
    kind: change.kind,
    state,
    requestedBy: change.requestedBy,
    createdAt: change.createdAt.toISOString(),
    expiresAt: change.expiresAt.toISOString(),
    basePlanVersion: change.basePlanVersion,
    baseStageVersion: change.baseStageVersion,
    approvalsRequired: change.approvalsRequired,
    approvals: change.approvals.map(({ by, at, reason }) => ({ by, at, reason })),
    rules: change.rules,
    plan: isPlan
      ? { textHash: (payload as PlanPayload).textHash, format: (payload as PlanPayload).format }
      : null,
    stage: isPlan ? null : (payload as StagePayload),
    decidedAt: change.decidedAt?.toISOString() ?? null,
    decidedBy: change.decidedBy,
    decisionReason: change.decisionReason,
    result: change.result ?? null,
  };
}

/** 409 `stale_change`: the stage or plan moved since the change was requested. */
export function staleStageChange(
  change: string,
  useCase: UseCase,
  approved: ApprovedChange,
): ShadowgateError {
  return new ShadowgateError(
    409,
    'stale_change',
    `the ${change} of ${useCase.id} was requested on plan version ${approved.basePlanVersion} and stage version ${approved.baseStageVersion}; it is now at plan version ${useCase.planVersion} and stage version ${useCase.stageVersion}: resubmit it`,
  );
}

/** The actor of a move the engine makes: the plan version that allowed it, its author and approvers. */
export function engineActor(
  useCase: Pick<UseCase, 'planVersion' | 'planAppliedBy' | 'planApprovedBy'>,
): string {
  const approved = useCase.planApprovedBy?.length ? `, approved by ${useCase.planApprovedBy.join(', ')}` : '';
  return `system (plan v${useCase.planVersion} by ${useCase.planAppliedBy}${approved})`;
}
