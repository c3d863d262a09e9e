import { describe, expect, it } from 'vitest';
import { KeyRateLimiter, TokenBuckets } from '../../src/keys/key-rate-limiter.js';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(startMs = 1_000_000) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const takeN = (buckets: TokenBuckets, caller: string, n: number) =>
  Array.from({ length: n }, () => buckets.take(caller).allowed);

describe('token buckets', () => {
  it('when a quiet caller sends at 2/s, then a burst of 4 (2 s worth) passes and the 5th waits 1 s', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(2, clock.now);
    expect(buckets.capacity).toBe(4);
    expect(takeN(buckets, 'k', 4)).toEqual([true, true, true, true]);
    // 0 tokens left; one more needs 1 / 2 = 0.5 s, rounded up to whole seconds.
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('when time passes, then tokens come back at the rate and never beyond the burst', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(2, clock.now);
    takeN(buckets, 'k', 4);
    clock.advance(250); // 0.5 token: still short of one
    expect(buckets.take('k').allowed).toBe(false);
    clock.advance(250); // 1 token
    expect(takeN(buckets, 'k', 2)).toEqual([true, false]);
    clock.advance(60_000); // a minute refills to the burst of 4, not 120
    expect(takeN(buckets, 'k', 5)).toEqual([true, true, true, true, false]);
  });

  it('when refused, then the wait asked is the whole seconds until one token, and refusals spend nothing', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(0.2, clock.now); // one request per 5 s; burst max(1, 0.4) = 1
    expect(buckets.capacity).toBe(1);
    expect(buckets.take('k').allowed).toBe(true);
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 5 });
    clock.advance(2_000); // 0.4 token: 0.6 / 0.2 = 3 s to go
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 3 });
    clock.advance(2_900); // 0.98 token: 0.1 s to go, asked as 1 s
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(100);
    expect(buckets.take('k').allowed).toBe(true);
  });

  it('when two callers share a rate, then each has a bucket of its own', () => {
    const buckets = new TokenBuckets(1, manualClock().now);
    expect(takeN(buckets, 'a', 3)).toEqual([true, true, false]);
    expect(takeN(buckets, 'b', 3)).toEqual([true, true, false]);
  });

  it('when the rate is 0, then nothing is limited', () => {
    const buckets = new TokenBuckets(0, manualClock().now);
    expect(takeN(buckets, 'k', 10_000).every(Boolean)).toBe(true);
  });

  it('when the clock steps back, then the bucket neither refills nor drains', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets(1, clock.now);
    takeN(buckets, 'k', 2);
    clock.advance(-10_000);
    expect(buckets.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(1_000);
    expect(buckets.take('k').allowed).toBe(true);
  });

  it('when the rate is negative or not a number, then the limiter is refused at construction', () => {
    expect(() => new TokenBuckets(-1)).toThrow(/≥ 0/);
    expect(() => new TokenBuckets(Number.NaN)).toThrow(/≥ 0/);
  });
});

describe('key rate limiter', () => {
  it('when a key spends its API budget, then its ingest budget is untouched, and the reverse', () => {
    const clock = manualClock();
    const limiter = new KeyRateLimiter({ ingest: 3, api: 1 }, clock.now);
    expect([limiter.admit('k', 'api'), limiter.admit('k', 'api')].map((a) => a.allowed)).toEqual([
      true,
      true,
    ]);
    expect(limiter.admit('k', 'api')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    const ingest = Array.from({ length: 7 }, () => limiter.admit('k', 'ingest').allowed);
    expect(ingest).toEqual([true, true, true, true, true, true, false]);
    expect(limiter.admit('k', 'api').allowed).toBe(false);
  });

  it('when only one budget is switched off, then the other still limits', () => {
    const limiter = new KeyRateLimiter({ ingest: 0, api: 1 }, manualClock().now);
    expect(Array.from({ length: 500 }, () => limiter.admit('k', 'ingest').allowed).every(Boolean)).toBe(true);
    expect([1, 2, 3].map(() => limiter.admit('k', 'api').allowed)).toEqual([true, true, false]);
  });
});
