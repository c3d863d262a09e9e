/**
 * Drift measures: how far a field's distribution in a trailing window (the current one) has moved
 * from its distribution in the evidence that earned the stage (the reference). Plain functions of
 * counts, so a store can keep both incrementally as integer counts per category or bucket, the
 * way the rollups are kept: a window is the sum of its time (or decision) buckets, it moves by
 * adding the newest bucket and subtracting the one that left, and nothing here reads a decision.
 *
 * Categorical fields (segment values, human and AI labels) are `Record<string, number>` counts;
 * numeric fields (AI confidence, AI latency, plan-declared context numbers) are counts per bucket
 * of a fixed `BucketScheme`. The measures:
 *
 * - PSI, the population stability index, Σ (q_i − p_i) · ln(q_i / p_i), p the reference's shares
 *   and q the current's, over categories or buckets. Conventional readings: below 0.1 stable,
 *   0.1–0.25 moderate, above 0.25 a major shift. Every term is ≥ 0, so a category's term is its
 *   contribution.
 * - Jensen–Shannon distance (categorical): the square root of the JS divergence in bits, in [0, 1],
 *   symmetric, 0 for identical and 1 for disjoint distributions; finite without any smoothing.
 * - Kolmogorov–Smirnov statistic and Wasserstein-1 distance (numeric), from the cumulative shares
 *   at the bucket bounds.
 *
 * Small counts. PSI is infinite when a cell is empty on one side only, and large when a rare cell
 * is small on one side by chance, so both sides are smoothed with add-½ (the Jeffreys prior, also
 * the Krichevsky–Trofimov estimator): each of the k categories or buckets in use (those with a
 * count on either side) gets half an observation before shares are taken,
 * p_i = (r_i + ½) / (R + k/2). Additive smoothing is what PSI implementations do in practice
 * (some add a fixed ε to every share instead); a pseudo-count is better than an ε because its
 * weight shrinks as the sample grows, so it tames a category seen once in 1,000 and leaves a
 * common category's share as it is. A value seen once in a current window of 1,000 and never in a
 * reference of 2,000 adds about 0.002 to PSI; one at 5% of the window, about 0.27.
 *
 * Bounds. Counts come from our own database, but values are whatever the workflow sends and the
 * schemes and thresholds are what plans declare: counts must be whole, finite and non-negative
 * (anything else is a bug upstream and throws, as in label-counts.ts), totals stay below 2^50 so
 * sums of counts are exact in a double, schemes are checked by `checkBucketScheme`, keys are only
 * ever read with own-property lookups (`__proto__` is an ordinary value here), and every function
 * is linear in the number of categories or buckets it is given.
 */

/** Where categories beyond the kept ones are counted. */
export const OTHER_CATEGORY = '__other__';

/**
 * At most this many categories are compared (and shown); the rest are folded into `__other__`.
 * Why 50: PSI has a noise floor that grows with the categories. With no drift at all, a field of
 * k equally likely categories has E[PSI] ≈ (k − 1)(1/R + 1/C) (PSI is close to a chi-square
 * statistic), 0.07 at 50 categories for a reference of 2,000 and a window of 1,000: still under the
 * 0.1 "stable" line and far under 0.25, where twice as many categories would cross 0.1 on stable
 * traffic. Segment fields and label sets are far smaller (a region, a supplier tier, three labels);
 * a field with hundreds of values (a customer id) is not a distribution to watch. 50 rows is also
 * as many as a side-by-side view can show.
 */
export const MAX_CATEGORIES = 50;

/** The largest total a distribution may hold: sums of counts below 2^53 are exact in a double. */
export const MAX_TOTAL = 2 ** 50;

/** The most buckets a scheme may have: resolution enough for any field, rows few enough per window. */
export const MAX_BUCKETS = 200;

/** The largest bound magnitude a scheme may declare (amounts in cents up to 10^15 fit). */
export const MAX_BOUND = 1e15;

/** Counts per category value. */
export type CategoryCounts = Readonly<Record<string, number>>;

/**
 * Bucket i holds values in [bounds[i], bounds[i + 1]); values below the first bound are counted
 * in bucket 0 and values at or above the last in the last bucket (clamped, so every value has a
 * bucket). In SQL the bucket of a value is `width_bucket(value, <bucketThresholds(scheme)>)`,
 * PostgreSQL's array form, which returns exactly this index, so a store keeps one integer count
 * per (field, bucket).
 */
