import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../scripts/faults/seeded-random.js';
import {
  addBucketCounts,
  addCategoryCounts,
  bucketIndex,
  bucketThresholds,
  CONFIDENCE_BUCKETS,
  categoricalDrift,
  checkBucketScheme,
  driftVerdict,
  equalWidthBuckets,
  foldCategories,
  histogramOf,
  keptCategories,
  LATENCY_MS_BUCKETS,
  MAX_CATEGORIES,
  numericDrift,
  OTHER_CATEGORY,
  subtractBucketCounts,
  subtractCategoryCounts,
} from '../../src/statistics/drift.js';

const QUARTERS = { bounds: [0, 1, 2, 3, 4] };

describe('categorical drift', () => {
  it('computes PSI by hand: add-½ over the three categories in use', () => {
    const d = categoricalDrift({ a: 50, b: 30, c: 20 }, { a: 40, b: 30, c: 30 });
    // Smoothed shares (n + ½) / (100 + 3/2); b's shares are equal and contribute 0.
    const term = (r: number, c: number) => ((c - r) / 101.5) * Math.log((c + 0.5) / (r + 0.5));
    expect(d.psi).toBeCloseTo(term(50, 40) + term(20, 30), 12);
    expect(d.psi).toBeCloseTo(0.060884, 6);
    expect(d.categories.map((c) => c.value)).toEqual(['c', 'a', 'b']);
    expect(d.categories[2]!.psi).toBe(0);
    expect(d.categories[0]).toMatchObject({ value: 'c', reference: 20, current: 30, referenceShare: 0.2 });
  });

  it('approaches the unsmoothed PSI as counts grow', () => {
    const big = 1_000_000;
    const d = categoricalDrift(
      { a: 50 * big, b: 30 * big, c: 20 * big },
      { a: 40 * big, b: 30 * big, c: 30 * big },
    );
    expect(d.psi).toBeCloseTo(-0.1 * Math.log(0.8) + 0.1 * Math.log(1.5), 6);
  });

  it('gives Jensen–Shannon distance 0 for identical shares, 1 for disjoint ones, and a known value between', () => {
    expect(categoricalDrift({ a: 6, b: 3, c: 1 }, { a: 600, b: 300, c: 100 }).jsDistance).toBe(0);
    expect(categoricalDrift({ a: 6, b: 3 }, { c: 10, d: 1 }).jsDistance).toBeCloseTo(1, 12);
    // p = (1, 0), q = (½, ½): JSD = ½·log2(4/3) + ½·(½·log2(2/3) + ½·log2(2)).
    const jsd = 0.5 * Math.log2(4 / 3) + 0.5 * (0.5 * Math.log2(2 / 3) + 0.5);
    expect(categoricalDrift({ a: 10 }, { a: 5, b: 5 }).jsDistance).toBeCloseTo(Math.sqrt(jsd), 12);
    expect(Math.sqrt(jsd)).toBeCloseTo(0.557923, 6);
  });

  it('is symmetric: JS distance always, PSI when both sides hold as many observations', () => {
    const a = { x: 70, y: 20, z: 10 };
    const b = { x: 40, y: 35, w: 25 };
    const ab = categoricalDrift(a, b);
    const ba = categoricalDrift(b, a);
    expect(ab.psi).toBeCloseTo(ba.psi!, 12);
    expect(ab.jsDistance).toBeCloseTo(ba.jsDistance!, 12);
    const unequal = { x: 7, y: 2, z: 1 };
    expect(categoricalDrift(unequal, b).jsDistance).toBeCloseTo(categoricalDrift(b, unequal).jsDistance!, 12);
  });

  it('when a rare value appears once, or a rare reference value is missing, PSI stays near 0', () => {
    const once = categoricalDrift(
      { north: 1200, south: 600, east: 200 },
      { north: 600, south: 300, east: 99, new: 1 },
    );
    expect(once.psi).toBeLessThan(0.005);
    expect(once.unseenShare).toBeCloseTo(0.001, 12);
    const missing = categoricalDrift(
      { north: 1200, south: 599, east: 200, rare: 1 },
      { north: 600, south: 300, east: 100 },
    );
    expect(missing.psi).toBeLessThan(0.005);
    expect(missing.unseenShare).toBe(0);
    // A new value at 5% of the window is a major shift on its own.
    const common = categoricalDrift(
      { north: 1200, south: 600, east: 200 },
      { north: 570, south: 285, east: 95, new: 50 },
    );
    expect(common.psi).toBeGreaterThan(0.25);
  });

  it('counts values the reference never saw, listing them with a reference count of 0', () => {
    const d = categoricalDrift({ a: 100 }, { a: 80, x: 15, y: 5 });
    expect(d.unseenShare).toBeCloseTo(0.2, 12);
    expect(d.categories.find((c) => c.value === 'x')).toMatchObject({ reference: 0, current: 15 });
    expect(Number.isFinite(d.psi)).toBe(true);
  });

  it('keeps at most MAX_CATEGORIES, folding the rest into __other__ without hiding unseen values', () => {
    const reference: Record<string, number> = {};
    const current: Record<string, number> = {};
    for (let i = 0; i < 60; i++) reference[`v${i}`] = 100 - i;
    for (let i = 0; i < 60; i++) current[`v${i}`] = 100 - i;
    for (let i = 0; i < 30; i++) current[`new${i}`] = 1;
    const d = categoricalDrift(reference, current);
    expect(d.categories).toHaveLength(MAX_CATEGORIES);
    const other = d.categories.find((c) => c.value === OTHER_CATEGORY)!;
    const sum = (o: Record<string, number>) => Object.values(o).reduce((t, n) => t + n, 0);
    expect(d.categories.reduce((t, c) => t + c.reference, 0)).toBe(sum(reference));
    expect(d.categories.reduce((t, c) => t + c.current, 0)).toBe(sum(current));
    expect(other.current).toBeGreaterThanOrEqual(30);
    expect(d.unseenShare).toBeCloseTo(30 / sum(current), 12);
    expect(d.categories.some((c) => c.value === 'v0')).toBe(true);
  });

  it('stays bounded on a hundred thousand distinct values', () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) many[`id-${i}`] = 1 + (i % 7);
    const d = categoricalDrift(many, { 'id-1': 5 });
    expect(d.categories).toHaveLength(MAX_CATEGORIES);
    expect(d.psi).toBeGreaterThan(0);
    expect(d.jsDistance).toBeLessThanOrEqual(1);
  });

  it('treats __proto__ and constructor as ordinary values', () => {
    const counts = JSON.parse('{"__proto__": 5, "constructor": 3, "a": 2}') as Record<string, number>;
    const d = categoricalDrift(counts, counts);
    expect(d.psi).toBe(0);
    expect(d.categories.map((c) => c.value).sort()).toEqual(['__proto__', 'a', 'constructor']);
    const sum = addCategoryCounts(counts, counts);
    expect(Object.hasOwn(sum, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(sum, '__proto__')?.value).toBe(10);
    expect(categoricalDrift({ a: 1 }, { constructor: 1 }).unseenShare).toBe(1);
  });

  it('reports no PSI or JS distance when a side is empty', () => {
    const noCurrent = categoricalDrift({ a: 5 }, {});
    expect(noCurrent).toMatchObject({ psi: null, jsDistance: null, unseenShare: 0, currentTotal: 0 });
    expect(categoricalDrift({}, { a: 5 })).toMatchObject({ psi: null, jsDistance: null, unseenShare: 1 });
  });

  it('rejects counts that are not whole, finite, non-negative and below 2^50 in total', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, 2 ** 51]) {
      expect(() => categoricalDrift({ a: bad }, { a: 1 })).toThrow(RangeError);
      expect(() => categoricalDrift({ a: 1 }, { a: bad })).toThrow(RangeError);
    }
    expect(() => categoricalDrift({ a: 2 ** 50, b: 2 ** 50 }, { a: 1 })).toThrow(/total/);
    const huge = categoricalDrift({ a: 2 ** 49, b: 2 ** 49 }, { a: 2 ** 49, b: 2 ** 49 });
    expect(huge.psi).toBe(0);
  });

  it('on a stable field of k categories, averages PSI near (k − 1)(1/R + 1/C)', () => {
    const random = seededRandom(7);
    const k = 10;
    const draw = (n: number) => {
      const counts: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const v = `v${Math.floor(random.next() * k)}`;
        counts[v] = (counts[v] ?? 0) + 1;
      }
      return counts;
    };
    let total = 0;
    const runs = 300;
    for (let i = 0; i < runs; i++) total += categoricalDrift(draw(2000), draw(1000)).psi!;
    const floor = (k - 1) * (1 / 2000 + 1 / 1000);
    expect(total / runs).toBeGreaterThan(floor * 0.8);
    expect(total / runs).toBeLessThan(floor * 1.2);
  });
});

