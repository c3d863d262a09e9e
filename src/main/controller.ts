import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { ComparisonRecorder } from '../shadow/comparison-recorder.js';
import type { Config } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { createEgress } from '../egress/egress.js';
import { createApp } from '../http/app.js';
import type { HttpServices } from '../http/http-services.js';
import { DecisionStore } from '../ingest/decision-store.js';
import { IngestService } from '../ingest/ingest-service.js';
import { SuggestionService } from '../suggestions/suggestion-service.js';
import { KeyStore } from '../keys/key-store.js';
import { MetricsStore } from '../metrics/metrics-store.js';
import { RollupStore } from '../metrics/rollup-store.js';
import { TimeseriesStore } from '../metrics/timeseries-store.js';
import { UseCaseReader } from '../metrics/use-case-reader.js';
import { PlanCache } from '../plans/plan-cache.js';
import type { Plan } from '../plans/plan-schema.js';
import { UseCaseStore } from '../plans/use-case-store.js';
import { RetentionPurge } from '../privacy/retention-purge.js';
import { AiCallStore } from '../shadow/ai-call-store.js';
import { aiEgress } from '../shadow/bounded-json.js';
import type { AiSystemClient } from '../shadow/ai-system-client.js';
import { createBullShadowQueue } from '../shadow/bull-shadow-queue.js';
import { createInProcessShadowQueue } from '../shadow/in-process-shadow-queue.js';
import type { ShadowQueue } from '../shadow/shadow-queue.js';
import { ShadowWorker } from '../shadow/shadow-worker.js';
import { GateEvaluator, judge } from '../promotion/gate-evaluator.js';
import { GuardWindowStore } from '../promotion/guard-window-store.js';
import { Notifier } from '../promotion/notifier.js';
import { PromotionEngine } from '../promotion/promotion-engine.js';
import { ReleaseService } from '../promotion/release-service.js';
import { TransitionStore } from '../promotion/transition-store.js';
import { ControllerMetrics } from '../observability/metrics-registry.js';
import { InstrumentedAiClients } from '../observability/instrumented-ai-clients.js';
import { owedCallsByUseCase } from '../observability/owed-calls.js';
import { cachedReadiness } from '../observability/readiness.js';
import { AuditEventReader } from '../report/audit-event-reader.js';
import { ReportService } from '../report/report-service.js';
import { BudgetGuard } from '../shadow/budget-guard.js';
import { createLogger } from './logger.js';
import { createFlags, type Flags } from './flag-wiring.js';
import { periodic } from './periodic.js';

/** Retention is counted in days: an hourly purge keeps inputs at most an hour past it. */
const RETENTION_PURGE_MS = 3_600_000;

export interface ControllerOptions {
  config: Config;
  logger?: Logger;
  /** An already open database (tests); otherwise opened from the configuration. */
  database?: Database;
  queue?: ShadowQueue;
  clock?: () => Date;
  aiClientFactory?: (plan: Plan) => AiSystemClient;
  /** Run the sweep and the tick on timers after start() (default true; tests drive them by hand). */
  background?: boolean;
  /** With `background`, also tick on a timer (default true; false: the caller drives `engine.tick`). */
  tick?: boolean;
  /** Migrate the database at start (default true). */
  migrate?: boolean;
}

/** The composition root: every service of one controller process, built once. */
export interface Controller {
  app: Express;
  database: Database;
  queue: ShadowQueue;
  worker: ShadowWorker;
  engine: PromotionEngine;
  flags: Flags;
  services: HttpServices;
  logger: Logger;
  /** This controller's Prometheus registry, served at /metrics. */
  metrics: ControllerMetrics;
  /** Purges stored inputs past their plan's `retentionDays` (hourly in the background). */
  retention: RetentionPurge;
  /** Starts consumers, the periodic sweep and the tick (no HTTP listener). */
  start(): Promise<void>;
  listen(port: number, host?: string): Promise<Server>;
  stop(): Promise<void>;
}

