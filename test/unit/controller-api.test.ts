import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ControllerApi,
  ControllerApiError,
  ControllerUnavailableError,
} from '../../src/client/controller-api.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A stand-in controller on loopback: each path answers as the test needs, and it records what came. */
let server: Server;
let url: string;
const seen: Seen[] = [];

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  seen.push({
    method: req.method ?? '',
    url: req.url ?? '',
    authorization: req.headers.authorization,
    contentType: req.headers['content-type'],
    body,
  });
  const send = (status: number, contentType: string, text: string) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(text);
  };
  if (path === '/v1/keys') {
    send(201, 'application/json', JSON.stringify({ key: 'sg_new_secret' }));
  } else if (path === '/v1/use-cases/triage/plan') {
    const refusal = {
      error: 'invalid_plan',
      message: 'the plan is invalid\u001b[2J',
      details: [
        { path: 'stages.shadow', problem: 'required\nsecond line' },
        { path: '', problem: 'no path' },
      ],
    };
    send(400, 'application/json', JSON.stringify(refusal));
  } else if (path === '/proxy') {
    send(502, 'text/html', '<html>Bad gateway</html>');
  } else if (path === '/not-json') {
    send(200, 'text/html', '<html>hello</html>');
  } else if (path !== '/never') {
    // '/never' holds the request open.
    send(200, 'application/json', JSON.stringify({ ok: true }));
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => answer(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const last = () => seen[seen.length - 1] as Seen;

describe('controller API client', () => {
  it('when it reads, then it sends the bearer key and the query, and withKey speaks with the other key', async () => {
    const api = new ControllerApi({ url, key: 'sg_admin' });
    expect(await api.getJson('/v1/use-cases', { format: 'json', skipped: undefined })).toEqual({ ok: true });
    expect(last()).toMatchObject({
      method: 'GET',
      url: '/v1/use-cases?format=json',
      authorization: 'Bearer sg_admin',
    });
    await api.withKey('sg_viewer').getJson('/v1/use-cases');
    expect(last().authorization).toBe('Bearer sg_viewer');
  });

  it('when a key is made, then the body carries name, role and scope, and the secret is returned', async () => {
    const api = new ControllerApi({ url, key: 'sg_admin' });
    expect(await api.createKey('bench', 'ingest', ['triage'])).toBe('sg_new_secret');
    expect(last()).toMatchObject({ method: 'POST', contentType: 'application/json' });
    expect(JSON.parse(last().body)).toEqual({ name: 'bench', role: 'ingest', useCases: ['triage'] });
  });

  it('when the controller refuses, then the error carries status, code, message and problems, each on one line', async () => {
    const api = new ControllerApi({ url, key: 'sg_owner' });
    const error = await api.applyPlan('triage', 'useCase: triage\n').catch((e: unknown) => e);
    expect(last()).toMatchObject({
      method: 'PUT',
      contentType: 'application/yaml',
      body: 'useCase: triage\n',
    });
    expect(error).toBeInstanceOf(ControllerApiError);
    const refusal = error as ControllerApiError;
    expect(refusal).toMatchObject({
      request: 'PUT /v1/use-cases/triage/plan',
      status: 400,
      code: 'invalid_plan',
    });
    expect(refusal.apiMessage).toBe('the plan is invalid[2J');
    expect(refusal.problemLines).toEqual(['stages.shadow: required second line', 'no path']);
    expect(refusal.message).toContain('PUT /v1/use-cases/triage/plan: the plan is invalid');
    expect(refusal.message).toContain('(HTTP 400); stages.shadow: required second line; no path');
  });

  it('when a plan is an object, then it is sent as JSON', async () => {
    await new ControllerApi({ url, key: 'k' }).applyPlan('other', { useCase: 'other' });
    expect(last()).toMatchObject({
      method: 'PUT',
      contentType: 'application/json',
      body: '{"useCase":"other"}',
    });
  });

  it('when something else answers an error in its own format, then its text stands for the message', async () => {
    const error = (await new ControllerApi({ url, key: 'k' })
      .getJson('/proxy')
      .catch((e: unknown) => e)) as ControllerApiError;
    expect(error).toBeInstanceOf(ControllerApiError);
    expect(error).toMatchObject({ status: 502, code: '', apiMessage: '<html>Bad gateway</html>' });
    expect(error.problems).toEqual([]);
  });

  it('when a 2xx answer is not JSON, then it is not a controller and the error says so', async () => {
    const error = await new ControllerApi({ url, key: 'k' }).getJson('/not-json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControllerUnavailableError);
    expect((error as Error).message).toBe(
      `the controller at ${url} answered HTTP 200 with a body that is not JSON (is it a Shadowgate controller?)`,
    );
  });

  it('when nothing listens or nothing answers in time, then the error names the controller and why', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const goneUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((resolve) => gone.close(resolve));
    const closed = new ControllerApi({ url: goneUrl, key: 'k' });
    await expect(closed.getJson('/v1/use-cases')).rejects.toThrow(
      `cannot reach the controller at ${goneUrl}: connection refused`,
    );
    const slow = new ControllerApi({ url, key: 'k' }, { timeoutMs: 200 });
    const error = await slow.getJson('/never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControllerUnavailableError);
    expect((error as Error).message).toBe(`cannot reach the controller at ${url}: no answer within 0.2 s`);
  });
});
