import { describe, expect, it } from 'vitest';
import { confusionMatrix, perLabelPrecisionRecall } from '../../src/statistics/confusion-matrix.js';
import { cohensKappa } from '../../src/statistics/kappa.js';
import { normalQuantile, twoSidedZ } from '../../src/statistics/normal-quantile.js';
import { percentile } from '../../src/statistics/percentile.js';
import { wilsonInterval, wilsonLowerBound } from '../../src/statistics/wilson.js';

describe('normalQuantile', () => {
  // Reference points: Φ(1), Φ(2), Φ(3), Φ(−4) to 16 digits and classic table quantiles.
  it.each([
    [0.5, 0],
    [0.8413447460685429, 1],
    [0.9772498680518208, 2],
    [0.9986501019683699, 3],
    [3.1671241833119965e-5, -4],
    [0.975, 1.959963984540054],
    [0.995, 2.5758293035489004],
    [0.9, 1.2815515655446004],
    [0.05, -1.6448536269514729],
    [1e-20, -9.26234008979841],
  ])('when p = %s, then the quantile is %s to 1e-9', (p, z) => {
    expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-9);
  });

  it('when p and 1 − p are given, then the quantiles are opposite', () => {
    for (const p of [0.01, 0.2, 0.4, 1e-4]) expect(normalQuantile(1 - p)).toBeCloseTo(-normalQuantile(p), 9);
  });

  it('when p is 0 or 1, then ±Infinity; outside [0, 1] or NaN, then a RangeError', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
  });

  it('when the confidence is 0.95, then the two-sided z is 1.959964', () => {
    expect(twoSidedZ(0.95)).toBeCloseTo(1.959964, 6);
    expect(() => twoSidedZ(1)).toThrow(RangeError);
  });
});

describe('wilsonInterval', () => {
  it('when 90 of 100 agree at 95%, then the interval is [0.825634, 0.944771]', () => {
    // z = 1.959964, z² = 3.841459; p̂ = 0.9; d = 1 + z²/n = 1.03841459
    // centre = (p̂ + z²/2n) / d = (0.9 + 0.01920729) / 1.03841459 = 0.88520260
    // half = (z/d)·√(p̂(1−p̂)/n + z²/4n²) = 1.88745... · √(0.0009 + 0.00009604) = 0.05956826
    // lower = 0.82563434, upper = 0.94477086
    const interval = wilsonInterval(90, 100)!;
    expect(interval.lower).toBeCloseTo(0.8256343385, 9);
    expect(interval.upper).toBeCloseTo(0.9447708629, 9);
    expect(wilsonLowerBound(90, 100)).toBeCloseTo(0.8256343385, 9);
  });

  it('when 90 of 100 agree at 99%, then the lower bound is 0.796249', () => {
    // z = 2.575829, z² = 6.634897; d = 1.06634897
    // centre = (0.9 + 0.03317448) / 1.06634897 = 0.87511172
    // half = (2.575829/1.06634897) · √(0.0009 + 0.00016587) = 0.07886246 → lower = 0.79624926
    expect(wilsonLowerBound(90, 100, 0.99)).toBeCloseTo(0.7962492615, 9);
  });

  it('when the successes are a fractional sum of scores, then they are used as is', () => {
    // 7.5 of 10: p̂ = 0.75, d = 1.38414588; centre = (0.75 + 0.19207294) / d = 0.68061680
    // half = (1.959964/d) · √(0.01875 + 0.00960365) = 0.23843538 → lower = 0.44218142
    expect(wilsonLowerBound(7.5, 10)).toBeCloseTo(0.4421814243, 9);
  });

  it('when nothing or everything agrees, then the bounds stay inside [0, 1]', () => {
    // p̂ = 0: centre = half = (z²/2n)/d = 0.19207294/1.38414588 = 0.13876640 → [0, 0.27753280]
    expect(wilsonInterval(0, 10)).toEqual({ lower: 0, upper: expect.closeTo(0.2775327999, 9) });
    // p̂ = 1 mirrors it: lower = 1 − 0.27753280 = 0.72246720
    const all = wilsonInterval(10, 10)!;
    expect(all.lower).toBeCloseTo(0.7224672001, 9);
    expect(all.upper).toBe(1);
  });

  it('when a summed score overshoots n by rounding, then the proportion is clamped to 1', () => {
    expect(wilsonLowerBound(10.000000001, 10)).toBeCloseTo(0.7224672001, 9);
  });

  it('when there are no samples, then null', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(wilsonLowerBound(0, 0)).toBeNull();
    expect(wilsonLowerBound(Number.NaN, 10)).toBeNull();
  });
});

