import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP gateway in front of a server, the way a hung controller (or a proxy in front of
 * one) looks to a client: it forwards every connection until `hold()`, and from then on
 * accepts connections and reads what is sent on them, open ones included, but never answers
 * nor closes. A refused connection fails in a millisecond, so only a held one shows whether
 * a client waits on the network where it must not.
 */
export interface HoldingGateway {
  url: string;
  hold(): void;
  /** Bytes sent on held connections and never answered: proof a client asked while it held. */
  readonly heldBytes: number;
  close(): Promise<void>;
}

export async function startHoldingGateway(target: string): Promise<HoldingGateway> {
  const { hostname, port } = new URL(target);
  let holding = false;
  let heldBytes = 0;
  const forwarded = new Map<Socket, Socket>();
  const holdOn = (client: Socket) => {
    client.on('error', () => {});
    client.on('data', (chunk: Buffer) => {
      heldBytes += chunk.length;
    });
  };
  const server = createServer((client) => {
    if (holding) return holdOn(client);
    const upstream = connect(Number(port), hostname);
    forwarded.set(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      if (forwarded.get(client) !== upstream) return; // held meanwhile: the client stays open
      forwarded.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const open = new Set<Socket>();
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold() {
      holding = true;
      for (const [client, upstream] of forwarded) {
        forwarded.delete(client);
        client.unpipe(upstream);
        upstream.unpipe(client);
        upstream.destroy();
        holdOn(client);
      }
    },
    get heldBytes() {
      return heldBytes;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      for (const upstream of forwarded.values()) upstream.destroy();
      await closed;
    },
  };
}
