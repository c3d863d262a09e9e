/**
 * An anytime-valid, variance-adaptive confidence sequence for the mean of values in [0, 1], read
 * from three running sums (n, Σx, Σx²), so the gate can evaluate it from stored rollups at every
 * tick. Its use: a per-decision error cost c ∈ [0, C], scaled to x = c / C, where most decisions
 * cost nothing and a few cost hundreds.
 *
 * Guarantee: for values whose mean given the past is μ (for instance independent draws with mean
 * μ), P(at some n, upper_n < μ) ≤ α, and separately P(at some n, lower_n > μ) ≤ α, however often
 * and however long either end is read. Each end is one-sided at the full α: the gate holds on the
 * upper end and blocks early on the lower one, so it never needs both to hold at once.
 *
 * Construction. The inequality of Fan, Grama and Liu (2015): for ξ ≥ −1 and λ ∈ [0, 1),
 *
 *   exp(λξ − ψ(λ)ξ²) ≤ 1 + λξ,   ψ(λ) = −ln(1 − λ) − λ.
 *
 * Upper end, candidate mean m ∈ [0, 1]: put ξ_i = m − x_i ≥ −1. When the true mean is at least m,
 * E[ξ_i | past] ≤ 0, so E[1 + λξ_i | past] ≤ 1 and the product of the left-hand sides,
 *
 *   M_n(m) = exp(λ S_n(m) − ψ(λ) V_n(m)),   S_n(m) = n·m − P,   V_n(m) = Σ(x_i − m)² = Q − 2mP + n·m²
 *
 * (P = Σx, Q = Σx²), is a nonnegative supermartingale that starts at 1. By Ville's inequality it
 * ever reaches 1/(α·w) with probability at most α·w. This is the empirical-Bernstein argument of
 * Howard, Ramdas, McAuliffe and Sekhon (2021) for sequential use. V_n is centred on the candidate
 * itself, not on a running estimate: that is what makes the bound pay for the spread of the values
 * rather than their range, and it keeps every quantity a function of (n, P, Q).
 *
 * One λ suits one gap between the mean and the bar, so a fixed grid of K values λ_k is used with
 * weights w_k = 1/K, a union bound: the true mean is ever rejected by some λ_k with probability at
 * most Σ α/K = α. For each k, "m is rejected" reads g_k(m) = λ_k S_n(m) − ψ(λ_k) V_n(m) ≥ ln(K/α),
 * and g_k is a concave quadratic in m, so its rejected set is one closed interval, solved for
 * exactly (empty when the discriminant is negative). The confidence set is [0, 1] less the union of
 * the K intervals; the upper end is its supremum, found by walking down from 1 across the
 * intervals. No grid over m, no assumption that rejection is monotone in m. At m = P/n, S_n = 0 and
 * g_k ≤ 0, so every rejected interval lies above the observed mean and the bound never falls below
 * it. The lower end mirrors all this with ξ_i = x_i − m (equivalently: the upper end of 1 − x).
 *
 * The grid. The best λ for a gap d between the bar and the mean solves λ/(1 − λ) = d/v, with v the
 * second moment about the bar, so the grid is geometric in those odds: λ/(1 − λ) = 16, 8, 4, …,
 * 16/2^13, that is λ from 0.941 down to 0.00195 (K = 14). For error costs d/v is large (the mean and
 * the spread are both small), which puts the best λ between 0.5 and 0.95, where a grid halving λ
 * itself would be sparse. Chosen by comparing, at K = 14, odds grids from 8, 16 and 32 with grids
 * halving λ from 0.8, 0.9, 0.95 and 0.98, on the decisions a single look needs in eight cases
 * (means 0 to 0.0044 against 0.01, 0.05 against 0.1): this grid was never more than 3% behind the
 * best of them, where halving λ from 0.9 needed up to 27% more (2,569 against 2,026 decisions for
 * a mean of 0.0044 against 0.01). K from 8 to 24 was compared too: each added λ costs
 * ln((K + 1)/K) in the level, about 1% more decisions here, and below the smallest λ the bound
 * stops narrowing at about x̄ + 0.001·(variance of x), which no realistic cohort reaches.
 *
 * What it costs, α = 0.05, a single look, C = 500 USD and a bar of 5 USD (0.01):
 * - mean 0.0015 (0.75 USD: a 500 USD error in 1 of 2,000 decisions, a 40 USD one in 1 of 100, a
 *   2 USD one in 1 of 20): 829 decisions. Hoeffding's inequality over the range, read once at a
 *   sample size fixed in advance, needs ln(1/α) / (2·0.0085²) = 20,732; a Hoeffding confidence
 *   sequence built like this one (same union over a λ grid, variance 1/4 in place of V_n) 36,909.
 * - mean 0.0028 (each of those errors twice as often): 1,159; Hoeffding 28,895 once, 51,476 anytime.
 * - mean 0.0015 from 25 USD errors alone (x = 0.05 in 3% of decisions): 730.
 * - no errors at all: 611 to go below 0.01; for large n the upper end is about 6/n.
 * - the lower end, to block early: a mean of 0.03 from 500 USD errors alone is above 0.01 after
 *   1,242 decisions.
 * (Measured with this module: the smallest n at which the end, given n·mean and n·second moment
 * as its sums, is past 0.01.)
 *
 * Cost: O(K) arithmetic per read, no state beyond the three sums.
 *
 * References: X. Fan, I. Grama and Q. Liu, "Exponential inequalities for martingales with
 * applications", Electronic Journal of Probability 20 (2015); S. R. Howard, A. Ramdas,
 * J. McAuliffe and J. Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence sequences",
 * Annals of Statistics 49 (2021); J. Ville, "Étude critique de la notion de collectif" (1939).
 */

