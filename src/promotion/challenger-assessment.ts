import type { CohortMetrics } from '../metrics/metrics-types.js';
import { type Mode, type Plan, STAGES } from '../plans/plan-schema.js';
import type { DifferenceBounds } from '../statistics/paired-difference.js';
import { assessGate, verdictOf } from './gate-assessment.js';
import type { Criterion, GateVerdict } from './gate-types.js';

/**
 * The verdict on a challenger: a new AI configuration running beside the champion that earned the
 * use case's stage (issue 13). It may take over only when it shows, on live traffic since it
 * started, both
 * - the evidence its champion had to show: the `promoteWhen` gate of every stage below the current
 *   one (for limited-autonomous: shadow's and human-reviewed's), judged on its own cohort against
 *   the humans, with the stage's evidence floor counted from when the challenger started;
 * - non-inferiority against the champion on the same requests: the paired confidence sequence's
 *   lower bound on (challenger − champion agreement) at least −margin (docs/gates.md).
 * Each keeps its own error budget: a swap needs every criterion to hold, so a challenger bad on any
 * one of them is swapped only when that criterion's own bound is wrong (an intersection-union test).
 */
export interface ChallengerInput {
  plan: Plan;
  /** The use case's stage, which the champion earned: human-reviewed or limited-autonomous. */
  stage: Mode;
  /** The challenger's own cohort: its answers compared with the humans since it started. */
  cohort: CohortMetrics | null;
  /** The paired sequence's bounds; null before the first pair. */
  paired: DifferenceBounds | null;
  margin: number;
  startedAt: Date;
  now: Date;
}

export interface ChallengerAssessment {
  verdict: Exclude<GateVerdict, 'none'>;
  /** Lower stages' criteria are named `<stage>.<criterion>`; the paired one `championNonInferiority`. */
  criteria: Criterion[];
}

export const PAIRED_CRITERION = 'championNonInferiority';

export function assessChallenger(input: ChallengerInput): ChallengerAssessment {
  const criteria: Criterion[] = [];
  for (const stage of STAGES.slice(0, STAGES.indexOf(input.stage as (typeof STAGES)[number]))) {
    const gate = assessGate({
      plan: input.plan,
      stage,
      metrics: input.cohort,
      stageEnteredAt: input.startedAt,
      now: input.now,
    });
    for (const c of gate.criteria) criteria.push({ ...c, name: `${stage}.${c.name}` });
  }
  criteria.push(pairedCriterion(input.paired, input.margin));
  const verdict = verdictOf(criteria);
  return { verdict: verdict === 'none' ? 'inconclusive' : verdict, criteria };
}

/**
 * Holds once the lower bound reaches −margin; blocks once the upper bound is below it (the
 * evidence already shows the challenger worse by more than the margin); waits in between.
 */
export function pairedCriterion(paired: DifferenceBounds | null, margin: number): Criterion {
  const required = -margin;
  const base = { name: PAIRED_CRITERION, required, observed: paired?.mean ?? null, samples: paired?.n ?? 0 };
  if (paired === null) {
    return { ...base, actual: null, status: 'inconclusive', holds: false, detail: 'no paired answers yet' };
  }
  if (paired.lower >= required) return { ...base, actual: paired.lower, status: 'holds', holds: true };
  if (paired.upper < required) {
    return {
      ...base,
      actual: paired.lower,
      status: 'blocked',
      holds: false,
      detail: `worse than the champion by more than ${margin}: at most ${paired.upper} on ${paired.n} pairs`,
    };
  }
  return {
    ...base,
    actual: paired.lower,
    status: 'inconclusive',
    holds: false,
    detail: `not yet shown within ${margin} of the champion`,
  };
}
