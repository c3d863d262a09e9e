import { randomBytes } from 'node:crypto';
import { ControllerApi } from '../../src/client/controller-api.js';
import { Shadowgate } from '@shadowgate/sdk';
import { makeInvoice, referenceLabel } from '../simulation/reference-labeler.js';
import { createBenchDatabase } from './bench-database.js';
import { benchPlan, LABELS } from './bench-plans.js';
import { atMost, type BenchOptions, type BenchResult } from './bench-types.js';
import { onCleanup } from './cleanup.js';
import { startControllerChild } from './controller-child.js';
import { describeProfile, summariseProfile } from './cpu-profile.js';
import { deleteKeys } from './ingest-throughput.js';
import { coresUsed, cpuSnapshot, describeCores } from './process-usage.js';
import { startSimAiChild } from './sim-ai-child.js';
import { quantiles, round } from './stats.js';
import { type Sample, summariseTrends } from './trends.js';

/**
 * Benchmark 4: a steady 1,000 decisions/s decided through the SDK in shadow mode (this process),
 * mirrored to a controller (a child process: PostgreSQL, bull on Redis, its timers at their
 * defaults), whose shadow worker asks the simulated AI system (another child) answering in 50 ms.
 * Measured: the lag from mirror to stored comparison, the backlog of owed AI calls and the
 * controller's RSS over time. Baseline: the AI's own latency as the controller recorded it, the
 * floor of any lag.
 */

const USE_CASE = 'e2e-bench';
const RATE = 1_000;
const AI_LATENCY_MS = 50;
/** 1,000/s × 50 ms keeps 50 calls in flight; the plan allows twice that (the default is 8). */
const AI_CONCURRENCY = 100;
/** The controller's log line after a sweep that re-enqueued owed calls (`reenqueued`). */
const SWEEP_LOG = 'sweep re-enqueued owed AI calls';

