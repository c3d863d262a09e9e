import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { Mode, PromotableStage } from '../plans/plan-schema.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { assessGate } from './gate-assessment.js';
import { type GateEvaluator, judge } from './gate-evaluator.js';
import type { GuardWindowStore } from './guard-window-store.js';
import type { DriftReading, DriftService } from '../metrics/drift-service.js';
import type { StageVisit } from '../metrics/rollup-movement.js';
import {
  evaluateDriftGuards,
  evaluateGuard,
  type GuardVerdict,
  type GuardWindow,
  hasDriftGuard,
} from './guards.js';
import type { GateAssessment } from './gate-types.js';
import { type JourneyPoint, journeyPoint, nextSeq, type PreviousPoint } from './journey-points.js';
import type { JourneyStore } from './journey-store.js';
import { checkModel } from './model-pinning.js';
import type { Notifier } from './notifier.js';
import type { ReleaseService } from './release-service.js';
import type { TransitionStore } from './transition-store.js';
import type { ChallengerService } from './challenger-service.js';
import { engineActor } from './change-types.js';

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
  /** Judges active challengers each tick (README "Champion and challenger"). */
  challengers?: ChallengerService;
  /** Reads drift for the drift, override and escalation guards (README "Drift"). */
  drift?: DriftService;
  /** Told of every drift reading the tick made (the Prometheus gauges). */
  onDriftRead?: (useCase: string, reading: DriftReading) => void;
  /** Keeps what each tick judged, thinned, for "agreement over the journey" (journey-points.ts). */
  journey?: JourneyStore;
  /**
   * The movement tokens of stage visits (rollup-movement.ts), read once a tick for both the gate
   * cohorts and the guard windows; absent, each reads its own.
   */
  movement?: (visits: readonly StageVisit[]) => Promise<Map<string, string>>;
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
  /** Use cases whose stage answered with a model version it was not earned with (recorded once). */
  modelChanges: string[];
  /** Use cases whose challenger was swapped in (automatic approval)… */
  challengersSwapped: string[];
  /** …or is eligible and waits for a release key. */
  challengersEligible: string[];
  errors: string[];
}

const SYSTEM_ACTOR = 'system';