describe('cohensKappa', () => {
  it('when two raters give the textbook 2×2 table, then kappa is 0.4', () => {
    // 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15.
    // pₒ = 35/50 = 0.7; human yes 25/50, AI yes 30/50 → pₑ = 0.5·0.6 + 0.5·0.4 = 0.5
    // κ = (0.7 − 0.5) / (1 − 0.5) = 0.4
    const kappa = cohensKappa([
      { human: 'yes', ai: 'yes', count: 20 },
      { human: 'yes', ai: 'no', count: 5 },
      { human: 'no', ai: 'yes', count: 10 },
      { human: 'no', ai: 'no', count: 15 },
    ]);
    expect(kappa).toBeCloseTo(0.4, 12);
  });

  it('when three labels are used, then kappa is 89/129', () => {
    // 100 items, diagonal 25 + 15 + 40 = 80 → pₒ = 0.8
    // human a 30, b 25, c 45; AI a 30, b 25, c 45 → pₑ = (900 + 625 + 2025) / 10000 = 0.355
    // κ = 0.445 / 0.645 = 89/129 = 0.689922…
    const kappa = cohensKappa([
      { human: 'a', ai: 'a', count: 25 },
      { human: 'a', ai: 'b', count: 5 },
      { human: 'b', ai: 'a', count: 5 },
      { human: 'b', ai: 'b', count: 15 },
      { human: 'b', ai: 'c', count: 5 },
      { human: 'c', ai: 'b', count: 5 },
      { human: 'c', ai: 'c', count: 40 },
    ]);
    expect(kappa).toBeCloseTo(89 / 129, 12);
  });

  it('when the raters always disagree on two balanced labels, then kappa is −1', () => {
    // pₒ = 0, pₑ = 0.5·0.5 + 0.5·0.5 = 0.5 → κ = −0.5 / 0.5
    const kappa = cohensKappa([
      { human: 'a', ai: 'b', count: 10 },
      { human: 'b', ai: 'a', count: 10 },
    ]);
    expect(kappa).toBeCloseTo(-1, 12);
  });

  it('when the same pair appears in two rows, then the counts are summed', () => {
    const kappa = cohensKappa([
      { human: 'yes', ai: 'yes', count: 12 },
      { human: 'yes', ai: 'yes', count: 8 },
      { human: 'yes', ai: 'no', count: 5 },
      { human: 'no', ai: 'yes', count: 10 },
      { human: 'no', ai: 'no', count: 15 },
    ]);
    expect(kappa).toBeCloseTo(0.4, 12);
  });

  it('when there is no data or both sides always give one same label, then null', () => {
    expect(cohensKappa([])).toBeNull();
    expect(cohensKappa([{ human: 'a', ai: 'b', count: 0 }])).toBeNull();
    expect(cohensKappa([{ human: 'a', ai: 'a', count: 7 }])).toBeNull();
  });

  it('when a count is negative, then a RangeError', () => {
    expect(() => cohensKappa([{ human: 'a', ai: 'a', count: -1 }])).toThrow(RangeError);
  });
});

describe('confusionMatrix and perLabelPrecisionRecall', () => {
  const counts = [
    { human: 'approve', ai: 'approve', count: 8 },
    { human: 'approve', ai: 'reject', count: 2 },
    { human: 'reject', ai: 'reject', count: 5 },
    { human: 'reject', ai: 'zzz', count: 1 },
    { human: 'reject', ai: 'maybe', count: 1 },
    { human: 'approve', ai: 'approve', count: 1 },
  ];

  it('when counts mention labels outside the list, then they are appended sorted and nothing is dropped', () => {
    const cm = confusionMatrix(['approve', 'reject', 'escalate'], counts);
    expect(cm).toEqual({
      labels: ['approve', 'reject', 'escalate', 'maybe', 'zzz'],
      matrix: [
        [9, 2, 0, 0, 0],
        [0, 5, 0, 1, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
      ],
    });
  });

  it('when the matrix is read, then precision is per AI column and recall per human row', () => {
    const metrics = perLabelPrecisionRecall(confusionMatrix(['approve', 'reject', 'escalate'], counts));
    expect(metrics.map(({ hits: _, predicted: __, aiFailures: ___, ...rest }) => rest)).toEqual([
      // AI said approve 9 times, all right; the human said approve 11 times.
      { label: 'approve', precision: 1, recall: 9 / 11, support: 11 },
      // AI said reject 7 times, 5 right; the human said reject 7 times.
      { label: 'reject', precision: 5 / 7, recall: 5 / 7, support: 7 },
      // Nobody said escalate: both undefined.
      { label: 'escalate', precision: null, recall: null, support: 0 },
      // AI said maybe once, wrongly; the human never did.
      { label: 'maybe', precision: 0, recall: null, support: 0 },
      { label: 'zzz', precision: 0, recall: null, support: 0 },
    ]);
    expect(metrics.map((m) => [m.hits, m.predicted])).toEqual([
      [9, 9],
      [5, 7],
      [0, 0],
      [0, 1],
      [0, 1],
    ]);
  });

  it('when the label list repeats a label, then it appears once', () => {
    expect(confusionMatrix(['a', 'a', 'b'], []).labels).toEqual(['a', 'b']);
  });
});

describe('percentile', () => {
  it('when p falls between two ranks, then it interpolates linearly like percentile_cont', () => {
    // h = 0.4 · (5 − 1) = 1.6 → 20 + 0.6 · (35 − 20) = 29
    expect(percentile([50, 15, 40, 20, 35], 0.4)).toBeCloseTo(29, 12);
    // 1…10 at 0.95: h = 8.55 → 9 + 0.55 · 1 = 9.55
    expect(percentile([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 0.95)).toBeCloseTo(9.55, 12);
  });

  it('when p is 0, 0.5 or 1, then the minimum, the median or the maximum', () => {
    const values = [3, 1, 4, 1, 5, 9];
    expect(percentile(values, 0)).toBe(1);
    // sorted 1 1 3 4 5 9; h = 2.5 → 3 + 0.5 · 1
    expect(percentile(values, 0.5)).toBe(3.5);
    expect(percentile(values, 1)).toBe(9);
  });

  it('when given values, then the input array is not reordered', () => {
    const values = [3, 1, 2];
    percentile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });

  it('when the list is empty, then null; when p is outside [0, 1], then a RangeError', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.95)).toBe(7);
    expect(() => percentile([1], 95)).toThrow(RangeError);
  });
});
