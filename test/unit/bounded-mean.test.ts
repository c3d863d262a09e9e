import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../scripts/faults/seeded-random.js';
import {
  BOUNDED_MEAN_LAMBDAS,
  type BoundedMeanSums,
  boundedMeanLowerBound,
  boundedMeanUpperBound,
} from '../../src/statistics/bounded-mean.js';

/** mulberry32 (the fault suite's seeded generator): a seeded stream of uniforms in [0, 1). */
function mulberry32(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.next();
}

interface Distribution {
  name: string;
  mean: number;
  draw: (u: () => number) => number;
}

/** Scaled error costs: most decisions cost nothing, a few cost the most the matrix allows. */
const RARE_LARGE: Distribution = {
  name: '1 w.p. 0.002, 0.08 w.p. 0.03, else 0',
  mean: 0.002 + 0.03 * 0.08,
  draw: (u) => {
    const r = u();
    return r < 0.002 ? 1 : r < 0.032 ? 0.08 : 0;
  },
};
const RARE_ONLY: Distribution = {
  name: '1 w.p. 0.01, else 0',
  mean: 0.01,
  draw: (u) => (u() < 0.01 ? 1 : 0),
};
const UNIFORM: Distribution = { name: 'uniform on [0, 1]', mean: 0.5, draw: (u) => u() };
/** The invoice example (C = 500 USD): 500 USD in 1 of 2,000, 40 USD in 1 of 100, 2 USD in 1 of 20. */
const INVOICE: Distribution = {
  name: 'invoice, mean 0.0015',
  mean: 0.0005 + 0.01 * 0.08 + 0.05 * 0.004,
  draw: (u) => {
    const r = u();
    return r < 0.0005 ? 1 : r < 0.0105 ? 0.08 : r < 0.0605 ? 0.004 : 0;
  },
};

/** Sums of n values with the given mean and second moment (a single look at such evidence). */
function sumsOf(n: number, mean: number, secondMoment: number): BoundedMeanSums {
  return { n, sum: n * mean, sumSquares: n * secondMoment };
}

/** Reads both ends after every value; reports whether either ever excluded the true mean. */
function runSequence(d: Distribution, length: number, alpha: number, seed: number) {
  const u = mulberry32(seed);
  const s = { n: 0, sum: 0, sumSquares: 0 };
  let upperMissed = false;
  let lowerMissed = false;
  let firstUnder: number | null = null;
  for (let i = 0; i < length; i++) {
    const x = d.draw(u);
    s.n += 1;
    s.sum += x;
    s.sumSquares += x * x;
    const upper = boundedMeanUpperBound(s, alpha)!;
    const lower = boundedMeanLowerBound(s, alpha)!;
    if (upper < d.mean) upperMissed = true;
    if (lower > d.mean) lowerMissed = true;
    if (firstUnder === null && upper < 0.01) firstUnder = s.n;
  }
  return { upperMissed, lowerMissed, firstUnder };
}