export async function benchEndToEnd(options: BenchOptions): Promise<BenchResult> {
  const durationS = options.quick ? 45 : 300;
  const warmupS = options.quick ? 10 : 30;
  const sampleEveryS = options.quick ? 2 : 5;
  const drainS = options.quick ? 3 : 60;
  const flushS = options.quick ? 3 : 30;
  const prefix = `sg-bench-${randomBytes(4).toString('hex')}`;
  const database = await createBenchDatabase(options.postgresUrl, 'e2e');
  const removeKeys = onCleanup(`Redis keys ${prefix}:*`, () => deleteKeys(options.redisUrl, prefix));
  const sim = await startSimAiChild({ latencyMs: AI_LATENCY_MS, agreement: 0.92 });
  const controller = await startControllerChild({
    label: 'e2e',
    databaseUrl: database.url,
    redisUrl: options.redisUrl,
    queuePrefix: prefix,
    collect: [SWEEP_LOG],
    ...(options.profile ? { cpuProfileDir: options.profileDir } : {}),
  });
  let sg: Shadowgate | undefined;
  try {
    const admin = new ControllerApi({ url: controller.url, key: controller.adminKey });
    await admin.applyPlan(
      USE_CASE,
      benchPlan(USE_CASE, { url: `${sim.url}/decide`, concurrency: AI_CONCURRENCY }),
    );
    const apiKey = await admin.createKey('e2e-bench', 'ingest', [USE_CASE]);
    sg = new Shadowgate({ url: controller.url, apiKey, appName: 'e2e-bench' });
    if (!(await sg.ready())) throw new Error(`the SDK could not read flags from ${controller.url}/api`);

    options.log(`e2e: ${RATE}/s for ${durationS} s, AI answering in ${AI_LATENCY_MS} ms`);
    const run = randomBytes(3).toString('hex');
    const total = RATE * durationS;
    const decidedAt = new Float64Array(total);
    const samples: Sample[] = [];
    const started = performance.now();
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
        rssMb: (controller.rssBytes() ?? 0) / 2 ** 20,
        pgActive: row?.active ?? 0,
      });
    };
    let sampling: Promise<void> = sample();
    const sampler = setInterval(() => {
      sampling = sampling.then(sample).catch(() => {});
    }, sampleEveryS * 1000);
    let steadyCpu: ReturnType<typeof cpuSnapshot> | undefined;
    const named = { controller: controller.pid, 'simulated AI': sim.pid };

    let i = 0;
    while (i < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      for (; i < due; i++) {
        const invoice = makeInvoice(i);
        const decision = referenceLabel(invoice.input, LABELS);
        decidedAt[i] = performance.timeOrigin + performance.now();
        await sg.decide(
          USE_CASE,
          { requestId: `${run}-${i}`, input: invoice.input, context: { ...invoice.context } },
          async () => decision,
        );
      }
      if (!steadyCpu && performance.now() - started >= warmupS * 1000) steadyCpu = cpuSnapshot();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const loadEnded = (performance.now() - started) / 1000;
    const cores = steadyCpu ? coresUsed(steadyCpu, cpuSnapshot(), named) : {};
    const flushed = await sg.flush(flushS * 1000);
    const sdkStats = sg.stats();
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
    clearInterval(sampler);
    await sampling;

    const lag = await lags(database.sql, run, decidedAt, warmupS * RATE);
    const simStats = await sim.stats();
    const sweeps = controller.collected().map((line) => Number(line.reenqueued ?? 0));
    const profile = await controller.stop();
    const trends = summariseTrends(samples, warmupS, loadEnded);
    const summary = profile ? summariseProfile(profile) : null;
    const steadyRate = trends.comparedPerSecond;

    const notes = [
      `steady state (after ${warmupS} s warm-up): ${round(steadyRate, 0)} decisions compared/s of ${RATE}/s offered; ` +
        `owed calls ${trends.owedFirst} → ${trends.owedLast} (max ${trends.owedMax}); ` +
        `controller RSS ${round(trends.rssFirstMb, 0)} → ${round(trends.rssLastMb, 0)} MB; ` +
        `on average ${round(trends.pgActiveMean, 1)} of the controller's 15 PostgreSQL connections running a statement`,
      `after the load: ${round(drainSeconds, 1)} s to drain; ${lag.uncompared} of ${lag.measured} measured decisions not compared` +
        ` (AI errors ${lag.aiErrors})`,
      `cores used in steady state (of 2): ${describeCores(cores)}`,
      `the sweep (every 30 s) re-enqueued owed calls ${sweeps.length} times, ` +
        `${sweeps.reduce((a, b) => a + b, 0)} in all (${sweeps.join(', ') || 'none'})`,
      `SDK: sent ${sdkStats.sent}, dropped ${sdkStats.dropped}, failed ${sdkStats.failed}` +
        `${flushed ? '' : `, ${sdkStats.buffered} still buffered after ${flushS} s`}; simulated AI: ` +
        `${simStats.calls} calls, ${simStats.duplicateCalls} repeated`,
    ];
    if (summary) notes.push(...describeProfile(summary));
    return {
      name: '4. End to end at 1,000/s',
      rows: [
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
          target: '≤ 500 ms',
          met: atMost(lag.received[1] ?? null, 500),
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
          target: `no growth (≤ ${RATE})`,
          met: trends.owedGrowth === null ? null : trends.owedGrowth <= RATE,
        },
        {
          metric: `controller RSS, fitted growth over ${round(trends.steadySeconds, 0)} s`,
          value: round(trends.rssGrowthMb, 1),
          unit: 'MB',
          baseline: { label: 'RSS at steady start', value: round(trends.rssFirstMb, 0), unit: 'MB' },
          target: 'flat (≤ max(10 MB, 5%))',
          met: trends.rssFlat,
        },
      ],
      notes,
      details: {
        ratePerSecond: RATE,
        durationSeconds: durationS,
        warmupSeconds: warmupS,
        aiLatencyMs: AI_LATENCY_MS,
        aiConcurrency: AI_CONCURRENCY,
        lagMs: lag,
        trends,
        samples: samples.map((s) => ({ ...s, t: round(s.t, 1), rssMb: round(s.rssMb, 1) })),
        drainSeconds: round(drainSeconds, 1),
        sweepsReenqueued: sweeps,
        coresUsed: cores,
        sdkStats,
        simulatedAi: simStats,
        ...(summary ? { controllerProfile: summary } : {}),
      },
    };
  } finally {
    await sg?.close().catch(() => {});
    await controller.stop();
    await sim.stop();
    await database.drop();
    await removeKeys();
  }
}

/** Lags of the decisions after the warm-up: from the SDK's decide and from receipt to the stored comparison. */
async function lags(
  sql: Awaited<ReturnType<typeof createBenchDatabase>>['sql'],
  run: string,
  decidedAt: Float64Array,
  skip: number,
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
      continue;
    }
    received.push(Number(row.c) - Number(row.r));
    decided.push(Number(row.c) - decidedAt[i]!);
  }
  return {
    measured,
    uncompared,
    aiErrors,
    received: quantiles(received, [0.5, 0.95, 0.99]),
    decided: quantiles(decided, [0.5, 0.95, 0.99]),
    ai: quantiles(ai, [0.5, 0.95]),
  };
}
