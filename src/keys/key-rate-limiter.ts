import { TokenBucket } from '../rate/token-bucket.js';

/**
 * Request budgets per API key: a token bucket per key and budget, refilled at `perSecond`
 * and holding at most two seconds' worth (at least one request). Buckets live in this
 * process only, so N controller processes behind a load balancer each allow the rate: a
 * key may make up to N times it in all.
 */

/** SDK-facing writes (mirrored decisions, late human decisions, suggestions) and the rest of the API. */
export const BUDGETS = ['ingest', 'api'] as const;
export type Budget = (typeof BUDGETS)[number];

export type Admission = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Requests per second for each budget; 0 switches that budget's limit off. */
export type RateLimits = Record<Budget, number>;

/** Seconds of traffic at the full rate a bucket holds: the burst a quiet key may send at once. */
export const BURST_SECONDS = 2;

/** Past this many buckets, those that have refilled completely are dropped (they hold no state). */
const PRUNE_ABOVE = 10_000;

/** One rate for many callers, each with a bucket of its own. */
export class TokenBuckets {
  readonly capacity: number;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly perSecond: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!(perSecond >= 0) || !Number.isFinite(perSecond)) {
      throw new Error(`a rate must be a finite number ≥ 0, got ${perSecond}`);
    }
    this.capacity = Math.max(1, perSecond * BURST_SECONDS);
  }

  /** Takes one token for `caller`, or says how many whole seconds until one is there. */
  take(caller: string): Admission {
    if (this.perSecond === 0) return { allowed: true };
    const now = this.nowMs();
    let bucket = this.buckets.get(caller);
    if (!bucket) {
      bucket = new TokenBucket(this.perSecond, this.capacity, now);
      this.buckets.set(caller, bucket);
    }
    const taken = bucket.take(1, now);
    if (!taken.allowed) return { allowed: false, retryAfterSeconds: Math.ceil(taken.waitMs / 1000) };
    this.prune(now);
    return { allowed: true };
  }

  private prune(now: number): void {
    if (this.buckets.size <= PRUNE_ABOVE) return;
    for (const [caller, bucket] of this.buckets) {
      if (bucket.isFull(now)) this.buckets.delete(caller);
    }
  }
}

/** Separate budgets per key: a key flooding the read API keeps its ingest budget, and the reverse. */
export class KeyRateLimiter {
  private readonly budgets: Record<Budget, TokenBuckets>;

  constructor(
    readonly limits: RateLimits,
    nowMs: () => number = Date.now,
  ) {
    this.budgets = {
      ingest: new TokenBuckets(limits.ingest, nowMs),
      api: new TokenBuckets(limits.api, nowMs),
    };
  }

  admit(key: string, budget: Budget): Admission {
    return this.budgets[budget].take(key);
  }
}