export interface BucketScheme {
  readonly bounds: readonly number[];
}

/** Counts per bucket of a scheme, index i for bucket i. */
export type BucketCounts = readonly number[];

export interface CategoryDrift {
  value: string;
  reference: number;
  current: number;
  referenceShare: number;
  currentShare: number;
  /** This category's term of PSI (smoothed shares), ≥ 0. */
  psi: number;
}

export interface CategoricalDrift {
  referenceTotal: number;
  currentTotal: number;
  /** Null when either side holds no observations: there is nothing to compare. */
  psi: number | null;
  jsDistance: number | null;
  /** Share of the current window whose value the reference never saw (0 when the window is empty). */
  unseenShare: number;
  /** At most MAX_CATEGORIES, largest PSI contribution first (then by value). */
  categories: CategoryDrift[];
}

export interface NumericDrift {
  referenceTotal: number;
  currentTotal: number;
  /** Null when either side holds no observations. */
  psi: number | null;
  /** Largest gap between the cumulative shares at a bucket bound, in [0, 1]. */
  ks: number | null;
  /** Earth mover's distance between the histograms at their bucket midpoints, in the field's units. */
  wasserstein: number | null;
  /** `wasserstein` over the reference's interquartile range: by how many IQRs the mass moved. */
  normalisedWasserstein: number | null;
  /** The reference's interquartile range (values uniform within a bucket); null when empty. */
  referenceIqr: number | null;
}

// ---------------------------------------------------------------------------------------------
// Counts: checking, adding, subtracting, folding.

/** `where` names the count in the error; a function, so the message is built only on a throw. */
function checkCount(count: unknown, where: () => string): number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_TOTAL) {
    throw new RangeError(`count for ${where()} must be a whole number from 0 to 2^50, got ${String(count)}`);
  }
  return count;
}

function checkTotal(total: number, what: string): number {
  if (total > MAX_TOTAL) throw new RangeError(`${what} total must not exceed 2^50, got ${total}`);
  return total;
}

/** The counts as a Map (own keys only), checked, zero counts dropped. */
function categoryMap(counts: CategoryCounts, what: string): { map: Map<string, number>; total: number } {
  const map = new Map<string, number>();
  let total = 0;
  // Object.keys and an own-key read (an own `__proto__` shadows the accessor): several times
  // faster than Object.entries on the prototype-free records this module returns.
  for (const value of Object.keys(counts)) {
    const n = checkCount(counts[value], () => `${what} value ${JSON.stringify(value)}`);
    if (n > 0) {
      map.set(value, n);
      total += n;
    }
  }
  return { map, total: checkTotal(total, what) };
}

function recordOf(map: ReadonlyMap<string, number>): Record<string, number> {
  // A prototype-free record: a value named `__proto__` is a key like any other.
  const out = Object.create(null) as Record<string, number>;
  for (const [value, count] of map) out[value] = count;
  return out;
}

/** a + b, per value. For moving a window: add the bucket that entered. */
export function addCategoryCounts(a: CategoryCounts, b: CategoryCounts): Record<string, number> {
  const sum = categoryMap(a, 'added').map;
  for (const [value, n] of categoryMap(b, 'added').map) sum.set(value, (sum.get(value) ?? 0) + n);
  let total = 0;
  for (const n of sum.values()) total += n;
  checkTotal(total, 'sum');
  return recordOf(sum);
}

/** a − b, per value (zeros dropped). Throws when b holds more of a value than a: not a sub-window. */
export function subtractCategoryCounts(a: CategoryCounts, b: CategoryCounts): Record<string, number> {
  const rest = categoryMap(a, 'subtracted from').map;
  for (const [value, n] of categoryMap(b, 'subtracted').map) {
    const left = (rest.get(value) ?? 0) - n;
    if (left < 0) throw new RangeError(`cannot subtract ${n} of ${JSON.stringify(value)}: only ${n + left}`);
    if (left === 0) rest.delete(value);
    else rest.set(value, left);
  }
  return recordOf(rest);
}