/** Running sums of values x_i ∈ [0, 1]. */
export interface BoundedMeanSums {
  n: number;
  sum: number;
  sumSquares: number;
}

/** The λ grid: λ/(1 − λ) = 16, 8, 4, …, 16/2^13. */
export const BOUNDED_MEAN_LAMBDAS: readonly number[] = Array.from({ length: 14 }, (_, k) => {
  const odds = 16 / 2 ** k;
  return odds / (1 + odds);
});
const PSI = BOUNDED_MEAN_LAMBDAS.map((lambda) => -Math.log1p(-lambda) - lambda);

/** More values than any cohort will see; beyond it doubles stop counting exactly. */
const MAX_N = 2 ** 50;
/** Rounding allowed in stored sums, relative to max(1, n). */
const SUM_TOLERANCE = 1e-9;

/** Upper end: P(at some n, upper_n < μ) ≤ alpha. null when n = 0. */
export function boundedMeanUpperBound(s: BoundedMeanSums, alpha: number): number | null {
  const sums = checkedSums(s, alpha);
  return sums === null ? null : upperEnd(sums.n, sums.p, sums.q, alpha);
}

/** Lower end: P(at some n, lower_n > μ) ≤ alpha. null when n = 0. */
export function boundedMeanLowerBound(s: BoundedMeanSums, alpha: number): number | null {
  const sums = checkedSums(s, alpha);
  if (sums === null) return null;
  // For 1 − x: Σ(1 − x) = n − P, Σ(1 − x)² = n − 2P + Q. Computed directly on x (below) instead,
  // so a lower end near 0 does not lose digits to 1 − (a number near 1).
  return lowerEnd(sums.n, sums.p, sums.q, alpha);
}

interface Sums {
  n: number;
  p: number;
  q: number;
}

/**
 * Sums that values in [0, 1] could have produced, up to rounding: 0 ≤ Q ≤ P ≤ n and P² ≤ n·Q
 * (Cauchy–Schwarz). Anything else is a bug upstream and throws; rounding is clamped away.
 */
