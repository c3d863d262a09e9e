import { badRequest, conflict, notFound, ShadowgateError } from '../contracts/errors.js';
import { actorName, inScope, type Principal } from '../keys/roles.js';
import { forbidden } from '../contracts/errors.js';
import { type Mode, STAGES } from '../plans/plan-schema.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import {
  type ApprovedChange,
  type HeldChange,
  type HoldBack,
  requiredApprovals,
  type StageChangeKind,
  type StagePayload,
  staleStageChange,
} from './change-types.js';
import type { Evidence, GateEvaluator } from './gate-evaluator.js';
import { rollbackTarget } from './guards.js';
import type { Notifier } from './notifier.js';
import type { TransitionRecord, TransitionStore } from './transition-store.js';

export interface ReleaseDeps {
  useCases: UseCaseStore;
  transitions: TransitionStore;
  gates: GateEvaluator;
  notifier: Notifier;
  /** After every stage change: shadow consumers and flags follow the new stage. */
  onStageChanged: (useCase: UseCase) => Promise<void>;
  clock: () => Date;
  /** Told of every stage change recorded (metrics). */
  onTransition?: (useCase: string, kind: MoveRequest['kind']) => void;
  /**
   * Holds back a manual stage change of a use case whose plan asks for approvals
   * (`changeControl`); without it nothing is held back.
   */
  holdBack?: HoldBack;
}

export interface MoveRequest {
  useCase: UseCase;
  to: Mode;
  actor: string;
  reason: string;
  forced: boolean;
  kind: 'promote' | 'rollback' | 'guard' | 'disable' | 'enable' | 'model-change';
  evidence: Evidence | null;
  extra?: Record<string, unknown>;
  /** The keys that approved it (a change held back for approval). */
  approvedBy?: string[];
}

/**
 * Stage changes made by release managers (promote, rollback, kill switch) and by
 * the engine; each is recorded with actor, reason and the evidence of the moment.
 *
 * Under the plan's `changeControl` a manual promote, rollback or enable is held back as a pending
 * change after its checks pass (README "Change control"); the approval that completes it calls
 * the same method with `approved`: the requester's action, on the base it was requested on, with
 * its approvers recorded. `disable` is never held back.
 */
export class ReleaseService {
  constructor(private readonly deps: ReleaseDeps) {}

  async promote(
    id: string,
    body: { reason: string; force?: boolean },
    principal: Principal,
    approved?: ApprovedChange,
  ): Promise<TransitionRecord | HeldChange> {
    const useCase = await this.load(id, principal, 'promotion', approved);
    if (useCase.stage === 'disabled') throw conflict(`use case ${id} is disabled: enable it first`);
    const now = this.deps.clock();
    const evidence = await this.deps.gates.evaluate(useCase, now);
    const { gate } = evidence;
    if (!gate.targetStage) throw conflict(`use case ${id} has no stage after ${useCase.stage} in its plan`);
    if (gate.verdict !== 'eligible' && !body.force) {
      throw new ShadowgateError(
        409,
        'gate_not_eligible',
        `the gate from ${useCase.stage} to ${gate.targetStage} is ${gate.verdict}; promote with force and a reason to override`,
        gate.criteria
          .filter((c) => !c.holds)
          .map((c) => ({
            path: c.name,
            problem: `${c.status}: required ${c.required}, actual ${shown(c.actual)}${c.detail ? ` (${c.detail})` : ''}`,
          })),
      );
    }
    const held = await this.holdBack('promote', useCase, body, principal, approved);
    if (held) return held;
    return this.move({
      useCase,
      to: gate.targetStage,
      actor: approved?.actor ?? actorName(principal),
      reason: body.reason,
      forced: gate.verdict !== 'eligible',
      kind: 'promote',
      evidence,
      ...(approved ? { approvedBy: approved.approvedBy } : {}),
    });
  }

  async rollback(
    id: string,
    body: { reason: string; to?: Mode },
    principal: Principal,
    approved?: ApprovedChange,
  ): Promise<TransitionRecord | HeldChange> {
    const useCase = await this.load(id, principal, 'rollback', approved);
    if (useCase.stage === 'disabled') throw conflict(`use case ${id} is disabled: enable it first`);
    const to = body.to ?? rollbackTarget(useCase.plan, useCase.stage);
    if (!to)
      throw conflict(`use case ${id} is in ${useCase.stage}: there is no earlier stage to roll back to`);
    const order = STAGES as readonly string[];
    if (to === 'disabled' || order.indexOf(to) >= order.indexOf(useCase.stage)) {
      throw badRequest(`cannot roll back from ${useCase.stage} to ${to}`, [
        { path: 'to', problem: `expected a stage before ${useCase.stage}` },
      ]);
    }
    if (to !== 'shadow' && !useCase.plan.stages[to as 'human-reviewed']) {
      throw badRequest(`the plan has no stage ${to}`, [{ path: 'to', problem: 'a stage of the plan' }]);
    }
    const held = await this.holdBack('rollback', useCase, body, principal, approved);
    if (held) return held;
    const evidence = await this.deps.gates.evaluate(useCase, this.deps.clock());
    return this.move({
      useCase,
      to,
      actor: approved?.actor ?? actorName(principal),
      reason: body.reason,
      forced: false,
      kind: 'rollback',
      evidence,
      ...(approved ? { approvedBy: approved.approvedBy } : {}),
    });
  }

