import { Router } from 'express';
import { z } from 'zod';
import { refuseControls } from '../../contracts/safe-text.js';
import { MODES } from '../../plans/plan-schema.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requirePermission } from '../auth.js';
import { parseOrThrow } from '../validate.js';
import { useCaseIdParam } from './params.js';

/** Typed by a person, shown in reports, terminals and the dashboard: printable text on one or more lines. */
const reason = z
  .string()
  .trim()
  .min(3, 'a reason of at least 3 characters')
  .max(2000)
  .superRefine(refuseControls('text'));
export const promoteSchema = z.strictObject({ reason, force: z.boolean().optional() });
export const rollbackSchema = z.strictObject({ reason, to: z.enum(MODES).optional() });
export const killSwitchSchema = z.strictObject({ reason });

/** Release managers' actions; each answers with the transition it recorded. */
export function releaseRoutes(services: HttpServices): Router {
  const router = Router();
  const release = requirePermission('release');

  router.post('/use-cases/:id/promote', release, async (req, res) => {
    const body = parseOrThrow(promoteSchema, req.body ?? {}, 'promotion');
    res.json(await services.release.promote(useCaseIdParam(req.params.id), body, principalOf(req)));
  });
  router.post('/use-cases/:id/rollback', release, async (req, res) => {
    const body = parseOrThrow(rollbackSchema, req.body ?? {}, 'rollback');
    res.json(await services.release.rollback(useCaseIdParam(req.params.id), body, principalOf(req)));
  });
  router.post('/use-cases/:id/disable', release, async (req, res) => {
    const body = parseOrThrow(killSwitchSchema, req.body ?? {}, 'disable');
    res.json(await services.release.disable(useCaseIdParam(req.params.id), body, principalOf(req)));
  });
  router.post('/use-cases/:id/enable', release, async (req, res) => {
    const body = parseOrThrow(killSwitchSchema, req.body ?? {}, 'enable');
    res.json(await services.release.enable(useCaseIdParam(req.params.id), body, principalOf(req)));
  });
  router.get('/use-cases/:id/transitions', requirePermission('read'), async (req, res) => {
    const id = useCaseIdParam(req.params.id);
    res.json({ useCase: id, transitions: await services.release.transitions(id, principalOf(req)) });
  });
  return router;
}
