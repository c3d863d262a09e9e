import { badRequest, forbidden, notFound, ShadowgateError } from '../contracts/errors.js';
import { type Egress, planEgressProblems } from '../egress/egress.js';
import { actorName, inScope, type Principal } from '../keys/roles.js';
import type { UseCaseReader } from '../metrics/use-case-reader.js';
import { aiConfigChanges, aiConfigKey } from '../plans/ai-config-key.js';
import { automaticGateProblems, wideningChanges } from '../plans/plan-change-control.js';
import { parsePlanText } from '../plans/plan-loader.js';
import type { Plan } from '../plans/plan-schema.js';
import { unifiedDiff } from '../plans/plan-text-diff.js';
import {
  type ApplyPlanInput,
  holdsAuthority,
  type UseCase,
  type UseCaseStore,
} from '../plans/use-case-store.js';
import type { ChallengerService } from './challenger-service.js';
import type { ChangeStore } from './change-store.js';
import {
  type ApprovedChange,
  baseIsCurrent,
  type ChangeKind,
  type ChangeRule,
  type ChangeState,
  type ChangeView,
  changeView,
  effectiveState,
  type HeldChange,
  type HoldRequest,
  identityOf,
  type PendingChange,
  type PlanPayload,
  requiredApprovals,
  type StagePayload,
} from './change-types.js';
import { judge } from './gate-evaluator.js';
import type { Notifier } from './notifier.js';
import type { ReleaseService } from './release-service.js';

export interface ChangeDeps {
  store: ChangeStore;
  useCases: UseCaseStore;
  release: ReleaseService;
  challengers: ChallengerService;
  reader: UseCaseReader;
  notifier: Notifier;
  egress: Egress;
  clock: () => Date;
  /** SHADOWGATE_CHANGE_TTL, ms. */
  ttlMs: number;
  /** SHADOWGATE_AUTOMATIC_MIN_SAMPLES. */
  automaticMinSamples: number;
  /** After a plan is applied: consumers and flags follow it. */
  onPlanApplied(useCase: UseCase): Promise<void>;
}

/** Who asks for a change: the actor the record names, and the identity approvals are told apart by. */
export interface Requester {
  actor: string;
  key: string;
}

export function requesterOf(principal: Principal): Requester {
  return { actor: actorName(principal), key: identityOf(principal) };
}

export interface PlanRequest {
  id: string;
  plan: Plan;
  text: string;
  textHash: string;
  format: 'yaml' | 'json';
  requester: Requester;
}

/** `PUT …/plan`'s answer when the plan is applied (200, or 201 for a new use case). */
export interface PlanApplied {
  useCase: string;
  planVersion: number;
  created: boolean;
  unchanged: boolean;
  stage: string;
  aiConfig: string;
  challenger: unknown;
  majorityBaseline: unknown;
  warnings: unknown[];
}

export type PlanSubmission = { status: 200 | 201; body: PlanApplied } | { status: 202; body: HeldChange };

/** `GET /v1/changes/:id`: the change, and what applying it would do. */
export interface ChangeDetail extends ChangeView {
  /** Whether the plan and stage versions it was requested on are still the ones in force. */
  current: boolean;
  inForce: { planVersion: number; stage: string; stageVersion: number } | null;
  /** A plan change: its text, the diff against the version in force, and its effect on the evidence. */
  text: string | null;
  diff: string | null;
  aiConfigChanges: string[] | null;
  /**
   * A plan change to an existing use case: `restart` (a new AI configuration in shadow: the gate
   * counts from nothing), `challenger` (a new AI configuration where the use case holds authority:
   * judged beside the champion), `re-judge` (the same configuration: the evidence is kept and
   * judged under the new thresholds).
   */
  evidence: 'restart' | 'challenger' | 're-judge' | null;
}

/** The approval's answer: the change after it, and what applying it did when this approval completed it. */
export interface ApprovalOutcome {
  change: ChangeView;
  applied: unknown;
}

const MAX_TEXT_DIFF_CHARS = 200_000;

