import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type postgres from 'postgres';
import { ControllerApi, type ControllerTarget } from '../../src/client/controller-api.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { type Controller, createController } from '../../src/main/controller.js';
import { createBenchDatabase } from './bench-database.js';
import { benchPlan } from './bench-plans.js';
import { atMost, type BenchOptions, type BenchResult, type BenchRow } from './bench-types.js';
import { loadDecisions } from './decision-loader.js';
import { byKind, QueryRecorder, type RecordedQuery } from './query-recorder.js';
import { median, quantiles, round } from './stats.js';

/**
 * Benchmark 3: a full `engine.tick(now)` over 100 use cases and `GET /v1/use-cases/:id`, with 1M
 * and (unless --quick) 10M stored decisions, against the naive aggregate query over the raw
 * decisions (count and mean score per cohort: of one use case beside a read, of all 100 beside
 * a tick). The controller runs in this process (no timers: the benchmark drives the tick) on a
 * database of its own; its raw SQL is timed per query, and one query of each kind is EXPLAIN
 * ANALYZEd at the largest size (the slowest kind, by mean time, is digested in the notes).
 */

const USE_CASES = 100;
const PREFIX = 'bench-uc-';
/** Each tick claims a slot of this length: the benchmark ticks slot after slot. */
const TICK_MS = 10_000;
const SIZES = { quick: [1_000_000], full: [1_000_000, 10_000_000] };

interface Measurement {
  decisions: number;
  tickMs: number[];
  readMs: number[];
  naiveAllMs: number[];
  naiveOneMs: number[];
  tickQueries: ReturnType<typeof byKind>;
  readQueries: ReturnType<typeof byKind>;
  /** One query of each kind, with the mean time of its kind, slowest kind first. */
  examples: Array<RecordedQuery & { meanMs: number }>;
  load: Awaited<ReturnType<typeof loadDecisions>>;
}

export async function benchGateReads(options: BenchOptions): Promise<BenchResult> {
  const sizes = options.quick ? SIZES.quick : SIZES.full;
  const database = await createBenchDatabase(options.postgresUrl, 'gates');
  const adminKey = `bench-admin-${randomBytes(16).toString('hex')}`;
  const recorder = new QueryRecorder(await openDatabase({ url: database.url }));
  let controller: Controller | undefined;
  try {
    controller = await createController({
      config: loadConfig({
        DATABASE_URL: database.url,
        SHADOWGATE_ADMIN_KEY: adminKey,
        // The plans name an AI system on loopback, which the controller refuses unless allowed.
        SHADOWGATE_AI_DESTINATIONS: '127.0.0.0/8',
        LOG_LEVEL: 'warn',
        SHADOWGATE_RATE_LIMIT_API_PER_SEC: '0',
        SHADOWGATE_TICK_MS: String(TICK_MS),
      }),
      database: recorder.database,
      background: false,
    });
    const server = await controller.listen(0, '127.0.0.1');
    const api = new ControllerApi({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      key: adminKey,
    });
    const ids = Array.from({ length: USE_CASES }, (_, i) => `${PREFIX}${String(i).padStart(3, '0')}`);
    for (const id of ids) await api.applyPlan(id, benchPlan(id, { url: 'http://127.0.0.1:9/decide' }));
    // The decisions span the last 30 days, all in the stage the use cases are in now.
    await database.sql`update use_cases set stage_entered_at = now() - interval '31 days'`;

    const measurements: Measurement[] = [];
    let stored = 0;
    for (const size of sizes) {
      options.log(`gates: loading ${(size - stored).toLocaleString('en-US')} decisions`);
      const load = await loadDecisions(database.url, PREFIX, { from: stored + 1, to: size }, options.log);
      stored = size;
      options.log(
        `gates: loaded in ${round(load.insertSeconds, 0)} s, indexes ${round(load.indexSeconds, 0)} s, ` +
          `vacuum ${round(load.vacuumSeconds, 0)} s; measuring`,
      );
      measurements.push({
        ...(await measure(controller, recorder, api.target, database.sql, ids, options)),
        decisions: size,
        load,
      });
    }
    const last = measurements.at(-1)!;
    const explains = [];
    for (const example of last.examples) {
      explains.push({
        kind: example.kind,
        meanMs: example.meanMs,
        plan: await explainAnalyze(database.sql, example),
      });
    }
    return report(measurements, explains);
  } finally {
    await controller?.stop();
    await recorder.database.close();
    await database.drop();
  }
}

