import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { type AddressInfo, connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Shadowgate } from '@shadowgate/sdk';
import { startOwnRedis, type OwnRedis } from '../../scripts/faults/redis-server.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { loadConfig } from '../../src/config.js';
import { type Controller, createController } from '../../src/main/controller.js';
import { createLogger } from '../../src/main/logger.js';
import { owedCallsByUseCase } from '../../src/observability/owed-calls.js';
import { ADMIN_KEY, eventually, LOOPBACK_DESTINATIONS, labelPlan } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { startUnleashServer, type TestUnleash } from '../support/unleash-server.js';
import { laterStages, type SdkHarness, startSdkHarness } from './sdk-harness.js';

/**
 * A dependency failing must never end the process: an `error` event nobody listens to, or a
 * rejection nobody handles, would. Each case breaks a real dependency (a redis-server of its
 * own, PostgreSQL behind a proxy it cuts, a real Unleash, raw sockets) and checks that the
 * controller or the SDK in this process raised neither, kept working and recovered by itself.
 */

const crashes: string[] = [];
const onUncaught = (error: Error, origin: string) => crashes.push(`${origin}: ${error.stack ?? error}`);
const onUnhandled = (reason: unknown) =>
  crashes.push(`unhandledRejection: ${(reason as Error)?.stack ?? reason}`);
process.on('uncaughtExceptionMonitor', onUncaught);
process.on('unhandledRejection', onUnhandled);

afterEach(() => {
  // Whatever a dependency threw outside a promise would have ended a production process.
  expect(crashes).toEqual([]);
});
afterAll(() => {
  process.off('uncaughtExceptionMonitor', onUncaught);
  process.off('unhandledRejection', onUnhandled);
});

const LABELS = ['approve', 'reject', 'escalate'];
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

function mirrored(useCase: string, i: number, salt: string) {
  const invoice = makeInvoice(i);
  return {
    useCase,
    requestId: `${salt}-${invoice.requestId}`,
    input: invoice.input,
    context: invoice.context,
    human: { decision: referenceLabel(invoice.input, LABELS), decidedBy: 'clerk-7' },
  };
}

/**
 * A TCP proxy to `target` that can pass traffic, cut it (connections reset, new ones too) or
 * blackhole it (connections accepted or kept, never answered), and then answer what it holds.
 */
interface FaultProxy {
  port: number;
  set(mode: 'pass' | 'reset' | 'blackhole'): void;
  /** Writes `raw` to every client connection the blackhole holds, and closes them. */
  answerHeld(raw: string): void;
  close(): Promise<void>;
}