/**
 * Change control (README "Change control"): which plan and stage changes are held back for a
 * release key's approval, and applying a change once its approvals are complete. The one path a
 * plan takes to be applied (`applyPlan`) is here, shared by `PUT …/plan`, `serve --plans` and the
 * approval of a held plan.
 */
export class ChangeService {
  constructor(private readonly deps: ChangeDeps) {}

  /**
   * A plan sent by an owner: refused (400) when an automatic gate lacks its evidence floor; held
   * when it widens the AI's authority (one approval) or the version in force asks for approvals
   * (`changeControl`, so lowering it needs the old count); else applied at once.
   */
  async submitPlan(request: PlanRequest): Promise<PlanSubmission> {
    this.refuseFloorless(request.plan);
    const current = await this.deps.useCases.get(request.id);
    if (current?.planHash !== request.textHash) {
      const widening = wideningChanges(current ? await this.planInForce(current) : null, request.plan);
      const extra = current ? requiredApprovals(current.plan) : 0;
      const required = Math.max(widening.length > 0 ? 1 : 0, extra);
      if (required > 0) {
        const rules: ChangeRule[] = [...widening];
        if (extra > 0) rules.push({ rule: 'change-control', approvals: extra });
        const held = await this.hold({
          useCase: request.id,
          kind: 'plan',
          payload: { text: request.text, format: request.format, textHash: request.textHash },
          basePlanVersion: current?.planVersion ?? null,
          baseStageVersion: current?.stageVersion ?? null,
          requester: request.requester,
          rules,
          required,
          webhook: (current?.plan ?? request.plan).notify?.webhook,
        });
        return { status: 202, body: held };
      }
    }
    const body = await this.applyPlan({
      id: request.id,
      plan: request.plan,
      text: request.text,
      textHash: request.textHash,
      format: request.format,
      aiConfig: aiConfigKey(request.plan),
      actor: request.requester.actor,
    });
    return { status: body.created ? 201 : 200, body };
  }

  /**
   * The plan in force as this controller reads its text: with today's defaults, as the plan it is
   * compared with has them (a version applied by an earlier release was stored without the fields
   * added since). The stored plan when the text no longer parses.
   */
  private async planInForce(useCase: UseCase): Promise<Plan> {
    const version = await this.deps.useCases.planVersion(useCase.id, useCase.planVersion);
    if (!version) return useCase.plan;
    const parsed = parsePlanText(version.text, version.format === 'json' ? 'json' : 'yaml');
    return parsed.ok ? parsed.plan : useCase.plan;
  }

  /** The one way a plan is applied: stored, consumers and flags told, the challenger's webhook told. */
  async applyPlan(input: ApplyPlanInput): Promise<PlanApplied> {
    const { useCases, reader, challengers, clock } = this.deps;
    const result = await useCases.applyPlan(input);
    await this.deps.onPlanApplied(result.useCase);
    challengers.planApplied(result);
    // Judged on the evidence already there: e.g. a bar a constant answer clears on this traffic.
    const cohort = result.created ? null : await reader.gateCohort(result.useCase);
    const { warnings, majorityBaseline } = judge(result.useCase, cohort, clock());
    return {
      useCase: input.id,
      planVersion: result.useCase.planVersion,
      created: result.created,
      unchanged: result.unchanged,
      stage: result.useCase.stage,
      aiConfig: result.useCase.aiConfig,
      // A new AI configuration of a use case holding authority is judged as a challenger first.
      challenger: result.challengerEvent,
      majorityBaseline,
      warnings,
    };
  }

  /** Holds back a manual stage change (the release and challenger services' `holdBack`). */
  holdStageChange = async (request: HoldRequest): Promise<HeldChange> => {
    const { useCase } = request;
    const required = requiredApprovals(useCase.plan);
    return this.hold({
      useCase: useCase.id,
      kind: request.kind,
      payload: request.payload,
      basePlanVersion: useCase.planVersion,
      baseStageVersion: useCase.stageVersion,
      requester: requesterOf(request.principal),
      rules: [{ rule: 'change-control', approvals: required }],
      required,
      webhook: useCase.plan.notify?.webhook,
    });
  };