/**
 * The values a store should keep by name: the `max − 1` most frequent (ties by value), the last
 * place left for `__other__`. Fixed from the reference, they make folding a linear map, so a
 * window folded bucket by bucket equals the window folded at once. Linear in the values.
 */
export function keptCategories(counts: CategoryCounts, max = MAX_CATEGORIES): Set<string> {
  if (!Number.isInteger(max) || max < 1 || max > MAX_CATEGORIES) {
    throw new RangeError(`max must be a whole number from 1 to ${MAX_CATEGORIES}, got ${max}`);
  }
  const { map } = categoryMap(counts, 'kept');
  map.delete(OTHER_CATEGORY);
  return new Set(topByWeight(map, max - 1, (n) => n).map(([value]) => value));
}

/** Counts of values outside `keep` summed into `__other__` (which `keep` need not name). */
export function foldCategories(counts: CategoryCounts, keep: ReadonlySet<string>): Record<string, number> {
  const out = new Map<string, number>();
  for (const [value, n] of categoryMap(counts, 'folded').map) {
    const key = keep.has(value) ? value : OTHER_CATEGORY;
    out.set(key, (out.get(key) ?? 0) + n);
  }
  return recordOf(out);
}

/**
 * The `size` entries of largest weight (ties by value in code-unit order), largest first. Kept in
 * a sorted array of at most `size` entries: O(n · size), linear in n for the constant size here.
 */
function topByWeight<T>(
  entries: ReadonlyMap<string, T>,
  size: number,
  weightOf: (t: T) => number,
): [string, T][] {
  const top: [string, T][] = [];
  if (size <= 0) return top;
  const before = (a: [string, T], b: [string, T]) => {
    const wa = weightOf(a[1]);
    const wb = weightOf(b[1]);
    return wa > wb || (wa === wb && a[0] < b[0]);
  };
  for (const entry of entries) {
    if (top.length === size) {
      if (!before(entry, top[size - 1]!)) continue;
      top.pop();
    }
    // Insertion into the sorted prefix.
    let i = top.length;
    top.push(entry);
    while (i > 0 && before(entry, top[i - 1]!)) {
      top[i] = top[i - 1]!;
      i--;
    }
    top[i] = entry;
  }
  return top;
}

// ---------------------------------------------------------------------------------------------
// Categorical fields.

/**
 * PSI, Jensen–Shannon distance and the unseen share between a reference and a current window.
 * When the two sides name more than MAX_CATEGORIES values together, the MAX_CATEGORIES − 1 with
 * the largest combined share (reference share + current share) are compared by name and the rest
 * are folded into `__other__`; the unseen share is taken before folding, so folding never hides a
 * new value.
 */
