import type { RequestHandler } from 'express';
import { type Budget, KeyRateLimiter, type RateLimits } from '../keys/key-rate-limiter.js';
import { principalOf, refuseOverRate } from './auth.js';

/**
 * Per-key rate limits for authenticated routes: one limiter, and a middleware per budget that
 * each route mounts before its handlers (mount after `authenticate`; which budget a route spends
 * is in the route table). Over its budget a key gets 429 with `Retry-After` in whole seconds.
 * The bootstrap admin key has a bucket like any other key. Requests refused for their key (401)
 * spend nothing here; unknown keys have a limit of their own (KeyStore.authenticate).
 */
export function rateLimitPerKey(
  limits: RateLimits,
  nowMs?: () => number,
): (budget: Budget) => RequestHandler {
  const limiter = new KeyRateLimiter(limits, nowMs);
  return (budget) => (req, res, next) => {
    const principal = principalOf(req);
    const admission = limiter.admit(principal.keyId ?? `principal:${principal.name}`, budget);
    if (admission.allowed) {
      next();
      return;
    }
    refuseOverRate(
      res,
      admission.retryAfterSeconds,
      `key ${principal.name} is over its ${budget} rate of ${limits[budget]} requests per second; retry after ${admission.retryAfterSeconds} s`,
    );
  };
}
