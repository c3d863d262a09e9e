import type { Mode, Plan, PromotableStage, RollbackWhen } from '../plans/plan-schema.js';
import { STAGES } from '../plans/plan-schema.js';

/** The trailing window of the current stage a guard is judged on. */
export interface GuardWindow {
  /** The last `window` compared decisions: how many, and their score sum. */
  compared: number;
  scoreSum: number;
  /** The last `window` ended AI calls: how many, and how many failed. */
  aiCalls: number;
  aiErrors: number;
  /**
   * Per label a `labelRecallBelow` guard names: the last `labelWindow` compared requests the human
   * gave that label, and how many of them the AI labelled the same.
   */
  labels: Record<string, { compared: number; hits: number }>;
}

export interface GuardCheck {
  /** `agreementBelow`, `aiErrorRateAbove`, or `labelRecallBelow:<label>`. */
  name: string;
  threshold: number;
  actual: number | null;
  /** How many observations the actual value is computed from. */
  samples: number;
  trips: boolean;
}

export interface GuardVerdict {
  stage: Mode;
  window: number;
  trips: boolean;
  checks: GuardCheck[];
  action: RollbackWhen['action'];
  /** Where a `rollback` action goes. */
  rollbackTo: PromotableStage | null;
}

/**
 * A stage's `rollbackWhen`, as a pure function of its trailing window. A check
 * judges only a full window: a handful of early disagreements is noise, not a trend.
 */
export function evaluateGuard(plan: Plan, stage: Mode, w: GuardWindow): GuardVerdict | null {
  if (stage === 'disabled') return null;
  const config = plan.stages[stage];
  const guard = config?.rollbackWhen;
  if (!guard) return null;
  const checks: GuardCheck[] = [];
  if (guard.agreementBelow !== undefined) {
    const actual = w.compared > 0 ? w.scoreSum / w.compared : null;
    checks.push({
      name: 'agreementBelow',
      threshold: guard.agreementBelow,
      actual,
      samples: w.compared,
      trips: w.compared >= guard.window && actual !== null && actual < guard.agreementBelow,
    });
  }
  if (guard.aiErrorRateAbove !== undefined) {
    const actual = w.aiCalls > 0 ? w.aiErrors / w.aiCalls : null;
    checks.push({
      name: 'aiErrorRateAbove',
      threshold: guard.aiErrorRateAbove,
      actual,
      samples: w.aiCalls,
      trips: w.aiCalls >= guard.window && actual !== null && actual > guard.aiErrorRateAbove,
    });
  }
  const labels = guard.labelRecallBelow ?? {};
  for (const label of Object.keys(labels).sort()) {
    const seen = w.labels[label] ?? { compared: 0, hits: 0 };
    const actual = seen.compared > 0 ? seen.hits / seen.compared : null;
    checks.push({
      name: `labelRecallBelow:${label}`,
      threshold: labels[label]!,
      actual,
      samples: seen.compared,
      trips: seen.compared >= guard.labelWindow && actual !== null && actual < labels[label]!,
    });
  }
  return {
    stage,
    window: guard.window,
    trips: checks.some((c) => c.trips),
    checks,
    action: guard.action,
    rollbackTo: rollbackTarget(plan, stage),
  };
}

/** `rollbackTo` of the stage, else the previous stage the plan has. */
export function rollbackTarget(plan: Plan, stage: Mode): PromotableStage | null {
  if (stage === 'disabled' || stage === 'shadow') return null;
  const explicit = plan.stages[stage]?.rollbackTo;
  if (explicit) return explicit;
  const below = STAGES.slice(0, STAGES.indexOf(stage)).filter((s) => s === 'shadow' || plan.stages[s]);
  return below[below.length - 1] ?? 'shadow';
}

/** What the drift guards judge (src/metrics/drift-view.ts): each guard's status on its window. */
export interface DriftGuardStatus {
  guard: 'driftAbove' | 'overrideRateAbove' | 'escalationRateAbove';
  threshold: number;
  status: 'stable' | 'drifted' | 'insufficient';
  actual: number | null;
  drifted?: string[];
}

/**
 * The drift guards of a stage's `rollbackWhen` as a verdict like `evaluateGuard`'s: a check per
 * guard (`driftAbove:<fields above psi>`), tripping only on a full window (`drift.minWindow`,
 * judged by the view). `samples` is the window's decisions. Null when the stage has none.
 */
export function evaluateDriftGuards(
  plan: Plan,
  stage: Mode,
  statuses: readonly DriftGuardStatus[],
  samples: number,
): GuardVerdict | null {
  if (stage === 'disabled') return null;
  const guard = plan.stages[stage]?.rollbackWhen;
  if (!guard || statuses.length === 0) return null;
  const checks: GuardCheck[] = statuses.map((s) => ({
    name: s.guard === 'driftAbove' && s.drifted?.length ? `driftAbove:${s.drifted.join(',')}` : s.guard,
    threshold: s.threshold,
    actual: s.actual,
    samples,
    trips: s.status === 'drifted',
  }));
  return {
    stage,
    window: plan.drift.minWindow,
    trips: checks.some((c) => c.trips),
    checks,
    action: guard.action,
    rollbackTo: rollbackTarget(plan, stage),
  };
}

/** Whether a stage's guard has a drift, override or escalation check. */
export function hasDriftGuard(plan: Plan, stage: Mode): boolean {
  if (stage === 'disabled') return false;
  const g = plan.stages[stage]?.rollbackWhen;
  return (
    !!g &&
    (g.driftAbove !== undefined || g.overrideRateAbove !== undefined || g.escalationRateAbove !== undefined)
  );
}
