import type { Request, RequestHandler } from 'express';
import { forbidden, unauthorized } from '../contracts/errors.js';
import type { KeyStore } from '../keys/key-store.js';
import { inScope, type Permission, type Principal, principalAllows } from '../keys/roles.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Resolves `Authorization: Bearer <key>` to a principal; every /v1 route needs one. */
export function authenticate(keys: KeyStore): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization');
    if (!header) throw unauthorized('missing Authorization: Bearer <key>');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('malformed Authorization header: expected "Bearer <key>"');
    const principal = await keys.resolve(match[1]!);
    if (!principal) throw unauthorized('unknown or revoked API key');
    req.principal = principal;
    next();
  };
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