export function categoricalDrift(reference: CategoryCounts, current: CategoryCounts): CategoricalDrift {
  const ref = categoryMap(reference, 'reference');
  const cur = categoryMap(current, 'current');
  let unseen = 0;
  for (const [value, n] of cur.map) if (!ref.map.has(value)) unseen += n;

  const both = new Map<string, [number, number]>();
  for (const [value, n] of ref.map) both.set(value, [n, 0]);
  for (const [value, n] of cur.map) {
    const pair = both.get(value);
    if (pair) pair[1] = n;
    else both.set(value, [0, n]);
  }
  const cells = both.size > MAX_CATEGORIES ? foldPairs(both, ref.total, cur.total) : both;

  const k = cells.size;
  const comparable = ref.total > 0 && cur.total > 0;
  let psi = 0;
  let js = 0;
  const categories: CategoryDrift[] = [];
  for (const [value, [r, c]] of cells) {
    const referenceShare = ref.total > 0 ? r / ref.total : 0;
    const currentShare = cur.total > 0 ? c / cur.total : 0;
    const term = comparable ? psiTerm(r, ref.total, c, cur.total, k) : 0;
    psi += term;
    if (comparable) js += jsTerm(referenceShare, currentShare);
    categories.push({ value, reference: r, current: c, referenceShare, currentShare, psi: term });
  }
  categories.sort((a, b) => b.psi - a.psi || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return {
    referenceTotal: ref.total,
    currentTotal: cur.total,
    psi: comparable ? psi : null,
    jsDistance: comparable ? jsDistanceOf(js) : null,
    unseenShare: cur.total > 0 ? unseen / cur.total : 0,
    categories,
  };
}

function foldPairs(both: Map<string, [number, number]>, refTotal: number, curTotal: number) {
  const share = ([r, c]: [number, number]) =>
    (refTotal > 0 ? r / refTotal : 0) + (curTotal > 0 ? c / curTotal : 0);
  const named = new Map(both);
  named.delete(OTHER_CATEGORY);
  const kept = topByWeight(named, MAX_CATEGORIES - 1, share);
  const keep = new Set(kept.map(([value]) => value));
  const other: [number, number] = [0, 0];
  for (const [value, [r, c]] of both) {
    if (keep.has(value)) continue;
    other[0] += r;
    other[1] += c;
  }
  const out = new Map<string, [number, number]>(kept);
  out.set(OTHER_CATEGORY, other);
  return out;
}

/** One cell's PSI term with add-½ smoothing over the k cells in use (see the header). */
function psiTerm(r: number, refTotal: number, c: number, curTotal: number, k: number): number {
  const p = (r + 0.5) / (refTotal + k / 2);
  const q = (c + 0.5) / (curTotal + k / 2);
  return (q - p) * Math.log(q / p);
}

/** One cell's part of the JS divergence in bits: ½ p log2(p/m) + ½ q log2(q/m), m = (p + q)/2. */
function jsTerm(p: number, q: number): number {
  const m = (p + q) / 2;
  let term = 0;
  if (p > 0) term += p * Math.log2(p / m);
  if (q > 0) term += q * Math.log2(q / m);
  return term / 2;
}

/** The distance is the divergence's square root; rounding may push the divergence past [0, 1]. */
function jsDistanceOf(divergence: number): number {
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

// ---------------------------------------------------------------------------------------------
// Numeric fields.

/**
 * A scheme a plan may declare: 2 to MAX_BUCKETS + 1 finite bounds within ±MAX_BOUND, strictly
 * increasing, no bucket narrower than a billionth of the whole range (so the normalised
 * Wasserstein distance stays finite). Throws a RangeError saying what is wrong; returns the scheme.
 */
export function checkBucketScheme(scheme: BucketScheme): BucketScheme {
  const { bounds } = scheme;
  if (!Array.isArray(bounds) || bounds.length < 2 || bounds.length > MAX_BUCKETS + 1) {
    throw new RangeError(`a bucket scheme needs 2 to ${MAX_BUCKETS + 1} bounds`);
  }
  for (const b of bounds) {
    if (typeof b !== 'number' || !Number.isFinite(b) || Math.abs(b) > MAX_BOUND) {
      throw new RangeError(`bucket bounds must be finite numbers within ±1e15, got ${String(b)}`);
    }
  }
  const span = bounds[bounds.length - 1]! - bounds[0]!;
  for (let i = 1; i < bounds.length; i++) {
    if (!(bounds[i]! - bounds[i - 1]! >= span * 1e-9 && bounds[i]! > bounds[i - 1]!)) {
      throw new RangeError(
        `bucket bounds must increase, each bucket at least a billionth of the range, at ${bounds[i - 1]}, ${bounds[i]}`,
      );
    }
  }
  return scheme;
}

/** `count` buckets of equal width from `min` to `max`. */
export function equalWidthBuckets(min: number, max: number, count: number): BucketScheme {
  if (!Number.isInteger(count) || count < 1 || count > MAX_BUCKETS) {
    throw new RangeError(`bucket count must be a whole number from 1 to ${MAX_BUCKETS}, got ${count}`);
  }
  // (i·max + (count − i)·min) / count gives exact bounds when min = 0 (i/20 is the double of 0.05·i).
  const bounds = Array.from({ length: count + 1 }, (_, i) => (i * max + (count - i) * min) / count);
  return checkBucketScheme({ bounds });
}

/** AI confidence in [0, 1]: 20 buckets of 0.05. */
export const CONFIDENCE_BUCKETS: BucketScheme = equalWidthBuckets(0, 1, 20);

/**
 * AI latency in ms, log scale: a 1-2-5 series from 1 ms to 100 s (16 buckets, each 2 to 2.5 times
 * the one before, with [0, 1) below them); slower answers count in the last bucket.
 */
export const LATENCY_MS_BUCKETS: BucketScheme = checkBucketScheme({
  bounds: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000],
});

/** The inner bounds, the thresholds of `width_bucket(value, ARRAY[...])` in SQL. */
export function bucketThresholds(scheme: BucketScheme): number[] {
  return checkBucketScheme(scheme).bounds.slice(1, -1);
}

/** The bucket of a value, as SQL's `width_bucket` gives it: values outside the bounds clamp. */
export function bucketIndex(scheme: BucketScheme, value: number): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new RangeError('a bucketed value must be a number');
  const { bounds } = scheme;
  // Binary search over the inner bounds: the number of them ≤ value.
  let lo = 0;
  let hi = bounds.length - 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid + 1]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts of the given values per bucket (for tests and simulations; stores count in SQL). */
