import { describe, expect, it } from 'vitest';
import { cohensKappaInterval } from '../../src/statistics/kappa.js';
import type { LabelPairCount } from '../../src/statistics/label-counts.js';
import { seededRandom } from '../../scripts/faults/seeded-random.js';

const Z95 = 1.959963984540054;

/** mulberry32 (the fault suite's seeded generator): a seeded stream of uniforms in [0, 1). */
function mulberry32(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.next();
}

/** Kappa of a matrix of shares (rows the human's label, columns the AI's), not renormalised. */
function kappaOfShares(p: number[][]): number {
  const k = p.length;
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < k; i++) {
    observed += p[i]![i]!;
    let row = 0;
    let column = 0;
    for (let j = 0; j < k; j++) {
      row += p[i]![j]!;
      column += p[j]![i]!;
    }
    expected += row * column;
  }
  return (observed - expected) / (1 - expected);
}

/**
 * An independent standard error: the multinomial delta method with a numerical gradient,
 * Var ≈ (Σ pᵢⱼ dᵢⱼ² − (Σ pᵢⱼ dᵢⱼ)²) / n with dᵢⱼ = ∂κ/∂pᵢⱼ by central differences.
 */
function deltaMethodSe(counts: number[][]): number {
  const n = counts.flat().reduce((a, b) => a + b, 0);
  const p = counts.map((row) => row.map((c) => c / n));
  let first = 0;
  let second = 0;
  const h = 1e-6;
  for (let i = 0; i < p.length; i++) {
    for (let j = 0; j < p.length; j++) {
      const up = p.map((row) => [...row]);
      const down = p.map((row) => [...row]);
      up[i]![j]! += h;
      down[i]![j]! -= h;
      const d = (kappaOfShares(up) - kappaOfShares(down)) / (2 * h);
      first += p[i]![j]! * d;
      second += p[i]![j]! * d * d;
    }
  }
  return Math.sqrt((second - first * first) / n);
}

function toPairs(labels: readonly string[], counts: number[][]): LabelPairCount[] {
  return counts.flatMap((row, i) => row.map((count, j) => ({ human: labels[i]!, ai: labels[j]!, count })));
}

