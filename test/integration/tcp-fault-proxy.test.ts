import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpFaultProxy, type TcpFaultProxy } from '../../scripts/faults/tcp-fault-proxy.js';

/**
 * The fault suite's TCP proxy (scripts/faults/tcp-fault-proxy.ts) in front of an echo server:
 * the fault cases rely on its delay adding what it says, and on its blackhole passing nothing
 * (no byte, no end) until recovery, when held connections carry on.
 */

let echo: Server;
let echoPort: number;
let proxy: TcpFaultProxy;

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
  proxy = await startTcpFaultProxy({ targetPort: echoPort });
});

afterAll(async () => {
  await proxy.close();
  await new Promise((resolve) => echo.close(resolve));
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: proxy.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the ms until `text` has come back whole, or null after `waitMs`. */
function roundTrip(socket: Socket, text: string, waitMs: number): Promise<number | null> {
  const started = performance.now();
  return new Promise((resolve) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= text.length) finish(performance.now() - started);
    };
    const timer = setTimeout(() => finish(null), waitMs);
    const finish = (ms: number | null) => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(ms);
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

describe('the TCP fault proxy', () => {
  it('when passing, then bytes come back at once', async () => {
    proxy.pass();
    const socket = await open();
    const ms = await roundTrip(socket, 'ping', 5_000);
    expect(ms).not.toBeNull();
    expect(ms!).toBeLessThan(150);
    socket.destroy();
  });

  it('when delaying 200 ms, then a round trip takes 400 ms (both directions), not much more', async () => {
    const socket = await open();
    proxy.delay(200);
    const ms = await roundTrip(socket, 'slow', 5_000);
    proxy.pass();
    expect(ms).not.toBeNull();
    expect(ms!).toBeGreaterThanOrEqual(395);
    // Timers on a loaded machine run late, never early: a real mistake (no delay, or one per chunk) is far off.
    expect(ms!).toBeLessThan(1_200);
    socket.destroy();
  });

  it('when blackholed, then held and new connections pass nothing until recovery, when both carry on', async () => {
    const held = await open();
    expect(await roundTrip(held, 'before', 5_000)).not.toBeNull();
    proxy.blackhole();
    const heldAnswer = roundTrip(held, 'during', 10_000);
    // A new connection is accepted, as a partition looks to a client that gets no reset.
    const fresh = await open();
    const freshAnswer = roundTrip(fresh, 'new', 10_000);
    let heldEnded = false;
    held.on('end', () => {
      heldEnded = true;
    });
    const silence = await Promise.race([
      heldAnswer.then(() => 'held answered'),
      freshAnswer.then(() => 'fresh answered'),
      new Promise((resolve) => setTimeout(() => resolve('silent'), 1_500)),
    ]);
    expect(silence).toBe('silent');
    expect(heldEnded).toBe(false);
    expect(proxy.stats().open).toBe(2);

    proxy.pass();
    expect(await heldAnswer).not.toBeNull();
    expect(await freshAnswer).not.toBeNull();
    held.destroy();
    fresh.destroy();
  });

  it('when cut, then every open connection is reset', async () => {
    const socket = await open();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    proxy.cut();
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('when the client writes far more than the queue holds while delayed or blackholed, then the proxy stops reading instead of buffering it', async () => {
    for (const fault of ['delay', 'blackhole'] as const) {
      const small = await startTcpFaultProxy({ targetPort: echoPort, maxQueuedBytes: 64 * 1024 });
      try {
        const socket = await new Promise<Socket>((resolve) => {
          const s = createConnection({ host: '127.0.0.1', port: small.port }, () => resolve(s));
        });
        if (fault === 'delay') small.delay(60_000);
        else small.blackhole();
        const limit = 64 * 1024 * 1024;
        const chunk = Buffer.alloc(256 * 1024, 1);
        let written = 0;
        // Writes until the socket backs up for a second: the kernel's buffers are full and
        // the proxy no longer reads. A proxy that kept reading would take all 64 MB.
        while (written < limit) {
          written += chunk.length;
          if (socket.write(chunk)) continue;
          const drained = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 1_000);
            socket.once('drain', () => {
              clearTimeout(timer);
              resolve(true);
            });
          });
          if (!drained) break;
        }
        expect(written, fault).toBeLessThan(limit);
        expect(small.stats().toTarget, fault).toBe(0);
        socket.destroy();
      } finally {
        await small.close();
      }
    }
  });
});