export function histogramOf(scheme: BucketScheme, values: Iterable<number>): number[] {
  const counts = new Array<number>(checkBucketScheme(scheme).bounds.length - 1).fill(0);
  for (const v of values) counts[bucketIndex(scheme, v)]!++;
  return counts;
}

function checkHistogram(scheme: BucketScheme, counts: BucketCounts, what: string): number {
  const buckets = scheme.bounds.length - 1;
  if (!Array.isArray(counts) || counts.length !== buckets) {
    throw new RangeError(`${what} histogram must have ${buckets} buckets, got ${counts?.length}`);
  }
  let total = 0;
  for (let i = 0; i < buckets; i++) total += checkCount(counts[i], () => `${what} bucket ${i}`);
  return checkTotal(total, what);
}

/** a + b, per bucket. */
export function addBucketCounts(scheme: BucketScheme, a: BucketCounts, b: BucketCounts): number[] {
  checkBucketScheme(scheme);
  checkTotal(checkHistogram(scheme, a, 'added') + checkHistogram(scheme, b, 'added'), 'sum');
  return a.map((n, i) => n + b[i]!);
}

/** a − b, per bucket. Throws when b holds more in a bucket than a: not a sub-window. */
export function subtractBucketCounts(scheme: BucketScheme, a: BucketCounts, b: BucketCounts): number[] {
  checkBucketScheme(scheme);
  checkHistogram(scheme, a, 'subtracted from');
  checkHistogram(scheme, b, 'subtracted');
  return a.map((n, i) => {
    if (b[i]! > n) throw new RangeError(`cannot subtract ${b[i]} from bucket ${i}: only ${n}`);
    return n - b[i]!;
  });
}

/**
 * PSI over buckets (add-½ over the buckets in use, as for categories), the KS statistic (the
 * largest gap between cumulative shares at the inner bounds) and the Wasserstein-1 distance with
 * each bucket's mass at its midpoint: Σ |F_ref(i) − F_cur(i)| · (mid_{i+1} − mid_i), exact for
 * those point masses. The end buckets hold clamped values, so a mass moved far past the last bound
 * counts only as far as that bucket's midpoint. Normalised by the reference's interquartile range,
 * read from its histogram with values spread evenly within each bucket (always > 0 when the
 * reference is not empty): 1 means the mass moved, on average, one reference IQR. Linear in the
 * buckets.
 */
export function numericDrift(
  scheme: BucketScheme,
  reference: BucketCounts,
  current: BucketCounts,
): NumericDrift {
  const { bounds } = checkBucketScheme(scheme);
  const refTotal = checkHistogram(scheme, reference, 'reference');
  const curTotal = checkHistogram(scheme, current, 'current');
  const referenceIqr =
    refTotal > 0
      ? quantile(bounds, reference, refTotal, 0.75) - quantile(bounds, reference, refTotal, 0.25)
      : null;
  if (refTotal === 0 || curTotal === 0) {
    return {
      referenceTotal: refTotal,
      currentTotal: curTotal,
      psi: null,
      ks: null,
      wasserstein: null,
      normalisedWasserstein: null,
      referenceIqr,
    };
  }
  let k = 0;
  for (let i = 0; i < reference.length; i++) if (reference[i]! > 0 || current[i]! > 0) k++;
  let psi = 0;
  let ks = 0;
  let wasserstein = 0;
  let refCum = 0;
  let curCum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]!;
    const c = current[i]!;
    if (r > 0 || c > 0) psi += psiTerm(r, refTotal, c, curTotal, k);
    refCum += r;
    curCum += c;
    if (i < reference.length - 1) {
      const gap = Math.abs(refCum / refTotal - curCum / curTotal);
      ks = Math.max(ks, gap);
      // Midpoints i and i + 1 are (b_i + b_{i+1})/2 and (b_{i+1} + b_{i+2})/2.
      wasserstein += (gap * (bounds[i + 2]! - bounds[i]!)) / 2;
    }
  }
  return {
    referenceTotal: refTotal,
    currentTotal: curTotal,
    psi,
    ks: Math.min(1, ks),
    wasserstein,
    normalisedWasserstein: wasserstein / referenceIqr!,
    referenceIqr,
  };
}

