import { describe, expect, it } from 'vitest';
import { agreementLowerBoundFor, agreementUpperBoundFor } from '../../src/statistics/agreement-bound.js';
import {
  logMixtureMartingale,
  MIXTURE_CONCENTRATION,
  sequentialInterval,
  sequentialLowerBound,
  sequentialUpperBound,
} from '../../src/statistics/confidence-sequence.js';
import { digamma, logGamma } from '../../src/statistics/log-gamma.js';
import { wilsonLowerBound } from '../../src/statistics/wilson.js';

const ALPHA = 0.05;
const LEVEL = Math.log(1 / ALPHA); // ln 20 = 2.995732…

/**
 * ln M_n(p) for whole-number S and F straight from its definition, with no log-gamma:
 * B(a + S, b + F) / B(a, b) = Π_{i<S}(a + i) · Π_{j<F}(b + j) / Π_{k<n}(c + k), a = c·p, b = c·(1 − p).
 */
function logMartingaleByProducts(s: number, f: number, p: number): number {
  const c = MIXTURE_CONCENTRATION;
  let sum = -s * Math.log(p) - f * Math.log(1 - p);
  for (let i = 0; i < s; i++) sum += Math.log(c * p + i);
  for (let j = 0; j < f; j++) sum += Math.log(c * (1 - p) + j);
  for (let k = 0; k < s + f; k++) sum -= Math.log(c + k);
  return sum;
}

describe('logGamma and digamma', () => {
  it.each([
    [0.5, Math.log(Math.sqrt(Math.PI))], // Γ(1/2) = √π
    [1, 0],
    [2, 0],
    [5, Math.log(24)], // 4!
    [10, Math.log(362_880)], // 9!
    [12.5, Math.log((Math.sqrt(Math.PI) * 23 * 21 * 19 * 17 * 15 * 13 * 11 * 9 * 7 * 5 * 3) / 2 ** 12)],
  ])('when x is %s, then ln Γ(x) is the known value', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 11);
  });

  it('when x is large, then ln Γ(x + 1) − ln Γ(x) = ln x (the recurrence)', () => {
    expect(logGamma(20_001) - logGamma(20_000)).toBeCloseTo(Math.log(20_000), 9);
  });

  it.each([
    [1, -0.5772156649015329], // −γ
    [0.5, -0.5772156649015329 - 2 * Math.LN2], // −γ − 2 ln 2
    [10, -0.5772156649015329 + 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6 + 1 / 7 + 1 / 8 + 1 / 9], // −γ + H₉
  ])('when x is %s, then ψ(x) is the known value', (x, expected) => {
    expect(digamma(x)).toBeCloseTo(expected, 11);
  });

  it('when x is not positive, then both refuse it', () => {
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => digamma(-1)).toThrow(RangeError);
  });
});

describe('sequentialLowerBound', () => {
  it('when 2 of 2 decisions agree, then the bound is 1/970', () => {
    // c = 50, S = n = 2: M(p) = (50p)(50p + 1) / (50 · 51 · p²) = (50p + 1) / (51p).
    // M(p) = 20  ⇔  50p + 1 = 1020p  ⇔  p = 1/970 = 0.00103093
    // (The search stops a hair below the exact root, never above it.)
    const lower = sequentialLowerBound(2, 2, ALPHA)!;
    expect(lower).toBeCloseTo(1 / 970, 8);
    expect(lower).toBeLessThanOrEqual(1 / 970);
  });

  it('when 3 of 3 decisions agree, then the bound is the root of 50540p² − 150p − 2 = 0', () => {
    // M(p) = (50p + 1)(50p + 2) / (51 · 52 · p²) = 20  ⇔  2500p² + 150p + 2 = 53040p²
    // p = (150 + √(150² + 8 · 50540)) / (2 · 50540) = (150 + √426820) / 101080 = 0.00794732
    const exact = (150 + Math.sqrt(426_820)) / 101_080;
    const lower = sequentialLowerBound(3, 3, ALPHA)!;
    expect(lower).toBeCloseTo(exact, 7);
    expect(lower).toBeLessThanOrEqual(exact);
  });

  it('when a single decision agrees, then the bound is 0: the mixture is exactly 1, one look proves nothing', () => {
    // M(p) = (50p) / (50 · p) = 1 < 20 for every p.
    expect(logMixtureMartingale(1, 1, 0.3)).toBeCloseTo(0, 12);
    expect(sequentialLowerBound(1, 1, ALPHA)).toBe(0);
  });

  it('when 582 of 600 agree (97%), then the bound is 0.9444, where ln M crosses ln 20', () => {
    // Pinned value; the crossing is checked with the product form above, which shares no code
    // with the implementation: ln M is above ln 20 just below the bound and below it just above.
    const lower = sequentialLowerBound(582, 600, ALPHA)!;
    expect(lower).toBeCloseTo(0.94444, 5);
    expect(logMartingaleByProducts(582, 18, lower)).toBeCloseTo(LEVEL, 5);
    expect(logMartingaleByProducts(582, 18, lower - 1e-4)).toBeGreaterThan(LEVEL);
    expect(logMartingaleByProducts(582, 18, lower + 1e-4)).toBeLessThan(LEVEL);
  });

  it('when 2,375 of 2,500 agree (95%), then the bound is 0.9351 and it clears a 0.90 threshold', () => {
    const lower = sequentialLowerBound(2375, 2500, ALPHA)!;
    expect(lower).toBeCloseTo(0.93505, 5);
    expect(logMartingaleByProducts(2375, 125, lower)).toBeCloseTo(LEVEL, 4);
  });

  it('when nothing was compared, then there is no bound', () => {
    expect(sequentialLowerBound(0, 0, ALPHA)).toBeNull();
    expect(sequentialUpperBound(0, 0, ALPHA)).toBeNull();
    expect(sequentialInterval(0, 0, ALPHA)).toBeNull();
  });

  it('when no decision agrees, then the lower bound is 0', () => {
    expect(sequentialLowerBound(0, 500, ALPHA)).toBe(0);
  });

  it('when alpha is outside (0, 1), then it is refused', () => {
    expect(() => sequentialLowerBound(5, 10, 0)).toThrow(RangeError);
    expect(() => sequentialLowerBound(5, 10, 1)).toThrow(RangeError);
  });

  it('when scores are partial, then the bound lies between those of the neighbouring whole sums', () => {
    const partial = sequentialLowerBound(540.5, 600, ALPHA)!;
    expect(partial).toBeGreaterThan(sequentialLowerBound(540, 600, ALPHA)!);
    expect(partial).toBeLessThan(sequentialLowerBound(541, 600, ALPHA)!);
  });

  it('when a rounded sum is a hair outside [0, n], then it is read as 0 or n', () => {
    expect(sequentialLowerBound(600.0000000001, 600, ALPHA)).toBe(sequentialLowerBound(600, 600, ALPHA));
    expect(sequentialUpperBound(-1e-12, 600, ALPHA)).toBe(sequentialUpperBound(0, 600, ALPHA));
  });

  it('when the same rate is seen over more decisions, then the bound rises towards it', () => {
    const at = (n: number) => sequentialLowerBound(0.95 * n, n, ALPHA)!;
    expect(at(100)).toBeLessThan(at(1000));
    expect(at(1000)).toBeLessThan(at(10_000));
    expect(at(10_000)).toBeLessThan(0.95);
  });

  it('when compared with Wilson on one look, then it is wider: the price of checking at every tick', () => {
    expect(sequentialLowerBound(582, 600, ALPHA)!).toBeLessThan(wilsonLowerBound(582, 600, 0.95)!);
  });
});

