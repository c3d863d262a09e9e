import { randomBytes } from 'node:crypto';
import Queue from 'bull';
import { Redis } from 'ioredis';
import { ControllerApi } from '../../src/client/controller-api.js';
import type { MirroredDecision } from '../../src/contracts/decision-contracts.js';
import { openDatabase } from '../../src/db/database.js';
import { makeInvoice, referenceLabel } from '../simulation/reference-labeler.js';
import { createBenchDatabase } from './bench-database.js';
import { benchPlan, LABELS } from './bench-plans.js';
import { atLeast, type BenchOptions, type BenchResult } from './bench-types.js';
import { onCleanup } from './cleanup.js';
import { startControllerChild } from './controller-child.js';
import { copyLines, copyRate } from './copy-baseline.js';
import { describeProfile, summariseProfile } from './cpu-profile.js';
import { coresUsed, cpuSnapshot, describeCores } from './process-usage.js';
import { quantiles, round } from './stats.js';

/**
 * Benchmark 2: mirrored decisions per second through `POST /v1/decisions` (batches of 1,000,
 * several clients at once) into PostgreSQL, each owing an AI call that is recorded and enqueued
 * on bull (the real Redis, a prefix of its own). AI consumption is paused (bull's global pause,
 * so enqueued jobs wait in Redis) to measure ingest alone. Baseline: the same rows written with
 * COPY from one process into an empty database of their own.
 */

const USE_CASE = 'ingest-bench';
const BATCH = 1_000;
const CLIENTS = 4;
const WARMUP_BATCHES = 5;

