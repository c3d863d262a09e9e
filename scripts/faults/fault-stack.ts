import { randomBytes } from 'node:crypto';
import { ControllerApi } from '../../src/client/controller-api.js';
import { Shadowgate, type ShadowgateOptions } from '@shadowgate/sdk';
import { type ControllerProcess, controllerProcess } from './controller-process.js';
import type { CaseContext } from './fault-case.js';
import { createFaultDatabase, type FaultDatabase } from './fault-database.js';
import { deletePrefix } from './redis-server.js';
import { freePort } from './waiting.js';

export const ADMIN_KEY = `faults-admin-${randomBytes(12).toString('hex')}`;

export interface StackOptions {
  label: string;
  /** Default: the machine's PostgreSQL. */
  pgAdminUrl?: string;
  /** Default: the machine's Redis. */
  redisUrl?: string;
  /** The controllers reach the case's database at this URL instead (e.g. through a fault proxy). */
  controllerDatabaseUrl?: (databaseUrl: string) => string;
  /** The controllers reach `redisUrl` at this URL instead (e.g. through a fault proxy). */
  controllerRedisUrl?: string;
  /** Controller processes on the same database and queue (default 1). */
  controllers?: number;
  env?: Record<string, string>;
  /** More configuration for the i-th controller (from 0) alone, over `env`. */
  envOf?: (index: number) => Record<string, string>;
}

/** A fresh database, one or more controller processes on it, and an ingest key for the SDKs. */
export interface Stack {
  db: FaultDatabase;
  controllers: ControllerProcess[];
  /** The admin API of the first controller. */
  admin: ControllerApi;
  ingestKey: string;
  queuePrefix: string;
  /** The Redis the queue lives on, as the fault suite reaches it. */
  redisUrl: string;
}

export async function startStack(ctx: CaseContext, options: StackOptions): Promise<Stack> {
  const redisUrl = options.redisUrl ?? ctx.redisUrl;
  const db = await createFaultDatabase(options.pgAdminUrl ?? ctx.pgAdminUrl, options.label);
  ctx.defer(() => db.drop());
  const queuePrefix = `sgfaults-${options.label}-${randomBytes(4).toString('hex')}`;
  ctx.defer(() => deletePrefix(redisUrl, queuePrefix).catch(() => 0));
  const controllers: ControllerProcess[] = [];
  for (let i = 0; i < (options.controllers ?? 1); i++) {
    const controller = controllerProcess({
      name: `controller-${String.fromCharCode(97 + i)}`,
      port: await freePort(),
      databaseUrl: options.controllerDatabaseUrl?.(db.url) ?? db.url,
      redisUrl: options.controllerRedisUrl ?? redisUrl,
      queuePrefix,
      adminKey: ADMIN_KEY,
      ...(options.env || options.envOf ? { env: { ...options.env, ...options.envOf?.(i) } } : {}),
    });
    ctx.defer(() => controller.kill());
    ctx.onFailure(() => `${controller.name}, last log lines:\n${controller.tail(20)}`);
    controllers.push(controller);
  }
  // The first one migrates alone; the others start on a migrated database.
  await controllers[0]!.start();
  await Promise.all(controllers.slice(1).map((c) => c.start()));
  const admin = new ControllerApi({ url: controllers[0]!.url, key: ADMIN_KEY }, { timeoutMs: 15_000 });
  const ingestKey = await admin.createKey(`faults-${options.label}`, 'ingest');
  return { db, controllers, admin, ingestKey, queuePrefix, redisUrl };
}

/** An SDK as a workflow service would hold it, with what it reported counted. */
export interface SdkHandle {
  sdk: Shadowgate;
  /** Items resent after a transient failure. */
  readonly retries: number;
  /** Why sends were retried, e.g. "HTTP 503", with how many items each time. */
  retryReasons: Map<string, number>;
}

export function startSdk(
  ctx: CaseContext,
  url: string,
  apiKey: string,
  extra: Partial<ShadowgateOptions> = {},
): SdkHandle {
  const counts = { retries: 0, retryReasons: new Map<string, number>() };
  const sdk = new Shadowgate({
    url,
    apiKey,
    appName: 'faults-workflow',
    refreshIntervalMs: 500,
    readyTimeoutMs: 10_000,
    suggestionDeadlineMs: 1_000,
    buffer: { batchSize: 100, flushIntervalMs: 200 },
    retry: { baseMs: 100, maxMs: 1_000, maxAttempts: 8 },
    requestTimeoutMs: 5_000,
    closeTimeoutMs: 5_000,
    onEvent: (event) => {
      if (event.type !== 'retry') return;
      counts.retries += event.count;
      const reason = event.reason.startsWith('HTTP ') ? event.reason.slice(0, 8) : event.reason.slice(0, 40);
      counts.retryReasons.set(reason, (counts.retryReasons.get(reason) ?? 0) + 1);
    },
    ...extra,
  });
  ctx.defer(() => sdk.close());
  return {
    sdk,
    get retries() {
      return counts.retries;
    },
    retryReasons: counts.retryReasons,
  };
}