describe('sequentialUpperBound', () => {
  it('when 0 of 2 agree, then the upper bound mirrors 2 of 2: 1 − 1/970', () => {
    expect(sequentialUpperBound(0, 2, ALPHA)).toBeCloseTo(1 - 1 / 970, 8);
    expect(sequentialUpperBound(0, 2, ALPHA)).toBeGreaterThanOrEqual(1 - 1 / 970);
  });

  it('when 85% of 600 agree, then the interval is [0.8025, 0.8912], wholly under a 0.90 threshold', () => {
    const interval = sequentialInterval(510, 600, ALPHA)!;
    expect(interval.lower).toBeCloseTo(0.80253, 5);
    expect(interval.upper).toBeCloseTo(0.89118, 5);
    expect(logMartingaleByProducts(510, 90, interval.upper)).toBeCloseTo(LEVEL, 4);
  });
});

describe('agreementLowerBoundFor / agreementUpperBoundFor', () => {
  it('when the method is fixed, then it is the two-sided Wilson bound at the confidence', () => {
    // 90 of 100, z = 1.959964, z² = 3.841459: centre (0.9 + z²/200) / (1 + z²/100) = 0.885203;
    // half-width z / 1.038415 · √(0.0009 + z²/40000) = 1.887458 · 0.031560 = 0.059568
    // → [0.825634, 0.944771].
    expect(agreementLowerBoundFor('fixed', 90, 100, 0.95)).toBeCloseTo(0.825634, 5);
    expect(agreementUpperBoundFor('fixed', 90, 100, 0.95)).toBeCloseTo(0.944771, 5);
  });

  it('when the method is sequential, then it is the confidence sequence at alpha = 1 − confidence', () => {
    expect(agreementLowerBoundFor('sequential', 2, 2, 0.95)).toBe(sequentialLowerBound(2, 2, 1 - 0.95));
    expect(agreementUpperBoundFor('sequential', 510, 600, 0.99)).toBe(
      sequentialUpperBound(510, 600, 1 - 0.99),
    );
  });

  it('when the same inputs come back, then the remembered bound is the one computed, per method and confidence', () => {
    const sequential = sequentialLowerBound(777, 800, 1 - 0.95);
    const wilson = wilsonLowerBound(777, 800, 0.95);
    const strict = sequentialLowerBound(777, 800, 1 - 0.99);
    for (let round = 0; round < 2; round++) {
      expect(agreementLowerBoundFor('sequential', 777, 800, 0.95)).toBe(sequential);
      expect(agreementLowerBoundFor('fixed', 777, 800, 0.95)).toBe(wilson);
      expect(agreementLowerBoundFor('sequential', 777, 800, 0.99)).toBe(strict);
    }
    expect(new Set([sequential, wilson, strict]).size).toBe(3);
    expect(agreementLowerBoundFor('sequential', 0, 0, 0.95)).toBeNull();
  });

  it('when the confidence is higher, then the lower bound is lower', () => {
    expect(agreementLowerBoundFor('sequential', 582, 600, 0.99)!).toBeLessThan(
      agreementLowerBoundFor('sequential', 582, 600, 0.95)!,
    );
  });
});
