import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltInFlagStore } from '../../src/flags/built-in-flag-store.js';
import { clientApiRoutes } from '../../src/http/routes/client-api-routes.js';
import { type DesiredFlag, desiredFlag } from '../../src/flags/flag-store.js';
import type { Principal } from '../../src/keys/roles.js';
import {
  autonomousShare,
  boundaryPlan,
  eventually,
  type FlagClient,
  startFlagClient,
} from '../support/flag-client.js';

const KEY = 'sg_test_flag_reader_key';
/** What KEY stands for: an unscoped ingest key, as an SDK holds. */
const SDK_KEY: Principal = { keyId: 'sdk', name: 'flag-reader', role: 'ingest', useCases: null };
const plan = boundaryPlan('claims', 100);
const halfPlan = boundaryPlan('claims', 50);

describe('the controller serving its own flags through the Unleash client API', () => {
  let flags: DesiredFlag[] = [];
  let server: Server;
  let api: string;
  let client: FlagClient;

  beforeAll(async () => {
    flags = [
      desiredFlag('invoices', 'shadow', plan),
      desiredFlag('triage', 'human-reviewed', plan),
      desiredFlag('claims', 'limited-autonomous', plan),
      desiredFlag('refunds', 'limited-autonomous', halfPlan),
    ];
    const app = express();
    app.use(
      '/api',
      clientApiRoutes({
        listFlags: async () => flags,
        authenticate: async (key) =>
          key === KEY ? { outcome: 'accepted', principal: SDK_KEY } : { outcome: 'unknown' },
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    client = await startFlagClient(api, KEY, 200);
  });

  afterAll(async () => {
    client?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('when a use case is in shadow or human-reviewed, then unleash-client gets that mode as the variant', () => {
    expect(client.mode('shadowgate.invoices')).toBe('shadow');
    expect(client.mode('shadowgate.triage', { sessionId: 'r1' })).toBe('human-reviewed');
    expect(client.unleash.getVariant('shadowgate.invoices').payload).toEqual({
      type: 'string',
      value: 'shadow',
    });
    expect(client.errors).toEqual([]);
  });

  it('when a use case is limited-autonomous, then only contexts inside the boundary get the autonomous mode', () => {
    const low = { sessionId: 'r2', properties: { riskTier: 'low' } };
    const high = { sessionId: 'r2', properties: { riskTier: 'high' } };
    expect(client.mode('shadowgate.claims', low)).toBe('limited-autonomous');
    expect(client.mode('shadowgate.claims', high)).toBe('human-reviewed');
    expect(client.mode('shadowgate.claims', {})).toBe('human-reviewed');
  });

  it('when the boundary rollout is 50%, then about half of the request ids inside it are autonomous, each always the same way', () => {
    const share = autonomousShare(client, 'shadowgate.refunds', 2000);
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.55);
    expect(autonomousShare(client, 'shadowgate.refunds', 2000)).toBe(share);
  });

  it('when an unknown flag is asked for, then the client answers disabled', () => {
    expect(client.mode('shadowgate.nothing')).toBe('disabled');
  });

  it('when the flags have not changed, then the ETag is answered with 304', async () => {
    const first = await fetch(`${api}/client/features`, { headers: { authorization: KEY } });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    const body = (await first.json()) as { version: number; features: Array<{ name: string }> };
    expect(body.version).toBe(2);
    expect(body.features.map((f) => f.name)).toEqual([
      'shadowgate.invoices',
      'shadowgate.triage',
      'shadowgate.claims',
      'shadowgate.refunds',
    ]);
    const again = await fetch(`${api}/client/features`, {
      headers: { authorization: `Bearer ${KEY}`, 'if-none-match': etag ?? '' },
    });
    expect(again.status).toBe(304);
    const stale = await fetch(`${api}/client/features`, {
      headers: { authorization: KEY, 'if-none-match': '"something-else"' },
    });
    expect(stale.status).toBe(200);
    await eventually(() => client.unchanged() > 0, 'the polling client is answered 304', 3000);
  });

  it('when a name prefix or a single flag is asked for, then only those flags are answered', async () => {
    const prefixed = await fetch(`${api}/client/features?namePrefix=shadowgate.tr`, {
      headers: { authorization: KEY },
    });
    const body = (await prefixed.json()) as { features: Array<{ name: string }> };
    expect(body.features.map((f) => f.name)).toEqual(['shadowgate.triage']);

    const one = await fetch(`${api}/client/features/shadowgate.claims`, { headers: { authorization: KEY } });
    expect(one.status).toBe(200);
    const feature = (await one.json()) as {
      strategies: Array<{ constraints: unknown; parameters: unknown }>;
    };
    expect(feature.strategies[0]?.constraints).toEqual([
      { contextName: 'riskTier', operator: 'IN', values: ['low'], inverted: false, caseInsensitive: false },
    ]);
    expect(feature.strategies[0]?.parameters).toEqual({
      rollout: '100',
      stickiness: 'default',
      groupId: 'shadowgate.claims',
    });
    const missing = await fetch(`${api}/client/features/shadowgate.nothing`, {
      headers: { authorization: KEY },
    });
    expect(missing.status).toBe(404);
  });

  it('when the key is missing or wrong, then the client API answers 401 and metrics are accepted only with a key', async () => {
    expect((await fetch(`${api}/client/features`)).status).toBe(401);
    const wrong = await fetch(`${api}/client/features`, { headers: { authorization: 'Bearer not-a-key' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'unauthorized' });
    const post = (path: string, authorization?: string) =>
      fetch(`${api}/client/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ appName: 'x', instanceId: 'y', bucket: {} }),
      });
    expect((await post('metrics', KEY)).status).toBe(202);
    expect((await post('register', KEY)).status).toBe(202);
    expect((await post('register')).status).toBe(401);
  });

  it('when a client starts with a wrong key, then it reports the refusal and serves no flag', async () => {
    await expect(startFlagClient(api, 'wrong-key', 200)).rejects.toThrow(/401/);
  });

  it('when a stage changes, then the running client sees the new mode within a few refresh intervals', async () => {
    expect(client.mode('shadowgate.invoices')).toBe('shadow');
    flags = flags.map((f) =>
      f.useCase === 'invoices' ? desiredFlag('invoices', 'human-reviewed', plan) : f,
    );
    const started = Date.now();
    await eventually(
      () => client.mode('shadowgate.invoices') === 'human-reviewed',
      'client sees human-reviewed',
      3000,
    );
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('when the built-in store applies a flag, then nothing is written and nothing is reported as drift', async () => {
    const store = createBuiltInFlagStore();
    expect(store.kind).toBe('built-in');
    await expect(store.apply(desiredFlag('invoices', 'shadow', plan))).resolves.toEqual({
      changed: false,
      drift: [],
    });
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
