/**
 * The latency buckets of `latency_rollups` (migration 0004 computes the bucket in SQL the same
 * way): bucket b holds latencies in [1.02^b − 1, 1.02^(b+1) − 1) ms, so a bucket's middle is
 * within 1% of any latency in it, and a percentile read from the buckets is within 1% of the
 * latency at that rank.
 */
const GROWTH = Math.log(1.02);

export function latencyBucket(ms: number): number {
  return Math.floor(Math.log(1 + Math.max(ms, 0)) / GROWTH);
}

/** The middle of a bucket (geometric, in 1 + ms), in ms. */
export function bucketLatencyMs(bucket: number): number {
  return Math.exp((bucket + 0.5) * GROWTH) - 1;
}

/** Between the middles of two buckets, `frac` of the way (percentile_cont's interpolation). */
export function interpolatedLatencyMs(lo: number, hi: number, frac: number): number {
  const low = bucketLatencyMs(lo);
  return low + frac * (bucketLatencyMs(hi) - low);
}

/**
 * The p-th percentile (0 ≤ p ≤ 1) of the latencies counted per bucket, the way percentile_cont
 * ranks them: the value at rank p(n − 1), between the buckets of the values at ⌊p(n − 1)⌋ and
 * ⌈p(n − 1)⌉. Null when nothing was counted.
 */
export function histogramPercentile(counts: ReadonlyMap<number, number>, p: number): number | null {
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
  return interpolatedLatencyMs(
    bucketAt(Math.floor(rank)),
    bucketAt(Math.ceil(rank)),
    rank - Math.floor(rank),
  );
}