function checkedSums(s: BoundedMeanSums, alpha: number): Sums | null {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be strictly between 0 and 1, got ${alpha}`);
  const { n, sum, sumSquares } = s;
  if (!Number.isFinite(n) || !Number.isFinite(sum) || !Number.isFinite(sumSquares)) {
    throw new RangeError(`bounded-mean sums must be finite, got n=${n} sum=${sum} sumSquares=${sumSquares}`);
  }
  const tol = SUM_TOLERANCE * Math.max(1, n);
  if (n < -tol || n > MAX_N || Math.abs(n - Math.round(n)) > tol) {
    throw new RangeError(`n must be a whole number from 0 to 2^50, got ${n}`);
  }
  if (sum < -tol || sum > n + tol) throw new RangeError(`sum must lie in [0, n], got ${sum} for n=${n}`);
  if (sumSquares < -tol || sumSquares > sum + tol) {
    throw new RangeError(
      `sumSquares must lie in [0, sum] for values in [0, 1], got ${sumSquares} for sum=${sum}`,
    );
  }
  if (sum * sum > n * sumSquares + 3 * n * tol + tol * tol) {
    throw new RangeError(`sum² must not exceed n·sumSquares, got sum=${sum} sumSquares=${sumSquares} n=${n}`);
  }
  const count = Math.round(n);
  if (count === 0) return null;
  const p = Math.min(count, Math.max(0, sum));
  const q = Math.min(p, Math.max((p * p) / count, sumSquares));
  return { n: count, p, q };
}

function upperEnd(n: number, p: number, q: number, alpha: number): number {
  const rejected = rejectedIntervals(n, p, q, alpha, 1);
  // The supremum of [0, 1] less the union: from 1, jump to the left end of any interval holding
  // the current point, until none does. Each jump moves strictly left, so at most K jumps.
  let bound = 1;
  for (let moved = true; moved; ) {
    moved = false;
    for (const [left, right] of rejected) {
      if (left < bound && bound <= right) {
        bound = left;
        moved = true;
      }
    }
  }
  return Math.min(1, Math.max(0, bound));
}

function lowerEnd(n: number, p: number, q: number, alpha: number): number {
  const rejected = rejectedIntervals(n, p, q, alpha, -1);
  let bound = 0;
  for (let moved = true; moved; ) {
    moved = false;
    for (const [left, right] of rejected) {
      if (left <= bound && bound < right) {
        bound = right;
        moved = true;
      }
    }
  }
  return Math.min(1, Math.max(0, bound));
}

/**
 * For each λ_k, the candidates m with g_k(m) ≥ ln(K/α), where for the upper side (sign = 1)
 * g_k(m) = λ(n·m − P) − ψ(Q − 2mP + n·m²) and for the lower side (sign = −1) λ(P − n·m) − ψ(…).
 * That is a·m² − b·m + c ≤ 0 with a = ψn, b = sign·λn + 2ψP, c = sign·λP + ψQ + level.
 */
function rejectedIntervals(n: number, p: number, q: number, alpha: number, sign: 1 | -1): [number, number][] {
  const level = Math.log(BOUNDED_MEAN_LAMBDAS.length / alpha);
  const out: [number, number][] = [];
  for (let k = 0; k < BOUNDED_MEAN_LAMBDAS.length; k++) {
    const lambda = BOUNDED_MEAN_LAMBDAS[k]!;
    const psi = PSI[k]!;
    const a = psi * n;
    const b = sign * lambda * n + 2 * psi * p;
    const c = sign * lambda * p + psi * q + level;
    const discriminant = b * b - 4 * a * c;
    // A discriminant within rounding of 0 is a tangent, not a crossing: rejecting nothing there
    // can only widen the confidence set.
    if (discriminant <= 1e-12 * (b * b + 4 * a * Math.abs(c))) continue;
    // Roots without cancellation: t = (b ± √D)/2 with the sign of b; the roots are t/a and c/t.
    const t = 0.5 * (b + (b < 0 ? -1 : 1) * Math.sqrt(discriminant));
    const r1 = t / a;
    const r2 = c / t;
    out.push(r1 < r2 ? [r1, r2] : [r2, r1]);
  }
  return out;
}
