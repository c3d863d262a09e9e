import { conflict, forbidden, notFound, ShadowgateError } from '../contracts/errors.js';
import { actorName, inScope, type Principal } from '../keys/roles.js';
import { computeCohortMetrics } from '../metrics/cohort-metrics.js';
import { cohortMetricsOptions } from '../metrics/stage-summary.js';
import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { PlanCache } from '../plans/plan-cache.js';

import type { ActiveChallenger, ApplyPlanResult, UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { aiConfigChanges } from '../plans/ai-config-key.js';
import {
  type DifferenceBounds,
  type PairedDifferenceState,
  pairedDifferenceBounds,
} from '../statistics/paired-difference.js';
import { type ChallengerAssessment, assessChallenger } from './challenger-assessment.js';
import type { ChallengerStore } from './challenger-store.js';
import {
  type ApprovedChange,
  type HeldChange,
  engineActor,
  type HoldBack,
  requiredApprovals,
  staleStageChange,
} from './change-types.js';
import type { ChallengerView } from './challenger-view.js';
import type { Notifier } from './notifier.js';

export interface ChallengerJudgement {
  challenger: ActiveChallenger;
  /** What differs from the champion's AI configuration (`ai.model`, `comparator`, …). */
  changes: string[];
  champion: { planVersion: number; aiConfig: string };
  cohort: CohortMetrics | null;
  paired: DifferenceBounds | null;
  margin: number;
  approval: 'manual' | 'automatic';
  assessment: ChallengerAssessment;
}

export interface ChallengerDeps {
  useCases: UseCaseStore;
  store: ChallengerStore;
  plans: PlanCache;
  notifier: Notifier;
  clock: () => Date;
  /** After a swap or a discard: consumers follow the configuration that serves now. */
  onChanged: (useCase: UseCase) => Promise<void>;
  /** Told of every verdict judged here (the tick, a swap, a read): the Prometheus gauge. */
  onJudged?: (useCase: string, challenger: number, verdict: ChallengerAssessment['verdict']) => void;
  /** Told of every swap made here (the Prometheus counter). */
  onSwapped?: (useCase: string) => void;
  /**
   * After every swap, the tick's or a release key's, with the use case as it serves now: the new
   * configuration's drift reference is taken here (README "Drift"). Its failure fails no swap.
   */
  afterSwap?: (useCase: UseCase, actor: string, now: Date) => Promise<void>;
  /** Holds back a manual swap of a use case whose plan asks for approvals (`changeControl`). */
  holdBack?: HoldBack;
}

const SYSTEM_ACTOR = 'system';

/**
 * Champion and challenger (README): judges the active challenger of a use case on its own cohort
 * against the humans and, paired per request, against the champion; swaps it in (automatically at
 * the tick, or by a release key) or discards it.
 */
export class ChallengerService {
  constructor(private readonly deps: ChallengerDeps) {}

  /**
   * The verdict on the use case's active challenger now; null without one. `fold` (the tick, a
   * swap) first scores late answers and folds new pairs; a read (GET) judges what the last fold
   * left, so reading never writes.
   */
  async judge(useCase: UseCase, now: Date, { fold = true } = {}): Promise<ChallengerJudgement | null> {
    const active = useCase.challenger;
    if (!active) return null;
    const { store, plans } = this.deps;
    const plan = useCase.plan;
    const alpha = 1 - plan.confidence;
    let state: PairedDifferenceState | null;
    if (fold) {
      await store.scoreLate(active.id, plan);
      state = await store.foldPairs(active.id, alpha);
    } else {
      state = (await store.active(useCase.id))?.paired ?? null;
    }
    const aggregate = await store.cohort(active, plan.segments, plan.decision.type === 'label');
    const cohort =
      aggregate &&
      computeCohortMetrics(aggregate, {
        ...cohortMetricsOptions(plan, 'human-reviewed'),
        confidence: plan.confidence,
      });
    const paired = state ? pairedDifferenceBounds(state) : null;
    const { margin, approval } = plan.challenger;
    const championPlan = await plans.get(useCase.id, useCase.serving.planVersion);
    const assessment = assessChallenger({
      plan,
      stage: useCase.stage === 'disabled' ? (useCase.stageBeforeDisable ?? 'shadow') : useCase.stage,
      cohort,
      paired,
      margin,
      startedAt: active.startedAt,
      now,
    });
    this.deps.onJudged?.(useCase.id, active.id, assessment.verdict);
    return {
      challenger: active,
      changes: championPlan ? aiConfigChanges(championPlan, plan) : [],
      champion: useCase.serving,
      cohort,
      paired,
      margin,
      approval,
      assessment,
    };
  }

  /**
   * The tick's part: swaps an eligible challenger in under automatic approval, else tells its
   * release managers once. Returns what it did.
   */
  async tick(useCase: UseCase, now: Date): Promise<'swapped' | 'eligible' | 'none'> {
    if (useCase.stage === 'disabled') return 'none';
    const judgement = await this.judge(useCase, now);
    if (judgement?.assessment.verdict !== 'eligible') return 'none';
    if (judgement.approval === 'automatic') {
      // Named after the plan version that allowed it, its author and its approvers, as promotions are.
      const swapped = await this.swap(useCase, judgement, {
        actor: engineActor(useCase),
        reason: 'every criterion of the challenger holds (automatic approval)',
        forced: false,
        now,
      });
      return swapped ? 'swapped' : 'none';
    }
    if (await this.deps.store.markEligibleNotified(judgement.challenger.id, now)) {
      this.deps.notifier.notify(useCase.plan.notify?.webhook, {
        type: 'challenger.eligible',
        useCase: useCase.id,
        at: now.toISOString(),
        challenger: judgement.challenger.id,
        criteria: judgement.assessment.criteria,
      });
    }
    return 'eligible';
  }

  /**
   * `POST …/challenger/promote`: 409 with the criteria that do not hold, unless forced. Under the
   * plan's `changeControl` it is then held back as a pending change; the approval that completes
   * it calls this again with `approved` (the requester's swap, on the base it was requested on).
   */
  async promote(
    id: string,
    body: { reason: string; force?: boolean },
    principal: Principal,
    approved?: ApprovedChange,
  ): Promise<ChallengerView | HeldChange> {
    const useCase = await this.load(id, principal);
    if (
      approved &&
      (useCase.planVersion !== approved.basePlanVersion || useCase.stageVersion !== approved.baseStageVersion)
    ) {
      throw staleStageChange('challenger promotion', useCase, approved);
    }
    const now = this.deps.clock();
    const judgement = await this.judge(useCase, now);
    if (!judgement) throw conflict(`use case ${id} has no challenger`);
    const { assessment } = judgement;
    if (assessment.verdict !== 'eligible' && !body.force) {
      throw new ShadowgateError(
        409,
        'challenger_not_eligible',
        `the challenger is ${assessment.verdict}; promote it with force and a reason to override`,
        assessment.criteria
          .filter((c) => !c.holds)
          .map((c) => ({
            path: c.name,
            problem: `${c.status}: required ${c.required}, actual ${c.actual ?? 'none yet'}${c.detail ? ` (${c.detail})` : ''}`,
          })),
      );
    }
    if (!approved && this.deps.holdBack && requiredApprovals(useCase.plan) > 0) {
      return this.deps.holdBack({ kind: 'challenger-promote', useCase, payload: body, principal });
    }
    const swapped = await this.swap(useCase, judgement, {
      actor: approved?.actor ?? actorName(principal),
      reason: body.reason,
      forced: assessment.verdict !== 'eligible',
      now,
      ...(approved ? { approvedBy: approved.approvedBy } : {}),
    });
    if (!swapped) throw conflict(`the challenger of ${id} changed meanwhile; look again`);
    return this.view(id, now);
  }

  /**
   * `POST …/challenger/discard`: the champion's plan version is applied again as a new plan version
   * (a change back to the champion's configuration discards the challenger), with the actor recorded.
   */
  async discard(id: string, body: { reason: string }, principal: Principal) {
    const useCase = await this.load(id, principal);
    if (!useCase.challenger) throw conflict(`use case ${id} has no challenger`);
    const champion = await this.deps.useCases.planVersion(id, useCase.serving.planVersion);
    if (!champion)
      throw new Error(`the champion's plan version ${useCase.serving.planVersion} of ${id} is missing`);
    const actor = actorName(principal);
    const result = await this.deps.useCases.applyPlan({
      id,
      plan: champion.plan,
      text: champion.text,
      textHash: champion.textHash,
      format: champion.format as 'yaml' | 'json',
      aiConfig: champion.aiConfig,
      actor,
      reason: body.reason,
    });
    await this.deps.onChanged(result.useCase);
    const now = this.deps.clock();
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'challenger.discarded',
      useCase: id,
      at: now.toISOString(),
      challenger: useCase.challenger.id,
      actor,
      reason: body.reason,
      planVersion: result.useCase.planVersion,
    });
    return this.view(id, now);
  }

  /** Tells the plan's webhook what a new plan version did to the challenger (started, discarded). */
  planApplied(result: ApplyPlanResult): void {
    const event = result.challengerEvent;
    if (!event) return;
    this.deps.notifier.notify(result.useCase.plan.notify?.webhook, {
      type: event.action,
      useCase: result.useCase.id,
      at: this.deps.clock().toISOString(),
      ...event.details,
    });
  }

  /** `GET …/challenger`: the champion, the active challenger with its verdict, and the history. */
  async show(id: string, principal: Principal) {
    await this.load(id, principal);
    return this.view(id, this.deps.clock());
  }

  /** The use case's champion and challenger as GET /v1/use-cases/:id shows them. */
  async view(id: string, now: Date): Promise<ChallengerView> {
    const useCase = await this.deps.useCases.get(id);
    if (!useCase) throw notFound(`unknown use case ${id}`);
    const judgement = await this.judge(useCase, now, { fold: false });
    const history = await this.deps.store.history(id, 20);
    return {
      champion: useCase.serving,
      challenger: judgement && {
        id: judgement.challenger.id,
        planVersion: judgement.challenger.planVersion,
        aiConfig: judgement.challenger.aiConfig,
        changes: judgement.changes,
        startedAt: judgement.challenger.startedAt.toISOString(),
        startedBy: judgement.challenger.startedBy,
        approval: judgement.approval,
        margin: judgement.margin,
        sampleRate: useCase.plan.challenger.sampleRate,
        verdict: judgement.assessment.verdict,
        criteria: judgement.assessment.criteria,
        paired: judgement.paired,
        cohort: judgement.cohort,
        owedCalls: await this.deps.store.owedCount(judgement.challenger.id),
      },
      history: history
        .filter((h) => h.state !== 'active')
        .map((h) => ({
          id: h.id,
          planVersion: h.planVersion,
          aiConfig: h.aiConfig,
          championPlanVersion: h.championPlanVersion,
          state: h.state,
          startedAt: h.startedAt.toISOString(),
          endedAt: h.endedAt?.toISOString() ?? null,
          endedBy: h.endedBy,
          endReason: h.endReason,
        })),
    };
  }

  /** A stage without authority (shadow) has nothing to defend: its challenger ends and the new configuration serves. */
  async afterStageChange(useCase: UseCase): Promise<void> {
    if (!useCase.challenger || useCase.stage !== 'shadow') return;
    const now = this.deps.clock();
    await this.deps.store.end({
      id: useCase.challenger.id,
      useCase: useCase.id,
      state: 'ended',
      actor: SYSTEM_ACTOR,
      reason: 'the use case returned to shadow: the new configuration serves and gathers its evidence there',
      audit: { action: 'challenger.ended', details: { challenger: useCase.challenger.id, stage: 'shadow' } },
      at: now,
    });
    const fresh = await this.deps.useCases.get(useCase.id);
    if (fresh) await this.deps.onChanged(fresh);
  }

  private async swap(
    useCase: UseCase,
    judgement: ChallengerJudgement,
    how: { actor: string; reason: string; forced: boolean; now: Date; approvedBy?: string[] },
  ): Promise<boolean> {
    const { challenger } = judgement;
    const evidence = {
      challenger: challenger.id,
      planVersion: challenger.planVersion,
      aiConfig: challenger.aiConfig,
      champion: judgement.champion,
      stage: useCase.stage,
      forced: how.forced,
      reason: how.reason,
      ...(how.approvedBy ? { approvedBy: how.approvedBy } : {}),
      verdict: judgement.assessment.verdict,
      criteria: judgement.assessment.criteria,
      paired: judgement.paired,
      cohort: judgement.cohort,
    };
    const swapped = await this.deps.store.end({
      id: challenger.id,
      useCase: useCase.id,
      state: 'promoted',
      actor: how.actor,
      reason: how.reason,
      audit: { action: 'challenger.promoted', details: evidence },
      earnedModelVersion: judgement.cohort?.modelVersion ?? null,
      at: how.now,
    });
    if (!swapped) return false;
    this.deps.onSwapped?.(useCase.id);
    const fresh = await this.deps.useCases.get(useCase.id);
    if (fresh) {
      await this.deps.onChanged(fresh);
      await this.deps.afterSwap?.(fresh, how.actor, how.now);
    }
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'challenger.promoted',
      useCase: useCase.id,
      at: how.now.toISOString(),
      challenger: challenger.id,
      actor: how.actor,
      reason: how.reason,
      forced: how.forced,
      criteria: judgement.assessment.criteria,
    });
    return true;
  }

  private async load(id: string, principal: Principal): Promise<UseCase> {
    if (!inScope(principal, id)) throw forbidden(`this key is not scoped to use case ${id}`);
    const useCase = await this.deps.useCases.get(id);
    if (!useCase) throw notFound(`unknown use case ${id}`);
    return useCase;
  }
}
