import type { RequestHandler } from 'express';
import { type Budget, KeyRateLimiter, type RateLimits } from '../keys/key-rate-limiter.js';
import { principalOf, refuseOverRate } from './auth.js';

/**
 * The SDK-facing writes, which spend the ingest budget (a batch of decisions is one request).
 * Express routes case-insensitively and with an optional trailing slash; so do these.
 */
const INGEST_PATHS = [
  /^\/v1\/decisions\/?$/i,
  /^\/v1\/decisions\/[^/]+\/[^/]+\/human\/?$/i,
  /^\/v1\/use-cases\/[^/]+\/suggest\/?$/i,
];

export function budgetOf(method: string, path: string): Budget {
  return method === 'POST' && INGEST_PATHS.some((p) => p.test(path)) ? 'ingest' : 'api';
}

/**
 * Per-key rate limits for authenticated routes (mount after `authenticate`): over its budget a
 * key gets 429 with `Retry-After` in whole seconds. The bootstrap admin key has a bucket like
 * any other key. Requests refused for their key (401) spend nothing here; unknown keys have a
 * limit of their own (KeyStore.authenticate).
 */
export function rateLimitPerKey(limits: RateLimits, nowMs?: () => number): RequestHandler {
  const limiter = new KeyRateLimiter(limits, nowMs);
  return (req, res, next) => {
    const principal = principalOf(req);
    const budget = budgetOf(req.method, req.originalUrl.split('?')[0] ?? '');
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
