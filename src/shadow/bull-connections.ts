import Queue from 'bull';
import { Redis, type RedisOptions } from 'ioredis';
import type { ShadowQueueLogger } from './shadow-queue.js';

/**
 * The Redis connections of the bull shadow queue and the bull queues built on them: bull's
 * 'client' and 'subscriber' connections are shared by every queue; each blocking 'bclient' is
 * its own and belongs to the caller that passed the array it is pushed onto. Queues are named
 * `ai-<useCase>` under `prefix`. A lost connection is logged once until it is restored; queue
 * errors at most once per 30 s; neither after close() has begun.
 */

export interface BullConnectionsOptions {
  redisUrl: string;
  prefix: string;
  logger: ShadowQueueLogger;
}

export interface BullConnections {
  /** The Redis URL with its password masked, for logs and errors. */
  readonly safeUrl: string;
  /** A bull queue for `useCase`; its blocking connections are pushed onto `bclients`. */
  newQueue<T>(useCase: string, bclients: Redis[], extra?: Queue.QueueOptions): Queue.Queue<T>;
  /** The shared command connection, opened on first use. */
  client(): Redis;
  /**
   * Throws when the shared command connection is down. During an outage ioredis holds commands
   * for several reconnection attempts (seconds); failing at once lets the caller move on (the
   * Postgres sweep re-enqueues later).
   */
  assertConnected(operation: string): void;
  /** Disconnects blocking connections whose queue is closed. */
  release(bclients: Redis[]): void;
  /** Mutes connection and queue errors, awaits `drain` (closing the queues), then disconnects all. */
  close(drain: () => Promise<void>): Promise<void>;
}

type ClientType = 'client' | 'subscriber' | 'bclient';

const QUEUE_ERROR_MUTE_MS = 30_000;
/**
 * How long a command on the shared connection waits for Redis: far above a loaded Redis's
 * milliseconds, short enough that an ingest waiting on its enqueue still answers in time.
 */
export const CLIENT_COMMAND_TIMEOUT_MS = 2_000;

/** Bull's fixed-window limiter for a rate per second: `max` jobs per `duration` ms, `max` >= 1. */
export function bullLimiter(perSecond: number): { max: number; duration: number } {
  const max = Math.max(1, Math.floor(perSecond));
  return { max, duration: Math.round((1000 * max) / perSecond) };
}

/** The URL as it may appear in logs and errors: the password masked. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid Redis URL>';
  }
}

export function createBullConnections(options: BullConnectionsOptions): BullConnections {
  const { redisUrl, prefix, logger } = options;
  const safeUrl = redactRedisUrl(redisUrl);
  const connections = new Set<Redis>();
  let shared: { client?: Redis; subscriber?: Redis } = {};
  let closing = false;
  let lastQueueErrorAt = 0;

  // Reconnect forever, at most 2 s apart, so workers resume soon after a Redis restart.
  // Plain commands give up after 3 reconnection attempts so enqueue() fails instead of hanging;
  // the subscriber and blocking connections must wait (bull requires maxRetriesPerRequest: null).
  // On a connection that is up but silent (a partition: no reset, keepalives answered nearby)
  // ioredis waits for a reply for as long as TCP does, minutes; plain commands stop waiting after
  // CLIENT_COMMAND_TIMEOUT_MS, so ingest's enqueue gives up and the sweep re-enqueues. Not on the
  // blocking connection: its BRPOPLPUSH waits by design, and resumes when the network does.
  function connect(type: ClientType): Redis {
    const redisOptions: RedisOptions = {
      connectionName: `shadowgate-queue-${type}`,
      enableReadyCheck: false,
      maxRetriesPerRequest: type === 'client' ? 3 : null,
      ...(type === 'client' ? { commandTimeout: CLIENT_COMMAND_TIMEOUT_MS } : {}),
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    };
    const conn = new Redis(redisUrl, redisOptions);
    conn.setMaxListeners(0);
    let down = false;
    conn.on('error', (err: Error) => {
      if (down || closing) return;
      down = true;
      logger.warn(
        { redis: safeUrl, connection: type, err: err.message },
        'Redis connection lost; reconnecting',
      );
    });
    conn.on('ready', () => {
      if (!down) return;
      down = false;
      logger.info({ redis: safeUrl, connection: type }, 'Redis connection restored');
    });
    connections.add(conn);
    return conn;
  }

  function sharedConnection(type: 'client' | 'subscriber'): Redis {
    let conn = shared[type];
    if (!conn) {
      conn = connect(type);
      shared[type] = conn;
    }
    return conn;
  }

  function clientFactory(bclients: Redis[]): (type: ClientType) => Redis {
    return (type) => {
      if (type !== 'bclient') return sharedConnection(type);
      const bclient = connect('bclient');
      bclients.push(bclient);
      return bclient;
    };
  }

  return {
    safeUrl,

    newQueue<T>(useCase: string, bclients: Redis[], extra: Queue.QueueOptions = {}): Queue.Queue<T> {
      const queueOptions: Queue.QueueOptions & { skipVersionCheck: boolean } = {
        ...extra,
        prefix,
        createClient: clientFactory(bclients),
        skipVersionCheck: true,
      };
      const queue = new Queue<T>(`ai-${useCase}`, queueOptions);
      queue.on('error', (err: Error) => {
        const now = Date.now();
        if (closing || now - lastQueueErrorAt < QUEUE_ERROR_MUTE_MS) return;
        lastQueueErrorAt = now;
        logger.warn({ useCase, redis: safeUrl, err: err.message }, 'bull queue error (muted for 30 s)');
      });
      return queue;
    },

    client() {
      return sharedConnection('client');
    },

    assertConnected(operation) {
      const status = shared.client?.status;
      if (status === 'reconnecting' || status === 'close' || status === 'end') {
        throw new Error(`${operation} on Redis at ${safeUrl} failed: the connection is down (${status})`);
      }
    },

    release(bclients) {
      for (const bclient of bclients) {
        bclient.disconnect();
        connections.delete(bclient);
      }
    },

    async close(drain) {
      closing = true;
      await drain();
      for (const conn of connections) conn.disconnect();
      connections.clear();
      shared = {};
    },
  };
}
