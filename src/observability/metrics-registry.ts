import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { DriftView } from '../metrics/drift-view.js';
import type { Mode } from '../plans/plan-schema.js';
import type { ShadowQueueDepth } from '../shadow/shadow-queue.js';
import { abandonedWork } from '../db/database-deadline.js';
import { watchEventLoopStalls } from './event-loop-stalls.js';
import { GateScrape, type GateReading, registerGateGauges } from './gate-metrics.js';

interface UseCaseState {
  id: string;
  stage: Mode;
  /** The id of the use case's active challenger; null or absent without one. */
  challenger?: number | null;
}

/** What the gauges read at scrape time: the record (PostgreSQL) and the queue, not counters kept here. */
export interface ScrapeSources {
  useCases(): Promise<UseCaseState[]>;
  queueDepth(useCase: string): Promise<ShadowQueueDepth>;
  /** Owed AI calls per use case (use cases owing none may be left out). */
  owedCalls(): Promise<Map<string, number>>;
  /** Judge calls owed per use case (use cases owing none may be left out). */
  judgeOwedCalls?(): Promise<Map<string, number>>;
  /** Calls owed to active challengers per use case (use cases owing none may be left out). */
  challengerOwedCalls?(): Promise<Map<string, number>>;
  /** Every use case's gate and the cohort it judges, in one batched read (gate-metrics.ts). */
  gates?(): Promise<GateReading[]>;
  /** The readiness checks /readyz answers with (shared with the probes: at most a run a second). */
  readiness?(): Promise<Record<string, 'ok' | 'unavailable'>>;
  /** Months after this one whose decision partition exists (−1: this month has none). */
  decisionMonthsAhead?(): Promise<number>;
}

export interface MetricsOptions {
  /**
   * A challenger's verdict is shown while this process judged it this recently (the tick judges
   * every active challenger; a read of the use case judges it too). Another controller may have
   * taken the ticks meanwhile: an older verdict is left out rather than shown stale. 5 minutes
   * unless told (the controller passes a few ticks).
   */
  challengerVerdictTtlMs?: number;
  /** A read of the gate cohorts serves the scrapes of this long (default 5 s). */
  gateReadTtlMs?: number;
  /** How long a scrape waits for the gate cohorts before leaving their gauges out (default 3 s). */
  gateReadWaitMs?: number;
}

interface Snapshot {
  useCases: UseCaseState[];
  depth: Map<string, ShadowQueueDepth>;
  owed: Map<string, number>;
  challengerOwed: Map<string, number>;
  judgeOwed: Map<string, number>;
  monthsAhead: number | null;
}

export type IngestOutcome = 'accepted' | 'duplicate';
export type GuardKind = 'rollbackWhen' | 'maxDailyCost';
export type ChallengerVerdict = 'eligible' | 'inconclusive' | 'blocked';
/** A judge call's attempt: answered, retried after a transient failure or an invalid answer, or failed for good. */
export type JudgeCallOutcome = 'done' | 'retried' | 'failed';

/** The gauges collect from one snapshot; a scrape reads the sources once, not once per gauge. */
const SNAPSHOT_TTL_MS = 1_000;
const CHALLENGER_VERDICT_TTL_MS = 5 * 60_000;
/**
 * The gate cohorts are the tick's read (rollups of every use case): scrapes share one read for
 * this long, and wait for it no longer than the wait, well within Prometheus's 10 s scrape timeout.
 */
const GATE_READ_TTL_MS = 5_000;
const GATE_READ_WAIT_MS = 3_000;
/** The event loop blocked this long is counted as a stall. */
const STALL_THRESHOLD_MS = 1_000;