describe('category counts kept incrementally', () => {
  it('adds and subtracts window buckets back to where they were', () => {
    const day1 = { a: 3, b: 1 };
    const day2 = { b: 2, c: 4 };
    const window = addCategoryCounts(day1, day2);
    expect({ ...window }).toEqual({ a: 3, b: 3, c: 4 });
    expect({ ...subtractCategoryCounts(window, day1) }).toEqual({ b: 2, c: 4 });
    expect(() => subtractCategoryCounts(day1, day2)).toThrow(/cannot subtract/);
  });

  it('folds with a fixed kept set the same bucket by bucket as all at once', () => {
    const reference = { a: 50, b: 30, c: 10, d: 5, e: 5 };
    const keep = keptCategories(reference, 3);
    expect([...keep].sort()).toEqual(['a', 'b']);
    const x = { a: 1, c: 2, z: 3 };
    const y = { b: 4, d: 5, __other__: 1 };
    const once = foldCategories(addCategoryCounts(x, y), keep);
    const twice = addCategoryCounts(foldCategories(x, keep), foldCategories(y, keep));
    expect({ ...once }).toEqual({ ...twice });
    expect({ ...once }).toEqual({ a: 1, b: 4, __other__: 11 });
  });

  it('breaks ties between equally frequent values by value', () => {
    expect([...keptCategories({ b: 1, a: 1, c: 1 }, 3)]).toEqual(['a', 'b']);
  });
});

