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

/** Float dust from adding up refills must not turn a whole token into 0.9999…. */
const EPSILON = 1e-9;

/** Past this many buckets, those that have refilled completely are dropped (they hold no state). */
const PRUNE_ABOVE = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

/** One rate for many callers, each with a bucket of its own. */
export class TokenBuckets {
  readonly capacity: number;
  private readonly buckets = new Map<string, Bucket>();

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
    const bucket = this.refilled(this.buckets.get(caller), now);
    if (bucket.tokens >= 1 - EPSILON) {
      this.buckets.set(caller, { tokens: Math.max(0, bucket.tokens - 1), atMs: now });
      this.prune(now);
      return { allowed: true };
    }
    this.buckets.set(caller, bucket);
    const seconds = (1 - bucket.tokens) / this.perSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(seconds)) };
  }

  private refilled(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.capacity, atMs: now };
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsedMs = Math.max(0, now - bucket.atMs);
    return {
      tokens: Math.min(this.capacity, bucket.tokens + (elapsedMs * this.perSecond) / 1000),
      atMs: now,
    };
  }

  private prune(now: number): void {
    if (this.buckets.size <= PRUNE_ABOVE) return;
    for (const [caller, bucket] of this.buckets) {
      if (this.refilled(bucket, now).tokens >= this.capacity) this.buckets.delete(caller);
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