describe('cohensKappaInterval', () => {
  it('when given the textbook 2×2 table, then se² is 252/15625 by hand', () => {
    // yes/yes 20, yes/no 5, no/yes 10, no/no 15 (n = 50): human yes 0.5, AI yes 0.6, pₑ = 0.5, κ = 0.4.
    // Diagonal:  0.4·(1 − 1.1·0.6)² + 0.3·(1 − 0.9·0.6)² = 0.04624 + 0.06348 = 0.10972
    // Off:       0.6²·[0.1·(0.6 + 0.5)² + 0.2·(0.4 + 0.5)²] = 0.36·0.283 = 0.10188
    // Last:      (0.4 − 0.5·0.6)² = 0.01
    // se² = (0.10972 + 0.10188 − 0.01) / (50·0.5²) = 0.2016 / 12.5 = 0.016128 = 252/15625
    const result = cohensKappaInterval(
      [
        { human: 'yes', ai: 'yes', count: 20 },
        { human: 'yes', ai: 'no', count: 5 },
        { human: 'no', ai: 'yes', count: 10 },
        { human: 'no', ai: 'no', count: 15 },
      ],
      0.95,
    )!;
    const se = Math.sqrt(252 / 15625); // 0.126996…
    expect(result.kappa).toBeCloseTo(0.4, 12);
    expect(result.lower).toBeCloseTo(0.4 - Z95 * se, 12); // 0.151094…
    expect(result.upper).toBeCloseTo(0.4 + Z95 * se, 12); // 0.648906…
  });

  it('when given a 3×3 table, then se² is 1011904/276922881 by hand', () => {
    // n = 100; human and AI shares a 0.30, b 0.25, c 0.45; pₒ = 0.8, pₑ = 0.355, κ = 89/129,
    // 1 − κ = 40/129.
    // Diagonal:  0.25(1 − 0.6·40/129)² + 0.15(1 − 0.5·40/129)² + 0.40(1 − 0.9·40/129)² = 62/129
    // Off:       (40/129)²·[2·0.05·0.55² + 2·0.05·0.7²] = (40/129)²·0.07925 = 634/83205
    // Last:      (89/129 − 0.355·40/129)² = (74.8/129)² = 139876/416025
    // se² = (62/129 + 634/83205 − 139876/416025) / (100·0.645²) = 1011904/276922881 (se 0.060449…)
    const counts = [
      [25, 5, 0],
      [5, 15, 5],
      [0, 5, 40],
    ];
    const result = cohensKappaInterval(toPairs(['a', 'b', 'c'], counts), 0.95)!;
    const se = Math.sqrt(1011904 / 276922881);
    expect(result.kappa).toBeCloseTo(89 / 129, 12);
    expect(result.lower).toBeCloseTo(89 / 129 - Z95 * se, 12);
    expect(result.upper).toBeCloseTo(89 / 129 + Z95 * se, 12);
    // The same from the delta method, computed independently.
    expect((result.upper - result.lower) / (2 * Z95)).toBeCloseTo(deltaMethodSe(counts), 7);
  });

  it('when tables are uneven, then the standard error matches the delta method', () => {
    const u = mulberry32(17);
    for (let t = 0; t < 20; t++) {
      const k = 2 + (t % 3);
      // Mostly diagonal, with empty cells, and now and then a label the human never used.
      const counts = Array.from({ length: k }, (_, i) =>
        Array.from({ length: k }, (_, j) =>
          i === j ? 20 + Math.floor(u() * 80) : u() < 0.3 ? 0 : Math.floor(u() * 15),
        ),
      );
      counts[k - 1] = counts[k - 1]!.map((c, j) => (j === k - 1 ? c : 0));
      if (t % 4 === 0) counts[0] = counts[0]!.map(() => 0);
      const labels = ['approve', 'reject', 'escalate', 'hold'].slice(0, k);
      const result = cohensKappaInterval(toPairs(labels, counts), 0.9);
      if (result === null) continue;
      const se = (result.upper - result.lower) / (2 * 1.6448536269514722);
      if (result.lower > -1 && result.upper < 1) expect(se).toBeCloseTo(deltaMethodSe(counts), 6);
    }
  });

  it('when 500 decisions are drawn 2,000 times from a known 3×3 joint, then the 95% interval covers the population kappa 93–97% of the time', () => {
    const joint = [
      [0.5, 0.03, 0.02],
      [0.04, 0.25, 0.03],
      [0.03, 0.02, 0.08],
    ];
    const truth = kappaOfShares(joint); // 0.7036…
    const cumulative: number[] = [];
    let acc = 0;
    for (const p of joint.flat()) {
      acc += p;
      cumulative.push(acc);
    }
    const labels = ['approve', 'reject', 'escalate'];
    const u = mulberry32(2024);
    let covered = 0;
    const samples = 2000;
    for (let s = 0; s < samples; s++) {
      const counts = new Array<number>(9).fill(0);
      for (let i = 0; i < 500; i++) {
        const r = u();
        let cell = 0;
        while (cell < 8 && r >= cumulative[cell]!) cell++;
        counts[cell]! += 1;
      }
      const table = [counts.slice(0, 3), counts.slice(3, 6), counts.slice(6, 9)];
      const result = cohensKappaInterval(toPairs(labels, table), 0.95)!;
      if (result.lower <= truth && truth <= result.upper) covered++;
    }
    expect(covered / samples).toBeGreaterThanOrEqual(0.93);
    expect(covered / samples).toBeLessThanOrEqual(0.97);
  });

  it('when agreement is perfect, then the interval is the single point 1', () => {
    const result = cohensKappaInterval(
      [
        { human: 'a', ai: 'a', count: 30 },
        { human: 'b', ai: 'b', count: 20 },
      ],
      0.95,
    );
    expect(result).toEqual({ kappa: 1, lower: 1, upper: 1 });
  });

  it('when few decisions put kappa near 1, then the upper end is clipped to 1', () => {
    const result = cohensKappaInterval(
      [
        { human: 'a', ai: 'a', count: 9 },
        { human: 'a', ai: 'b', count: 1 },
        { human: 'b', ai: 'b', count: 9 },
      ],
      0.99,
    )!;
    expect(result.upper).toBe(1);
    expect(result.lower).toBeLessThan(result.kappa);
    expect(result.lower).toBeGreaterThan(-1);
  });

  it('when the same pair appears in two rows, then the counts are summed', () => {
    const once = cohensKappaInterval(
      [
        { human: 'yes', ai: 'yes', count: 20 },
        { human: 'yes', ai: 'no', count: 5 },
        { human: 'no', ai: 'yes', count: 10 },
        { human: 'no', ai: 'no', count: 15 },
      ],
      0.95,
    )!;
    const split = cohensKappaInterval(
      [
        { human: 'yes', ai: 'yes', count: 12 },
        { human: 'no', ai: 'yes', count: 4 },
        { human: 'yes', ai: 'no', count: 5 },
        { human: 'yes', ai: 'yes', count: 8 },
        { human: 'no', ai: 'yes', count: 6 },
        { human: 'no', ai: 'no', count: 15 },
      ],
      0.95,
    )!;
    expect(split.lower).toBeCloseTo(once.lower, 12);
    expect(split.upper).toBeCloseTo(once.upper, 12);
  });

  it('when kappa is undefined, then null; when the confidence or a count is nonsense, then RangeError', () => {
    expect(cohensKappaInterval([], 0.95)).toBeNull();
    expect(cohensKappaInterval([{ human: 'a', ai: 'a', count: 7 }], 0.95)).toBeNull();
    const table = [
      { human: 'a', ai: 'a', count: 7 },
      { human: 'b', ai: 'b', count: 7 },
    ];
    for (const confidence of [0, 1, 1.5, Number.NaN]) {
      expect(() => cohensKappaInterval(table, confidence)).toThrow(RangeError);
    }
    expect(() => cohensKappaInterval([{ human: 'a', ai: 'b', count: -1 }], 0.95)).toThrow(RangeError);
  });

  it('when a higher confidence is asked for, then the interval widens around the same kappa', () => {
    const counts = [
      [25, 5, 0],
      [5, 15, 5],
      [0, 5, 40],
    ];
    const at90 = cohensKappaInterval(toPairs(['a', 'b', 'c'], counts), 0.9)!;
    const at99 = cohensKappaInterval(toPairs(['a', 'b', 'c'], counts), 0.99)!;
    expect(at99.kappa).toBe(at90.kappa);
    expect(at99.lower).toBeLessThan(at90.lower);
    expect(at99.upper).toBeGreaterThan(at90.upper);
  });
});