describe('bucket schemes', () => {
  it('buckets values as PostgreSQL width_bucket does over the inner bounds', () => {
    // width_bucket(v, ARRAY[0.05, 0.1, …, 0.95]) gives 0 below 0.05, 19 from 0.95, clamping beyond.
    expect(bucketThresholds(CONFIDENCE_BUCKETS)).toHaveLength(19);
    expect(bucketThresholds(CONFIDENCE_BUCKETS)[0]).toBe(0.05);
    const cases: [number, number][] = [
      [-1, 0],
      [0, 0],
      [0.04999, 0],
      [0.05, 1],
      [0.5, 10],
      [0.95, 19],
      [1, 19],
      [7, 19],
      [Number.POSITIVE_INFINITY, 19],
    ];
    for (const [value, bucket] of cases) expect(bucketIndex(CONFIDENCE_BUCKETS, value)).toBe(bucket);
    expect(bucketIndex(LATENCY_MS_BUCKETS, 150)).toBe(7);
    expect(bucketIndex(LATENCY_MS_BUCKETS, 10 ** 9)).toBe(15);
    expect(() => bucketIndex(CONFIDENCE_BUCKETS, Number.NaN)).toThrow(RangeError);
  });

  it('rejects schemes a plan could declare badly', () => {
    const bad = [
      [1],
      [0, 0],
      [0, 2, 1],
      [0, Number.NaN],
      [0, Number.POSITIVE_INFINITY],
      [0, 1e16],
      [0, 1e-12, 1e6],
      Array.from({ length: 202 }, (_, i) => i),
    ];
    for (const bounds of bad) expect(() => checkBucketScheme({ bounds })).toThrow(RangeError);
    expect(() => equalWidthBuckets(0, 1, 0)).toThrow(RangeError);
    expect(equalWidthBuckets(10, 20, 4).bounds).toEqual([10, 12.5, 15, 17.5, 20]);
  });

  it('adds and subtracts histograms of the same scheme only', () => {
    expect(addBucketCounts(QUARTERS, [1, 0, 2, 0], [0, 3, 1, 0])).toEqual([1, 3, 3, 0]);
    expect(subtractBucketCounts(QUARTERS, [1, 3, 3, 0], [0, 3, 1, 0])).toEqual([1, 0, 2, 0]);
    expect(() => subtractBucketCounts(QUARTERS, [1, 0, 0, 0], [0, 1, 0, 0])).toThrow(/cannot subtract/);
    expect(() => addBucketCounts(QUARTERS, [1, 0, 0], [1, 0, 0])).toThrow(/4 buckets/);
  });
});

