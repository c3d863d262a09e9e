/**
 * An anytime-valid confidence sequence for the mean of paired differences d ∈ [−1, 1], kept
 * incrementally: the evidence that a challenger agrees with the humans no worse than its champion
 * by more than a margin, judged on the same requests (d = challenger score − champion score).
 *
 * Guarantee: if the pairs share a mean difference δ, then P(at some n, lower_n > δ) ≤ α and
 * P(at some n, upper_n < δ) ≤ α, however often and however long the bounds are read. So a
 * criterion "lower ≥ −margin" passes with probability at most α for a challenger truly worse
 * than −margin, whenever it is checked.
 *
 * Construction (testing by betting; Waudby-Smith and Ramdas, JRSS-B 2024): x = (d + 1) / 2 lies in
 * [0, 1]. For each candidate mean m on a fixed grid, a gambler bets a predictable fraction λ ≥ 0
 * that x exceeds m: K_n(m) = Π (1 + λ_i (x_i − m)). While the true mean is at most m this is a
 * nonnegative supermartingale starting at 1 (for every λ_i ∈ [0, 1/m) chosen before x_i is seen),
 * so by Ville's inequality it ever reaches 1/α with probability at most α; a candidate whose wealth
 * reached 1/α is rejected for good: the mean exceeds it. The lower bound is the highest grid point
 * with it and every point below it rejected; the upper bound mirrors it with bets that x falls
 * short of m.
 *
 * The bet is aGRAPA's: λ = (μ̂ − m) / (σ̂² + (μ̂ − m)²), the growth-optimal fraction for the
 * running mean μ̂ and variance σ̂² of the pairs before this one, capped at TRUNCATION / m. It adapts
 * to the spread of the differences: most pairs are 0 (both agree with the human or both do not),
 * so far fewer pairs are needed than a bound paying for the whole range [−1, 1] would need.
 *
 * State is O(grid) numbers per cohort, updated per pair in O(grid); reading the bounds is O(grid).
 * Bounds are reported on the grid, rounded outwards (down for the lower, up for the upper).
 */

/** Grid step in difference units: bounds are reported to 0.005 (margins are plan values like 0.02). */
export const DIFFERENCE_STEP = 0.005;
const POINTS = Math.round(2 / DIFFERENCE_STEP) + 1; // 401 candidates from −1 to 1
/** Largest fraction of the most a bet can lose: keeps every factor ≥ 1 − TRUNCATION. */
const TRUNCATION = 0.5;

export interface PairedDifferenceState {
  /** Pairs seen. */
  n: number;
  /** Σ x (x = (d + 1) / 2). */
  sum: number;
  /** Σ (x_i − μ̂_{i−1})², the variance estimate's running sum. */
  squares: number;
  /**
   * ln K_n(m) for bets that x exceeds m, per grid point from m = 0 (d = −1) upwards; a point
   * whose wealth reached ln(1/α) is frozen there (rejected for good) and no longer updated.
   */
  up: number[];
  /** The same for bets that x falls short of m. */
  down: number[];
  /** ln(1/α) the state was built for: a state is valid for one α only. */
  level: number;
}

export function emptyPairedDifference(alpha: number): PairedDifferenceState {
  checkAlpha(alpha);
  return {
    n: 0,
    sum: 0,
    squares: 0,
    up: new Array<number>(POINTS).fill(0),
    down: new Array<number>(POINTS).fill(0),
    level: Math.log(1 / alpha),
  };
}

/** Adds one pair's difference (challenger score − champion score, each in [0, 1]). Mutates state. */
export function addPairedDifference(state: PairedDifferenceState, difference: number): void {
  if (!Number.isFinite(difference) || difference < -1 || difference > 1) {
    throw new RangeError(`a paired difference lies in [-1, 1], got ${difference}`);
  }
  const x = (difference + 1) / 2;
  // Predictable estimates (from the pairs before this one), started at the middle of the range
  // with the variance of a fair coin so the first bets are small.
  const mean = (0.5 + state.sum) / (state.n + 1);
  const variance = (0.25 + state.squares) / (state.n + 1);
  const { up, down, level } = state;
  for (let j = 0; j < POINTS; j++) {
    const m = j / (POINTS - 1);
    const gap = mean - m;
    if (gap > 0 && up[j]! < level) {
      const lambda = Math.min(gap / (variance + gap * gap), TRUNCATION / m);
      up[j] = Math.min(level, up[j]! + Math.log1p(lambda * (x - m)));
    } else if (gap < 0 && down[j]! < level) {
      const lambda = Math.min(-gap / (variance + gap * gap), TRUNCATION / (1 - m));
      down[j] = Math.min(level, down[j]! + Math.log1p(lambda * (m - x)));
    }
  }
  state.squares += (x - mean) * (x - mean);
  state.sum += x;
  state.n += 1;
}

export interface DifferenceBounds {
  /** Pairs behind the bounds. */
  n: number;
  /** Mean difference observed. */
  mean: number;
  /** Lower end in difference units; −1 until the evidence rules anything out. */
  lower: number;
  upper: number;
}

/** The sequence's bounds now; null without pairs. */
export function pairedDifferenceBounds(state: PairedDifferenceState): DifferenceBounds | null {
  if (state.n === 0) return null;
  let rejectedBelow = -1; // the highest point with it and every point below it rejected from below
  while (rejectedBelow + 1 < POINTS && state.up[rejectedBelow + 1]! >= state.level) rejectedBelow++;
  let rejectedAbove = POINTS; // the lowest point with it and every point above it rejected from above
  while (rejectedAbove - 1 >= 0 && state.down[rejectedAbove - 1]! >= state.level) rejectedAbove--;
  // A rejected point is one the mean exceeds (falls short of), so the bounds are those points;
  // with none rejected a bound is the end of the range.
  return {
    n: state.n,
    mean: (2 * state.sum) / state.n - 1,
    lower: toDifference(Math.max(rejectedBelow, 0)),
    upper: toDifference(Math.min(rejectedAbove, POINTS - 1)),
  };
}

function toDifference(index: number): number {
  return Math.round((index * DIFFERENCE_STEP - 1) * 1000) / 1000;
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`);
}