export async function benchIngest(options: BenchOptions): Promise<BenchResult> {
  const total = options.quick ? 20_000 : 200_000;
  const prefix = `sg-bench-${randomBytes(4).toString('hex')}`;
  // Built before any request: building 200,000 blocks this event loop for seconds, long enough
  // for the controller to close an idle keep-alive socket the next request would then reuse.
  const run = randomBytes(3).toString('hex');
  const decisions = Array.from({ length: total + WARMUP_BATCHES * BATCH }, (_, i) => decision(run, i));
  const bodies: string[] = [];
  for (let i = 0; i < decisions.length; i += BATCH) {
    bodies.push(JSON.stringify({ decisions: decisions.slice(i, i + BATCH) }));
  }
  const database = await createBenchDatabase(options.postgresUrl, 'ingest');
  const removeKeys = onCleanup(`Redis keys ${prefix}:*`, () => deleteKeys(options.redisUrl, prefix));
  const controller = await startControllerChild({
    label: 'ingest',
    databaseUrl: database.url,
    redisUrl: options.redisUrl,
    queuePrefix: prefix,
    // Consumption is paused, so every call stays owed: a sweep would re-enqueue all of them,
    // work a controller whose AI keeps up never does.
    // BENCH_CONTROLLER_NODE_OPTIONS: V8/Node flags for the controller alone, to measure a
    // deployment setting (e.g. --max-semi-space-size=64, fewer young-generation collections).
    env: {
      SHADOWGATE_SWEEP_MS: '3600000',
      ...(process.env.BENCH_CONTROLLER_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_CONTROLLER_NODE_OPTIONS }
        : {}),
    },
    ...(options.profile ? { cpuProfileDir: options.profileDir } : {}),
  });
  const paused = new Queue(`ai-${USE_CASE}`, { prefix, redis: options.redisUrl });
  try {
    const admin = new ControllerApi({ url: controller.url, key: controller.adminKey });
    await admin.applyPlan(USE_CASE, benchPlan(USE_CASE, { url: 'http://127.0.0.1:9/decide' }));
    await paused.pause();
    const key = await admin.createKey('ingest-bench', 'ingest', [USE_CASE]);
    const { aiConfig } = await admin.getJson<{ aiConfig: string }>(`/v1/use-cases/${USE_CASE}`);

    const postOnce = poster(controller.url, key);
    // A refused or dropped request says what the controller last logged.
    const post = (body: string) =>
      postOnce(body).catch((error: unknown) => {
        const cause = (error as { cause?: unknown }).cause;
        throw new Error(
          `${String(error)} (${String(cause)}); the controller's last lines:\n${controller.tail(30)}`,
        );
      });
    for (const body of bodies.slice(0, WARMUP_BATCHES)) await post(body);

    options.log(`ingest: ${total.toLocaleString('en-US')} decisions, ${CLIENTS} clients, ${BATCH} a batch`);
    const measured = bodies.slice(WARMUP_BATCHES);
    const latencies: number[] = [];
    const before = cpuSnapshot();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < measured.length) {
          const body = measured[next++]!;
          const t0 = performance.now();
          await post(body);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cores = coresUsed(before, cpuSnapshot(), { controller: controller.pid });
    const ingestRate = total / seconds;

    const [stored] = await database.sql<{ owed: number; all: number }[]>`
      select count(*) filter (where ai_state = 'owed')::int as owed, count(*)::int as all from decisions`;
    const enqueued = await pausedJobs(options.redisUrl, prefix, USE_CASE);
    const profile = await controller.stop();

    options.log('ingest: COPY baseline');
    const baselineDb = await createBenchDatabase(options.postgresUrl, 'copy');
    let copyPerSecond: number;
    try {
      const migrated = await openDatabase({ url: baselineDb.url, maxConnections: 1 });
      await migrated.migrate();
      await migrated.close();
      copyPerSecond = await copyRate(
        baselineDb.sql,
        copyLines(decisions.slice(WARMUP_BATCHES * BATCH), aiConfig),
      );
    } finally {
      await baselineDb.drop();
    }

    const ratio = (ingestRate / copyPerSecond) * 100;
    const [p50, p95] = quantiles(latencies, [0.5, 0.95]);
    const summary = profile ? summariseProfile(profile) : null;
    const notes = [
      `${CLIENTS} clients, ${measured.length} batches of ${BATCH}: request p50 ${round(p50, 0)} ms, p95 ${round(p95, 0)} ms; ` +
        `stored ${stored?.all} (${stored?.owed} owed), ${enqueued} jobs waiting in bull (paused)`,
      `cores used during ingest (of 2): ${describeCores(cores)}`,
    ];
    if (process.env.BENCH_CONTROLLER_NODE_OPTIONS) {
      notes.push(`controller run with NODE_OPTIONS=${process.env.BENCH_CONTROLLER_NODE_OPTIONS}`);
    }
    if (summary) notes.push(...describeProfile(summary));
    return {
      name: '2. Ingest throughput',
      rows: [
        {
          metric: 'mirrored decisions/s, AI calls owed + enqueued',
          value: round(ingestRate, 0),
          unit: '/s',
          baseline: { label: 'COPY, one process', value: round(copyPerSecond, 0), unit: '/s' },
          target: '≥ 40,000/s',
          met: atLeast(ingestRate, 40_000),
        },
        {
          metric: 'share of the COPY rate',
          value: round(ratio, 1),
          unit: '%',
          target: '≥ 25%',
          met: atLeast(ratio, 25),
        },
      ],
      notes,
      details: {
        decisions: total,
        clients: CLIENTS,
        batch: BATCH,
        seconds: round(seconds, 2),
        requestLatencyMs: { p50: round(p50, 1), p95: round(p95, 1) },
        stored,
        enqueued,
        coresUsed: cores,
        ...(summary ? { controllerProfile: summary } : {}),
      },
    };
  } finally {
    await paused.close().catch(() => {});
    await controller.stop();
    await database.drop();
    await removeKeys();
  }
}

function decision(run: string, i: number): MirroredDecision {
  const invoice = makeInvoice(i);
  return {
    useCase: USE_CASE,
    requestId: `${run}-${i}`,
    input: invoice.input as unknown as MirroredDecision['input'],
    context: { ...invoice.context },
    human: {
      decision: referenceLabel(invoice.input, LABELS),
      decidedBy: `clerk-${i % 40}`,
      handlingMs: 30_000,
    },
  };
}

/** Posts a batch; a 429 is waited out as the SDK would, anything else but 202 fails the benchmark. */
function poster(url: string, key: string) {
  return async function post(body: string): Promise<void> {
    for (;;) {
      const response = await fetch(`${url}/v1/decisions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      const text = await response.text();
      if (response.status === 202) return;
      if (response.status === 429) {
        await new Promise((resolve) =>
          setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000),
        );
        continue;
      }
      throw new Error(`POST /v1/decisions: ${response.status} ${text.slice(0, 300)}`);
    }
  };
}

async function pausedJobs(redisUrl: string, prefix: string, useCase: string): Promise<number> {
  const redis = new Redis(redisUrl);
  try {
    const base = `${prefix}:ai-${useCase}`;
    return (await redis.llen(`${base}:paused`)) + (await redis.llen(`${base}:wait`));
  } finally {
    redis.disconnect();
  }
}

export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