describe('numeric drift', () => {
  it('moves all the mass from the first bucket to the last: KS 1, Wasserstein 3 midpoints apart', () => {
    const d = numericDrift(QUARTERS, [10, 0, 0, 0], [0, 0, 0, 10]);
    expect(d.ks).toBe(1);
    expect(d.wasserstein).toBeCloseTo(3, 12);
    // Two buckets in use, each smoothed to (10 + ½) / 11 on one side and ½ / 11 on the other.
    expect(d.psi).toBeCloseTo(2 * (10 / 11) * Math.log(21), 12);
    // The reference is uniform over [0, 1): IQR 0.5.
    expect(d.referenceIqr).toBeCloseTo(0.5, 12);
    expect(d.normalisedWasserstein).toBeCloseTo(6, 12);
  });

  it('shifts half the mass by one bucket: KS 0.5, Wasserstein 1, one reference IQR', () => {
    const d = numericDrift(QUARTERS, [1, 1, 0, 0], [0, 1, 1, 0]);
    expect(d.ks).toBeCloseTo(0.5, 12);
    expect(d.wasserstein).toBeCloseTo(1, 12);
    expect(d.referenceIqr).toBeCloseTo(1, 12);
    expect(d.normalisedWasserstein).toBeCloseTo(1, 12);
  });

  it('measures Wasserstein in the field units over uneven buckets', () => {
    const ref = histogramOf(LATENCY_MS_BUCKETS, [120, 130, 180]);
    const cur = histogramOf(LATENCY_MS_BUCKETS, [210, 300, 499]);
    // Midpoints of [100, 200) and [200, 500): 150 ms and 350 ms.
    expect(numericDrift(LATENCY_MS_BUCKETS, ref, cur).wasserstein).toBeCloseTo(200, 9);
  });

  it('is 0 for equal shares and symmetric in KS, Wasserstein and (equal totals) PSI', () => {
    const same = numericDrift(
      CONFIDENCE_BUCKETS,
      histogramOf(CONFIDENCE_BUCKETS, [0.9, 0.7]),
      histogramOf(CONFIDENCE_BUCKETS, [0.9, 0.9, 0.7, 0.7]),
    );
    expect(same).toMatchObject({ psi: 0, ks: 0, wasserstein: 0, normalisedWasserstein: 0 });
    const a = [3, 1, 0, 4];
    const b = [0, 2, 5, 1];
    const ab = numericDrift(QUARTERS, a, b);
    const ba = numericDrift(QUARTERS, b, a);
    expect(ab.ks).toBeCloseTo(ba.ks!, 12);
    expect(ab.wasserstein).toBeCloseTo(ba.wasserstein!, 12);
    expect(ab.psi).toBeCloseTo(ba.psi!, 12);
  });

  it('reports nothing to compare when a side is empty, and rejects bad counts', () => {
    expect(numericDrift(QUARTERS, [0, 0, 0, 0], [1, 0, 0, 0])).toMatchObject({
      psi: null,
      ks: null,
      referenceIqr: null,
    });
    expect(numericDrift(QUARTERS, [1, 0, 0, 0], [0, 0, 0, 0])).toMatchObject({
      wasserstein: null,
      currentTotal: 0,
    });
    expect(() => numericDrift(QUARTERS, [Number.NaN, 0, 0, 0], [1, 0, 0, 0])).toThrow(RangeError);
    expect(() => numericDrift(QUARTERS, [1, 0, 0, 0], [1, 0, 0, -1])).toThrow(RangeError);
    expect(() => numericDrift(QUARTERS, [1, 0, 0, 0], [1, 0, 0])).toThrow(RangeError);
  });
});

describe('drift verdict', () => {
  const shifted = categoricalDrift(
    { north: 600, south: 300, east: 100 },
    { north: 100, south: 300, east: 600 },
  );

  it('is insufficient while the current window is not full, however large the shift', () => {
    const partial = categoricalDrift(
      { north: 600, south: 300, east: 100 },
      { north: 99, south: 300, east: 600 },
    );
    expect(partial.psi).toBeGreaterThan(1);
    const v = driftVerdict(partial, { psi: 0.25 }, 1000);
    expect(v.status).toBe('insufficient');
    expect(v.checks).toEqual([{ measure: 'psi', threshold: 0.25, actual: partial.psi, trips: false }]);
  });

  it('is drifted on a full window above the threshold, stable at or below it', () => {
    expect(driftVerdict(shifted, { psi: 0.25 }, 1000).status).toBe('drifted');
    expect(driftVerdict(shifted, { psi: shifted.psi! }, 1000).status).toBe('stable');
    expect(driftVerdict(shifted, { psi: 5, jsDistance: 0.3 }, 1000).checks.map((c) => c.trips)).toEqual([
      false,
      true,
    ]);
  });

  it('is insufficient with an empty reference', () => {
    expect(driftVerdict(categoricalDrift({}, { a: 2000 }), { psi: 0.25 }, 1000).status).toBe('insufficient');
  });

  it('rejects thresholds that are not finite and non-negative, or name a measure the field lacks', () => {
    expect(() => driftVerdict(shifted, { psi: Number.NaN }, 1000)).toThrow(RangeError);
    expect(() => driftVerdict(shifted, { psi: -0.1 }, 1000)).toThrow(RangeError);
    expect(() => driftVerdict(shifted, { ks: 0.1 }, 1000)).toThrow(/no ks measure/);
    expect(() => driftVerdict(shifted, { psi: 0.25 }, 0)).toThrow(RangeError);
    const numeric = numericDrift(QUARTERS, [5, 5, 0, 0], [0, 0, 5, 5]);
    expect(driftVerdict(numeric, { ks: 0.5, normalisedWasserstein: 1 }, 10).status).toBe('drifted');
  });
});
