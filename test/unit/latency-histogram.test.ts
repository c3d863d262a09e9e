import { describe, expect, it } from 'vitest';
import {
  bucketLatencyMs,
  interpolatedLatencyMs,
  latencyBucket,
} from '../../src/metrics/latency-histogram.js';

describe('latency histogram buckets', () => {
  it('when a latency is put in its bucket, then the bucket middle is within 1% of 1 ms + it', () => {
    for (let ms = 0; ms < 120_000; ms = ms * 1.0037 + 0.01) {
      const middle = bucketLatencyMs(latencyBucket(ms));
      expect(Math.abs(middle - ms)).toBeLessThanOrEqual(0.01 * (1 + ms));
    }
  });

  it('when latencies grow, then their buckets never go down', () => {
    let last = latencyBucket(0);
    for (let ms = 0; ms < 10_000; ms += 0.7) {
      const bucket = latencyBucket(ms);
      expect(bucket).toBeGreaterThanOrEqual(last);
      last = bucket;
    }
  });

  it('when interpolating, then the value moves from the lower bucket middle to the upper one', () => {
    const [lo, hi] = [latencyBucket(40), latencyBucket(100)];
    expect(interpolatedLatencyMs(lo, hi, 0)).toBeCloseTo(bucketLatencyMs(lo), 9);
    expect(interpolatedLatencyMs(lo, hi, 1)).toBeCloseTo(bucketLatencyMs(hi), 9);
    // The stores test's 40 and 100 at p95 of five values: 40 + 0.8 × 60 = 88, within a bucket's 1%.
    expect(Math.abs(interpolatedLatencyMs(lo, hi, 0.8) - 88) / 88).toBeLessThanOrEqual(0.01);
  });
});
