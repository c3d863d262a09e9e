/**
 * The latency buckets of the rollups (the migrations compute the bucket in SQL the same way):
 * with growth g, bucket b holds latencies in [g^b − 1, g^(b+1) − 1) ms, so a bucket's middle is
 * within √g − 1 of 1 ms + any latency in it, and a percentile read from the buckets is as close
 * to the latency at that rank. `latency_histograms` (per cohort) grows by 2% (within 1%);
 * `hourly_latency_rollups` (per hour, the time series) by 10% (within 5%), to stay small.
 */
export const COHORT_GROWTH = 1.02;
export const HOURLY_GROWTH = 1.1;

export function latencyBucket(ms: number, growth = COHORT_GROWTH): number {
  return Math.floor(Math.log(1 + Math.max(ms, 0)) / Math.log(growth));
}

/** The middle of a bucket (geometric, in 1 + ms), in ms. */
export function bucketLatencyMs(bucket: number, growth = COHORT_GROWTH): number {
  return Math.exp((bucket + 0.5) * Math.log(growth)) - 1;
}

/** Between the middles of two buckets, `frac` of the way (percentile_cont's interpolation). */
export function interpolatedLatencyMs(lo: number, hi: number, frac: number, growth = COHORT_GROWTH): number {
  const low = bucketLatencyMs(lo, growth);
  return low + frac * (bucketLatencyMs(hi, growth) - low);
}

/**
 * The p-th percentile (0 ≤ p ≤ 1) of the latencies counted per bucket, the way percentile_cont
 * ranks them: the value at rank p(n − 1), between the buckets of the values at ⌊p(n − 1)⌋ and
 * ⌈p(n − 1)⌉. Null when nothing was counted.
 */
export function histogramPercentile(
  counts: ReadonlyMap<number, number>,
  p: number,
  growth = COHORT_GROWTH,
): number | null {
  const buckets = [...counts.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  const rank = p * (total - 1);
  const bucketAt = (k: number) => {
    let seen = 0;
    for (const [bucket, n] of buckets) {
      seen += n;
      if (seen > k) return bucket;
    }
    return buckets[buckets.length - 1]![0];
  };
  return percentileBetween(total, p, bucketAt(Math.floor(rank)), bucketAt(Math.ceil(rank)), growth);
}

/**
 * The p-th percentile of `total` counted latencies, given the buckets holding the values at ranks
 * ⌊p(total − 1)⌋ (`lo`) and ⌈p(total − 1)⌉ (`hi`): the interpolation of `histogramPercentile`,
 * for buckets ranked elsewhere (rollup-store.ts ranks them in SQL).
 */
export function percentileBetween(total: number, p: number, lo: number, hi: number, growth = COHORT_GROWTH) {
  const rank = p * (total - 1);
  return interpolatedLatencyMs(lo, hi, rank - Math.floor(rank), growth);
}