  async list(
    principal: Principal,
    query: { useCase?: string | undefined; state?: ChangeState | undefined; limit: number },
  ): Promise<ChangeView[]> {
    if (query.useCase && !inScope(principal, query.useCase)) {
      throw forbidden(`this key is not scoped to use case ${query.useCase}`);
    }
    const rows = await this.deps.store.list({
      scope: principal.useCases,
      limit: query.limit,
      now: this.deps.clock(),
      ...(query.useCase ? { useCase: query.useCase } : {}),
      ...(query.state ? { state: query.state } : {}),
    });
    return rows.map(({ change, state }) => changeView(change, state));
  }

  async show(id: number, principal: Principal): Promise<ChangeDetail> {
    const change = await this.load(id, principal);
    const useCase = await this.deps.useCases.get(change.useCase);
    const detail: ChangeDetail = {
      ...changeView(change, effectiveState(change, useCase, this.deps.clock())),
      current: baseIsCurrent(change, useCase),
      inForce: useCase
        ? { planVersion: useCase.planVersion, stage: useCase.stage, stageVersion: useCase.stageVersion }
        : null,
      text: null,
      diff: null,
      aiConfigChanges: null,
      evidence: null,
    };
    if (change.kind !== 'plan') return detail;
    const payload = change.payload as PlanPayload;
    const inForce = useCase ? await this.deps.useCases.planVersion(useCase.id, useCase.planVersion) : null;
    const parsed = parsePlanText(payload.text, payload.format);
    const diff = unifiedDiff(
      inForce?.text ?? '',
      payload.text,
      inForce
        ? `${change.useCase} plan version ${inForce.version} (applied by ${inForce.appliedBy})`
        : '/dev/null',
      `change ${change.id} (requested by ${change.requestedBy})`,
    );
    return {
      ...detail,
      text: payload.text,
      // A diff is at most the two texts, each within the body limit; a huge one is cut, never dropped.
      diff: diff.length > MAX_TEXT_DIFF_CHARS ? `${diff.slice(0, MAX_TEXT_DIFF_CHARS)}\n…` : diff,
      aiConfigChanges: parsed.ok && useCase ? aiConfigChanges(useCase.plan, parsed.plan) : null,
      evidence: parsed.ok && useCase ? evidenceEffect(useCase, aiConfigKey(parsed.plan)) : null,
    };
  }

  /**
   * Records a release key's approval. Refused: by the requester (403 `self_approval`), a second
   * time by the same key (409 `already_approved`), on a change no longer pending (409
   * `change_not_pending`), expired (409 `change_expired`) or whose base moved (409
   * `stale_change`, the change becomes `stale`). The approval that completes the count applies
   * the change, exactly once across controllers: it claims the change first.
   */
  async approve(id: number, reason: string, principal: Principal): Promise<ApprovalOutcome> {
    const now = this.deps.clock();
    const change = await this.load(id, principal);
    const useCase = await this.deps.useCases.get(change.useCase);
    const key = identityOf(principal);
    await this.refuseUndecidable(change, now, 'approved');
    if (change.requestedKey === key) {
      throw new ShadowgateError(
        403,
        'self_approval',
        `change ${id} was requested by this key (${change.requestedBy}): another key must approve it`,
      );
    }
    if (change.approvals.some((a) => a.key === key)) throw alreadyApproved(id);
    if (!baseIsCurrent(change, useCase)) await this.markStale(change, useCase, now);

    const by = actorName(principal);
    const approved = await this.deps.store.approve(id, { by, key, at: now.toISOString(), reason }, now, {
      useCase: change.useCase,
      details: {},
    });
    if (!approved) {
      // Another request decided it or added this key's approval meanwhile.
      const again = (await this.deps.store.get(id)) ?? change;
      if (again.approvals.some((a) => a.key === key)) throw alreadyApproved(id);
      await this.refuseUndecidable(again, now, 'approved');
      throw notPending(again);
    }
    const complete = approved.approvals.length >= approved.approvalsRequired;
    this.notify(approved, useCase, {
      type: 'change.approved',
      actor: by,
      reason,
      approvals: approved.approvals.length,
      approvalsRequired: approved.approvalsRequired,
      complete,
    });
    if (!complete) return { change: changeView(approved), applied: null };
    const claimed = await this.deps.store.claim(id);
    if (!claimed) return { change: changeView((await this.deps.store.get(id)) ?? approved), applied: null };
    return this.applyClaimed(claimed, { by, reason, now, principal });
  }