export async function createController(options: ControllerOptions): Promise<Controller> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const database =
    options.database ??
    (await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.SHADOWGATE_DATA_DIR,
      readTimeoutMs: config.SHADOWGATE_READ_TIMEOUT_MS,
    }));
  if (options.migrate !== false) await database.migrate();
  const queue =
    options.queue ??
    (config.REDIS_URL
      ? createBullShadowQueue({ redisUrl: config.REDIS_URL, prefix: config.SHADOWGATE_QUEUE_PREFIX, logger })
      : createInProcessShadowQueue({ logger }));

  const clock = options.clock ?? (() => new Date());
  const useCases = new UseCaseStore(database, { maxUseCases: config.SHADOWGATE_MAX_USE_CASES });
  const decisions = new DecisionStore(database);
  const plans = new PlanCache(useCases);
  const comparisons = new ComparisonRecorder(plans, decisions);
  const guardWindows = new GuardWindowStore(database);
  const metrics = new ControllerMetrics(
    {
      useCases: async () => (await useCases.list()).map((u) => ({ id: u.id, stage: u.stage })),
      queueDepth: (useCase) => queue.depth(useCase),
      owedCalls: () => owedCallsByUseCase(database),
    },
    logger,
  );
  const egress = createEgress(config);
  const aiClients = new InstrumentedAiClients(metrics, {
    maxResponseBytes: config.SHADOWGATE_MAX_AI_RESPONSE_BYTES,
    egress: aiEgress(egress.ai),
    secrets: egress.secrets,
    ...(options.aiClientFactory ? { factory: options.aiClientFactory } : {}),
  });
  const calls = new AiCallStore(database);
  const worker = new ShadowWorker({
    queue,
    calls,
    useCases,
    plans,
    comparisons,
    logger,
    budget: new BudgetGuard((id, now) => guardWindows.spendToday(id, now), clock),
    clients: aiClients,
  });
  const reader = new UseCaseReader(
    new RollupStore(database),
    // Range and segment scans, the time series and the report's event counts are bounded reads.
    new MetricsStore(database.boundedReads),
    ({ useCase, cohort, now }) => judge(useCase, cohort, now),
  );
  const gates = new GateEvaluator(reader);
  const transitions = new TransitionStore(database);
  const notifier = new Notifier(logger, { destinations: egress.webhooks });
  const keys = new KeyStore(database, config.SHADOWGATE_ADMIN_KEY, {
    unknownKeysPerSecond: config.SHADOWGATE_RATE_LIMIT_UNKNOWN_KEYS_PER_SEC,
  });
  const flags = createFlags({ config, useCases, keys, transitions, notifier, logger, clock });
  const release = new ReleaseService({
    useCases,
    transitions,
    gates,
    notifier,
    clock,
    onTransition: (useCase, kind) => metrics.transition(useCase, kind),
    onStageChanged: async (useCase) => {
      await worker.sync(useCase);
      await flags.reconciler.reconcile(useCase.id);
    },
  });
  const engine = new PromotionEngine({
    useCases,
    transitions,
    gates,
    guards: guardWindows,
    release,
    notifier,
    logger,
    tickMs: config.SHADOWGATE_TICK_MS,
    onGuardTripped: (useCase, guard) => metrics.guardTripped(useCase, guard),
  });
  const services: HttpServices = {
    useCases,
    ingest: new IngestService({
      useCases,
      decisions,
      queue,
      comparisons,
      logger,
      onIngested: (useCase, outcome, count) => metrics.decisions(useCase, outcome, count),
    }),
    suggestions: new SuggestionService({
      useCases,
      decisions,
      calls,
      clients: aiClients,
      comparisons,
      logger,
    }),
    reader,
    report: new ReportService({
      useCases,
      reader,
      transitions,
      events: new AuditEventReader(database.boundedReads),
    }),
    timeseries: new TimeseriesStore(database.boundedReads),
    keys,
    release,
    clock,
    egress,
    onPlanApplied: async (useCase) => {
      await worker.sync(useCase);
      await flags.reconciler.reconcile(useCase.id);
    },
    readiness: cachedReadiness({
      checks: { database: () => database.ping(), queue: () => queue.ping(), flags: () => flags.store.ping() },
      logger,
    }),
  };
  const app = createApp(services, {
    bodyLimit: config.SHADOWGATE_BODY_LIMIT,
    logger,
    metrics,
    metricsAuth: config.SHADOWGATE_METRICS_AUTH,
    rateLimits: {
      ingest: config.SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC,
      api: config.SHADOWGATE_RATE_LIMIT_API_PER_SEC,
    },
    ...(flags.clientApi ? { unleashClientApi: flags.clientApi } : {}),
  });

  const servers: Server[] = [];
  const sweeper = periodic(
    'sweep',
    config.SHADOWGATE_SWEEP_MS,
    async () => {
      await worker.syncAll();
      await worker.sweep();
    },
    logger,
  );
  const ticker = periodic('tick', config.SHADOWGATE_TICK_MS, () => engine.tick(clock()), logger);
  const flagSync = periodic(
    'flag sync',
    config.SHADOWGATE_FLAG_SYNC_MS,
    () => flags.reconciler.reconcileAll(),
    logger,
  );
  const retention = new RetentionPurge({ database, useCases, logger });
  const purger = periodic('retention purge', RETENTION_PURGE_MS, () => retention.purge(clock()), logger);
  const loops = [sweeper, ticker, flagSync, purger];

  return {
    app,
    database,
    queue,
    worker,
    engine,
    flags,
    services,
    logger,
    metrics,
    retention,
    async start() {
      await sweeper.run();
      await flagSync.run();
      if (options.background !== false) {
        for (const loop of loops) if (loop !== ticker || options.tick !== false) loop.start();
      }
    },
    listen(port, host = config.HOST) {
      return new Promise((resolve, reject) => {
        const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
        servers.push(server);
      });
    },
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await notifier.settled();
      await queue.close();
      if (!options.database) await database.close();
    },
  };
}