async function measure(
  controller: Controller,
  recorder: QueryRecorder,
  api: ControllerTarget,
  sql: postgres.Sql,
  ids: string[],
  options: BenchOptions,
): Promise<Omit<Measurement, 'decisions' | 'load'>> {
  let slot = Math.ceil(Date.now() / TICK_MS) + 1;
  const perTick: RecordedQuery[][] = [];
  recorder.take();
  const tick = async () => {
    const started = performance.now();
    const report = await controller.engine.tick(new Date(slot++ * TICK_MS));
    const ms = performance.now() - started;
    perTick.push(recorder.take());
    if (!report.ran || report.errors.length > 0)
      throw new Error(`tick did not run cleanly: ${JSON.stringify(report)}`);
    return ms;
  };
  // As many ticks as fit in the budget (at least one; a controller ticks every 10 s for as long as
  // it runs, and PostgreSQL plans a prepared statement afresh for its first five runs), the first
  // (cold cache, each gate.eligible recorded once) dropped when there are more.
  let ticks = await repeat(tick, 1, options.quick ? 8 : 12, options.quick ? 10_000 : 60_000);
  if (ticks.length > 1) {
    ticks = ticks.slice(1);
    perTick.shift();
  }
  const tickRecords = perTick.flat();
  options.log(`gates: ${ticks.length} tick(s), median ${round(median(ticks), 0)} ms; metrics reads`);

  let k = 0;
  const read = async () => {
    const started = performance.now();
    const response = await fetch(`${api.url}/v1/use-cases/${ids[k++ % ids.length]}`, {
      headers: { authorization: `Bearer ${api.key}` },
    });
    await response.json();
    if (!response.ok) throw new Error(`GET /v1/use-cases/:id answered ${response.status}`);
    return performance.now() - started;
  };
  await read();
  recorder.take();
  const reads = await repeat(read, 3, 30, options.quick ? 1_000 : 30_000);
  const readRecords = recorder.take();

  const timed = async (work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };
  let n = 0;
  const naiveOne = () =>
    timed(
      () => sql`select stage, ai_config, ai_model_version, count(*), count(score), avg(score)
        from decisions where use_case = ${ids[n++ % ids.length]!} group by 1, 2, 3`,
    );
  const naiveAll = () =>
    timed(
      () => sql`select use_case, stage, ai_config, ai_model_version, count(*), count(score), avg(score)
        from decisions group by 1, 2, 3, 4`,
    );
  await naiveOne();
  await naiveAll();
  const naiveOneMs = await repeat(naiveOne, 3, 30, options.quick ? 500 : 10_000);
  const naiveAllMs = await repeat(naiveAll, 1, 5, options.quick ? 500 : 20_000);
  const all = [...tickRecords, ...readRecords];
  return {
    tickMs: ticks,
    readMs: reads,
    naiveAllMs,
    naiveOneMs,
    tickQueries: perRun(byKind(tickRecords), ticks.length),
    readQueries: perRun(byKind(readRecords), reads.length),
    examples: byKind(all)
      .map((k) => ({ ...all.find((r) => r.kind === k.kind)!, meanMs: round(k.ms / k.count, 1)! }))
      .sort((a, b) => b.meanMs - a.meanMs),
  };
}

/** Totals per kind over `runs` runs, as the average per run. */
const perRun = (kinds: ReturnType<typeof byKind>, runs: number) =>
  kinds.map((q) => ({ kind: q.kind, count: q.count / runs, ms: round(q.ms / runs, 1)! }));

/** Runs `work` at least `min` and at most `max` times, stopping after `budgetMs` once `min` ran. */
async function repeat(work: () => Promise<number>, min: number, max: number, budgetMs: number) {
  const times: number[] = [];
  const started = performance.now();
  while (times.length < max && (times.length < min || performance.now() - started < budgetMs)) {
    times.push(await work());
  }
  return times;
}

async function explainAnalyze(sql: postgres.Sql, query: RecordedQuery): Promise<string[]> {
  const rows = await sql.unsafe(`explain (analyze, buffers) ${query.sql}`, query.params as never[]);
  return rows.map((r) => String((r as Record<string, unknown>)['QUERY PLAN']));
}

type Explained = { kind: string; meanMs: number; plan: string[] };

