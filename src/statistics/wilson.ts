import { twoSidedZ } from './normal-quantile.js';

export interface Interval {
  lower: number;
  upper: number;
}

/**
 * Wilson score interval for a proportion, two-sided at `confidence`.
 * `successes` may be fractional (a sum of partial comparison scores). The observed proportion is
 * clamped to [0, 1] so rounding in a summed score cannot push it out. Null when there is no
 * evidence (n ≤ 0) or the inputs are not finite numbers.
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval | null {
  const z = twoSidedZ(confidence);
  if (!Number.isFinite(successes) || !Number.isFinite(n) || n <= 0) return null;
  const p = Math.min(1, Math.max(0, successes / n));
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const halfWidth = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At p̂ = 0 (or 1) the lower (upper) bound is exactly 0 (1); rounding must not move it.
  return {
    lower: p === 0 ? 0 : Math.max(0, centre - halfWidth),
    upper: p === 1 ? 1 : Math.min(1, centre + halfWidth),
  };
}

export function wilsonLowerBound(successes: number, n: number, confidence = 0.95): number | null {
  return wilsonInterval(successes, n, confidence)?.lower ?? null;
}
