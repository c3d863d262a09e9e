import { createHash } from 'node:crypto';
import { type Request, type Response, Router } from 'express';
import { callerAddress, principalOf, refuseOverRate, refuseUnknownKeys } from '../auth.js';
import { TokenBuckets } from '../../keys/key-rate-limiter.js';
import type { Authentication } from '../../keys/key-store.js';
import { inScope, principalAllows } from '../../keys/roles.js';
import type { DesiredFlag } from '../../flags/flag-store.js';
import { unleashStrategy } from '../../flags/unleash-strategy.js';

export interface ClientApiOptions {
  /** The flags as the stages say they should be, read on every request. */
  listFlags: () => Promise<DesiredFlag[]>;
  /** What a presented Shadowgate API key is worth, for a caller at `address` (KeyStore.authenticate). */
  authenticate: (key: string, address: string) => Promise<Authentication>;
  /** Requests per second per key, a bucket of its own holding two seconds' worth; 0 or unset: no limit. */
  perKeyPerSecond?: number;
  /** The project the flags claim to belong to; `default` unless told. */
  project?: string;
}

/**
 * The read side of Unleash's client API (format version 2) for the controller's own flags, so
 * `unleash-client` pointed at `http://<controller>/api` works unchanged. Mount at `/api`.
 * unleash-client sends its key as the raw `Authorization` header; `Bearer <key>` is accepted too.
 * Registration and metrics are accepted and dropped.
 *
 * The flags carry the boundary (constraints with customer lists, rollout percentages), so they are
 * served only to the keys an SDK holds, `ingest`, and to `admin`; each key sees the flags of the
 * use cases in its scope, and another use case's flag is answered 404, as if absent.
 */
export function clientApiRoutes(options: ClientApiOptions): Router {
  const project = options.project ?? 'default';
  const buckets = new TokenBuckets(options.perKeyPerSecond ?? 0);
  const router = Router();

  router.use('/client', async (req, res, next) => {
    const key = (req.get('authorization') ?? '').replace(/^Bearer\s+/i, '').trim();
    const found: Authentication =
      key === '' ? { outcome: 'unknown' } : await options.authenticate(key, callerAddress(req));
    if (found.outcome === 'limited') {
      refuseUnknownKeys(res, found.retryAfterSeconds);
      return;
    }
    if (found.outcome === 'unknown') {
      res.status(401).json({
        error: 'unauthorized',
        message: 'the client API needs a Shadowgate API key in the Authorization header',
        details: [],
      });
      return;
    }
    const { principal } = found;
    if (!principalAllows(principal, 'ingest')) {
      res.status(403).json({
        error: 'forbidden',
        message: `the client API serves flags to ingest and admin keys; key ${principal.name} has role ${principal.role}`,
        details: [],
      });
      return;
    }
    const admission = buckets.take(principal.keyId ?? `principal:${principal.name}`);
    if (!admission.allowed) {
      refuseOverRate(
        res,
        admission.retryAfterSeconds,
        `key ${principal.name} is over its client API rate of ${buckets.perSecond} requests per second; retry after ${admission.retryAfterSeconds} s`,
      );
      return;
    }
    req.principal = principal;
    next();
  });

  /** The flags the reading key may see. */
  const visibleFlags = async (req: Request) => {
    const reader = principalOf(req);
    return (await options.listFlags()).filter((flag) => inScope(reader, flag.useCase));
  };

  router.get('/client/features', async (req, res) => {
    const namePrefix = firstQuery(req, 'namePrefix');
    const projects = allQuery(req, 'project');
    const flags = (await visibleFlags(req)).filter(
      (flag) =>
        (namePrefix === undefined || flag.name.startsWith(namePrefix)) &&
        (projects.length === 0 || projects.includes(project)),
    );
    const body = {
      version: 2,
      features: flags.map((flag) => clientFeature(flag, project)),
      query: {
        project: projects.length > 0 ? projects : [project],
        ...(namePrefix === undefined ? {} : { namePrefix }),
        inlineSegmentConstraints: true,
      },
    };
    sendWithEtag(req, res, body);
  });

  router.get('/client/features/:name', async (req, res) => {
    const flag = (await visibleFlags(req)).find((f) => f.name === req.params.name);
    if (!flag) {
      res.status(404).json({ error: 'not_found', message: `no flag named ${req.params.name}`, details: [] });
      return;
    }
    sendWithEtag(req, res, clientFeature(flag, project));
  });

  const acceptAndDrop = (req: Request, res: Response) => {
    req.resume();
    res.status(202).end();
  };
  router.post('/client/register', acceptAndDrop);
  router.post('/client/metrics', acceptAndDrop);
  return router;
}

function clientFeature(flag: DesiredFlag, project: string) {
  return {
    name: flag.name,
    type: 'release',
    enabled: true,
    project,
    stale: false,
    impressionData: false,
    strategies: flag.strategies.map((s) => unleashStrategy(flag.name, s)),
    variants: [],
  };
}

/** A strong ETag over the body; `If-None-Match` with it (or `*`) answers 304. */
function sendWithEtag(req: Request, res: Response, body: unknown): void {
  const json = JSON.stringify(body);
  const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'no-cache');
  const candidates = (req.get('if-none-match') ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (candidates.includes(etag) || candidates.includes('*')) {
    res.status(304).end();
    return;
  }
  res.type('application/json').send(json);
}

function allQuery(req: Request, name: string): string[] {
  const value = req.query[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function firstQuery(req: Request, name: string): string | undefined {
  return allQuery(req, name)[0];
}
