import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { ComparisonRecorder } from '../comparison/comparison-recorder.js';
import type { Config } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { createApp } from '../http/app.js';
import type { HttpServices } from '../http/http-services.js';
import { DecisionStore } from '../ingest/decision-store.js';
import { IngestService } from '../ingest/ingest-service.js';
import { KeyStore } from '../keys/key-store.js';
import { MetricsStore } from '../metrics/metrics-store.js';
import { type GateJudge, UseCaseReader } from '../metrics/use-case-reader.js';
import { PlanCache } from '../plans/plan-cache.js';
import type { Plan } from '../plans/plan-schema.js';
import { UseCaseStore } from '../plans/use-case-store.js';
import { AiCallStore } from '../shadow/ai-call-store.js';
import type { AiSystemClient } from '../shadow/ai-system-client.js';
import { createBullShadowQueue } from '../shadow/bull-shadow-queue.js';
import { createInProcessShadowQueue } from '../shadow/in-process-shadow-queue.js';
import type { ShadowQueue } from '../shadow/shadow-queue.js';
import { ShadowWorker } from '../shadow/shadow-worker.js';
import { createLogger } from './logger.js';

export interface ControllerOptions {
  config: Config;
  logger?: Logger;
  /** An already open database (tests); otherwise opened from the configuration. */
  database?: Database;
  queue?: ShadowQueue;
  clock?: () => Date;
  aiClientFactory?: (plan: Plan) => AiSystemClient;
  gateJudge?: GateJudge;
  /** Migrate the database at start (default true). */
  migrate?: boolean;
}

/** The composition root: every service of one controller process, built once. */
export interface Controller {
  app: Express;
  database: Database;
  queue: ShadowQueue;
  worker: ShadowWorker;
  services: HttpServices;
  logger: Logger;
  /** Starts consumers and the periodic sweep (no HTTP listener). */
  start(): Promise<void>;
  listen(port: number, host?: string): Promise<Server>;
  stop(): Promise<void>;
}

export async function createController(options: ControllerOptions): Promise<Controller> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const database =
    options.database ??
    (await openDatabase({ url: config.DATABASE_URL, dataDir: config.SHADOWGATE_DATA_DIR }));
  if (options.migrate !== false) await database.migrate();
  const queue =
    options.queue ??
    (config.REDIS_URL
      ? createBullShadowQueue({ redisUrl: config.REDIS_URL, prefix: config.SHADOWGATE_QUEUE_PREFIX, logger })
      : createInProcessShadowQueue({ logger }));

  const useCases = new UseCaseStore(database);
  const decisions = new DecisionStore(database);
  const plans = new PlanCache(useCases);
  const comparisons = new ComparisonRecorder(plans, decisions);
  const worker = new ShadowWorker({
    queue,
    calls: new AiCallStore(database),
    useCases,
    plans,
    comparisons,
    logger,
    maxResponseBytes: config.SHADOWGATE_MAX_AI_RESPONSE_BYTES,
    ...(options.aiClientFactory ? { clientFactory: options.aiClientFactory } : {}),
  });
  const clock = options.clock ?? (() => new Date());
  const services: HttpServices = {
    useCases,
    ingest: new IngestService({ useCases, decisions, queue, comparisons, logger }),
    reader: new UseCaseReader(new MetricsStore(database), options.gateJudge ?? null),
    keys: new KeyStore(database, config.SHADOWGATE_ADMIN_KEY),
    clock,
    onPlanApplied: (useCase) => worker.sync(useCase),
    readiness: async () => ({
      database: await database.ping().then(
        () => 'ok',
        (e: Error) => `unreachable: ${e.message}`,
      ),
      queue: await queue.ping().then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    }),
  };
  const app = createApp(services, { bodyLimit: config.SHADOWGATE_BODY_LIMIT, logger });

  const timers: NodeJS.Timeout[] = [];
  const servers: Server[] = [];
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await worker.syncAll();
      await worker.sweep();
    } catch (error) {
      logger.warn({ err: error }, 'sweep failed; it runs again at the next interval');
    } finally {
      sweeping = false;
    }
  };

  return {
    app,
    database,
    queue,
    worker,
    services,
    logger,
    async start() {
      await sweep();
      timers.push(setInterval(sweep, config.SHADOWGATE_SWEEP_MS).unref());
    },
    listen(port, host = config.HOST) {
      return new Promise((resolve, reject) => {
        const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
        servers.push(server);
      });
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await queue.close();
      if (!options.database) await database.close();
    },
  };
}
