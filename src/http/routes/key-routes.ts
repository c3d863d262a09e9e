import { Router } from 'express';
import { z } from 'zod';
import { useCaseIdSchema } from '../../contracts/decision-contracts.js';
import { notFound } from '../../contracts/errors.js';
import { refuseControls } from '../../contracts/safe-text.js';
import { actorName, ROLES } from '../../keys/roles.js';
import type { HttpServices } from '../http-services.js';
import { principalOf, requirePermission } from '../auth.js';
import { parseOrThrow } from '../validate.js';

export const createKeySchema = z.strictObject({
  /** Recorded as the actor `key:<name>` of everything the key does: printable, one line. */
  name: z.string().min(1).max(100).superRefine(refuseControls('line')),
  role: z.enum(ROLES),
  useCases: z.array(useCaseIdSchema).min(1).max(1000).optional(),
});

export function keyRoutes(services: HttpServices): Router {
  const router = Router();
  const admin = requirePermission('manage-keys');

  router.post('/keys', admin, async (req, res) => {
    const input = parseOrThrow(createKeySchema, req.body, 'key');
    const { id, secret } = await services.keys.create({
      name: input.name,
      role: input.role,
      useCases: input.useCases ?? null,
      actor: actorName(principalOf(req)),
    });
    // The secret is shown here once; only its hash is kept.
    res
      .status(201)
      .json({ id, key: secret, name: input.name, role: input.role, useCases: input.useCases ?? null });
  });

  router.get('/keys', admin, async (_req, res) => {
    res.json({ keys: await services.keys.list() });
  });

  router.delete('/keys/:id', admin, async (req, res) => {
    const id = String(req.params.id);
    if (!(await services.keys.revoke(id, actorName(principalOf(req))))) {
      throw notFound(`no active key ${id}`);
    }
    res.status(204).end();
  });

  return router;
}
