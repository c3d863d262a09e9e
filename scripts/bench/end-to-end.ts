import { randomBytes } from 'node:crypto';
import { ControllerApi } from '../../src/client/controller-api.js';
import { Shadowgate } from '@shadowgate/sdk';
import { makeInvoice, referenceLabel } from '../simulation/reference-labeler.js';
import { createBenchDatabase } from './bench-database.js';
import { benchPlan, LABELS } from './bench-plans.js';
import { atLeast, atMost, type BenchOptions, type BenchResult, type BenchRow } from './bench-types.js';
import { onCleanup } from './cleanup.js';
import { type ControllerChild, startControllerChildren } from './controller-child.js';
import { describeProfile, summariseProfile } from './cpu-profile.js';
import { deleteKeys } from './ingest-throughput.js';
import {
  coresUsed,
  cpuPerDecision,
  cpuSnapshot,
  describeCores,
  describeCpuPerDecision,
} from './process-usage.js';
import { type SimAiChild, startSimAiChild } from './sim-ai-child.js';
import { quantiles, round } from './stats.js';
import { type Sample, summariseTrends } from './trends.js';

/**
 * Benchmark 4: a steady rate of decisions decided through the SDK in shadow mode (this process),
 * mirrored to a controller (a child process: PostgreSQL, bull on Redis, its timers at their
 * defaults), whose shadow worker asks the simulated AI system (another child) answering in 50 ms.
 * Measured: the lag from mirror to stored comparison, the backlog of owed AI calls and the
 * controller's RSS over time, and the CPU per decision of the controllers, PostgreSQL and Redis.
 * Baseline: the AI's own latency as the controller recorded it, the floor of any lag.
 *
 * Three points, each on a fresh database: 1,000/s on one controller (issue 7's target), 3,000/s
 * on one (issue 20's), and 3,000/s on two replicas sharing the database and Redis, the SDK's
 * decisions spread over both (an SDK instance each), which gives the CPU per decision a
 * deployment of N replicas is sized from (docs/scaling.md).
 */

const USE_CASE = 'e2e-bench';
const AI_LATENCY_MS = 50;
/** The controller's log line after a sweep that re-enqueued owed calls (`reenqueued`). */
const SWEEP_LOG = 'sweep re-enqueued owed AI calls';

interface E2ePoint {
  rate: number;
  controllers: number;
  /**
   * The plan's ai.concurrency, which holds per controller process. rate × 50 ms calls are in
   * flight, and each slot is also held 10–20 ms while its outcome is recorded (more on a busy
   * machine): 1,000/s keeps 50 calls in flight and allows 100 (the default is 8); 3,000/s keeps
   * 150 and allows 400 in all.
   */
  aiConcurrency: number;
  /**
   * Application instances the decisions come from, an SDK each, decision i from instance i mod
   * this, instance k mirroring to controller k mod controllers. An SDK sends one batch (500
   * items) at a time, so one instance at 3,000/s would need every request back within 166 ms;
   * four at 750/s each stay below the 1,000/s one instance is measured at.
   */
  sdkInstances: number;
  /** Load seconds in a full run; a quick run uses `quickSeconds`, or skips the point if null. */
  seconds: number;
  quickSeconds: number | null;
  /** The lag p95 target: a fixed bound (issue 7), or the AI's own p95 plus this (issue 20). */
  lagTarget: { fixedMs: number } | { overAiP95Ms: number };
}

const POINTS: E2ePoint[] = [
  {
    rate: 1_000,
    controllers: 1,
    aiConcurrency: 100,
    sdkInstances: 1,
    seconds: 300,
    quickSeconds: 45,
    lagTarget: { fixedMs: 500 },
  },
  {
    rate: 3_000,
    controllers: 1,
    aiConcurrency: 400,
    sdkInstances: 4,
    seconds: 300,
    quickSeconds: 30,
    lagTarget: { overAiP95Ms: 100 },
  },
  // Two replicas at 400 in all: the same slots as one controller, so the points compare.
  {
    rate: 3_000,
    controllers: 2,
    aiConcurrency: 200,
    sdkInstances: 4,
    seconds: 120,
    quickSeconds: null,
    lagTarget: { overAiP95Ms: 100 },
  },
];

