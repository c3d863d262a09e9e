import { z } from 'zod';
import { useCaseIdSchema } from '../../contracts/decision-contracts.js';
import { notFound } from '../../contracts/errors.js';
import { refuseControls } from '../../contracts/safe-text.js';
import { actorName, ROLES } from '../../keys/roles.js';
import { principalOf } from '../auth.js';
import { AUTH, BODY, type RouteSpec } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';

export const createKeySchema = z.strictObject({
  /** Recorded as the actor `key:<name>` of everything the key does: printable, one line. */
  name: z.string().min(1).max(100).superRefine(refuseControls('line')),
  role: z.enum(ROLES),
  useCases: z.array(useCaseIdSchema).min(1).max(1000).optional(),
});

export const keyRoutes: RouteSpec[] = [
  {
    method: 'post',
    path: '/v1/keys',
    permission: 'manage-keys',
    budget: 'api',
    summary: 'create an API key (its secret is shown once)',
    description: '`{name, role, useCases?}` → 201 with the key, shown once',
    body: [{ name: 'CreateKey', schema: createKeySchema }],
    response: z.strictObject({
      id: z.string(),
      key: z.string().describe('the secret, shown this once'),
      name: z.string(),
      role: z.enum(ROLES),
      useCases: z.array(z.string()).nullable(),
    }),
    responses: { 201: 'the key, with its secret', ...AUTH, ...BODY },
    handler:
      ({ services }) =>
      async (req, res) => {
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
      },
  },
  {
    method: 'get',
    path: '/v1/keys',
    permission: 'manage-keys',
    budget: 'api',
    summary: 'the keys (never their secrets)',
    description: 'the keys with `createdBy`, `createdAt`, `lastUsedAt`, `revokedAt` (never the secret)',
    responses: { 200: 'the keys', ...AUTH },
    handler:
      ({ services }) =>
      async (_req, res) => {
        res.json({ keys: await services.keys.list() });
      },
  },
  {
    method: 'delete',
    path: '/v1/keys/:id',
    permission: 'manage-keys',
    budget: 'api',
    summary: 'revoke a key',
    // The handler takes the id as given and answers 404 for anything not an active key.
    params: { id: z.string().min(1) },
    responses: { 204: 'revoked', ...AUTH, 404: 'no active key with this id' },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = String(req.params.id);
        if (!(await services.keys.revoke(id, actorName(principalOf(req))))) {
          throw notFound(`no active key ${id}`);
        }
        res.status(204).end();
      },
  },
];
