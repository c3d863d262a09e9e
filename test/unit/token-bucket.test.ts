import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/rate/token-bucket.js';

const takeEach = (bucket: TokenBucket, times: number[]) => times.map((t) => bucket.take(1, t).allowed);

describe('token bucket', () => {
  it('when a full bucket of 4 at 2/s is drained, then the next token is 500 ms away', () => {
    const bucket = new TokenBucket(2, 4, 0);
    expect(takeEach(bucket, [0, 0, 0, 0])).toEqual([true, true, true, true]);
    expect(bucket.take(1, 0)).toEqual({ allowed: false, waitMs: 500 });
  });

  it('when time passes, then tokens come back at the rate and never beyond the capacity', () => {
    const bucket = new TokenBucket(2, 4, 0);
    takeEach(bucket, [0, 0, 0, 0]);
    expect(bucket.take(1, 250)).toEqual({ allowed: false, waitMs: 250 });
    expect(takeEach(bucket, [500, 500])).toEqual([true, false]);
    // A minute refills to the capacity of 4, not 120.
    expect(takeEach(bucket, [60_500, 60_500, 60_500, 60_500, 60_500])).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('when refused, then nothing is spent and the wait is exactly what the deficit needs', () => {
    const bucket = new TokenBucket(0.2, 1, 0); // one token per 5 s
    expect(bucket.take(1, 0).allowed).toBe(true);
    expect(bucket.take(1, 0)).toEqual({ allowed: false, waitMs: 5000 });
    expect(bucket.take(1, 2000)).toEqual({ allowed: false, waitMs: 3000 });
    expect(bucket.take(1, 4900)).toEqual({ allowed: false, waitMs: 100 });
    expect(bucket.take(1, 5000)).toEqual({ allowed: true });
  });

  it('when a fraction of a millisecond is owed, then the wait is rounded up to 1 ms, never 0', () => {
    const bucket = new TokenBucket(1000, 1, 0);
    bucket.take(1, 0);
    expect(bucket.take(1, 0.9999)).toEqual({ allowed: false, waitMs: 1 });
  });

  it('when n tokens are asked, then all n are taken at once or none are', () => {
    const bucket = new TokenBucket(10, 10, 0);
    expect(bucket.take(7, 0)).toEqual({ allowed: true });
    expect(bucket.take(5, 0)).toEqual({ allowed: false, waitMs: 200 });
    expect(bucket.take(3, 0)).toEqual({ allowed: true });
  });

  it('when refills add up to a whole token with float dust, then that token is there', () => {
    const bucket = new TokenBucket(1, 1, 0);
    bucket.take(1, 0);
    // 0.1 token ten times adds up to 0.9999999999999999 in floating point.
    const refused = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => bucket.take(1, k * 100).allowed);
    expect(refused.every((allowed) => !allowed)).toBe(true);
    expect(bucket.take(1, 1000).allowed).toBe(true);
  });

  it('when the clock steps back, then the bucket neither refills nor drains, and time counts from there', () => {
    const bucket = new TokenBucket(1, 2, 100_000);
    takeEach(bucket, [100_000, 100_000]);
    expect(bucket.take(1, 90_000)).toEqual({ allowed: false, waitMs: 1000 });
    expect(bucket.take(1, 91_000).allowed).toBe(true);
  });

  it('when it has refilled completely, then it reports itself full', () => {
    const bucket = new TokenBucket(2, 4, 0);
    bucket.take(1, 0);
    expect(bucket.isFull(400)).toBe(false);
    expect(bucket.isFull(500)).toBe(true);
  });

  it('when the rate is not positive or the capacity is below one token, then the bucket is refused', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(/> 0/);
    expect(() => new TokenBucket(Number.NaN, 1, 0)).toThrow(/> 0/);
    expect(() => new TokenBucket(Number.POSITIVE_INFINITY, 1, 0)).toThrow(/> 0/);
    expect(() => new TokenBucket(1, 0.5, 0)).toThrow(/at least one token/);
  });
});