  /** A release key turns a pending change down (a release key may also turn down its own). */
  reject(id: number, reason: string, principal: Principal): Promise<{ change: ChangeView }> {
    return this.turnDown(id, reason, principal, false);
  }

  /**
   * The key that requested a change takes it back (an owner's mistaken plan): it is `rejected`,
   * decided by its requester. Any other key: 403 `not_requester`.
   */
  withdraw(id: number, reason: string, principal: Principal): Promise<{ change: ChangeView }> {
    return this.turnDown(id, reason, principal, true);
  }

  private async turnDown(
    id: number,
    reason: string,
    principal: Principal,
    withdrawn: boolean,
  ): Promise<{ change: ChangeView }> {
    const now = this.deps.clock();
    const change = await this.load(id, principal);
    if (withdrawn && change.requestedKey !== identityOf(principal)) {
      throw new ShadowgateError(
        403,
        'not_requester',
        `change ${id} was requested by ${change.requestedBy}: only that key may withdraw it (a release key may reject it)`,
      );
    }
    const useCase = await this.deps.useCases.get(change.useCase);
    await this.refuseUndecidable(change, now, withdrawn ? 'withdrawn' : 'rejected');
    const by = actorName(principal);
    const action = withdrawn ? 'change.withdrawn' : 'change.rejected';
    const rejected = await this.deps.store.decide(id, 'pending', {
      state: 'rejected',
      at: now,
      by,
      reason,
      audit: { actor: by, action, details: { reason } },
    });
    if (!rejected) throw notPending((await this.deps.store.get(id)) ?? change);
    this.notify(rejected, useCase, {
      type: 'change.rejected',
      actor: by,
      reason,
      ...(withdrawn ? { withdrawn: true } : {}),
    });
    return { change: changeView(rejected) };
  }

  private async applyClaimed(
    change: PendingChange,
    approval: { by: string; reason: string; now: Date; principal: Principal },
  ): Promise<ApprovalOutcome> {
    const approvedBy = change.approvals.map((a) => a.by);
    let applied: unknown;
    let result: Record<string, unknown>;
    try {
      ({ applied, result } = await this.apply(change, approvedBy, approval.principal));
    } catch (error) {
      if (error instanceof ShadowgateError && error.status < 500) {
        await this.deps.store.decide(change.id, 'applying', {
          state: error.code === 'stale_change' ? 'stale' : 'failed',
          at: approval.now,
          by: null,
          result: { error: error.code, message: error.message, details: error.details },
        });
      } else {
        // The database or a dependency failed: the change waits for the approval to be retried.
        await this.deps.store.unclaim(change.id).catch(() => {});
      }
      throw error;
    }
    const done = await this.deps.store.decide(change.id, 'applying', {
      state: 'applied',
      at: approval.now,
      by: approval.by,
      reason: approval.reason,
      result,
    });
    return { change: changeView(done ?? { ...change, state: 'applied' }), applied };
  }

