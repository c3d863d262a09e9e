import type { Plan, PromoteWhen } from './plan-schema.js';

/** The calibration sample's share when a judge's plan does not say (`comparator.calibrationRate`). */
export const DEFAULT_CALIBRATION_RATE = 0.05;

/**
 * The bar a gate of a plan whose comparator is a judge holds the judge to when its promoteWhen
 * does not set `judgeAgreementLowerBound`: a judge shows it agrees with people before its scores
 * can promote anything (README "Is the judge right?").
 */
export const DEFAULT_JUDGE_AGREEMENT_LOWER_BOUND = 0.8;

/**
 * The salt of the calibration draw: the judge call's `calibration` mark (comparison-recorder.ts),
 * the suggestion's `rate` and the rating route's `counted` use the same draw, so it never changes.
 */
export const CALIBRATION_SALT = 'calibration';

/**
 * The judge of a plan, when its comparator is one: `{calibrationRate}`. Read from the comparator
 * as data, so this holds whatever else the judge's own schema (plan-shape.ts) adds; a rate that is
 * missing or not a fraction reads as the default.
 */
export function judgeOf(plan: Pick<Plan, 'comparator'>): { calibrationRate: number } | null {
  const comparator = plan.comparator as { type?: unknown; calibrationRate?: unknown };
  if (comparator?.type !== 'judge') return null;
  const rate = comparator.calibrationRate;
  const valid = typeof rate === 'number' && Number.isFinite(rate) && rate >= 0 && rate <= 1;
  return { calibrationRate: valid ? rate : DEFAULT_CALIBRATION_RATE };
}

/**
 * The bar of a gate's `judgeAgreementLowerBound`: the plan's, or DEFAULT_JUDGE_AGREEMENT_LOWER_BOUND
 * for a plan whose comparator is a judge (its scores promote nothing until it agrees with people);
 * undefined when neither.
 */
export function judgeAgreementBar(
  plan: Pick<Plan, 'comparator'>,
  when: Pick<PromoteWhen, 'judgeAgreementLowerBound'>,
): number | undefined {
  return when.judgeAgreementLowerBound ?? (judgeOf(plan) ? DEFAULT_JUDGE_AGREEMENT_LOWER_BOUND : undefined);
}