function report(ms: Measurement[], explains: Explained[]): BenchResult {
  const rows: BenchRow[] = [];
  const first = ms[0]!;
  const last = ms.at(-1)!;
  const label = (n: number) => `${n / 1_000_000}M`;
  for (const m of ms) {
    const atTarget = m.decisions >= 10_000_000;
    const tick = median(m.tickMs);
    const read = median(m.readMs);
    rows.push({
      metric: `tick, 100 use cases, ${label(m.decisions)} decisions (median)`,
      value: round(tick, 0),
      unit: 'ms',
      baseline: {
        label: 'naive aggregate, all use cases',
        value: round(median(m.naiveAllMs), 0),
        unit: 'ms',
      },
      ...(atTarget ? { target: '≤ 50 ms', met: atMost(tick, 50) } : {}),
    });
    rows.push({
      metric: `GET /v1/use-cases/:id, ${label(m.decisions)} (median)`,
      value: round(read, 0),
      unit: 'ms',
      baseline: { label: 'naive aggregate, one use case', value: round(median(m.naiveOneMs), 1), unit: 'ms' },
      ...(atTarget ? { target: '≤ 20 ms', met: atMost(read, 20) } : {}),
    });
  }
  if (ms.length > 1) {
    const growth = (a: number[], b: number[]) => {
      const [x, y] = [median(a), median(b)];
      return x && y ? round(y / x, 1) : null;
    };
    const tickGrowth = growth(first.tickMs, last.tickMs);
    const readGrowth = growth(first.readMs, last.readMs);
    rows.push({
      metric: `tick growth, ${label(first.decisions)} → ${label(last.decisions)}`,
      value: tickGrowth,
      unit: 'x',
      baseline: { label: 'naive', value: growth(first.naiveAllMs, last.naiveAllMs), unit: 'x' },
      target: 'flat (≤ 1.5×)',
      met: atMost(tickGrowth, 1.5),
    });
    rows.push({
      metric: `read growth, ${label(first.decisions)} → ${label(last.decisions)}`,
      value: readGrowth,
      unit: 'x',
      baseline: { label: 'naive', value: growth(first.naiveOneMs, last.naiveOneMs), unit: 'x' },
      target: 'flat (≤ 1.5×)',
      met: atMost(readGrowth, 1.5),
    });
  }
  const share = (qs: Measurement['tickQueries']) =>
    qs
      .slice(0, 4)
      .map((q) => `${q.kind} ${q.ms} ms (${q.count}×)`)
      .join(', ');
  const notes = ms.map((m) => {
    const tick = median(m.tickMs)!;
    const sqlMs = m.tickQueries.reduce((s, q) => s + q.ms, 0);
    return (
      `${label(m.decisions)}: a tick spends ${round(sqlMs, 0)} of ${round(tick, 0)} ms in the metrics, guard and spend ` +
      `queries (${share(m.tickQueries)}; per tick of ${m.tickMs.length}); a read: ${share(m.readQueries)}`
    );
  });
  const slowest = explains[0];
  if (slowest) {
    const [p95] = quantiles(last.readMs, [0.95]);
    notes.push(
      `slowest query at ${label(last.decisions)}: ${slowest.kind}, ${slowest.meanMs} ms on average ` +
        `(read p95 ${round(p95, 0)} ms); EXPLAIN ANALYZE: ${planDigest(slowest.plan)}`,
    );
  }
  return {
    name: '3. Gate evaluation and metrics reads',
    rows,
    notes,
    details: {
      useCases: USE_CASES,
      measurements: ms.map(({ examples, ...m }) => ({
        ...m,
        tickMs: m.tickMs.map((t) => round(t, 1)),
        readMs: m.readMs.map((t) => round(t, 1)),
        naiveAllMs: m.naiveAllMs.map((t) => round(t, 1)),
        naiveOneMs: m.naiveOneMs.map((t) => round(t, 1)),
        queries: examples.map((e) => ({ kind: e.kind, meanMs: e.meanMs, sql: e.sql })),
      })),
      explainAnalyze: explains,
    },
  };
}

/** The plan's nodes with their actual times, and its total, on one line. */
export function planDigest(lines: string[]): string {
  const nodes = lines
    .filter((l) => /actual time=/.test(l))
    .slice(0, 6)
    .map((l) =>
      l
        .replace(/^[\s\->]+/, '')
        .replace(/\s*\(cost=[^)]*\)/, '')
        .replace(/\(actual time=[\d.]+\.\.([\d.]+) rows=(\d+) loops=(\d+)\)/, '($1 ms, $2 rows)')
        .trim(),
    );
  const sort = lines.find((l) => /Sort Method/.test(l))?.trim();
  const total = lines.find((l) => /Execution Time/.test(l))?.trim();
  return [...nodes, sort, total].filter(Boolean).join(' ← ');
}