interface TickFacts {
  cohorts: Map<string, CohortMetrics | null>;
  windows: Map<string, GuardWindow>;
  spends: Map<string, number>;
  eligibleNotices: Map<string, { details: unknown }>;
  modelNotices: Map<string, { details: unknown }>;
  lastPoints: Map<string, PreviousPoint>;
  /** The journey points this tick keeps, written at its end in one insert. */
  points: JourneyPoint[];
  /** The drift readings of the use cases with a drift, override or escalation guard. */
  drifts: Map<string, DriftReading>;
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
      modelChanges: [],
      challengersSwapped: [],
      challengersEligible: [],
      errors: [],
    };
    const slot = Math.floor(now.getTime() / this.deps.tickMs);
    if (!(await this.deps.transitions.claimTick(slot, this.owner))) return report;
    report.ran = true;
    const useCases = await this.deps.useCases.listActive();
    const facts = await this.readFacts(useCases, now);
    // Guards first, for every use case: a trip that only notifies is recorded with the others of
    // the tick in one insert, before anything else of its use case is judged.
    const guarded: Array<{ useCase: UseCase; gate: GateAssessment }> = [];
    const notices: Array<{ useCase: UseCase; verdict: GuardVerdict }> = [];
    for (const useCase of useCases) {
      await this.attempt(useCase, report, async () => {
        const step = await this.guard(useCase, now, report, facts);
        if (step.moved) return;
        if (step.notice) notices.push({ useCase, verdict: step.notice });
        guarded.push({ useCase, gate: step.gate });
      });
    }
    const unrecorded = await this.recordNotices(notices, now, report);
    for (const { useCase, gate } of guarded) {
      if (unrecorded.has(useCase.id)) continue;
      await this.attempt(useCase, report, () => this.evaluate(useCase, gate, now, report, facts));
    }
    try {
      await this.deps.journey?.record(facts.points);
    } catch (error) {
      // A missing point thins the chart; the next tick records the visit's state again.
      this.deps.logger.warn({ err: error }, 'journey points not recorded; the next tick tries again');
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
      if (!rollbackWhen) return [];
      const labels = Object.keys(rollbackWhen.labelRecallBelow ?? {});
      const window = { useCase: u.id, stageVersion: u.stageVersion, size: rollbackWhen.window };
      return [labels.length > 0 ? { ...window, labels, labelWindow: rollbackWhen.labelWindow } : window];
    });
    const budgeted = useCases.filter((u) => u.plan.ai.maxDailyCost !== undefined).map((u) => u.id);
    const ids = useCases.map((u) => u.id);
    const drifting = useCases.filter((u) => hasDriftGuard(u.plan, u.stage));
    // Read before the cohorts and windows they decide the reuse of (rollup-movement.ts).
    const tokens = this.deps.movement?.(
      useCases.map((u) => ({ useCase: u.id, stageVersion: u.stageVersion })),
    );
    const [cohorts, windows, spends, notices, lastPoints, drifts] = await Promise.all([
      Promise.resolve(tokens).then((t) => this.deps.gates.cohorts(useCases, t)),
      Promise.resolve(tokens).then((t) => this.deps.guards.windows(guarded, t)),
      this.deps.guards.spendsToday(budgeted, now),
      this.deps.transitions.lastEvents(ids, ['gate.eligible', 'model.changed']),
      this.deps.journey?.lastPoints(ids) ?? new Map<string, PreviousPoint>(),
      this.readDrifts(drifting, now),
    ]);
    const eligibleNotices = notices.get('gate.eligible') ?? new Map();
    const modelNotices = notices.get('model.changed') ?? new Map();
    return { cohorts, windows, spends, eligibleNotices, modelNotices, lastPoints, points: [], drifts };
  }

  /** Every drift reading of the tick at once; should that fail, each use case is read alone. */
  private async readDrifts(useCases: readonly UseCase[], now: Date): Promise<Map<string, DriftReading>> {
    if (!this.deps.drift || useCases.length === 0) return new Map();
    try {
      return await this.deps.drift.readMany(useCases, now);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'drift readings of the tick failed; each use case read alone');
      return new Map();
    }
  }

  /** Runs one use case's step; a failure is reported and logged, and the next tick looks again. */
  private async attempt(useCase: UseCase, report: TickReport, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (error) {
      // A stage changed under us (409) or a write failed: the next tick looks again.
      report.errors.push(useCase.id);
      this.deps.logger.warn({ err: error, useCase: useCase.id }, 'evaluation failed; retried next tick');
    }
  }

  /**
   * The daily budget and the rollbackWhen guard of a use case, and its gate (judged once, kept as
   * the journey point). A trip that moves the use case is run at once (`moved`); one that only
   * notifies is handed back (`notice`) to be recorded with the tick's others.
   */
  private async guard(
    useCase: UseCase,
    now: Date,
    report: TickReport,
    facts: TickFacts,
  ): Promise<{ moved: boolean; notice?: GuardVerdict; gate: GateAssessment }> {
    await this.checkBudget(useCase, now, report, facts.spends.get(useCase.id) ?? 0);
    const window = facts.windows.get(useCase.id);
    const cohort = facts.cohorts.get(useCase.id) ?? null;
    const gate = judge(useCase, cohort, now);
    this.keepPoint(useCase, now, cohort, gate, window ?? null, facts);
    const verdict = window ? evaluateGuard(useCase.plan, useCase.stage, window) : null;
    if (!verdict?.trips) return { moved: false, gate };
    report.guardTrips.push(useCase.id);
    if (guardTarget(verdict) === null) return { moved: false, notice: verdict, gate };
    return { moved: await this.tripGuard(useCase, verdict, now, report), gate };
  }

  /**
   * The tick's guard trips that only notify, recorded in one insert and then told, each as
   * `tripGuard` does. Should the insert fail, none is told and their use cases are judged no
   * further this tick (the next tick trips them again): the use cases returned.
   */
  private async recordNotices(
    notices: ReadonlyArray<{ useCase: UseCase; verdict: GuardVerdict }>,
    now: Date,
    report: TickReport,
  ): Promise<Set<string>> {
    if (notices.length === 0) return new Set();
    try {
      await this.deps.transitions.recordEvents(notices.map((n) => tripEvent(n.useCase, n.verdict, now)));
    } catch (error) {
      for (const { useCase } of notices) report.errors.push(useCase.id);
      this.deps.logger.warn(
        { err: error, useCases: notices.map((n) => n.useCase.id) },
        'guard trips not recorded; retried next tick',
      );
      return new Set(notices.map((n) => n.useCase.id));
    }
    for (const { useCase, verdict } of notices) this.tellTrip(useCase, verdict, now);
    return new Set();
  }

  private async evaluate(
    useCase: UseCase,
    gate: GateAssessment,
    now: Date,
    report: TickReport,
    facts: TickFacts,
  ): Promise<void> {
    const cohort = facts.cohorts.get(useCase.id) ?? null;
    if (await this.checkDrift(useCase, now, report, facts.drifts.get(useCase.id))) return;

    if (await this.checkModel(useCase, cohort, now, report, facts)) return;

    if (useCase.challenger && this.deps.challengers) {
      const outcome = await this.deps.challengers.tick(useCase, now);
      if (outcome === 'swapped') {
        // The configuration that serves changed: its gate starts from its own evidence next tick
        // (and its drift reference was taken by the swap: ChallengerDeps.afterSwap).
        report.challengersSwapped.push(useCase.id);
        return;
      }
      if (outcome === 'eligible') report.challengersEligible.push(useCase.id);
    }

    const evidence = { cohort, gate };
    if (gate.verdict !== 'eligible' || !gate.targetStage) return;
    if (gate.approval === 'automatic') {
      // Named after the plan version that allowed it, its author and its approvers.
      await this.deps.release.move({
        useCase,
        to: gate.targetStage,
        actor: engineActor(useCase),
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
    const told = await this.deps.transitions.recordEventOnce(
      {
        actor: SYSTEM_ACTOR,
        action: 'gate.eligible',
        useCase: useCase.id,
        details: { stageVersion: useCase.stageVersion, targetStage: gate.targetStage, gate },
        at: now,
      },
      { stageVersion: useCase.stageVersion },
    );
    if (!told) return;
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'gate.eligible',
      useCase: useCase.id,
      at: now.toISOString(),
      from: useCase.stage,
      to: gate.targetStage,
      criteria: gate.criteria,
    });
  }

  /** Adds the tick's journey point for the use case when it is worth a row (journey-points.ts). */
  private keepPoint(
    useCase: UseCase,
    now: Date,
    cohort: CohortMetrics | null,
    gate: GateAssessment,
    window: GuardWindow | null,
    facts: TickFacts,
  ): void {
    if (!this.deps.journey || useCase.stage === 'disabled') return;
    const rollbackWhen = useCase.plan.stages[useCase.stage]?.rollbackWhen;
    const point = journeyPoint({
      useCase: useCase.id,
      stageVersion: useCase.stageVersion,
      planVersion: useCase.planVersion,
      stage: useCase.stage,
      at: now,
      cohort,
      gate,
      window,
      agreementBelow: rollbackWhen?.agreementBelow ?? null,
    });
    const seq = nextSeq(facts.lastPoints.get(useCase.id), point);
    if (seq !== null) facts.points.push({ ...point, seq });
  }

  /**
   * The model version the stage answers with against the one it was earned with (model-pinning.ts):
   * pins it after a move without evidence; records and tells a change once; in limited-autonomous
   * demotes (onModelChange: demote) or lets the new version earn the stage on human-reviewed's gate
   * (keep). True when the use case changed stage.
   */
  private async checkModel(
    useCase: UseCase,
    cohort: CohortMetrics | null,
    now: Date,
    report: TickReport,
    facts: TickFacts,
  ): Promise<boolean> {
    const last = (facts.modelNotices.get(useCase.id)?.details ?? null) as {
      stageVersion?: number;
      to?: string;
      at?: string;
    } | null;
    const check = checkModel(useCase, cohort?.modelVersion ?? null, last);
    if (check.action === 'none') return false;
    const { transitions } = this.deps;
    if (check.action === 'pin') {
      await transitions.earnModelVersion({
        useCase: useCase.id,
        stageVersion: useCase.stageVersion,
        modelVersion: check.version,
        actor: SYSTEM_ACTOR,
        action: 'model.pinned',
        details: { stage: useCase.stage, reason: 'the first version answered after a move without evidence' },
        at: now,
      });
      return false;
    }
    const { from, to } = check;
    const changedAt = check.record ? now : new Date(last?.at ?? now.toISOString());
    const recorded =
      check.record &&
      (await transitions.recordEventOnce(
        {
          actor: SYSTEM_ACTOR,
          action: 'model.changed',
          useCase: useCase.id,
          details: {
            stageVersion: useCase.stageVersion,
            stage: useCase.stage,
            from,
            to,
            at: now.toISOString(),
          },
          at: now,
        },
        { stageVersion: useCase.stageVersion, to },
      ));
    if (recorded) {
      report.modelChanges.push(useCase.id);
      this.deps.notifier.notify(useCase.plan.notify?.webhook, {
        type: 'model.changed',
        useCase: useCase.id,
        at: now.toISOString(),
        stage: useCase.stage,
        from,
        to,
      });
    }
    const autonomous = useCase.plan.stages['limited-autonomous'];
    if (useCase.stage !== 'limited-autonomous' || !autonomous) return false;
    if (autonomous.onModelChange === 'keep') {
      // The new version's own cohort here, judged by the gate that earns autonomy, since it appeared.
      const gate = assessGate({
        plan: useCase.plan,
        stage: 'human-reviewed',
        metrics: cohort,
        stageEnteredAt: changedAt,
        now,
      });
      if (gate.verdict === 'eligible') {
        await transitions.earnModelVersion({
          useCase: useCase.id,
          stageVersion: useCase.stageVersion,
          modelVersion: to,
          actor: SYSTEM_ACTOR,
          action: 'model.earned',
          details: { from, gate },
          at: now,
        });
      }
      return false;
    }
    const below: PromotableStage = useCase.plan.stages['human-reviewed'] ? 'human-reviewed' : 'shadow';
    await this.deps.release.move({
      useCase,
      to: below,
      actor: SYSTEM_ACTOR,
      reason: `the AI answered with model version ${to}, not ${from} that limited-autonomous was earned with (onModelChange: demote)`,
      forced: false,
      kind: 'model-change',
      evidence: { cohort, gate: judge(useCase, cohort, now) },
      extra: { modelChange: { from, to } },
    });
    report.rolledBack.push(useCase.id);
    return true;
  }

  /**
   * The drift, override and escalation guards (README "Drift"): judged on the current window
   * against the stage visit's reference, each trips at most once per reference (the one taken at
   * the stage's entry, or a re-baseline), whichever controller sees it first. True when the use
   * case changed stage.
   */
  private async checkDrift(
    useCase: UseCase,
    now: Date,
    report: TickReport,
    read?: DriftReading,
  ): Promise<boolean> {
    const { drift } = this.deps;
    if (!drift || !hasDriftGuard(useCase.plan, useCase.stage)) return false;
    // Read with every other use case's at the start of the tick; alone only when that failed.
    const reading = read ?? (await drift.read(useCase, now));
    this.deps.onDriftRead?.(useCase.id, reading);
    const verdict = evaluateDriftGuards(
      useCase.plan,
      useCase.stage,
      reading.view.guards,
      reading.current.decisions,
    );
    if (!verdict?.trips || reading.reference.trippedAt !== null) return false;
    if (!(await drift.markTripped(reading.reference))) return false;
    report.guardTrips.push(useCase.id);
    const fields = reading.view.fields
      .filter((f) => reading.view.guards.some((g) => g.drifted?.includes(f.field)))
      .map((f) => ({
        field: f.field,
        psi: f.psi,
        referenceTotal: f.referenceTotal,
        currentTotal: f.currentTotal,
      }));
    await this.deps.transitions.recordEvent({
      actor: SYSTEM_ACTOR,
      action: 'drift.detected',
      useCase: useCase.id,
      details: {
        stageVersion: useCase.stageVersion,
        reference: reading.reference.id,
        guards: reading.view.guards,
        fields,
      },
      at: now,
    });
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'drift.detected',
      useCase: useCase.id,
      at: now.toISOString(),
      stage: useCase.stage,
      action: verdict.action,
      guards: reading.view.guards,
      fields,
      overrideRate: reading.view.overrideRate,
      escalationRate: reading.view.escalationRate,
    });
    return this.tripGuard(useCase, verdict, now, report);
  }

  /** Runs a tripped guard's action; true when the use case changed stage. */
  private async tripGuard(useCase: UseCase, verdict: GuardVerdict, now: Date, report: TickReport) {
    const tripped = verdict.checks.filter((c) => c.trips);
    const reason = `guard tripped in ${useCase.stage}: ${tripped
      .map((c) => `${c.name} ${c.threshold} (actual ${c.actual?.toFixed(3)} over the last ${c.samples})`)
      .join('; ')}`;
    await this.deps.transitions.recordEvent(tripEvent(useCase, verdict, now));
    // Queued, not awaited: the move below never waits for the webhook, which still gets the trip
    // before the stage change (a webhook's events are delivered in order).
    this.tellTrip(useCase, verdict, now);
    const to = guardTarget(verdict);
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

  /** A recorded trip, counted and told to the use case's webhook. */
  private tellTrip(useCase: UseCase, verdict: GuardVerdict, now: Date): void {
    this.deps.onGuardTripped?.(useCase.id, 'rollbackWhen');
    this.deps.notifier.notify(useCase.plan.notify?.webhook, {
      type: 'guard.tripped',
      useCase: useCase.id,
      at: now.toISOString(),
      stage: useCase.stage,
      action: verdict.action,
      checks: verdict.checks,
    });
  }

  /** The daily budget guard: the worker stops calling (see BudgetGuard); here it is recorded and told once a day. */
  private async checkBudget(useCase: UseCase, now: Date, report: TickReport, spent: number): Promise<void> {
    const limit = useCase.plan.ai.maxDailyCost;
    if (limit === undefined || spent < limit) return;
    report.overBudget.push(useCase.id);
    const day = now.toISOString().slice(0, 10);
    const last = await this.deps.transitions.lastEvent(useCase.id, 'guard.budget');
    if ((last?.details as { day?: string } | null)?.day === day) return;
    const told = await this.deps.transitions.recordEventOnce(
      {
        actor: SYSTEM_ACTOR,
        action: 'guard.budget',
        useCase: useCase.id,
        details: { day, spent, maxDailyCost: limit },
        at: now,
      },
      { day },
    );
    if (!told) return;
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

/** The guard.tripped audit event of a trip. */
function tripEvent(useCase: UseCase, verdict: GuardVerdict, now: Date) {
  return {
    actor: SYSTEM_ACTOR,
    action: 'guard.tripped',
    useCase: useCase.id,
    details: { stageVersion: useCase.stageVersion, verdict },
    at: now,
  };
}

/** Where a tripped guard moves its use case; null when it only notifies. */
function guardTarget(verdict: GuardVerdict): Mode | null {
  if (verdict.action === 'disable') return 'disabled';
  return verdict.action === 'rollback' ? verdict.rollbackTo : null;
}
