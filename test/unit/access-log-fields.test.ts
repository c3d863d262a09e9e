import { Writable } from 'node:stream';
import pino from 'pino';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import type { HttpServices } from '../../src/http/http-services.js';

/**
 * The access log's level and use case, through the app as mounted from the route table: the
 * quiet routes and the use-case path parameters are read from the table, not restated.
 */
function app() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text));
      done();
    },
  });
  const principal = { keyId: 'k1', name: 'k1', role: 'admin', useCases: null };
  // Only the key lookup is needed: what a handler would ask of the other services fails as a 500.
  const services = {
    keys: { authenticate: async () => ({ outcome: 'accepted', principal }) },
  } as unknown as HttpServices;
  const http = supertest(createApp(services, { bodyLimit: 1024, logger: pino({ level: 'debug' }, sink) }));
  return { http, lines };
}

async function accessLine(method: 'get' | 'post', path: string): Promise<Record<string, unknown>> {
  const { http, lines } = app();
  await http[method](path).set({ Authorization: 'Bearer any' });
  for (let i = 0; i < 100; i++) {
    const line = lines.find((l) => l.msg === 'request');
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no access log line for ${method} ${path}`);
}

describe('the access log line', () => {
  it.each([
    ['get', '/healthz', 'debug'],
    ['get', '/readyz', 'debug'],
    ['get', '/metrics', 'debug'],
    ['get', '/api/client/features', 'debug'],
    ['get', '/v1/whoami', 'info'],
    ['get', '/healthz/extra', 'info'],
  ] as const)('when %s %s, then it is logged at %s', async (method, path, level) => {
    const line = await accessLine(method, path);
    expect(line.level).toBe(level === 'debug' ? 20 : 30);
  });

  it.each([
    ['get', '/v1/use-cases/invoice-triage', 'invoice-triage'],
    ['get', '/v1/use-cases/invoice-triage/report', 'invoice-triage'],
    ['post', '/v1/decisions/invoice-triage/r-1/human', 'invoice-triage'],
    ['get', '/v1/use-cases/Not_An_Id/report', undefined],
    ['get', '/v1/keys/invoice-triage', undefined],
    ['get', '/v1/whoami', undefined],
  ] as const)('when %s %s, then it names the use case %s', async (method, path, useCase) => {
    const line = await accessLine(method, path);
    expect(line.useCase).toBe(useCase);
  });
});
