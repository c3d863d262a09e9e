import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpFaultProxy, type TcpFaultProxy } from '../../scripts/faults/tcp-fault-proxy.js';
import { CLIENT_COMMAND_TIMEOUT_MS } from '../../src/shadow/bull-connections.js';
import { createBullShadowQueue } from '../../src/shadow/bull-shadow-queue.js';
import type { ShadowQueue } from '../../src/shadow/shadow-queue.js';
import { deletePrefix } from '../../scripts/faults/redis-server.js';
import { REDIS_URL } from '../support/services.js';

/**
 * A Redis that goes silent (a network partition: the connection stays up, nothing answers) must
 * not hold ingest, which awaits its enqueue: ioredis waits for a reply as long as TCP does. The
 * shared command connection gives up after CLIENT_COMMAND_TIMEOUT_MS, and carries on once the
 * network is back, without a new queue or a restart.
 */
describe('when the network to Redis goes silent', () => {
  const prefix = `sgtest-silent-${randomBytes(4).toString('hex')}`;
  let proxy: TcpFaultProxy;
  let queue: ShadowQueue;

  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    proxy = await startTcpFaultProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    });
    const viaProxy = new URL(REDIS_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    queue = createBullShadowQueue({
      redisUrl: viaProxy.toString(),
      prefix,
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    proxy?.pass();
    await queue?.close();
    await proxy?.close();
    await deletePrefix(REDIS_URL, prefix);
  });

  it('then an enqueue fails within the command timeout, and the next one after recovery succeeds', async () => {
    await queue.enqueue([{ useCase: 'silent', requestId: 'r-0' }]);
    proxy.blackhole();
    const started = performance.now();
    let outcome: unknown = 'resolved';
    try {
      await queue.enqueue([{ useCase: 'silent', requestId: 'r-1' }]);
    } catch (error) {
      outcome = error;
    } finally {
      proxy.pass();
    }
    const ms = performance.now() - started;
    expect(String(outcome)).toMatch(/timed out/i);
    expect(ms).toBeGreaterThanOrEqual(CLIENT_COMMAND_TIMEOUT_MS - 50);
    // A slow machine adds little to a timer; a silent connection without a timeout waits minutes.
    expect(ms).toBeLessThan(CLIENT_COMMAND_TIMEOUT_MS + 2_000);
    await queue.enqueue([{ useCase: 'silent', requestId: 'r-2' }]);
    expect(await queue.depth('silent')).toMatchObject({ waiting: expect.any(Number) });
    expect((await queue.absent([{ useCase: 'silent', requestId: 'r-2' }])).length).toBe(0);
  });
});