async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let mode: 'pass' | 'reset' | 'blackhole' = 'pass';
  const open = new Set<Socket>();
  const clients = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
  };
  const server = createServer((client) => {
    track(client);
    clients.add(client);
    client.on('close', () => clients.delete(client));
    if (mode === 'reset') return void client.resetAndDestroy();
    if (mode === 'blackhole') return; // accepted, never answered
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    set(next) {
      mode = next;
      if (next === 'reset') for (const socket of open) socket.resetAndDestroy();
      // Blackholed: live connections stay open and go silent, as behind a dropped route.
      if (next === 'blackhole') for (const socket of open) socket.pause();
      if (next === 'pass') for (const socket of open) if (socket.isPaused()) socket.destroy();
    },
    answerHeld(raw) {
      for (const client of clients) {
        client.unpipe();
        client.end(raw);
      }
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A server that reads a request head and answers `reply` (part of a response), then resets. */
async function startResettingServer(
  reply: string,
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server: NetServer = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      hits++;
      socket.write(reply, () => setTimeout(() => socket.resetAndDestroy(), 5));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Sends `bytes` on a raw socket; resolves with what came back once the server closed it or `afterMs` passed. */
function rawExchange(port: number, bytes: string, options: { resetAfterMs?: number; waitMs?: number } = {}) {
  return new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
    socket.write(bytes);
    if (options.resetAfterMs !== undefined) setTimeout(() => socket.resetAndDestroy(), options.resetAfterMs);
    else setTimeout(() => socket.destroy(), options.waitMs ?? 5_000);
  });
}

describe('the controller when PostgreSQL, Redis and its HTTP peers fail', () => {
  let tdb: TestDatabase;
  let pg: FaultProxy;
  let redis: OwnRedis;
  let sim: SimulatedAiSystem;
  let controller: Controller;
  let server: Server;
  let base: string;
  const readyz = async () => {
    const res = await fetch(`${base}/readyz`);
    return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
  };
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: ADMIN, body: JSON.stringify(body) });
  const putPlan = async (useCase: string, yaml: string) => {
    const res = await fetch(`${base}/v1/use-cases/${useCase}/plan`, {
      method: 'PUT',
      headers: { ...ADMIN, 'content-type': 'application/yaml' },
      body: yaml,
    });
    expect(res.status).toBe(201);
  };
  const owed = async (useCase: string) => (await owedCallsByUseCase(tdb.database)).get(useCase) ?? 0;

  beforeAll(async () => {
    [tdb, redis, sim] = await Promise.all([
      createTestDatabase(),
      startOwnRedis(),
      startSimulatedAiSystem({ agreement: 0.9, latencyMs: 1 }),
    ]);
    const target = new URL(tdb.url);
    pg = await startFaultProxy(Number(target.port || 5432));
    target.port = String(pg.port);
    const config = loadConfig({
      SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
      DATABASE_URL: target.toString(),
      REDIS_URL: redis.url,
      SHADOWGATE_QUEUE_PREFIX: `sgdep-${randomBytes(4).toString('hex')}`,
      SHADOWGATE_SWEEP_MS: '500',
      SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: '0',
      SHADOWGATE_RATE_LIMIT_API_PER_SEC: '0',
      SHADOWGATE_RATE_LIMIT_UNKNOWN_KEYS_PER_SEC: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...LOOPBACK_DESTINATIONS,
    });
    controller = await createController({
      config,
      logger: createLogger(config.LOG_LEVEL),
      migrate: false,
      tick: false,
    });
    await controller.start();
    server = await controller.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await putPlan('invoices', labelPlan('invoices', `${sim.url}/decide`));
  });

  afterAll(async () => {
    await controller?.stop();
    await Promise.all([pg?.close(), redis?.close(), sim?.close()]);
    await tdb?.drop();
  });

  it('when Redis is killed under load and started again empty, then /readyz answers 503 meanwhile and 200 by itself after, ingest goes on, and every owed AI call is made', async () => {
    expect((await readyz()).status).toBe(200);
    const send = async (from: number, n: number) => {
      const res = await post('/v1/decisions', {
        decisions: Array.from({ length: n }, (_, k) => mirrored('invoices', from + k, 'redis')),
      });
      expect(res.status).toBe(202);
    };
    await send(0, 200);
    await redis.kill();
    await send(200, 200);
    const down = await eventually(async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    }, '/readyz to answer 503 with Redis down');
    expect(down.checks).toEqual({ database: 'ok', queue: 'unavailable', flags: 'ok' });
    await send(400, 200);

    await redis.start();
    await eventually(async () => ((await readyz()).status === 200 ? true : undefined), '/readyz 200 again');
    // The jobs Redis lost are owed in PostgreSQL; the sweep enqueues them again.
    await eventually(async () => ((await owed('invoices')) === 0 ? true : undefined), 'no call owed', 30_000);
    expect(sim.stats().distinctRequests).toBe(600);
  });

  it('when PostgreSQL connections are reset, then blackholed, then /readyz answers 503 within its 2 s check and 200 by itself once they pass again', async () => {
    for (const fault of ['reset', 'blackhole'] as const) {
      pg.set(fault);
      const started = Date.now();
      const down = await eventually(async () => {
        const r = await readyz();
        return r.status === 503 ? r : undefined;
      }, `/readyz to answer 503 with PostgreSQL ${fault}`);
      expect(down.checks.database).toBe('unavailable');
      // One cached run of at most 1 s, then a check of at most 2 s; a loaded machine gets 2 s more.
      expect(Date.now() - started).toBeLessThan(5_000);
      const ingest = await post('/v1/decisions', { decisions: [mirrored('invoices', 0, `pg-${fault}`)] });
      expect(ingest.status).toBe(503);

      pg.set('pass');
      await eventually(async () => ((await readyz()).status === 200 ? true : undefined), '/readyz 200 again');
      const res = await post('/v1/decisions', { decisions: [mirrored('invoices', 0, `pg-${fault}`)] });
      expect(res.status).toBe(202);
    }
  });

  it('when clients send garbage, leave mid-body or reset mid-response, then the server drops them and answers the next request', async () => {
    const port = (server.address() as AddressInfo).port;
    const garbage = await rawExchange(port, '\u0000\u0001GARBAGE / HTTP/9\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);

    const body = JSON.stringify({ decisions: [mirrored('invoices', 1, 'raw')] });
    const head = `POST /v1/decisions HTTP/1.1\r\nhost: x\r\nauthorization: ${ADMIN.authorization}\r\ncontent-type: application/json\r\n`;
    await Promise.all(
      Array.from({ length: 20 }, (_, k) =>
        Promise.all([
          // Declares a body it never finishes, then resets.
          rawExchange(port, `${head}content-length: 100000\r\n\r\n${body.slice(0, 40)}`, {
            resetAfterMs: k * 5,
          }),
          // Resets while the answer (the OpenAPI document, some 100 KB) is being written.
          rawExchange(port, 'GET /v1/openapi.json HTTP/1.1\r\nhost: x\r\n\r\n', { resetAfterMs: k }),
          // Resets in the middle of its headers.
          rawExchange(port, 'GET /metrics HTTP/1.1\r\nhost: x\r\nx-a: ', { resetAfterMs: k }),
        ]),
      ),
    );
    const res = await post('/v1/decisions', { decisions: [mirrored('invoices', 2, 'raw')] });
    expect(res.status).toBe(202);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('when the AI system and a webhook reset the connection mid-answer, then the call counts as a transport error and the controller goes on', async () => {
    const peer = await startResettingServer(
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"label":',
    );
    try {
      await putPlan(
        'resets',
        labelPlan(
          'resets',
          `${peer.url}/decide`,
          `  human-reviewed: {}\nnotify: { webhook: ${peer.url}/hook }\n`,
        ),
      );
      const res = await post('/v1/decisions', {
        decisions: Array.from({ length: 20 }, (_, k) => mirrored('resets', k, 'ai')),
      });
      expect(res.status).toBe(202);
      await eventually(async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const m = /shadowgate_ai_errors_total\{use_case="resets",kind="transport"\} (\d+)/.exec(text);
        return m && Number(m[1]) >= 20 ? true : undefined;
      }, 'transport errors counted');
      const hits = peer.hits();
      const promoted = await post('/v1/use-cases/resets/promote', { reason: 'webhook reset', force: true });
      expect(promoted.status).toBe(200);
      await eventually(async () => (peer.hits() > hits ? true : undefined), 'the webhook posted');
      expect((await readyz()).status).toBe(200);
    } finally {
      await peer.close();
    }
  });

  it('when the event loop is blocked for 1.5 s between two scrapes, then /metrics counts one stall of about that long', async () => {
    const scrape = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const value = (name: string) =>
        Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      return {
        stalls: value('shadowgate_event_loop_stalls_total'),
        seconds: value('shadowgate_event_loop_stalled_seconds_total'),
      };
    };
    const before = await scrape();
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      // blocked, as a synchronous hot loop in a request handler would block it
    }
    // A second scraper (or a second scrape) between the stall and ours must not hide it.
    await fetch(`${base}/metrics`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = await scrape();
    expect(after.stalls - before.stalls).toBe(1);
    expect(after.seconds - before.seconds).toBeGreaterThan(1.3);
    expect(after.seconds - before.seconds).toBeLessThan(3);
  });
});