/**
 * The Prometheus metrics of one controller, on a registry of its own (several controllers
 * may share a process in tests), with Node's process metrics. Counters count what this
 * process did; gauges are read from the sources at scrape time.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly decisionsIngested: Counter<'use_case' | 'outcome'>;
  private readonly aiCalls: Counter<'use_case'>;
  private readonly aiErrors: Counter<'use_case' | 'kind'>;
  private readonly aiLatency: Histogram<'use_case'>;
  private readonly transitions: Counter<'use_case' | 'kind'>;
  private readonly guardTrips: Counter<'use_case' | 'guard'>;
  private readonly ingestDuration: Histogram<'route' | 'status'>;
  private readonly challengerSwaps: Counter<'use_case'>;
  private readonly judgeCalls: Counter<'use_case' | 'outcome'>;
  private readonly judgeCost: Counter<'use_case'>;
  private readonly judgeLatency: Histogram<'use_case'>;
  /** The latest verdict this process judged, per use case, for the challenger it was judged on. */
  private readonly challengerVerdicts = new Map<
    string,
    { challenger: number; verdict: ChallengerVerdict; at: number }
  >();
  private readonly challengerVerdictTtlMs: number;
  /** The latest drift reading of each use case with a drift guard, as this process's tick read it. */
  private readonly driftReadings = new Map<string, { view: DriftView; at: number }>();
  private snapshotAt = 0;
  private snapshotValue: Promise<Snapshot | null> | null = null;
  private readonly stopStallWatch: () => void;

  constructor(
    private readonly sources: ScrapeSources,
    private readonly logger?: Logger,
    options: MetricsOptions = {},
  ) {
    this.challengerVerdictTtlMs = options.challengerVerdictTtlMs ?? CHALLENGER_VERDICT_TTL_MS;
    const registers = [this.registry];
    this.decisionsIngested = new Counter({
      name: 'shadowgate_decisions_ingested_total',
      help: 'Mirrored decisions received, by use case and outcome (accepted: newly stored; duplicate: a retry of a stored one)',
      labelNames: ['use_case', 'outcome'],
      registers,
    });
    this.aiCalls = new Counter({
      name: 'shadowgate_ai_calls_total',
      help: 'AI system calls made (shadow calls and suggestions; each attempt counts)',
      labelNames: ['use_case'],
      registers,
    });
    this.aiErrors = new Counter({
      name: 'shadowgate_ai_errors_total',
      help: 'AI system calls that failed, by error kind (timeout, transport, http-status, bad-output, too-large, out-of-range, egress-refused)',
      labelNames: ['use_case', 'kind'],
      registers,
    });
    this.aiLatency = new Histogram({
      name: 'shadowgate_ai_latency_seconds',
      help: 'Latency of answered AI system calls',
      labelNames: ['use_case'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.transitions = new Counter({
      name: 'shadowgate_transitions_total',
      help: 'Stage changes made by this process, by kind (promote, rollback, guard, disable, enable, model-change)',
      labelNames: ['use_case', 'kind'],
      registers,
    });
    this.guardTrips = new Counter({
      name: 'shadowgate_guard_trips_total',
      help: 'Guards that tripped: rollbackWhen on its window, maxDailyCost once a day',
      labelNames: ['use_case', 'guard'],
      registers,
    });
    this.ingestDuration = new Histogram({
      name: 'shadowgate_ingest_request_duration_seconds',
      help: 'Handling time of the SDK-facing requests (mirror, late human decision, suggestion), as the SDK sees it',
      labelNames: ['route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.challengerSwaps = new Counter({
      name: 'shadowgate_challenger_swaps_total',
      help: 'Challengers swapped in over their champion by this process (automatically at the tick, or by a release key)',
      labelNames: ['use_case'],
      registers,
    });
    // The judge is measured apart from the AI (README "Judge comparator"): its own series.
    this.judgeCalls = new Counter({
      name: 'shadowgate_judge_calls_total',
      help: 'Judge call attempts, by outcome (done: answered and scored; retried: a transient failure or an invalid answer, asked again after a backoff; failed: failed for good, the comparison stays pending)',
      labelNames: ['use_case', 'outcome'],
      registers,
    });
    this.judgeCost = new Counter({
      name: 'shadowgate_judge_cost_usd_total',
      help: "Cost of the judge's answered calls (USD), apart from the AI's; counted in ai.maxDailyCost",
      labelNames: ['use_case'],
      registers,
    });
    this.judgeLatency = new Histogram({
      name: 'shadowgate_judge_latency_seconds',
      help: "Latency of the judge's answered calls",
      labelNames: ['use_case'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });

    const metrics = this;
    new Gauge({
      name: 'shadowgate_queue_jobs',
      help: 'Shadow-call jobs in the queue of this process, by use case and state (waiting, active, delayed)',
      labelNames: ['use_case', 'state'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        for (const [useCase, depth] of snapshot?.depth ?? []) {
          for (const state of ['waiting', 'active', 'delayed'] as const) {
            this.set({ use_case: useCase, state }, depth[state]);
          }
        }
      },
    });
    new Gauge({
      name: 'shadowgate_ai_calls_owed',
      help: 'AI calls owed in PostgreSQL (not yet answered or failed for good), by use case',
      labelNames: ['use_case'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        for (const { id } of snapshot?.useCases ?? []) {
          this.set({ use_case: id }, snapshot?.owed.get(id) ?? 0);
        }
      },
    });
    new Gauge({
      name: 'shadowgate_decision_months_ahead',
      help: 'Months after this one whose partition of decisions exists (-1: this month has none and ingest fails); the controller keeps 3',
      registers,
      async collect() {
        this.reset();
        const monthsAhead = (await metrics.snapshot())?.monthsAhead;
        if (monthsAhead != null) this.set(monthsAhead);
      },
    });
    new Gauge({
      name: 'shadowgate_database_abandoned_requests',
      help: 'Requests of this process that stopped waiting for the database at their deadline and whose work has not settled yet',
      registers,
      collect() {
        this.set(abandonedWork());
      },
    });
    new Gauge({
      name: 'shadowgate_use_case_stage',
      help: 'The stage each use case is in: one series per use case, with value 1, labelled with the stage',
      labelNames: ['use_case', 'stage'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        for (const { id, stage } of snapshot?.useCases ?? []) this.set({ use_case: id, stage }, 1);
      },
    });
    new Gauge({
      name: 'shadowgate_challenger_verdict',
      help: "The active challenger's verdict (eligible, inconclusive, blocked) as this process last judged it: one series per use case with value 1; absent without a challenger or without a recent judgement",
      labelNames: ['use_case', 'verdict'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        const now = Date.now();
        for (const { id, challenger } of snapshot?.useCases ?? []) {
          const judged = metrics.challengerVerdicts.get(id);
          if (challenger == null || judged?.challenger !== challenger) continue;
          if (now - judged.at > metrics.challengerVerdictTtlMs) continue;
          this.set({ use_case: id, verdict: judged.verdict }, 1);
        }
      },
    });
    // Drift (README "Drift"): the tick's latest reading, for use cases whose stage has a drift
    // guard; a reading older than the challenger verdicts' TTL is left out (another process ticks).
    const freshDrift = (useCases: Array<{ id: string }>) => {
      const now = Date.now();
      return useCases.flatMap(({ id }) => {
        const read = metrics.driftReadings.get(id);
        return read && now - read.at <= metrics.challengerVerdictTtlMs ? [{ id, view: read.view }] : [];
      });
    };
    new Gauge({
      name: 'shadowgate_drift_psi',
      help: "PSI of each drift field's current window against the stage's reference, as this process's tick last read it (use cases with a drift guard)",
      labelNames: ['use_case', 'field'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        for (const { id, view } of freshDrift(snapshot?.useCases ?? [])) {
          for (const f of view.fields) if (f.psi !== null) this.set({ use_case: id, field: f.field }, f.psi);
        }
      },
    });
    new Gauge({
      name: 'shadowgate_drift_rate',
      help: 'The human override rate (human-reviewed) and escalation rate (limited-autonomous) over the drift window, as this process last read it',
      labelNames: ['use_case', 'rate'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        for (const { id, view } of freshDrift(snapshot?.useCases ?? [])) {
          if (view.overrideRate.current !== null)
            this.set({ use_case: id, rate: 'override' }, view.overrideRate.current);
          if (view.escalationRate.current !== null)
            this.set({ use_case: id, rate: 'escalation' }, view.escalationRate.current);
        }
      },
    });
    new Gauge({
      name: 'shadowgate_challenger_calls_owed',
      help: 'Calls owed in PostgreSQL to the active challenger, by use case; absent without a challenger',
      labelNames: ['use_case'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        for (const { id, challenger } of snapshot?.useCases ?? []) {
          if (challenger == null) continue;
          this.set({ use_case: id }, snapshot?.challengerOwed.get(id) ?? 0);
        }
      },
    });
    new Gauge({
      name: 'shadowgate_judge_calls_owed',
      help: 'Judge calls owed in PostgreSQL (their comparisons pending), by use case; absent for use cases owing none',
      labelNames: ['use_case'],
      registers,
      async collect() {
        this.reset();
        const snapshot = await metrics.snapshot();
        for (const [useCase, owed] of snapshot?.judgeOwed ?? []) {
          if (owed > 0) this.set({ use_case: useCase }, owed);
        }
      },
    });
    new Gauge({
      name: 'shadowgate_readiness_check',
      help: 'The readiness checks of /readyz (database, queue, flags): 1 ok, 0 unavailable',
      labelNames: ['check'],
      registers,
      async collect() {
        this.reset();
        const checks = (await sources.readiness?.()) ?? {};
        for (const [check, state] of Object.entries(checks)) this.set({ check }, state === 'ok' ? 1 : 0);
      },
    });
    const gates = new GateScrape(() => sources.gates?.() ?? Promise.resolve([]), {
      ttlMs: options.gateReadTtlMs ?? GATE_READ_TTL_MS,
      waitMs: options.gateReadWaitMs ?? GATE_READ_WAIT_MS,
      logger,
    });
    registerGateGauges(this.registry, () => gates.current());
    collectDefaultMetrics({ register: this.registry });
    // nodejs_eventloop_lag_seconds is measured when scraped and its _max_ is reset by every
    // scrape, so a stall between two scrapes (or seen first by another scraper) may never show.
    const stalls = new Counter({
      name: 'shadowgate_event_loop_stalls_total',
      help: 'Times the event loop of this process was blocked for more than 1 s',
      registers,
    });
    const stalledSeconds = new Counter({
      name: 'shadowgate_event_loop_stalled_seconds_total',
      help: 'Time the event loop spent blocked in those stalls',
      registers,
    });
    this.stopStallWatch = watchEventLoopStalls(
      (ms) => {
        stalls.inc();
        stalledSeconds.inc(ms / 1000);
        this.logger?.warn({ stalledMs: Math.round(ms) }, 'event loop blocked');
      },
      { thresholdMs: STALL_THRESHOLD_MS },
    );
  }

  /** Stops the stall watch (its timer never keeps the process alive). */
  close(): void {
    this.stopStallWatch();
  }

  decisions(useCase: string, outcome: IngestOutcome, count: number): void {
    if (count > 0) this.decisionsIngested.inc({ use_case: useCase, outcome }, count);
  }

  aiAnswered(useCase: string, latencyMs: number): void {
    this.aiCalls.inc({ use_case: useCase });
    this.aiLatency.observe({ use_case: useCase }, latencyMs / 1000);
  }

  aiFailed(useCase: string, kind: string): void {
    this.aiCalls.inc({ use_case: useCase });
    this.aiErrors.inc({ use_case: useCase, kind });
  }

  /** A judge call's attempt ended; an answered one carries its latency and cost. */
  judgeCall(useCase: string, outcome: JudgeCallOutcome, latencyMs: number | null, costUsd: number): void {
    this.judgeCalls.inc({ use_case: useCase, outcome });
    if (outcome !== 'done') return;
    if (latencyMs !== null) this.judgeLatency.observe({ use_case: useCase }, latencyMs / 1000);
    if (costUsd > 0) this.judgeCost.inc({ use_case: useCase }, costUsd);
  }

  transition(useCase: string, kind: string): void {
    this.transitions.inc({ use_case: useCase, kind });
  }

  guardTripped(useCase: string, guard: GuardKind): void {
    this.guardTrips.inc({ use_case: useCase, guard });
  }

  /** A challenger was judged (by the tick or a read): its verdict is the gauge's until judged again. */
  challengerJudged(useCase: string, challenger: number, verdict: ChallengerVerdict): void {
    this.challengerVerdicts.set(useCase, { challenger, verdict, at: Date.now() });
  }

  /** The tick read a use case's drift: its figures are the gauges' until read again. */
  driftRead(useCase: string, view: DriftView): void {
    this.driftReadings.set(useCase, { view, at: Date.now() });
  }

  challengerSwapped(useCase: string): void {
    this.challengerSwaps.inc({ use_case: useCase });
    this.challengerVerdicts.delete(useCase);
  }

  ingestRequest(route: string, status: number, seconds: number): void {
    this.ingestDuration.observe({ route, status: String(status) }, seconds);
  }

  /** The text exposition format. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** A failed read leaves the gauges empty for this scrape rather than failing the whole scrape. */
  private snapshot(): Promise<Snapshot | null> {
    const now = Date.now();
    if (this.snapshotValue && now - this.snapshotAt < SNAPSHOT_TTL_MS) return this.snapshotValue;
    this.snapshotAt = now;
    this.snapshotValue = this.readSnapshot().catch((error: unknown) => {
      this.logger?.warn({ err: error }, 'metrics scrape could not read use cases, queue or owed calls');
      return null;
    });
    return this.snapshotValue;
  }

  private async readSnapshot(): Promise<Snapshot> {
    const [useCases, owed, challengerOwed, judgeOwed, monthsAhead] = await Promise.all([
      this.sources.useCases(),
      this.sources.owedCalls(),
      this.sources.challengerOwedCalls?.() ?? new Map<string, number>(),
      this.sources.judgeOwedCalls?.() ?? new Map<string, number>(),
      this.sources.decisionMonthsAhead?.() ?? null,
    ]);
    const depth = new Map<string, ShadowQueueDepth>();
    for (const { id } of useCases) depth.set(id, await this.sources.queueDepth(id));
    return { useCases, depth, owed, challengerOwed, judgeOwed, monthsAhead };
  }
}
