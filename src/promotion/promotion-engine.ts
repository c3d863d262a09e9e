import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { type GateEvaluator, judge } from './gate-evaluator.js';
import type { GuardWindowStore } from './guard-window-store.js';
import { evaluateGuard, type GuardVerdict, type GuardWindow } from './guards.js';
import type { Notifier } from './notifier.js';
import type { ReleaseService } from './release-service.js';
import type { TransitionStore } from './transition-store.js';

export interface EngineDeps {
  useCases: UseCaseStore;
  transitions: TransitionStore;
  gates: GateEvaluator;
  guards: GuardWindowStore;
  release: ReleaseService;
  notifier: Notifier;
  logger: Logger;
  tickMs: number;
  /** Told of every guard trip recorded: a rollbackWhen window, or the daily budget once a day (metrics). */
  onGuardTripped?: (useCase: string, guard: 'rollbackWhen' | 'maxDailyCost') => void;
}

export interface TickReport {
  /** False when another process had already taken this tick. */
  ran: boolean;
  promoted: string[];
  rolledBack: string[];
  disabled: string[];
  eligible: string[];
  guardTrips: string[];
  overBudget: string[];
  errors: string[];
}

const SYSTEM_ACTOR = 'system';

interface TickFacts {
  cohorts: Map<string, CohortMetrics | null>;
  windows: Map<string, GuardWindow>;
  spends: Map<string, number>;
  eligibleNotices: Map<string, { details: unknown }>;
}

/**
 * The periodic evaluation of every use case: guards first (a tripped guard moves
 * the use case down), then gates (an eligible use case with automatic approval
 * moves up; with manual approval its release managers are told once).
 * `tick(now)` is the whole engine; timers live in the process entry point.
 */
export class PromotionEngine {
  private readonly owner = randomBytes(6).toString('hex');

  constructor(private readonly deps: EngineDeps) {}

  async tick(now: Date): Promise<TickReport> {
    const report: TickReport = {
      ran: false,
      promoted: [],
      rolledBack: [],
      disabled: [],
      eligible: [],
      guardTrips: [],
      overBudget: [],
      errors: [],
    };
    const slot = Math.floor(now.getTime() / this.deps.tickMs);
    if (!(await this.deps.transitions.claimTick(slot, this.owner))) return report;
    report.ran = true;
    const useCases = (await this.deps.useCases.list()).filter((u) => u.stage !== 'disabled');
    const facts = await this.readFacts(useCases, now);
    for (const useCase of useCases) {
      try {
        await this.evaluate(useCase, now, report, facts);
      } catch (error) {
        // A stage changed under us (409) or a write failed: the next tick looks again.
        report.errors.push(useCase.id);
        this.deps.logger.warn({ err: error, useCase: useCase.id }, 'evaluation failed; retried next tick');
      }
    }
    return report;
  }

  /**
   * What every use case is judged on, read for all of them at once (a few queries per tick, not a
   * few per use case): gate cohorts, guard windows, the day's spend, the last eligibility notice.
   */
  private async readFacts(useCases: readonly UseCase[], now: Date): Promise<TickFacts> {
    const guarded = useCases.flatMap((u) => {
      const rollbackWhen = u.stage === 'disabled' ? undefined : u.plan.stages[u.stage]?.rollbackWhen;
      return rollbackWhen ? [{ useCase: u.id, stageVersion: u.stageVersion, size: rollbackWhen.window }] : [];
    });
    const budgeted = useCases.filter((u) => u.plan.ai.maxDailyCost !== undefined).map((u) => u.id);
    const [cohorts, windows, spends, eligibleNotices] = await Promise.all([
      this.deps.gates.cohorts(useCases),
      this.deps.guards.windows(guarded),
      this.deps.guards.spendsToday(budgeted, now),
      this.deps.transitions.lastEvents(
        useCases.map((u) => u.id),
        'gate.eligible',
      ),
    ]);
    return { cohorts, windows, spends, eligibleNotices };
  }