  /** The kill switch: never held back, whatever the plan's changeControl says. */
  async disable(id: string, body: { reason: string }, principal: Principal): Promise<TransitionRecord> {
    const useCase = await this.load(id, principal, 'disable');
    if (useCase.stage === 'disabled') throw conflict(`use case ${id} is already disabled`);
    const evidence = await this.deps.gates.evaluate(useCase, this.deps.clock());
    return this.move({
      useCase,
      to: 'disabled',
      actor: actorName(principal),
      reason: body.reason,
      forced: false,
      kind: 'disable',
      evidence,
    });
  }

  async enable(
    id: string,
    body: { reason: string },
    principal: Principal,
    approved?: ApprovedChange,
  ): Promise<TransitionRecord | HeldChange> {
    const useCase = await this.load(id, principal, 'enable', approved);
    if (useCase.stage !== 'disabled')
      throw conflict(`use case ${id} is not disabled (it is in ${useCase.stage})`);
    const held = await this.holdBack('enable', useCase, body, principal, approved);
    if (held) return held;
    const to = useCase.stageBeforeDisable ?? 'shadow';
    return this.move({
      useCase,
      to,
      actor: approved?.actor ?? actorName(principal),
      reason: body.reason,
      forced: false,
      kind: 'enable',
      evidence: null,
      ...(approved ? { approvedBy: approved.approvedBy } : {}),
    });
  }

  /** Moves a use case; throws 409 if its stage changed since it was read. */
  async move(request: MoveRequest): Promise<TransitionRecord> {
    const { useCase } = request;
    const at = this.deps.clock();
    const record = await this.deps.transitions.transition({
      useCase: useCase.id,
      expectedStageVersion: useCase.stageVersion,
      from: useCase.stage,
      to: request.to,
      actor: request.actor,
      reason: request.reason,
      forced: request.forced,
      kind: request.kind,
      planVersion: useCase.planVersion,
      modelVersion: request.evidence?.cohort?.modelVersion ?? null,
      snapshot: {
        gate: request.evidence?.gate ?? null,
        metrics: request.evidence?.cohort ?? null,
        ...request.extra,
      },
      at,
      approvedBy: request.approvedBy ?? null,
    });
    this.deps.onTransition?.(useCase.id, request.kind);
    const moved = await this.deps.useCases.get(useCase.id);
    if (moved) await this.deps.onStageChanged(moved);
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'stage.changed',
      useCase: useCase.id,
      at: at.toISOString(),
      from: useCase.stage,
      to: request.to,
      actor: request.actor,
      reason: request.reason,
      forced: request.forced,
      ...(request.approvedBy ? { approvedBy: request.approvedBy } : {}),
    });
    return record;
  }

  async transitions(id: string, principal: Principal) {
    await this.load(id, principal, 'read');
    return this.deps.transitions.list(id);
  }

  /** The use case in the key's scope; with `approved`, only on the base the change was requested on. */
  private async load(
    id: string,
    principal: Principal,
    what: 'promotion' | 'rollback' | 'disable' | 'enable' | 'read',
    approved?: ApprovedChange,
  ): Promise<UseCase> {
    if (!inScope(principal, id)) throw forbidden(`this key is not scoped to use case ${id}`);
    const useCase = await this.deps.useCases.get(id);
    if (!useCase) throw notFound(`unknown use case ${id}`);
    if (
      approved &&
      (useCase.planVersion !== approved.basePlanVersion || useCase.stageVersion !== approved.baseStageVersion)
    ) {
      throw staleStageChange(what, useCase, approved);
    }
    return useCase;
  }

  /** Under `changeControl`, a manual stage change not yet approved becomes a pending change. */
  private async holdBack(
    kind: StageChangeKind,
    useCase: UseCase,
    payload: StagePayload,
    principal: Principal,
    approved: ApprovedChange | undefined,
  ): Promise<HeldChange | null> {
    if (approved || !this.deps.holdBack || requiredApprovals(useCase.plan) === 0) return null;
    return this.deps.holdBack({ kind, useCase, payload, principal });
  }
}

/** A criterion's actual value as people read it: four significant digits. */
function shown(actual: number | string | null): string {
  if (actual === null) return 'none yet';
  return typeof actual === 'number' ? String(Number(actual.toPrecision(4))) : actual;
}