describe('bounded mean confidence sequence', () => {
  it('when checked against a brute-force scan of the rejection rule on raw values, then both ends agree', () => {
    // Independent of the module's algebra: evaluate max_k [λ_k Σ ξ_i − ψ(λ_k) Σ ξ_i²] on a fine
    // grid of candidates m, from the values themselves, and take the extreme candidates not rejected.
    const level = Math.log(BOUNDED_MEAN_LAMBDAS.length / 0.05);
    const psi = (l: number) => -Math.log(1 - l) - l;
    const rejected = (xs: number[], m: number, side: 1 | -1) =>
      BOUNDED_MEAN_LAMBDAS.some((l) => {
        let s = 0;
        let v = 0;
        for (const x of xs) {
          s += side * (m - x);
          v += (x - m) ** 2;
        }
        return l * s - psi(l) * v >= level;
      });
    const u = mulberry32(99);
    const datasets = [
      Array.from({ length: 300 }, () => RARE_LARGE.draw(u)),
      Array.from({ length: 60 }, () => UNIFORM.draw(u)),
      Array.from({ length: 200 }, () => (u() < 0.9 ? 1 : u())),
      Array.from({ length: 120 }, () => 0),
    ];
    const steps = 4000;
    for (const xs of datasets) {
      const sums = {
        n: xs.length,
        sum: xs.reduce((a, x) => a + x, 0),
        sumSquares: xs.reduce((a, x) => a + x * x, 0),
      };
      let bruteUpper = 0;
      let bruteLower = 1;
      for (let j = 0; j <= steps; j++) {
        const m = j / steps;
        if (!rejected(xs, m, 1)) bruteUpper = Math.max(bruteUpper, m);
        if (!rejected(xs, m, -1)) bruteLower = Math.min(bruteLower, m);
      }
      expect(Math.abs(boundedMeanUpperBound(sums, 0.05)! - bruteUpper)).toBeLessThanOrEqual(1 / steps);
      expect(Math.abs(boundedMeanLowerBound(sums, 0.05)! - bruteLower)).toBeLessThanOrEqual(1 / steps);
    }
  });

  it('when read after every value of many sequences, then each end excludes the true mean in at most alpha of them', () => {
    const alpha = 0.1;
    const sequences = 200;
    for (const d of [RARE_LARGE, RARE_ONLY, UNIFORM]) {
      let upperMisses = 0;
      let lowerMisses = 0;
      for (let k = 0; k < sequences; k++) {
        const run = runSequence(d, 2000, alpha, 1000 * k + 7);
        if (run.upperMissed) upperMisses++;
        if (run.lowerMissed) lowerMisses++;
      }
      expect(upperMisses, `upper end, ${d.name}`).toBeLessThanOrEqual(alpha * sequences);
      expect(lowerMisses, `lower end, ${d.name}`).toBeLessThanOrEqual(alpha * sequences);
    }
  }, 60_000);

  it('when the invoice example is read once, then it clears a 0.01 bar between 750 and 900 decisions (829 measured)', () => {
    const second = 0.0005 + 0.01 * 0.08 ** 2 + 0.05 * 0.004 ** 2;
    expect(boundedMeanUpperBound(sumsOf(750, INVOICE.mean, second), 0.05)!).toBeGreaterThan(0.01);
    expect(boundedMeanUpperBound(sumsOf(900, INVOICE.mean, second), 0.05)!).toBeLessThan(0.01);
    // A Hoeffding bound over the range, read once, would need ln(20) / (2 · 0.0085²) = 20,732.
  });

  it('when invoice traffic streams in, then the upper end is under 0.01 by 1,500 decisions in 95% of sequences and stays above the true mean', () => {
    const sequences = 200;
    let cleared = 0;
    let missed = 0;
    for (let k = 0; k < sequences; k++) {
      const run = runSequence(INVOICE, 1500, 0.05, 5000 + k);
      if (run.firstUnder !== null) cleared++;
      if (run.upperMissed) missed++;
    }
    expect(cleared).toBeGreaterThanOrEqual(0.95 * sequences);
    expect(missed).toBeLessThanOrEqual(0.05 * sequences);
  }, 60_000);

  it('when the mean is well above the bar, then the lower end rises past it (1,242 decisions measured)', () => {
    // Mean 0.03 of 500 USD errors alone (x = 1 in 3% of decisions) against a 0.01 bar.
    expect(boundedMeanLowerBound(sumsOf(1150, 0.03, 0.03), 0.05)!).toBeLessThan(0.01);
    expect(boundedMeanLowerBound(sumsOf(1350, 0.03, 0.03), 0.05)!).toBeGreaterThan(0.01);
  });

  it('when there are no values, then both ends are null', () => {
    expect(boundedMeanUpperBound({ n: 0, sum: 0, sumSquares: 0 }, 0.05)).toBeNull();
    expect(boundedMeanLowerBound({ n: 0, sum: 0, sumSquares: 0 }, 0.05)).toBeNull();
  });

  it('when every value is 0, then the upper end shrinks towards 0, staying above it, and the lower end is 0', () => {
    let previous = 1;
    for (const n of [10, 100, 1000, 10_000, 100_000, 1_000_000]) {
      const upper = boundedMeanUpperBound({ n, sum: 0, sumSquares: 0 }, 0.05)!;
      expect(upper).toBeGreaterThan(0);
      expect(upper).toBeLessThanOrEqual(previous);
      if (n >= 1000) expect(upper).toBeLessThan(7 / n);
      expect(boundedMeanLowerBound({ n, sum: 0, sumSquares: 0 }, 0.05)).toBe(0);
      previous = upper;
    }
    expect(previous).toBeLessThan(1e-5);
  });

  it('when every value is 1, then the lower end rises towards 1, staying below it, and the upper end is 1', () => {
    let previous = 0;
    for (const n of [10, 100, 1000, 10_000, 100_000, 1_000_000]) {
      const lower = boundedMeanLowerBound({ n, sum: n, sumSquares: n }, 0.05)!;
      expect(lower).toBeLessThan(1);
      expect(lower).toBeGreaterThanOrEqual(previous);
      if (n >= 1000) expect(1 - lower).toBeLessThan(7 / n);
      expect(boundedMeanUpperBound({ n, sum: n, sumSquares: n }, 0.05)).toBe(1);
      previous = lower;
    }
    expect(1 - previous).toBeLessThan(1e-5);
  });

  it('when the same evidence grows, then neither end widens, and the ends always hold the observed mean', () => {
    const cases = [
      [0.0015, 0.000565],
      [0.0044, 0.002192],
      [0.01, 0.01],
      [0.5, 1 / 3],
      [0.9, 0.85],
      [0.3, 0.09],
    ] as const;
    for (const [mean, second] of cases) {
      let upper = 1;
      let lower = 0;
      for (let n = 5; n <= 200_000; n = Math.ceil(n * 1.7)) {
        const s = sumsOf(n, mean, second);
        const u = boundedMeanUpperBound(s, 0.05)!;
        const l = boundedMeanLowerBound(s, 0.05)!;
        expect(u).toBeLessThanOrEqual(upper + 1e-12);
        expect(l).toBeGreaterThanOrEqual(lower - 1e-12);
        expect(u).toBeGreaterThanOrEqual(mean);
        expect(l).toBeLessThanOrEqual(mean);
        // Twice the evidence: never wider than at n.
        expect(boundedMeanUpperBound(sumsOf(2 * n, mean, second), 0.05)!).toBeLessThanOrEqual(u + 1e-12);
        expect(boundedMeanLowerBound(sumsOf(2 * n, mean, second), 0.05)!).toBeGreaterThanOrEqual(l - 1e-12);
        upper = u;
        lower = l;
      }
      expect(upper - lower).toBeLessThan(0.02);
    }
  });

  it('when a smaller alpha is asked for, then both ends move outwards', () => {
    const s = sumsOf(3000, 0.05, 0.03);
    expect(boundedMeanUpperBound(s, 0.01)!).toBeGreaterThan(boundedMeanUpperBound(s, 0.05)!);
    expect(boundedMeanLowerBound(s, 0.01)!).toBeLessThan(boundedMeanLowerBound(s, 0.05)!);
  });

  it('when sums carry float rounding, then they are accepted and clamped', () => {
    const u = mulberry32(3);
    const s = { n: 0, sum: 0, sumSquares: 0 };
    for (let i = 0; i < 10_000; i++) {
      const x = Math.round(u() * 10) / 10; // 0.1 steps: sums drift by rounding
      s.n += 1;
      s.sum += x;
      s.sumSquares += x * x;
    }
    expect(boundedMeanUpperBound(s, 0.05)).not.toBeNull();
    expect(boundedMeanUpperBound({ n: 10, sum: 10 + 1e-12, sumSquares: 10 + 2e-12 }, 0.05)).toBe(1);
    expect(boundedMeanLowerBound({ n: 3 + 1e-12, sum: -1e-12, sumSquares: 0 }, 0.05)).toBe(0);
    expect(boundedMeanUpperBound({ n: 4, sum: 2, sumSquares: 1 - 1e-12 }, 0.05)).not.toBeNull();
  });

  it('when the sums or alpha are not ones values in [0, 1] could give, then it throws RangeError', () => {
    const bad: [BoundedMeanSums, number][] = [
      [{ n: Number.NaN, sum: 0, sumSquares: 0 }, 0.05],
      [{ n: 10, sum: Number.POSITIVE_INFINITY, sumSquares: 0 }, 0.05],
      [{ n: -1, sum: 0, sumSquares: 0 }, 0.05],
      [{ n: 2.5, sum: 1, sumSquares: 1 }, 0.05],
      [{ n: 2 ** 60, sum: 0, sumSquares: 0 }, 0.05],
      [{ n: 10, sum: 11, sumSquares: 10 }, 0.05], // sum > n
      [{ n: 10, sum: -0.5, sumSquares: 0 }, 0.05],
      [{ n: 10, sum: 2, sumSquares: 3 }, 0.05], // Σx² > Σx: some x > 1
      [{ n: 10, sum: 5, sumSquares: 1 }, 0.05], // sum² = 25 > n·Σx² = 10
      [{ n: 0, sum: 1, sumSquares: 0 }, 0.05],
      [{ n: 10, sum: 5, sumSquares: 5 }, 0],
      [{ n: 10, sum: 5, sumSquares: 5 }, 1],
      [{ n: 10, sum: 5, sumSquares: 5 }, Number.NaN],
    ];
    for (const [s, alpha] of bad) {
      expect(() => boundedMeanUpperBound(s, alpha), JSON.stringify(s)).toThrow(RangeError);
      expect(() => boundedMeanLowerBound(s, alpha), JSON.stringify(s)).toThrow(RangeError);
    }
  });
});