/** The q-quantile of a non-empty histogram, values spread evenly within each bucket. */
function quantile(bounds: readonly number[], counts: BucketCounts, total: number, q: number): number {
  const target = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && seen + n >= target) {
      return bounds[i]! + ((target - seen) / n) * (bounds[i + 1]! - bounds[i]!);
    }
    seen += n;
  }
  return bounds[bounds.length - 1]!;
}

// ---------------------------------------------------------------------------------------------
// Verdict.

export type DriftMeasureName =
  | 'psi'
  | 'jsDistance'
  | 'unseenShare'
  | 'ks'
  | 'wasserstein'
  | 'normalisedWasserstein';

const MEASURE_NAMES: readonly DriftMeasureName[] = [
  'psi',
  'jsDistance',
  'unseenShare',
  'ks',
  'wasserstein',
  'normalisedWasserstein',
];

/** A field is drifted when any named measure is above its threshold. */
export type DriftThresholds = Partial<Record<DriftMeasureName, number>>;

/** What a verdict reads: a CategoricalDrift or a NumericDrift. */
export type DriftMeasures = { referenceTotal: number; currentTotal: number } & Partial<
  Record<DriftMeasureName, number | null>
>;

export interface DriftCheck {
  measure: DriftMeasureName;
  threshold: number;
  /** Null when there is nothing to compare (an empty side). */
  actual: number | null;
  trips: boolean;
}

export interface DriftVerdict {
  /**
   * `insufficient` while the current window holds fewer than `minCurrent` observations or the
   * reference none (a guard judges only a full window); otherwise `drifted` when a check trips.
   */
  status: 'stable' | 'drifted' | 'insufficient';
  referenceTotal: number;
  currentTotal: number;
  minCurrent: number;
  checks: DriftCheck[];
}

/**
 * The verdict on one field. A threshold must be a finite number ≥ 0 and name a measure the field
 * has (a `ks` threshold on a categorical field throws: plans are checked before this runs).
 * Checks trip on actual > threshold, and only when the window is full.
 */
export function driftVerdict(
  measures: DriftMeasures,
  thresholds: DriftThresholds,
  minCurrent: number,
): DriftVerdict {
  if (!Number.isInteger(minCurrent) || minCurrent < 1 || minCurrent > MAX_TOTAL) {
    throw new RangeError(`minCurrent must be a whole number from 1 to 2^50, got ${minCurrent}`);
  }
  const referenceTotal = checkCount(measures.referenceTotal, () => 'the reference total');
  const currentTotal = checkCount(measures.currentTotal, () => 'the current total');
  const full = currentTotal >= minCurrent && referenceTotal > 0;
  const checks: DriftCheck[] = [];
  for (const measure of MEASURE_NAMES) {
    const threshold = thresholds[measure];
    if (threshold === undefined) continue;
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) {
      throw new RangeError(`the ${measure} threshold must be a finite number ≥ 0, got ${String(threshold)}`);
    }
    const actual = measures[measure];
    if (actual === undefined) throw new RangeError(`this field has no ${measure} measure`);
    if (actual !== null && !Number.isFinite(actual))
      throw new RangeError(`${measure} is not finite: ${actual}`);
    checks.push({ measure, threshold, actual, trips: full && actual !== null && actual > threshold });
  }
  const status = !full ? 'insufficient' : checks.some((c) => c.trips) ? 'drifted' : 'stable';
  return { status, referenceTotal, currentTotal, minCurrent, checks };
}