  /**
   * Applies a fully approved change as its requester's, on its base, with its approvers recorded
   * (`approver`: whose scope the release and challenger actions check).
   */
  private async apply(
    change: PendingChange,
    approvedBy: string[],
    approver: Principal,
  ): Promise<{ applied: unknown; result: Record<string, unknown> }> {
    if (change.kind === 'plan') {
      const payload = change.payload as PlanPayload;
      const plan = this.recheckPlan(change.useCase, payload);
      const applied = await this.applyPlan({
        id: change.useCase,
        plan,
        text: payload.text,
        textHash: payload.textHash,
        format: payload.format,
        aiConfig: aiConfigKey(plan),
        actor: change.requestedBy,
        approvedBy,
        expectedPlanVersion: change.basePlanVersion,
        expectedStageVersion: change.baseStageVersion,
      });
      return { applied, result: { planVersion: applied.planVersion, created: applied.created } };
    }
    const approved: ApprovedChange = {
      actor: change.requestedBy,
      approvedBy,
      basePlanVersion: change.basePlanVersion ?? -1,
      baseStageVersion: change.baseStageVersion ?? -1,
    };
    const applied = await this.stageAction(change, approved, approver);
    if (change.kind === 'challenger-promote') {
      return { applied, result: { challenger: 'promoted' } };
    }
    const transition = applied as {
      id: number;
      stageVersion: number;
      fromStage: string | null;
      toStage: string;
    };
    return {
      applied,
      result: {
        transition: transition.id,
        stageVersion: transition.stageVersion,
        from: transition.fromStage,
        to: transition.toStage,
      },
    };
  }

  /** The release or challenger action a stage change asked for, now approved. */
  private stageAction(
    change: PendingChange,
    approved: ApprovedChange,
    approver: Principal,
  ): Promise<unknown> {
    const { release, challengers } = this.deps;
    const stage = change.payload as StagePayload;
    const id = change.useCase;
    const { reason } = stage;
    switch (change.kind) {
      case 'promote':
        return release.promote(id, { reason, ...forceOf(stage) }, approver, approved);
      case 'rollback':
        return release.rollback(id, { reason, ...(stage.to ? { to: stage.to } : {}) }, approver, approved);
      case 'enable':
        return release.enable(id, { reason }, approver, approved);
      default:
        return challengers.promote(id, { reason, ...forceOf(stage) }, approver, approved);
    }
  }

  /** The held text under this controller's rules now: valid, within egress, with its evidence floor. */
  private recheckPlan(useCase: string, payload: PlanPayload): Plan {
    const parsed = parsePlanText(payload.text, payload.format);
    if (!parsed.ok) {
      throw new ShadowgateError(
        409,
        'plan_invalid',
        `the plan of this change is no longer valid: resubmit it for ${useCase}`,
        parsed.problems.map((p) => ({ path: p.path, problem: p.problem })),
      );
    }
    const refused = planEgressProblems(parsed.plan, this.deps.egress);
    if (refused.length > 0) {
      throw new ShadowgateError(
        409,
        'plan_invalid',
        'the plan of this change names a destination or secret this controller does not allow',
        refused,
      );
    }
    this.refuseFloorless(parsed.plan);
    return parsed.plan;
  }

  /** 400: an automatic gate needs its evidence floor, whoever approves the plan. */
  private refuseFloorless(plan: Plan): void {
    const problems = automaticGateProblems(plan, this.deps.automaticMinSamples);
    if (problems.length > 0) {
      throw badRequest(
        `an automatic approval needs an evidence floor: minSamples of at least ${this.deps.automaticMinSamples} (SHADOWGATE_AUTOMATIC_MIN_SAMPLES) and an agreement criterion`,
        problems,
      );
    }
  }

