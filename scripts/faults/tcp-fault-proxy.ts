import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy the fault suite puts between the controller and a service (PostgreSQL, Redis)
 * to make the network between them slow or silent, switchable at run time:
 *
 * - `pass()`: bytes go through as they come.
 * - `delay(ms)`: every chunk waits `ms` before it is passed on, in each direction (a round
 *   trip takes twice as long), order kept.
 * - `blackhole()`: a partition as the client sees it when nothing answers with a reset. Open
 *   connections stay open but no byte passes either way, and no end (FIN) either; new
 *   connections are accepted (the proxy's kernel completes the handshake) but reach nothing.
 *   The proxy stops reading, so what a side writes stays in the kernel's buffers until they
 *   are full and its writes back up, as when the peer's receive window stops moving.
 * - recovery, `pass()` or `delay(ms)` again: the connections held through the blackhole carry
 *   on from where they stopped, with what was written meanwhile (and any end) delivered, and
 *   those accepted during it are connected to the target then. This is what TCP does after a
 *   partition of seconds: it retransmits for about 15 minutes (Linux, tcp_retries2) before it
 *   gives up. What ends such a connection sooner is the client's own timeouts, and those are
 *   what a fault case tests: a client waiting on a silent connection without one waits for
 *   the whole partition.
 * - `cut()`: every open connection is reset at once on both sides (a middlebox or the
 *   server dropping the connections), whatever the mode.
 *
 * Bounded: at most `maxConnections` at once (more are closed on accept) and `maxQueuedBytes`
 * waiting per direction of a connection (past it the proxy stops reading that side until the
 * queue drains). Listens on 127.0.0.1 only.
 */
export interface TcpFaultProxy {
  readonly port: number;
  /** The mode now. */
  readonly mode: ProxyMode;
  pass(): void;
  delay(ms: number): void;
  blackhole(): void;
  cut(): void;
  stats(): ProxyStats;
  close(): Promise<void>;
}

export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'blackhole' };

export interface ProxyStats {
  /** Connections open now. */
  open: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections closed at once because `maxConnections` were open. */
  refused: number;
  /** Bytes passed on, client to target and back. */
  toTarget: number;
  toClient: number;
}

export interface TcpFaultProxyOptions {
  targetHost?: string;
  targetPort: number;
  maxConnections?: number;
  maxQueuedBytes?: number;
}

/** A delay longer than this is a mistake, not a slow network. */
export const MAX_DELAY_MS = 60_000;

const END = Symbol('end');
type Item = { chunk: Buffer | typeof END; due: number };

/** One direction of one connection: what was read from `from`, waiting to be written to `to`. */
class Pipe {
  private readonly queue: Item[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private ended = false;
  private to: Socket | undefined;

  constructor(
    private readonly from: Socket,
    private readonly proxy: { readonly mode: ProxyMode; readonly maxQueuedBytes: number },
    private readonly count: (bytes: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.on('end', () => this.push(END));
  }

  /** The side this pipe writes to, once connected. */
  attach(to: Socket): void {
    this.to = to;
    to.on('drain', () => {
      this.writing = false;
      this.pump();
    });
    this.pump();
  }

  private push(chunk: Buffer | typeof END): void {
    if (this.ended) return;
    const { mode } = this.proxy;
    this.queue.push({ chunk, due: Date.now() + (mode.kind === 'delay' ? mode.ms : 0) });
    if (chunk !== END) {
      this.queuedBytes += chunk.length;
      if (this.queuedBytes >= this.proxy.maxQueuedBytes) this.from.pause();
    }
    this.pump();
  }

  /** Moves what is due while the mode lets bytes through; called again on every change. */
  pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const silent = this.proxy.mode.kind === 'blackhole';
    if (silent) {
      this.from.pause();
      return;
    }
    while (!this.writing && this.to && this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.due - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        break;
      }
      this.queue.shift();
      if (head.chunk === END) {
        this.ended = true;
        this.to.end();
        break;
      }
      this.queuedBytes -= head.chunk.length;
      this.count(head.chunk.length);
      if (!this.to.write(head.chunk)) this.writing = true;
    }
    if (!this.ended && this.queuedBytes < this.proxy.maxQueuedBytes && !this.from.destroyed) {
      this.from.resume();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

export async function startTcpFaultProxy(options: TcpFaultProxyOptions): Promise<TcpFaultProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const maxConnections = options.maxConnections ?? 256;
  const state = { mode: { kind: 'pass' } as ProxyMode, maxQueuedBytes: options.maxQueuedBytes ?? 1 << 20 };
  const stats: ProxyStats = { open: 0, accepted: 0, refused: 0, toTarget: 0, toClient: 0 };

  interface Link {
    client: Socket;
    target?: Socket;
    up: Pipe;
    down: Pipe;
  }
  const links = new Set<Link>();

  const connectTarget = (link: Link) => {
    const target = createConnection({ host: targetHost, port: options.targetPort, allowHalfOpen: true });
    target.setNoDelay(true);
    link.target = target;
    link.down = new Pipe(target, state, (n) => {
      stats.toClient += n;
    });
    target.on('error', () => drop(link));
    target.on('close', () => drop(link));
    link.down.attach(link.client);
    link.up.attach(target);
    // The target answers only once it is through the mode's gate too.
    link.down.pump();
  };

  const drop = (link: Link) => {
    if (!links.delete(link)) return;
    stats.open--;
    link.up.stop();
    link.down.stop();
    link.client.destroy();
    link.target?.destroy();
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (links.size >= maxConnections) {
      stats.refused++;
      client.destroy();
      return;
    }
    stats.accepted++;
    stats.open++;
    client.setNoDelay(true);
    const up = new Pipe(client, state, (n) => {
      stats.toTarget += n;
    });
    // A placeholder until the target is connected: nothing flows to the client before that.
    const link: Link = { client, up, down: up };
    links.add(link);
    client.on('error', () => drop(link));
    client.on('close', () => drop(link));
    if (state.mode.kind === 'blackhole') client.pause();
    else connectTarget(link);
  });

  const setMode = (mode: ProxyMode) => {
    state.mode = mode;
    for (const link of links) {
      if (!link.target && mode.kind !== 'blackhole') connectTarget(link);
      link.up.pump();
      if (link.target) link.down.pump();
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the fault proxy got no port');

  return {
    port: address.port,
    get mode() {
      return state.mode;
    },
    pass: () => setMode({ kind: 'pass' }),
    delay: (ms) => {
      if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS) {
        throw new RangeError(`a delay is a whole number of ms from 0 to ${MAX_DELAY_MS}, got ${ms}`);
      }
      setMode({ kind: 'delay', ms });
    },
    blackhole: () => setMode({ kind: 'blackhole' }),
    cut: () => {
      for (const link of [...links]) {
        link.client.resetAndDestroy();
        link.target?.resetAndDestroy();
        drop(link);
      }
    },
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of [...links]) drop(link);
        server.close(() => resolve());
      }),
  };
}
