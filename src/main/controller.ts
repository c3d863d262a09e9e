import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { ComparisonRecorder } from '../shadow/comparison-recorder.js';
import type { Config } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { databaseClock } from '../db/database-clock.js';
import { createEgress } from '../egress/egress.js';
import { createApp } from '../http/app.js';
import type { HttpServices } from '../http/http-services.js';
import { DecisionStore } from '../ingest/decision-store.js';
import { IngestService } from '../ingest/ingest-service.js';
import { SuggestionService } from '../suggestions/suggestion-service.js';
import { RatingService } from '../ingest/rating-service.js';
import { DrizzleRatingStore } from '../ingest/rating-store.js';
import { JudgeCalibrationStore } from '../metrics/judge-calibration-store.js';
import { KeyStore } from '../keys/key-store.js';
import { MetricsStore } from '../metrics/metrics-store.js';
import { movementTokens } from '../metrics/rollup-movement.js';
import { RollupStore } from '../metrics/rollup-store.js';
import { TimeseriesStore } from '../metrics/timeseries-store.js';
import { JourneyStore } from '../promotion/journey-store.js';
import { UseCaseReader } from '../metrics/use-case-reader.js';
import { PlanCache } from '../plans/plan-cache.js';
import type { Plan } from '../plans/plan-schema.js';
import { type UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { RetentionPurge } from '../privacy/retention-purge.js';
import { DecisionPartitions, MONTHS_AHEAD } from '../db/decision-partitions.js';
import { AiCallStore } from '../shadow/ai-call-store.js';
import { aiEgress } from '../shadow/bounded-json.js';
import type { AiSystemClient } from '../shadow/ai-system-client.js';
import { createBullShadowQueue } from '../shadow/bull-shadow-queue.js';
import { createInProcessShadowQueue } from '../shadow/in-process-shadow-queue.js';
import type { ShadowQueue } from '../shadow/shadow-queue.js';
import { ShadowWorker } from '../shadow/shadow-worker.js';
import { InFlightCalls } from '../shadow/in-flight-calls.js';
import { GateEvaluator, judge } from '../promotion/gate-evaluator.js';
import { GuardWindowStore } from '../promotion/guard-window-store.js';
import { Notifier } from '../promotion/notifier.js';
import { PromotionEngine } from '../promotion/promotion-engine.js';
import { ReleaseService } from '../promotion/release-service.js';
import { TransitionStore } from '../promotion/transition-store.js';
import { ChallengerService } from '../promotion/challenger-service.js';
import { ChallengerStore } from '../promotion/challenger-store.js';
import { ChangeService } from '../promotion/change-service.js';
import { ChangeStore } from '../promotion/change-store.js';
import type { HoldBack } from '../promotion/change-types.js';
import { ChallengerCallStore } from '../shadow/challenger-call-store.js';
import { ChallengerWorker } from '../shadow/challenger-worker.js';
import { JudgeCallStore } from '../shadow/judge-call-store.js';
import { type JudgeClientFactory, JudgeClients } from '../shadow/judge-clients.js';
import { JudgeWorker } from '../shadow/judge-worker.js';
import { JudgeMetricsStore } from '../metrics/judge-metrics-store.js';
import { ControllerMetrics } from '../observability/metrics-registry.js';
import { InstrumentedAiClients } from '../observability/instrumented-ai-clients.js';
import { challengerOwedCallsByUseCase, owedCallsByUseCase } from '../observability/owed-calls.js';
import { gateReadings } from '../observability/gate-metrics.js';
import { DriftService } from '../metrics/drift-service.js';
import { DriftStore } from '../metrics/drift-store.js';
import { cachedReadiness } from '../observability/readiness.js';
import { AuditEventReader } from '../report/audit-event-reader.js';
import { ReportService } from '../report/report-service.js';
import { BudgetGuard } from '../shadow/budget-guard.js';
import { createLogger } from './logger.js';
import { createFlags, type Flags } from './flag-wiring.js';
import { periodic } from './periodic.js';
import { settlesWithin } from '../contracts/settles-within.js';

/** A host clock drifts by well under a millisecond a minute; a stepped one is corrected within this. */
const CLOCK_SYNC_MS = 60_000;

/** How often the judge worker looks for judge calls ready to be asked (retries after their backoff, other processes' calls). */
const JUDGE_POLL_MS = 1_000;

/** Retention is counted in days: an hourly purge keeps inputs at most an hour past it. */
const RETENTION_PURGE_MS = 3_600_000;

/** Months of `decisions` are made MONTHS_AHEAD ahead; looking hourly leaves months to spare. */
const PARTITIONS_MS = 3_600_000;

export interface ControllerOptions {
  config: Config;
  logger?: Logger;
  /** An already open database (tests); otherwise opened from the configuration. */
  database?: Database;
  queue?: ShadowQueue;
  /** Default: PostgreSQL's clock (database-clock.ts), so processes on one database agree on the time. */
  clock?: () => Date;
  /** The host clock the default clock corrects, ms (tests skew it). Default Date.now. */
  hostClock?: () => number;
  aiClientFactory?: (plan: Plan) => AiSystemClient;
  judgeClientFactory?: JudgeClientFactory;
  /** The judge worker's poll interval (default JUDGE_POLL_MS) and first retry backoff (default 1 s). */
  judgePollMs?: number;
  judgeBackoffMs?: number;
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
  /** Asks the judges for the scores comparisons owe (README "Judge comparator"). */
  judgeWorker: JudgeWorker;
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
  /**
   * Stops taking work, lets in-flight AI calls and requests finish for the grace period (default
   * SHADOWGATE_SHUTDOWN_GRACE_MS; `hurry` aborted ends it early), hands back the claims of the
   * calls still running, then closes the queue and the database. Called again, it returns the
   * first call's result.
   */
  stop(options?: StopOptions): Promise<StopReport>;
}

export interface StopOptions {
  graceMs?: number;
  /** Aborted (a second signal): the grace period ends now. */
  hurry?: AbortSignal;
}

export interface StopReport {
  /** AI calls held (or being claimed) when the stop began. */
  inFlight: number;
  /** Calls whose claim was released because they had not finished within the grace period. */
  handedBack: number;
  /** Claim statements that had not returned at the hand-back: their calls wait for their lease. */
  unanswered: number;
  ms: number;
}

/** After the hand-back, how long the queue, the HTTP server and webhooks get to finish. */
const AFTER_HAND_BACK_MS = 3_000;
/** How long the hand-back waits for claim statements still running. */
const CLAIM_WAIT_MS = 2_000;

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
  // The queue's close waits for its active jobs past the grace period: by then they were handed back.
  const closeTimeoutMs = config.SHADOWGATE_SHUTDOWN_GRACE_MS + AFTER_HAND_BACK_MS;
  const queue =
    options.queue ??
    (config.REDIS_URL
      ? createBullShadowQueue({
          redisUrl: config.REDIS_URL,
          prefix: config.SHADOWGATE_QUEUE_PREFIX,
          logger,
          closeTimeoutMs,
        })
      : createInProcessShadowQueue({ logger, closeTimeoutMs }));

  const dbClock = databaseClock(database, options.hostClock);
  if (!options.clock) {
    // A controller starts while its database is away (it reports not ready and recovers by
    // itself); the tick syncs first and does not run on the host's clock alone.
    await dbClock
      .sync()
      .catch((error: unknown) =>
        logger.warn({ err: error }, "the database's clock could not be read; synced before the first tick"),
      );
  }
  const clock = options.clock ?? dbClock.now;
  const useCases = new UseCaseStore(database, { maxUseCases: config.SHADOWGATE_MAX_USE_CASES });
  const decisions = new DecisionStore(database);
  const plans = new PlanCache(useCases);
  const judgeCalls = new JudgeCallStore(database, decisions);
  // Built below (it needs the metrics and the egress); a judge call owed meanwhile waits for the poll.
  let judgeWorker: JudgeWorker | null = null;
  const comparisons = new ComparisonRecorder(plans, decisions, judgeCalls, (useCase) =>
    judgeWorker?.wake(useCase),
  );
  const guardWindows = new GuardWindowStore(database);
  const drift = new DriftService(new DriftStore(database));
  const reader = new UseCaseReader(
    new RollupStore(database),
    // Range and segment scans, the time series and the report's event counts are bounded reads.
    new MetricsStore(database.boundedReads),
    ({ useCase, cohort, now }) => judge(useCase, cohort, now),
    // The detail's drift summary: one drift read (README "Drift").
    (useCase, now) => drift.read(useCase, now),
    new JudgeMetricsStore(database.boundedReads),
    // The judge's calibration against people (README "Is the judge right?").
    new JudgeCalibrationStore(database),
  );
  const gates = new GateEvaluator(reader);
  const partitions = new DecisionPartitions(database);
  const metrics = new ControllerMetrics(
    {
      useCases: async () =>
        (await useCases.list()).map((u) => ({
          id: u.id,
          stage: u.stage,
          challenger: u.challenger?.id ?? null,
        })),
      queueDepth: (useCase) => queue.depth(useCase),
      owedCalls: () => owedCallsByUseCase(database),
      challengerOwedCalls: () => challengerOwedCallsByUseCase(database),
      judgeOwedCalls: async () =>
        new Map([...(await judgeCalls.owedByUseCase())].map(([id, { owed }]) => [id, owed])),
      gates: gateReadings({ useCases, gates, clock }),
      readiness: () => services.readiness(),
      decisionMonthsAhead: () => partitions.monthsAhead(),
    },
    logger,
    { challengerVerdictTtlMs: 5 * config.SHADOWGATE_TICK_MS },
  );
  const egress = createEgress(config);
  const aiClients = new InstrumentedAiClients(metrics, {
    maxResponseBytes: config.SHADOWGATE_MAX_AI_RESPONSE_BYTES,
    egress: aiEgress(egress.ai),
    secrets: egress.secrets,
    ...(options.aiClientFactory ? { factory: options.aiClientFactory } : {}),
  });
  const calls = new AiCallStore(database);
  const inFlight = new InFlightCalls();
  let stopping: Promise<StopReport> | null = null;
  const worker = new ShadowWorker({
    inFlight,
    queue,
    calls,
    useCases,
    plans,
    comparisons,
    logger,
    budget: new BudgetGuard((id, now) => guardWindows.spendToday(id, now), clock),
    clients: aiClients,
  });
  const challengerWorker = new ChallengerWorker({
    queue,
    calls: new ChallengerCallStore(database),
    useCases,
    plans,
    clients: aiClients,
    logger,
    budget: new BudgetGuard((id, now) => guardWindows.spendToday(id, now), clock),
  });
  const judges = new JudgeWorker({
    calls: judgeCalls,
    useCases,
    plans,
    judges: new JudgeClients({
      egress: aiEgress(egress.ai),
      secrets: egress.secrets,
      ...(options.judgeClientFactory ? { factory: options.judgeClientFactory } : {}),
    }),
    logger,
    budget: new BudgetGuard((id, now) => guardWindows.spendToday(id, now), clock),
    ...(options.judgeBackoffMs !== undefined ? { backoffMs: options.judgeBackoffMs } : {}),
    onOutcome: (useCase, outcome, latencyMs, cost) => metrics.judgeCall(useCase, outcome, latencyMs, cost),
  });
  judgeWorker = judges;
  const transitions = new TransitionStore(database);
  const notifier = new Notifier(logger, { destinations: egress.webhooks });
  const keys = new KeyStore(database, config.SHADOWGATE_ADMIN_KEY, {
    unknownKeysPerSecond: config.SHADOWGATE_RATE_LIMIT_UNKNOWN_KEYS_PER_SEC,
    lookupTimeoutMs: config.SHADOWGATE_DATABASE_WAIT_MS,
  });
  const flags = createFlags({ config, useCases, keys, transitions, notifier, logger, clock });
  // Change control holds back release actions and applies them once approved: built after them.
  const holdBack: HoldBack = (request) => changes.holdStageChange(request);
  const challengers = new ChallengerService({
    useCases,
    store: new ChallengerStore(database),
    plans,
    notifier,
    clock,
    onChanged: async (useCase) => {
      await worker.sync(useCase);
      await challengerWorker.sync(useCase);
    },
    onJudged: (useCase, challenger, verdict) => metrics.challengerJudged(useCase, challenger, verdict),
    onSwapped: (useCase) => metrics.challengerSwapped(useCase),
    // A swap by the tick or by hand: the configuration that serves now gets its own drift reference.
    afterSwap: async (useCase, actor, now) => {
      await drift.rebaseline(useCase, actor, 'a challenger was swapped in', now).catch((err: unknown) => {
        logger.warn({ err, useCase: useCase.id }, 'drift reference not re-taken at the swap');
      });
    },
    holdBack,
  });
  const release = new ReleaseService({
    useCases,
    transitions,
    gates,
    notifier,
    clock,
    onTransition: (useCase, kind) => metrics.transition(useCase, kind),
    holdBack,
    onStageChanged: async (useCase) => {
      // The new visit's drift reference, from the window of the visit that earned it (README
      // "Drift"). Not a reason to fail the move: the visit's first drift reading takes it then.
      await drift.referenceOf(useCase).catch((err: unknown) => {
        logger.warn(
          { err, useCase: useCase.id },
          'drift reference not taken at the move; taken at the next reading',
        );
      });
      await challengers.afterStageChange(useCase);
      await worker.sync(useCase);
      await challengerWorker.sync(useCase);
      await flags.reconciler.reconcile(useCase.id);
    },
  });
  // The tick writes its points; the API and the report read them with the bounded reads' time limit.
  const journey = new JourneyStore(database);
  const journeyReads = new JourneyStore(database.boundedReads);
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
    challengers,
    drift,
    onDriftRead: (useCase, reading) => metrics.driftRead(useCase, reading.view),
    journey,
    movement: (visits) => movementTokens(database, visits),
  });
  const onPlanApplied = async (useCase: UseCase) => {
    await worker.sync(useCase);
    await challengerWorker.sync(useCase);
    await flags.reconciler.reconcile(useCase.id);
  };
  const changeStore = new ChangeStore(database);
  const changes = new ChangeService({
    store: changeStore,
    useCases,
    release,
    challengers,
    reader,
    notifier,
    egress,
    clock,
    ttlMs: config.SHADOWGATE_CHANGE_TTL,
    automaticMinSamples: config.SHADOWGATE_AUTOMATIC_MIN_SAMPLES,
    onPlanApplied,
  });
  const services: HttpServices = {
    useCases,
    drift,
    ingest: new IngestService({
      useCases,
      decisions,
      queue,
      comparisons,
      logger,
      timeoutMs: config.SHADOWGATE_DATABASE_WAIT_MS,
      onIngested: (useCase, outcome, count) => metrics.decisions(useCase, outcome, count),
    }),
    ratings: new RatingService({
      useCases,
      plans,
      ratings: new DrizzleRatingStore(database),
      timeoutMs: config.SHADOWGATE_DATABASE_WAIT_MS,
    }),
    suggestions: new SuggestionService({
      useCases,
      decisions,
      calls,
      clients: aiClients,
      comparisons,
      logger,
      inFlight,
      plans,
      queue,
    }),
    reader,
    report: new ReportService({
      useCases,
      reader,
      transitions,
      events: new AuditEventReader(database.boundedReads),
      challengers,
      changes: changeStore,
      journey: journeyReads,
    }),
    timeseries: new TimeseriesStore(database.boundedReads),
    journey: journeyReads,
    keys,
    release,
    clock,
    egress,
    challengers,
    flagStatus: (useCase) => flags.reconciler.status(useCase),
    changes,
    onPlanApplied,
    readiness: cachedReadiness({
      checks: { database: () => database.ping(), queue: () => queue.ping(), flags: () => flags.store.ping() },
      logger,
    }),
    stopping: () => stopping !== null,
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
      await challengerWorker.syncAll();
      await challengerWorker.sweep();
    },
    logger,
  );
  const ticker = periodic(
    'tick',
    config.SHADOWGATE_TICK_MS,
    async () => {
      if (!options.clock && !dbClock.synced) await dbClock.sync();
      return engine.tick(clock());
    },
    logger,
  );
  const flagSync = periodic(
    'flag sync',
    config.SHADOWGATE_FLAG_SYNC_MS,
    () => flags.reconciler.reconcileAll(),
    logger,
  );
  const judging = periodic('judge poll', options.judgePollMs ?? JUDGE_POLL_MS, () => judges.poll(), logger);
  const retention = new RetentionPurge({ database, useCases, logger });
  const purger = periodic('retention purge', RETENTION_PURGE_MS, () => retention.purge(clock()), logger);
  const clockSync = periodic('clock sync', CLOCK_SYNC_MS, () => dbClock.sync(), logger);
  const partitionsAhead = periodic(
    'decision partitions',
    PARTITIONS_MS,
    async () => {
      const made = await partitions.ensureAhead();
      if (made > 0) logger.info({ made, monthsAhead: MONTHS_AHEAD }, 'decision partitions made ahead');
    },
    logger,
  );
  const loops = options.clock
    ? [sweeper, ticker, flagSync, purger, judging, partitionsAhead]
    : [sweeper, ticker, flagSync, purger, judging, partitionsAhead, clockSync];

  async function stopController({ graceMs = config.SHADOWGATE_SHUTDOWN_GRACE_MS, hurry }: StopOptions) {
    const started = Date.now();
    const challengerCalls = challengerWorker.inFlight;
    const judgeInFlight = judges.inFlight;
    const inFlightAtStart = inFlight.count + challengerCalls.count + judgeInFlight.count;
    inFlight.stopTaking();
    challengerCalls.stopTaking();
    judgeInFlight.stopTaking();
    const grace = AbortSignal.any([AbortSignal.timeout(Math.max(0, graceMs)), ...(hurry ? [hurry] : [])]);
    // No new connection; those open finish their request and close (app.ts), idle ones at once.
    const serversClosed = Promise.all(
      servers.map((s) => {
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        return closed;
      }),
    );
    const loopsStopped = Promise.all(loops.map((l) => l.stop()));
    // The queue takes no more jobs and waits for its active ones (whose calls may be handed back).
    const queueClosed = queue.close();
    const [ownIdle, challengerIdle, judgeIdle] = await Promise.all([
      inFlight.idle(grace),
      challengerCalls.idle(grace),
      judgeInFlight.idle(grace),
    ]);
    const finished = ownIdle && challengerIdle && judgeIdle;
    let handedBack = 0;
    let unanswered = 0;
    if (!judgeIdle) {
      const back = await judgeInFlight.handBack(judges.calls, CLAIM_WAIT_MS).catch((error: unknown) => {
        logger.error({ err: error }, 'handing back the judge calls failed; their lease frees them');
        return { handedBack: 0, unanswered: judgeInFlight.count };
      });
      handedBack += back.handedBack;
      unanswered += back.unanswered;
    }
    if (!challengerIdle) {
      const back = await challengerCalls
        .handBack(challengerWorker.calls, CLAIM_WAIT_MS)
        .catch((error: unknown) => {
          logger.error({ err: error }, 'handing back the challenger calls failed; their lease frees them');
          return { handedBack: 0, unanswered: challengerCalls.count };
        });
      handedBack += back.handedBack;
      unanswered += back.unanswered;
    }
    if (!ownIdle) {
      const back = await inFlight.handBack(calls, CLAIM_WAIT_MS).catch((error: unknown) => {
        logger.error({ err: error }, 'handing back the AI calls failed; their lease frees them');
        return { handedBack: 0, unanswered: inFlight.count };
      });
      handedBack += back.handedBack;
      unanswered += back.unanswered;
    }
    if (!finished) {
      logger.warn(
        { handedBack, unanswered, graceMs, hurried: hurry?.aborted ?? false },
        'AI calls still running at the end of the grace period were handed back',
      );
    }
    const rest = await settlesWithin(
      Promise.all([serversClosed, loopsStopped, queueClosed, notifier.settled()]),
      finished ? Math.max(0, graceMs - (Date.now() - started)) + AFTER_HAND_BACK_MS : AFTER_HAND_BACK_MS,
    );
    if (!rest) {
      logger.warn('requests, the queue or webhooks were still busy when the controller stopped');
      for (const s of servers) s.closeAllConnections();
    }
    metrics.close();
    if (!options.database) await database.close();
    return { inFlight: inFlightAtStart, handedBack, unanswered, ms: Date.now() - started };
  }

  return {
    app,
    database,
    queue,
    worker,
    judgeWorker: judges,
    engine,
    flags,
    services,
    logger,
    metrics,
    retention,
    async start() {
      await partitionsAhead.run();
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
    stop(stopOptions = {}) {
      stopping ??= stopController(stopOptions);
      return stopping;
    },
  };
}