describe('the SDK when its controller resets connections and Unleash goes down', () => {
  let unleash: TestUnleash;
  let h: SdkHarness;
  const sdks: Shadowgate[] = [];

  beforeAll(async () => {
    unleash = await startUnleashServer();
    h = await startSdkHarness(
      {},
      {
        UNLEASH_URL: unleash.url,
        UNLEASH_ADMIN_TOKEN: unleash.adminToken,
        SHADOWGATE_FLAG_SYNC_MS: '300',
      },
    );
    await h.applyPlan('claims', laterStages());
  }, 120_000);

  afterAll(async () => {
    for (const sdk of sdks) await sdk.close();
    await h?.close();
    await unleash?.close();
  });

  it('when every connection to the controller is reset mid-answer, then decide never throws, and all decisions arrive once connections pass again', async () => {
    const port = Number(new URL(h.url).port);
    const proxy = await startFaultProxy(port);
    const sdk = new Shadowgate({
      url: `http://127.0.0.1:${proxy.port}`,
      apiKey: h.ingestKey,
      appName: 'dependency-faults',
      unleash: { url: `${unleash.url}/api`, apiKey: unleash.clientToken },
      refreshIntervalMs: 200,
      retry: { baseMs: 50, maxMs: 300, maxAttempts: 1000 },
      buffer: { flushIntervalMs: 50 },
    });
    sdks.push(sdk);
    try {
      expect(await sdk.ready()).toBe(true);
      proxy.set('reset');
      const requestIds = Array.from({ length: 300 }, (_, k) => `reset-${k}`);
      for (const requestId of requestIds) {
        const result = await sdk.decide('claims', { requestId, input: { k: 1 } }, async () => 'approve');
        expect(result).toMatchObject({ decision: 'approve', mode: 'shadow' });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      proxy.set('pass');
      expect(await sdk.flush(20_000)).toBe(true);
      const stored = await h.count(
        sql`use_case = 'claims' and request_id like 'reset-%' and human_decision is not null`,
      );
      expect(stored).toBe(300);
      expect(sdk.stats()).toMatchObject({ dropped: 0, failed: 0 });
    } finally {
      await proxy.close();
    }
  });

  it('when Unleash hangs, answers garbage, then is killed, then a running SDK keeps its last mode, one closed meanwhile ends quietly, and the running one follows a rollback once Unleash is back', async () => {
    const front = await startFaultProxy(Number(new URL(unleash.url).port));
    const newSdk = () => {
      const sdk = new Shadowgate({
        url: h.url,
        apiKey: h.ingestKey,
        appName: 'dependency-faults',
        unleash: { url: `http://127.0.0.1:${front.port}/api`, apiKey: unleash.clientToken },
        refreshIntervalMs: 100,
      });
      sdks.push(sdk);
      return sdk;
    };
    try {
      const running = newSdk();
      const closing = newSdk();
      expect(await running.ready()).toBe(true);
      expect(await closing.ready()).toBe(true);
      await h.promote('claims', 'before the outage');
      await eventually(
        async () => (running.modeOf('claims', { requestId: 'x' }) === 'human-reviewed' ? true : undefined),
        'the SDK to follow the first promotion',
      );

      // Polls hang; one SDK is closed with its poll in flight; then the polls get a malformed answer,
      // which unleash-client reports as an `error` event on an emitter destroy() stripped of listeners.
      front.set('blackhole');
      await new Promise((resolve) => setTimeout(resolve, 400));
      await closing.close();
      front.answerHeld(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"fe":[',
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      front.set('pass');

      await unleash.stop();
      await new Promise((resolve) => setTimeout(resolve, 500)); // several refused polls
      const during = await running.decide(
        'claims',
        { requestId: 'during', input: { k: 1 } },
        async () => 'reject',
      );
      expect(during).toMatchObject({ decision: 'reject', mode: 'human-reviewed' });
      await h.tc.http
        .post('/v1/use-cases/claims/rollback')
        .set(h.tc.admin)
        .send({ reason: 'during the outage' })
        .expect(200);

      await unleash.restart();
      // The controller writes the flag again once Unleash answers; the SDK's polls resume.
      await eventually(
        async () => (running.modeOf('claims', { requestId: 'y' }) === 'shadow' ? true : undefined),
        'the SDK to follow the rollback after Unleash is back',
        60_000,
      );
    } finally {
      await front.close();
    }
  }, 120_000);
});
