import pino from 'pino';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import type { HttpServices } from '../../src/http/http-services.js';

/**
 * Which budget a request spends, through the app as mounted from the route table. Each budget
 * holds one token (0.01/s refills it in 100 s), so after the request under test an ingest
 * request and an api request show by their 429 which token it took.
 */
const AUTH = { Authorization: 'Bearer any' };

function app() {
  const principal = { keyId: 'k1', name: 'k1', role: 'admin', useCases: null };
  // Only the key lookup is needed: what a handler would ask of the other services fails as a 500.
  const services = {
    keys: { authenticate: async () => ({ outcome: 'accepted', principal }) },
  } as unknown as HttpServices;
  return supertest(
    createApp(services, {
      bodyLimit: 1024,
      logger: pino({ level: 'silent' }),
      rateLimits: { ingest: 0.01, api: 0.01 },
    }),
  );
}

describe('which budget a request spends', () => {
  it.each([
    ['POST', '/v1/decisions', 'ingest'],
    ['POST', '/v1/decisions/', 'ingest'],
    ['POST', '/v1/decisions/invoice-triage/r-1/human', 'ingest'],
    ['POST', '/v1/use-cases/invoice-triage/suggest', 'ingest'],
    ['POST', '/V1/Use-Cases/invoice-triage/SUGGEST', 'ingest'],
    ['GET', '/v1/decisions', 'api'],
    ['POST', '/v1/use-cases/invoice-triage/promote', 'api'],
    ['PUT', '/v1/use-cases/invoice-triage/plan', 'api'],
    ['GET', '/v1/use-cases/invoice-triage', 'api'],
    ['GET', '/v1/whoami', 'api'],
    ['POST', '/v1/keys', 'api'],
    ['POST', '/v1/decisions/a/b/human/extra', 'api'],
    ['GET', '/v1/no-such-route', 'api'],
    ['GET', '/healthz', 'nothing'],
    ['GET', '/v1/openapi.json', 'nothing'],
  ])('when %s %s, then it spends the %s budget', async (method, path, budget) => {
    const http = app();
    await http[method.toLowerCase() as 'get' | 'post' | 'put'](path).set(AUTH);
    const ingest = await http.post('/v1/decisions').set(AUTH).send({});
    const api = await http.get('/v1/whoami').set(AUTH);
    expect({ ingest: ingest.status === 429, api: api.status === 429 }).toEqual({
      ingest: budget === 'ingest',
      api: budget === 'api',
    });
  });
});
