import { createHash } from 'node:crypto';
import { type Request, type Response, Router } from 'express';
import type { DesiredFlag } from './flag-store.js';
import { unleashStrategy } from './unleash-strategy.js';

export interface ClientApiOptions {
  /** The flags as the stages say they should be, read on every request. */
  listFlags: () => Promise<DesiredFlag[]>;
  /** Whether a Shadowgate API key may read flags. */
  authenticate: (token: string) => Promise<boolean>;
  /** The project the flags claim to belong to; `default` unless told. */
  project?: string;
}

/**
 * The read side of Unleash's client API (format version 2) for the controller's own
 * flags, so `unleash-client` pointed at `http://<controller>/api` works unchanged.
 * Mount at `/api`. unleash-client sends its key as the raw `Authorization` header;
 * `Bearer <key>` is accepted too. Registration and metrics are accepted and dropped.
 */
export function clientApiRoutes(options: ClientApiOptions): Router {
  const project = options.project ?? 'default';
  const router = Router();

  router.use('/client', async (req, res, next) => {
    const token = (req.get('authorization') ?? '').replace(/^Bearer\s+/i, '').trim();
    if (token !== '' && (await options.authenticate(token))) {
      next();
      return;
    }
    res.status(401).json({
      error: 'unauthorized',
      message: 'the client API needs a Shadowgate API key in the Authorization header',
      details: [],
    });
  });

  router.get('/client/features', async (req, res) => {
    const namePrefix = firstQuery(req, 'namePrefix');
    const projects = allQuery(req, 'project');
    const flags = (await options.listFlags()).filter(
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
    const flag = (await options.listFlags()).find((f) => f.name === req.params.name);
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