/** What one point measured, kept for the next point's baseline and for the JSON. */
interface PointFigures {
  point: E2ePoint;
  cpuPerDecision: Record<string, number>;
}

const GROUPS = [
  ['controllers', 'controller(s)'],
  ['postgres', 'PostgreSQL'],
  ['redis', 'Redis'],
] as const;

export async function benchEndToEnd(options: BenchOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const measured: PointFigures[] = [];
  for (const point of POINTS) {
    if (options.quick && point.quickSeconds === null) {
      options.log(`e2e: ${title(point)} skipped in a quick run`);
      continue;
    }
    // The CPU rows of a point sit beside the point before it in the same run: 3,000/s beside
    // 1,000/s on one controller, two controllers beside one at 3,000/s.
    const { result, figures } = await endToEndPoint(options, point, measured.at(-1));
    results.push(result);
    measured.push(figures);
  }
  return results;
}

function title(point: E2ePoint): string {
  const rate = point.rate.toLocaleString('en-US');
  return `End to end at ${rate}/s${point.controllers > 1 ? `, ${point.controllers} controllers` : ''}`;
}

async function endToEndPoint(
  options: BenchOptions,
  point: E2ePoint,
  previous: PointFigures | undefined,
): Promise<{ result: BenchResult; figures: PointFigures }> {
  const { rate, controllers } = point;
  const durationS = options.quick ? (point.quickSeconds ?? point.seconds) : point.seconds;
  const warmupS = options.quick ? 10 : 30;
  const sampleEveryS = options.quick ? 2 : 5;
  const drainS = options.quick ? 3 : 60;
  const flushS = options.quick ? 3 : 30;
  const prefix = `sg-bench-${randomBytes(4).toString('hex')}`;
  const database = await createBenchDatabase(options.postgresUrl, 'e2e');
  const removeKeys = onCleanup(`Redis keys ${prefix}:*`, () => deleteKeys(options.redisUrl, prefix));
  let sim: SimAiChild | undefined;
  let children: ControllerChild[] = [];
  let sdks: Shadowgate[] = [];
  try {
    sim = await startSimAiChild({ latencyMs: AI_LATENCY_MS, agreement: 0.92 });
    children = await startControllerChildren(controllers, {
      label: `e2e-${rate}-${controllers}c`,
      databaseUrl: database.url,
      redisUrl: options.redisUrl,
      queuePrefix: prefix,
      collect: [SWEEP_LOG],
      // One profile says where a controller's time goes; the replica point is for CPU totals.
      ...(options.profile && controllers === 1 ? { cpuProfileDir: options.profileDir } : {}),
    });
    const first = children[0]!;
    const admin = new ControllerApi({ url: first.url, key: first.adminKey });
    await admin.applyPlan(
      USE_CASE,
      benchPlan(USE_CASE, { url: `${sim.url}/decide`, concurrency: point.aiConcurrency }),
    );
    const apiKey = await admin.createKey('e2e-bench', 'ingest', [USE_CASE]);
    const sdkUrls = Array.from({ length: point.sdkInstances }, (_, k) => children[k % controllers]!.url);
    sdks = sdkUrls.map((url) => new Shadowgate({ url, apiKey, appName: 'e2e-bench' }));
    for (const [k, sg] of sdks.entries()) {
      if (!(await sg.ready())) throw new Error(`the SDK could not read flags from ${sdkUrls[k]}/api`);
    }

    options.log(
      `e2e: ${rate}/s for ${durationS} s from ${point.sdkInstances} SDK instance(s) to ${controllers} ` +
        `controller(s), AI answering in ${AI_LATENCY_MS} ms`,
    );
    const run = randomBytes(3).toString('hex');
    const total = rate * durationS;
    const decidedAt = new Float64Array(total);
    const samples: Sample[] = [];
    const started = performance.now();
    const rssMb = () => children.reduce((sum, child) => sum + (child.rssBytes() ?? 0), 0) / 2 ** 20;
    const sample = async () => {
      const [row] = await database.sql<{ owed: number; compared: number; stored: number; active: number }[]>`
        select count(*) filter (where ai_state = 'owed')::int as owed,
          count(compared_at)::int as compared, count(*)::int as stored,
          (select count(*)::int from pg_stat_activity where datname = current_database()
            and state = 'active' and pid <> pg_backend_pid()) as active
        from decisions`;
      samples.push({
        t: (performance.now() - started) / 1000,
        owed: row?.owed ?? 0,
        compared: row?.compared ?? 0,
        stored: row?.stored ?? 0,
        rssMb: rssMb(),
        pgActive: row?.active ?? 0,
      });
    };
    let sampling: Promise<void> = sample();
    const sampler = setInterval(() => {
      sampling = sampling.then(sample).catch(() => {});
    }, sampleEveryS * 1000);
    let steadyCpu: ReturnType<typeof cpuSnapshot> | undefined;
    const named = { controllers: children.map((child) => child.pid), 'simulated AI': sim.pid };

    let i = 0;
    while (i < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      for (; i < due; i++) {
        const invoice = makeInvoice(i);
        const decision = referenceLabel(invoice.input, LABELS);
        decidedAt[i] = performance.timeOrigin + performance.now();
        await sdks[i % point.sdkInstances]!.decide(
          USE_CASE,
          { requestId: `${run}-${i}`, input: invoice.input, context: { ...invoice.context } },
          async () => decision,
        );
      }
      if (!steadyCpu && performance.now() - started >= warmupS * 1000) steadyCpu = cpuSnapshot();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const loadEnded = (performance.now() - started) / 1000;
    const endCpu = cpuSnapshot();
    const flushed = (await Promise.all(sdks.map((sg) => sg.flush(flushS * 1000)))).every(Boolean);
    const sdkStats = sumStats(sdks.map((sg) => sg.stats()));
    options.log(`e2e: load done in ${round(loadEnded, 1)} s; draining (up to ${drainS} s)`);
    const drainStarted = performance.now();
    for (;;) {
      await sample();
      const lastSample = samples.at(-1)!;
      if (lastSample.stored >= total && lastSample.owed === 0) break;
      if (performance.now() - drainStarted > drainS * 1000) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    const drainedAt = Date.now();
    clearInterval(sampler);
    await sampling;

    const lag = await lags(database.sql, run, decidedAt, warmupS * rate, drainedAt);
    const simStats = await sim.stats();
    const sweeps = children.flatMap((child) => child.collected().map((line) => Number(line.reenqueued ?? 0)));
    const profiles = await Promise.all(children.map((child) => child.stop()));
    const trends = summariseTrends(samples, warmupS, loadEnded);
    const summary = profiles[0] ? summariseProfile(profiles[0]) : null;
    const steadyRate = trends.comparedPerSecond;
    // Stored beside compared: a backlog means the controllers took in more than they compared.
    const steadySamples = samples.filter((s) => s.t >= warmupS && s.t <= loadEnded);
    const [firstSteady, lastSteady] = [steadySamples[0], steadySamples.at(-1)];
    const storedRate =
      firstSteady && lastSteady && lastSteady.t > firstSteady.t
        ? (lastSteady.stored - firstSteady.stored) / (lastSteady.t - firstSteady.t)
        : null;
    const cores = steadyCpu ? coresUsed(steadyCpu, endCpu, named, database.name) : {};
    // Per decision compared in the steady window: what a fully handled decision costs.
    const steadyCompared = steadyCpu && steadyRate ? steadyRate * (endCpu.at - steadyCpu.at) : 0;
    const perDecision = steadyCpu
      ? cpuPerDecision(steadyCpu, endCpu, named, steadyCompared, database.name)
      : {};

    const lagLimit =
      'fixedMs' in point.lagTarget
        ? point.lagTarget.fixedMs
        : lag.ai[1] === null || lag.ai[1] === undefined
          ? null
          : lag.ai[1] + point.lagTarget.overAiP95Ms;
    const notes = [
      `steady state (after ${warmupS} s warm-up): ${round(steadyRate, 0)} decisions compared/s and ` +
        `${round(storedRate, 0)} stored/s of ${rate}/s offered; ` +
        `owed calls ${trends.owedFirst} → ${trends.owedLast} (max ${trends.owedMax}); ` +
        `controller RSS ${round(trends.rssFirstMb, 0)} → ${round(trends.rssLastMb, 0)} MB; ` +
        `on average ${round(trends.pgActiveMean, 1)} PostgreSQL connections of the controller(s) running a statement`,
      `after the load: ${round(drainSeconds, 1)} s to drain; ${lag.uncompared} of ${lag.measured} measured decisions not compared` +
        ` (AI errors ${lag.aiErrors}; those not compared count in the lag at their age when the drain ended)`,
      `lag outside the AI call (received → compared minus the call's own latency: waiting in the queue ` +
        `for a slot, the claim, recording the answer), p50 / p95: ${round(lag.outsideAi[0], 0) ?? 'n/a'} / ${round(lag.outsideAi[1], 0) ?? 'n/a'} ms`,
      `cores used in steady state (of 2): ${describeCores(cores)}`,
      `CPU per decision compared in steady state: ${describeCpuPerDecision(perDecision)}; at these figures ` +
        `${rate.toLocaleString('en-US')}/s would need ${round(coresNeeded(perDecision, rate), 2) ?? 'n/a'} cores ` +
        `(an upper bound while a backlog grows: the decisions taken in but not yet compared cost too)`,
      `the sweep (every 30 s) re-enqueued owed calls ${sweeps.length} times, ` +
        `${sweeps.reduce((a, b) => a + b, 0)} in all (${sweeps.join(', ') || 'none'})`,
      `SDK: sent ${sdkStats.sent}, dropped ${sdkStats.dropped}, failed ${sdkStats.failed}` +
        `${flushed ? '' : `, ${sdkStats.buffered} still buffered after ${flushS} s`}; simulated AI: ` +
        `${simStats.calls} calls, ${simStats.duplicateCalls} repeated`,
    ];
    if (summary) notes.push(...describeProfile(summary));
    const baselineLabel = previous
      ? previous.point.controllers === controllers
        ? `at ${previous.point.rate.toLocaleString('en-US')}/s`
        : `${previous.point.controllers} controller(s)`
      : '';
    const rows: BenchRow[] = [
      ...(rate === POINTS[0]!.rate
        ? []
        : [
            {
              metric: 'decisions compared/s in steady state',
              value: round(steadyRate, 0),
              unit: '/s' as const,
              baseline: { label: 'offered', value: rate, unit: '/s' as const },
              target: `≥ ${(rate * 0.99).toLocaleString('en-US')}/s (99%)`,
              met: atLeast(steadyRate, rate * 0.99),
            },
          ]),
      {
        metric: 'lag received → compared, p50',
        value: round(lag.received[0], 0),
        unit: 'ms',
        baseline: { label: 'AI latency alone, p50', value: round(lag.ai[0], 0), unit: 'ms' },
      },
      {
        metric: 'lag received → compared, p95',
        value: round(lag.received[1], 0),
        unit: 'ms',
        baseline: { label: 'AI latency alone, p95', value: round(lag.ai[1], 0), unit: 'ms' },
        target:
          'fixedMs' in point.lagTarget
            ? `≤ ${point.lagTarget.fixedMs} ms`
            : `≤ AI p95 + ${point.lagTarget.overAiP95Ms} ms (${round(lagLimit, 0) ?? 'n/a'} ms)`,
        met: lagLimit === null ? null : atMost(lag.received[1] ?? null, lagLimit),
      },
      {
        metric: 'lag SDK decide → compared, p50 (SDK batching included)',
        value: round(lag.decided[0], 0),
        unit: 'ms',
      },
      {
        metric: 'lag SDK decide → compared, p95',
        value: round(lag.decided[1], 0),
        unit: 'ms',
      },
      {
        metric: `owed AI calls, fitted growth over ${round(trends.steadySeconds, 0)} s`,
        value: round(trends.owedGrowth, 0),
        unit: 'count',
        baseline: { label: 'owed at steady start', value: trends.owedFirst, unit: 'count' },
        target: `no growth (≤ ${rate})`,
        met: trends.owedGrowth === null ? null : trends.owedGrowth <= rate,
      },
      {
        metric: `controller RSS${controllers > 1 ? ' (all replicas)' : ''}, fitted growth over ${round(trends.steadySeconds, 0)} s`,
        value: round(trends.rssGrowthMb, 1),
        unit: 'MB',
        baseline: { label: 'RSS at steady start', value: round(trends.rssFirstMb, 0), unit: 'MB' },
        target: 'flat (≤ max(10 MB, 5%))',
        met: trends.rssFlat,
      },
      // 1,000/s keeps its rows; the CPU per decision of the later points sits beside the one before.
      ...(previous
        ? GROUPS.map(([group, name]) => ({
            metric: `CPU per decision, ${name}`,
            value: perDecision[group] ?? null,
            unit: 'core-µs' as const,
            baseline: {
              label: baselineLabel,
              value: previous.cpuPerDecision[group] ?? null,
              unit: 'core-µs' as const,
            },
          }))
        : []),
    ];
    return {
      figures: { point, cpuPerDecision: perDecision },
      result: {
        name: `4. ${title(point)}`,
        rows,
        notes,
        details: {
          ratePerSecond: rate,
          controllers,
          sdkInstances: point.sdkInstances,
          durationSeconds: durationS,
          warmupSeconds: warmupS,
          aiLatencyMs: AI_LATENCY_MS,
          aiConcurrency: point.aiConcurrency,
          lagTargetMs: lagLimit === null ? null : round(lagLimit, 1),
          lagMs: lag,
          trends,
          samples: samples.map((s) => ({ ...s, t: round(s.t, 1), rssMb: round(s.rssMb, 1) })),
          drainSeconds: round(drainSeconds, 1),
          sweepsReenqueued: sweeps,
          coresUsed: cores,
          cpuPerDecision: perDecision,
          sdkStats,
          simulatedAi: simStats,
          ...(summary ? { controllerProfile: summary } : {}),
        },
      },
    };
  } finally {
    await Promise.all(sdks.map((sg) => sg.close().catch(() => {})));
    await Promise.all(children.map((child) => child.stop()));
    await sim?.stop();
    await database.drop();
    await removeKeys();
  }
}

/** Cores all the processes measured (controllers, PostgreSQL, Redis, AI, clients) need for `rate`. */
function coresNeeded(perDecision: Record<string, number>, rate: number): number | null {
  const micros = Object.values(perDecision).reduce((a, b) => a + b, 0);
  return micros > 0 ? (micros * rate) / 1e6 : null;
}

/** The SDK instances' counters added up. */
function sumStats(all: Array<ReturnType<Shadowgate['stats']>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const stats of all) {
    for (const [key, value] of Object.entries(stats)) {
      if (typeof value === 'number') sum[key] = (sum[key] ?? 0) + value;
    }
  }
  return sum;
}

/**
 * Lags of the decisions after the warm-up: from the SDK's decide and from receipt to the stored
 * comparison, and the part of the latter outside the AI call. A call still owed when the drain
 * ended counts at its age then (a lower bound of its lag), so a backlog cannot hide from the p95.
 */
async function lags(
  sql: Awaited<ReturnType<typeof createBenchDatabase>>['sql'],
  run: string,
  decidedAt: Float64Array,
  skip: number,
  drainedAt: number,
) {
  const rows = await sql<
    { request_id: string; r: number; c: number | null; ai: number | null; state: string }[]
  >`
    select request_id, extract(epoch from received_at) * 1000 as r, extract(epoch from compared_at) * 1000 as c,
      ai_latency_ms as ai, ai_state as state
    from decisions`;
  const received: number[] = [];
  const decided: number[] = [];
  const ai: number[] = [];
  const outsideAi: number[] = [];
  let measured = 0;
  let uncompared = 0;
  let aiErrors = 0;
  for (const row of rows) {
    const i = Number(row.request_id.slice(run.length + 1));
    if (!(i >= skip)) continue;
    measured++;
    if (row.state === 'error') aiErrors++;
    if (row.ai !== null && row.state === 'done') ai.push(Number(row.ai));
    if (row.c === null) {
      uncompared++;
      if (row.state !== 'owed') continue;
    }
    const comparedAt = row.c === null ? drainedAt : Number(row.c);
    received.push(comparedAt - Number(row.r));
    decided.push(comparedAt - decidedAt[i]!);
    if (row.c !== null && row.ai !== null) outsideAi.push(comparedAt - Number(row.r) - Number(row.ai));
  }
  return {
    measured,
    uncompared,
    aiErrors,
    received: quantiles(received, [0.5, 0.95, 0.99]),
    decided: quantiles(decided, [0.5, 0.95, 0.99]),
    ai: quantiles(ai, [0.5, 0.95]),
    outsideAi: quantiles(outsideAi, [0.5, 0.95]),
  };
}
