import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import supertest from 'supertest';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { type Controller, createController } from '../../src/main/controller.js';
import { createLogger } from '../../src/main/logger.js';
import { createBullShadowQueue } from '../../src/shadow/bull-shadow-queue.js';
import { createInProcessShadowQueue } from '../../src/shadow/in-process-shadow-queue.js';
import { REDIS_URL } from './services.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/**
 * The explicit allowance for the simulated AI systems and webhook listeners the tests run on
 * 127.0.0.1 (by default the controller refuses loopback destinations). A test of the default
 * policy passes '' for a variable, which leaves it unset.
 */
export const LOOPBACK_DESTINATIONS = {
  SHADOWGATE_AI_DESTINATIONS: '*,127.0.0.0/8',
  SHADOWGATE_WEBHOOK_DESTINATIONS: '*,127.0.0.0/8',
};

export interface TestController {
  controller: Controller;
  http: ReturnType<typeof supertest>;
  queuePrefix: string;
  /** Authorization header for the bootstrap admin key. */
  admin: { Authorization: string };
  stop(): Promise<void>;
}

/**
 * A controller on the given database with either a bull queue on the real Redis
 * (a prefix of its own) or the in-process queue; the tick is off and the sweep hourly,
 * tests call `controller.worker.sweep()` and `controller.engine.tick(now)` when they mean it.
 */
export async function startTestController(options: {
  database: Database;
  queue: 'bull' | 'in-process';
  env?: Record<string, string>;
  clock?: () => Date;
  /** The host clock under the controller's database clock, ms (a skewed one, say). */
  hostClock?: () => number;
  /** Where the controller logs (default: stdout at TEST_LOG_LEVEL, else silent). */
  logger?: Logger;
  /** The judge worker's poll interval and first retry backoff, ms (default: the controller's). */
  judge?: { pollMs?: number; backoffMs?: number };
}): Promise<TestController> {
  const queuePrefix = `sgtest-${randomBytes(5).toString('hex')}`;
  const config = loadConfig({
    SHADOWGATE_ADMIN_KEY: ADMIN_KEY,
    SHADOWGATE_SWEEP_MS: '3600000',
    // Tests send bursts no client would; the rate-limit tests set their own rates.
    SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: '0',
    SHADOWGATE_RATE_LIMIT_API_PER_SEC: '0',
    SHADOWGATE_RATE_LIMIT_UNKNOWN_KEYS_PER_SEC: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...LOOPBACK_DESTINATIONS,
    ...options.env,
  });
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const queue =
    options.queue === 'bull'
      ? createBullShadowQueue({ redisUrl: REDIS_URL, prefix: queuePrefix, logger })
      : createInProcessShadowQueue({ logger });
  const controller = await createController({
    config,
    logger,
    database: options.database,
    queue,
    migrate: false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.hostClock ? { hostClock: options.hostClock } : {}),
    ...(options.judge?.pollMs ? { judgePollMs: options.judge.pollMs } : {}),
    ...(options.judge?.backoffMs ? { judgeBackoffMs: options.judge.backoffMs } : {}),
    // A timer's tick would take the tick slot a test's own tick(now) asks for.
    tick: false,
  });
  await controller.start();
  return {
    controller,
    http: supertest(controller.app),
    queuePrefix,
    admin: { Authorization: `Bearer ${ADMIN_KEY}` },
    stop: () => controller.stop().then(() => undefined),
  };
}

/** A minimal label plan for the simulated AI at `aiUrl`. */
export function labelPlan(useCase: string, aiUrl: string, extra = ''): string {
  return `useCase: ${useCase}
owner: test@example.com
description: test use case
decision:
  type: label
  labels: [approve, reject, escalate]
comparator: { type: exact }
ai:
  adapter: http
  url: ${aiUrl}
  timeoutMs: 2000
  concurrency: 32
  maxAttempts: 3
  pricing: { perCall: 0.0001, inputPerMTok: 0.15, outputPerMTok: 0.6 }
humanCostPerDecision: 1.8
segments: [region, riskTier]
stages:
  shadow:
    promoteWhen: { minSamples: 500, agreementLowerBound: 0.9 }
${extra}`;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
