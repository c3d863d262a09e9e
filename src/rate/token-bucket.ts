/**
 * One token bucket: it holds at most `capacity` tokens, starts full and refills continuously at
 * `perSecond`. The caller passes the time to every call, so the bucket reads no clock and is
 * tested by passing numbers. Used for the API keys' request budgets and the in-process shadow
 * queue's AI call rate.
 */

export type Take = { allowed: true } | { allowed: false; waitMs: number };

/** Float dust from adding up refills must not turn a whole token into 0.9999…. */
const EPSILON = 1e-9;

export class TokenBucket {
  private tokens: number;
  private atMs: number;

  constructor(
    readonly perSecond: number,
    readonly capacity: number,
    nowMs: number,
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
      throw new Error(`a bucket's rate must be a finite number > 0, got ${perSecond}`);
    }
    if (!(capacity >= 1) || !Number.isFinite(capacity)) {
      throw new Error(`a bucket must hold at least one token, got a capacity of ${capacity}`);
    }
    this.tokens = capacity;
    this.atMs = nowMs;
  }

  /**
   * Takes `n` tokens, or takes none and says how long until `n` are there: whole milliseconds,
   * at least 1. A refusal spends nothing, so a caller that waits `waitMs` is then allowed
   * (unless someone else took tokens meanwhile).
   */
  take(n: number, nowMs: number): Take {
    this.refill(nowMs);
    if (this.tokens >= n - EPSILON) {
      this.tokens = Math.max(0, this.tokens - n);
      return { allowed: true };
    }
    const ms = ((n - this.tokens) * 1000) / this.perSecond;
    // The same dust would otherwise ask for 3001 ms where 3000 are owed.
    return { allowed: false, waitMs: Math.max(1, Math.ceil(ms - 1e-6)) };
  }

  /** Whether the bucket is full at `nowMs`: it then holds no state a fresh bucket would not. */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.capacity;
  }

  private refill(nowMs: number): void {
    // A clock that steps back refills nothing rather than draining the bucket; time counts
    // again from the new reading.
    const elapsedMs = Math.max(0, nowMs - this.atMs);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.perSecond) / 1000);
    this.atMs = nowMs;
  }
}