  private async evaluate(useCase: UseCase, now: Date, report: TickReport, facts: TickFacts): Promise<void> {
    await this.checkBudget(useCase, now, report, facts.spends.get(useCase.id) ?? 0);

    const window = facts.windows.get(useCase.id);
    if (window) {
      const verdict = evaluateGuard(useCase.plan, useCase.stage, window);
      if (verdict?.trips) {
        report.guardTrips.push(useCase.id);
        if (await this.tripGuard(useCase, verdict, now, report)) return;
      }
    }

    const cohort = facts.cohorts.get(useCase.id) ?? null;
    const evidence = { cohort, gate: judge(useCase, cohort, now) };
    const { gate } = evidence;
    if (gate.verdict !== 'eligible' || !gate.targetStage) return;
    if (gate.approval === 'automatic') {
      await this.deps.release.move({
        useCase,
        to: gate.targetStage,
        actor: SYSTEM_ACTOR,
        reason: `every criterion of the gate to ${gate.targetStage} holds (automatic approval)`,
        forced: false,
        kind: 'promote',
        evidence,
      });
      report.promoted.push(useCase.id);
      return;
    }
    report.eligible.push(useCase.id);
    const last = facts.eligibleNotices.get(useCase.id);
    if ((last?.details as { stageVersion?: number } | null)?.stageVersion === useCase.stageVersion) return;
    await this.deps.transitions.recordEvent({
      actor: SYSTEM_ACTOR,
      action: 'gate.eligible',
      useCase: useCase.id,
      details: { stageVersion: useCase.stageVersion, targetStage: gate.targetStage, gate },
      at: now,
    });
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'gate.eligible',
      useCase: useCase.id,
      at: now.toISOString(),
      from: useCase.stage,
      to: gate.targetStage,
      criteria: gate.criteria,
    });
  }

  /** Runs a tripped guard's action; true when the use case changed stage. */
  private async tripGuard(useCase: UseCase, verdict: GuardVerdict, now: Date, report: TickReport) {
    const tripped = verdict.checks.filter((c) => c.trips);
    const reason = `guard tripped in ${useCase.stage}: ${tripped
      .map((c) => `${c.name} ${c.threshold} (actual ${c.actual?.toFixed(3)} over the last ${c.samples})`)
      .join('; ')}`;
    await this.deps.transitions.recordEvent({
      actor: SYSTEM_ACTOR,
      action: 'guard.tripped',
      useCase: useCase.id,
      details: { stageVersion: useCase.stageVersion, verdict },
      at: now,
    });
    this.deps.onGuardTripped?.(useCase.id, 'rollbackWhen');
    // Queued, not awaited: the move below never waits for the webhook, which still gets the trip
    // before the stage change (a webhook's events are delivered in order).
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'guard.tripped',
      useCase: useCase.id,
      at: now.toISOString(),
      stage: useCase.stage,
      action: verdict.action,
      checks: verdict.checks,
    });
    const to =
      verdict.action === 'disable' ? 'disabled' : verdict.action === 'rollback' ? verdict.rollbackTo : null;
    if (!to) return false;
    const evidence = await this.deps.gates.evaluate(useCase, now);
    await this.deps.release.move({
      useCase,
      to,
      actor: SYSTEM_ACTOR,
      reason,
      forced: false,
      kind: verdict.action === 'disable' ? 'disable' : 'guard',
      evidence,
      extra: { guard: verdict },
    });
    (to === 'disabled' ? report.disabled : report.rolledBack).push(useCase.id);
    return true;
  }

  /** The daily budget guard: the worker stops calling (see BudgetGuard); here it is recorded and told once a day. */
  private async checkBudget(useCase: UseCase, now: Date, report: TickReport, spent: number): Promise<void> {
    const limit = useCase.plan.ai.maxDailyCost;
    if (limit === undefined || spent < limit) return;
    report.overBudget.push(useCase.id);
    const day = now.toISOString().slice(0, 10);
    const last = await this.deps.transitions.lastEvent(useCase.id, 'guard.budget');
    if ((last?.details as { day?: string } | null)?.day === day) return;
    await this.deps.transitions.recordEvent({
      actor: SYSTEM_ACTOR,
      action: 'guard.budget',
      useCase: useCase.id,
      details: { day, spent, maxDailyCost: limit },
      at: now,
    });
    this.deps.onGuardTripped?.(useCase.id, 'maxDailyCost');
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'budget.exhausted',
      useCase: useCase.id,
      at: now.toISOString(),
      spent,
      maxDailyCost: limit,
    });
  }
}
