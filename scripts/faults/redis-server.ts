import { Redis } from 'ioredis';
import { type ManagedProcess, spawnManaged } from './processes.js';
import { freePort, waitFor } from './waiting.js';

/**
 * A redis-server of the suite's own, on a free port, without persistence: the Redis case
 * flushes and restarts it without touching the machine's Redis or anyone else's keys.
 */
export interface OwnRedis {
  url: string;
  port: number;
  /** FLUSHALL: every key of this server is the case's own. */
  flushAll(): Promise<void>;
  /** SIGKILL: every connection drops and, without persistence, every key is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let server: ManagedProcess | undefined;
  const start = async () => {
    const started = spawnManaged(
      'redis-server',
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    server = started;
    await waitFor(
      `redis-server on port ${port}`,
      async () => {
        if (!started.running) throw new Error(`redis-server exited:\n${started.tail(10)}`);
        return (await withClient(url, (r) => r.ping())) === 'PONG' ? true : undefined;
      },
      10_000,
      100,
    );
  };
  await start();
  return {
    url,
    port,
    flushAll: async () => {
      await withClient(url, (r) => r.flushall());
    },
    kill: async () => {
      await server?.stop('SIGKILL');
    },
    start,
    close: async () => {
      await server?.stop('SIGKILL');
    },
  };
}

async function withClient<T>(url: string, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** Throws a one-line message naming the service when Redis cannot be reached. */
export async function checkRedis(url: string, hint: string): Promise<void> {
  try {
    await withClient(url, (r) => r.ping());
  } catch (error) {
    throw new Error(`Redis is not reachable at ${url} (${(error as Error).message}); ${hint}`);
  }
}

/** Deletes the keys under one queue prefix (the machine's Redis is shared with other runs). */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  return withClient(url, async (redis) => {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  });
}

/**
 * Where bull holds each job of a queue, by job id: `active`, `wait`, `delayed`, `paused`, `hash`
 * (a job hash in no list) or `none`. What a case prints for the calls still owed when it fails.
 */
export async function jobStates(
  url: string,
  prefix: string,
  queue: string,
  jobIds: readonly string[],
): Promise<Map<string, string>> {
  return withClient(url, async (redis) => {
    const key = (part: string) => `${prefix}:${queue}:${part}`;
    const [active, wait, paused, delayed] = await Promise.all([
      redis.lrange(key('active'), 0, -1),
      redis.lrange(key('wait'), 0, -1),
      redis.lrange(key('paused'), 0, -1),
      redis.zrange(key('delayed'), 0, -1),
    ]);
    const lists: Array<[string, Set<string>]> = [
      ['active', new Set(active)],
      ['wait', new Set(wait)],
      ['paused', new Set(paused)],
      ['delayed', new Set(delayed)],
    ];
    const states = new Map<string, string>();
    for (const id of jobIds) {
      const listed = lists.find(([, ids]) => ids.has(id))?.[0];
      states.set(id, listed ?? ((await redis.exists(key(id))) ? 'hash' : 'none'));
    }
    return states;
  });
}
