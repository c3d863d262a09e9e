import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Mode } from '../plans/plan-schema.js';
import type { ShadowQueueDepth } from '../shadow/shadow-queue.js';

/** What the gauges read at scrape time: the record (PostgreSQL) and the queue, not counters kept here. */
export interface ScrapeSources {
  useCases(): Promise<Array<{ id: string; stage: Mode }>>;
  queueDepth(useCase: string): Promise<ShadowQueueDepth>;
  /** Owed AI calls per use case (use cases owing none may be left out). */
  owedCalls(): Promise<Map<string, number>>;
}

interface Snapshot {
  useCases: Array<{ id: string; stage: Mode }>;
  depth: Map<string, ShadowQueueDepth>;
  owed: Map<string, number>;
}

export type IngestOutcome = 'accepted' | 'duplicate';
export type GuardKind = 'rollbackWhen' | 'maxDailyCost';

/** The three gauges collect from one snapshot; a scrape reads the sources once, not three times. */
const SNAPSHOT_TTL_MS = 1_000;

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
  private snapshotAt = 0;
  private snapshotValue: Promise<Snapshot | null> | null = null;

  constructor(
    private readonly sources: ScrapeSources,
    private readonly logger?: Logger,
  ) {
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
      help: 'Stage changes made by this process, by kind (promote, rollback, guard, disable, enable)',
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
    collectDefaultMetrics({ register: this.registry });
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

  transition(useCase: string, kind: string): void {
    this.transitions.inc({ use_case: useCase, kind });
  }

  guardTripped(useCase: string, guard: GuardKind): void {
    this.guardTrips.inc({ use_case: useCase, guard });
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
    const [useCases, owed] = await Promise.all([this.sources.useCases(), this.sources.owedCalls()]);
    const depth = new Map<string, ShadowQueueDepth>();
    for (const { id } of useCases) depth.set(id, await this.sources.queueDepth(id));
    return { useCases, depth, owed };
  }
}
