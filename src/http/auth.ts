import type { Request, RequestHandler, Response } from 'express';
import { forbidden, unauthorized } from '../contracts/errors.js';
import type { KeyStore } from '../keys/key-store.js';
import { inScope, type Permission, type Principal, principalAllows } from '../keys/roles.js';
import { addressGroup } from '../keys/unknown-key-limiter.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/**
 * Resolves `Authorization: Bearer <key>` to a principal; every /v1 route needs one. Past the
 * unknown-key limit of the caller's address, the answer is 429 before any lookup.
 */
export function authenticate(keys: KeyStore): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) throw unauthorized('missing Authorization: Bearer <key>');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('malformed Authorization header: expected "Bearer <key>"');
    const found = await keys.authenticate(match[1]!, callerAddress(req));
    if (found.outcome === 'limited') {
      refuseUnknownKeys(res, found.retryAfterSeconds);
      return;
    }
    if (found.outcome === 'unknown') throw unauthorized('unknown or revoked API key');
    req.principal = found.principal;
    next();
  };
}

/**
 * The caller as the unknown-key limit counts callers: its address (an IPv6 address by its /64).
 * Express's `trust proxy` is off, so behind a reverse proxy this is the proxy's address.
 */
export function callerAddress(req: Request): string {
  return addressGroup(req.ip ?? req.socket.remoteAddress);
}

/** The one answer to a caller over a rate: 429 with `Retry-After` in whole seconds. */
export function refuseOverRate(res: Response, retryAfterSeconds: number, message: string): void {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  res.status(429).json({ error: 'rate_limited', message, details: [] });
}

export function refuseUnknownKeys(res: Response, retryAfterSeconds: number): void {
  refuseOverRate(
    res,
    retryAfterSeconds,
    `too many requests with unknown keys from this address; retry after ${retryAfterSeconds} s`,
  );
}

export function requirePermission(permission: Permission): RequestHandler {
  return (req, _res, next) => {
    const principal = principalOf(req);
    if (!principalAllows(principal, permission)) {
      throw forbidden(
        principal.role === 'admin'
          ? 'managing keys needs an admin key scoped to every use case'
          : `a key with role ${principal.role} may not ${permission.replace('-', ' ')}`,
      );
    }
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthorized('not authenticated');
  return req.principal;
}

export function requireScope(principal: Principal, useCase: string): void {
  if (!inScope(principal, useCase)) throw forbidden(`this key is not scoped to use case ${useCase}`);
}