  private async hold(input: {
    useCase: string;
    kind: ChangeKind;
    payload: PlanPayload | StagePayload;
    basePlanVersion: number | null;
    baseStageVersion: number | null;
    requester: Requester;
    rules: ChangeRule[];
    required: number;
    webhook: string | undefined;
  }): Promise<HeldChange> {
    const now = this.deps.clock();
    const { change, created } = await this.deps.store.hold({
      useCase: input.useCase,
      kind: input.kind,
      payload: input.payload,
      basePlanVersion: input.basePlanVersion,
      baseStageVersion: input.baseStageVersion,
      requestedBy: input.requester.actor,
      requestedKey: input.requester.key,
      rules: input.rules,
      approvalsRequired: input.required,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.deps.ttlMs),
    });
    if (created) {
      this.deps.notifier.notify(input.webhook, {
        type: 'change.pending',
        useCase: change.useCase,
        at: now.toISOString(),
        change: change.id,
        kind: change.kind,
        requestedBy: change.requestedBy,
        approvalsRequired: change.approvalsRequired,
        rules: change.rules,
        expiresAt: change.expiresAt.toISOString(),
      });
    }
    return { pending: true, change: changeView(change) };
  }

  private async load(id: number, principal: Principal): Promise<PendingChange> {
    const change = await this.deps.store.get(id);
    if (!change) throw notFound(`unknown change ${id}`);
    if (!inScope(principal, change.useCase)) {
      throw forbidden(`this key is not scoped to use case ${change.useCase}`);
    }
    return change;
  }

  /** 409 for a change that is not pending any more, or expired (then marked so). */
  private async refuseUndecidable(
    change: PendingChange,
    now: Date,
    what: 'approved' | 'rejected' | 'withdrawn',
  ): Promise<void> {
    if (change.state !== 'pending') throw notPending(change);
    if (change.expiresAt.getTime() <= now.getTime()) {
      await this.deps.store.decide(change.id, 'pending', { state: 'expired', at: now, by: null });
      throw new ShadowgateError(
        409,
        'change_expired',
        `change ${change.id} expired at ${change.expiresAt.toISOString()} and can no longer be ${what}: resubmit it`,
      );
    }
  }

  private async markStale(change: PendingChange, useCase: UseCase | null, now: Date): Promise<never> {
    const at = useCase
      ? `plan version ${useCase.planVersion} and stage version ${useCase.stageVersion}`
      : 'no use case';
    const was =
      change.basePlanVersion === null
        ? 'before the use case existed'
        : `on plan version ${change.basePlanVersion} and stage version ${change.baseStageVersion}`;
    const message = `change ${change.id} was requested ${was}; ${change.useCase} is now at ${at}: resubmit it`;
    await this.deps.store.decide(change.id, 'pending', {
      state: 'stale',
      at: now,
      by: null,
      result: { error: 'stale_change', message },
    });
    throw new ShadowgateError(409, 'stale_change', message);
  }

  private notify(
    change: PendingChange,
    useCase: UseCase | null,
    event: Record<string, unknown> & { type: 'change.approved' | 'change.rejected' },
  ) {
    const webhook = useCase?.plan.notify?.webhook ?? planWebhook(change);
    this.deps.notifier.notify(webhook, {
      ...event,
      useCase: change.useCase,
      at: this.deps.clock().toISOString(),
      change: change.id,
      kind: change.kind,
      requestedBy: change.requestedBy,
    });
  }
}

function forceOf(stage: StagePayload): { force?: boolean } {
  return stage.force === undefined ? {} : { force: stage.force };
}

function alreadyApproved(id: number): ShadowgateError {
  return new ShadowgateError(409, 'already_approved', `this key has already approved change ${id}`);
}

function notPending(change: PendingChange): ShadowgateError {
  return new ShadowgateError(
    409,
    'change_not_pending',
    `change ${change.id} is ${change.state}, no longer pending${change.state === 'stale' || change.state === 'expired' ? ': resubmit it' : ''}`,
  );
}

/** A first plan held before its use case exists tells the webhook its own plan names. */
function planWebhook(change: PendingChange): string | undefined {
  if (change.kind !== 'plan') return undefined;
  const parsed = parsePlanText((change.payload as PlanPayload).text, (change.payload as PlanPayload).format);
  return parsed.ok ? parsed.plan.notify?.webhook : undefined;
}

/** What a new plan version would do to the evidence gathered so far. */
function evidenceEffect(useCase: UseCase, aiConfig: string): 'restart' | 'challenger' | 're-judge' {
  if (aiConfig === useCase.aiConfig) return 're-judge';
  return holdsAuthority(useCase.stage, useCase.stageBeforeDisable) ? 'challenger' : 'restart';
}
