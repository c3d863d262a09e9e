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
import { ASSUMED_BYTES_PER_DECISION, type DiskUse, diskUse, gigabytes, roomFor } from './disk-room.js';
import { explainAsRun } from './explain-as-run.js';
import { describeCounts, type PlanCounts, planCounts, planDigest } from './plan-reading.js';
import { byKind, QueryRecorder, type RecordedQuery } from './query-recorder.js';
import { median, quantiles, round } from './stats.js';

/**
 * Benchmark 3: a full `engine.tick(now)` over 100 and over 1,000 use cases, and
 * `GET /v1/use-cases/:id`, with 1M and (unless --quick) 10M stored decisions spread over 1,000 use
 * cases (or the points of `--stored`; one the disk has no room for is skipped, with the reason),
 * against the naive aggregate query over the raw decisions (count and mean score per
 * cohort: of one use case beside a read, of all of them beside a tick). Each tick count is
 * measured twice: with nothing stored since the last tick (the guard windows kept by the engine
 * are reused) and with a few decisions stored for every judged use case before each tick, outside
 * the timed part (every window is read again: the worst case, held to the targets). The 100 are
 * judged with the other 900 disabled (listed by the tick, not judged). The controller runs in
 * this process (no timers: the benchmark drives the tick) on a database of its own; its raw SQL
 * is timed per query. At each size, the last query of each kind of the tick over 1,000 moved use
 * cases is run again under EXPLAIN (ANALYZE, BUFFERS) as the controller ran it (explain-as-run.ts),
 * and the rollup rows are counted, so the notes say per kind what grew from one size to the next:
 * time, rows scanned per table, buffers.
 */

const USE_CASES = 1_000;
/** Judged in the smaller tick; the others are disabled for it. */
const FEW_USE_CASES = 100;
const PREFIX = 'bench-uc-';
/** Each tick claims a slot of this length: the benchmark ticks slot after slot. */
const TICK_MS = 10_000;
const SIZES = { quick: [1_000_000], full: [1_000_000, 10_000_000] };
/** Decisions stored for every judged use case before each tick of the "moved" series. */
const MOVED_PER_USE_CASE = 3;

interface TickSeries {
  useCases: number;
  /** Whether decisions were stored for every judged use case before each tick. */
  moved: boolean;
  tickMs: number[];
  queries: ReturnType<typeof byKind>;
  records: RecordedQuery[];
}

interface Measurement {
  decisions: number;
  ticks: TickSeries[];
  readMs: number[];
  naiveAllMs: number[];
  naiveOneMs: number[];
  readQueries: ReturnType<typeof byKind>;
  /** The last query of each kind of the tick over every use case, moved, explained; slowest kind first. */
  explained: Explained[];
  /** The rollups' rows, stripes and use cases at this size. */
  rollups: RollupCount[];
  load: Awaited<ReturnType<typeof loadDecisions>>;
  /** The benchmark database after this point's decisions were generated. */
  disk: DiskUse;
}

/** A point of `--stored` not generated, and why (the disk had no room for it). */
interface Skipped {
  decisions: number;
  reason: string;
}

export async function benchGateReads(options: BenchOptions): Promise<BenchResult> {
  const sizes = options.stored ?? (options.quick ? SIZES.quick : SIZES.full);
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
    options.log(`gates: applying ${USE_CASES} plans`);
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids
          .slice(i, i + 10)
          .map((id) => api.applyPlan(id, benchPlan(id, { url: 'http://127.0.0.1:9/decide' }))),
      );
    }
    // The decisions span the last 30 days, all in the stage the use cases are in now.
    await database.sql`update use_cases set stage_entered_at = now() - interval '31 days'`;

    const measurements: Measurement[] = [];
    const skipped: Skipped[] = [];
    const slots = { next: Math.ceil(Date.now() / TICK_MS) + 1 };
    let stored = 0;
    for (const size of sizes) {
      const last = measurements.at(-1);
      const perDecision = last ? last.disk.databaseBytes / last.decisions : ASSUMED_BYTES_PER_DECISION;
      const room = await roomFor(database.sql, options.postgresUrl, size - stored, perDecision);
      if (!room.enough) {
        skipped.push({ decisions: size, reason: room.reason! });
        options.log(`gates: ${size.toLocaleString('en-US')} decisions skipped: ${room.reason}`);
        continue;
      }
      options.log(`gates: loading ${(size - stored).toLocaleString('en-US')} decisions`);
      const load = await loadDecisions(database.url, PREFIX, { from: stored + 1, to: size }, options.log);
      stored = size;
      const disk = await diskUse(database.sql);
      options.log(
        `gates: loaded in ${round(load.insertSeconds, 0)} s, indexes ${round(load.indexSeconds, 0)} s, ` +
          `vacuum ${round(load.vacuumSeconds, 0)} s; the database takes ${gigabytes(disk.databaseBytes)} GB; measuring`,
      );
      measurements.push({
        ...(await measure(controller, recorder, api.target, database.sql, ids, slots, options)),
        decisions: size,
        load,
        disk,
      });
    }
    if (measurements.length === 0)
      throw new Error(`no point generated: ${skipped.map((s) => s.reason).join('; ')}`);
    return report(measurements, skipped);
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
  slots: { next: number },
  options: BenchOptions,
): Promise<Omit<Measurement, 'decisions' | 'load' | 'disk'>> {
  const few = ids.slice(0, FEW_USE_CASES);
  const ticks: TickSeries[] = [];
  for (const useCases of [FEW_USE_CASES, USE_CASES]) {
    // The use cases past the first `useCases` sit out this series: listed by the tick, not judged.
    await sql`update use_cases set stage = case when id = any(${ids.slice(0, useCases)}) then 'shadow' else 'disabled' end
      where id like ${`${PREFIX}%`}`;
    for (const moved of [false, true]) {
      ticks.push(await tickSeries(controller, recorder, sql, slots, { useCases, moved }, options));
    }
  }
  const explained = await explainKinds(sql, ticks.at(-1)!, options);
  const rollups = await countRollups(sql);

  let k = 0;
  const read = async () => {
    const started = performance.now();
    const response = await fetch(`${api.url}/v1/use-cases/${few[k++ % few.length]}`, {
      headers: { authorization: `Bearer ${api.key}` },
    });
    await response.json();
    if (!response.ok) throw new Error(`GET /v1/use-cases/:id answered ${response.status}`);
    return performance.now() - started;
  };
  await read();
  recorder.take();
  const reads = await repeat(read, 3, 30, options.quick ? 1_000 : 30_000);
  const readRecords = relabel(recorder.take());

  const timed = async (work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };
  let n = 0;
  const naiveOne = () =>
    timed(
      () => sql`select stage, ai_config, ai_model_version, count(*), count(score), avg(score)
        from decisions where use_case = ${few[n++ % few.length]!} group by 1, 2, 3`,
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
  return {
    ticks,
    readMs: reads,
    naiveAllMs,
    naiveOneMs,
    readQueries: perRun(byKind(readRecords), reads.length),
    explained,
    rollups,
  };
}

/**
 * The last query of each kind the series ran, explained as the controller ran it, with the mean
 * time of its kind in the series; slowest kind first.
 */
async function explainKinds(
  sql: postgres.Sql,
  series: TickSeries,
  options: BenchOptions,
): Promise<Explained[]> {
  const lastOfKind = new Map(series.records.map((r) => [r.kind, r]));
  const explained: Explained[] = [];
  for (const { kind, count, ms } of series.queries) {
    const query = lastOfKind.get(kind);
    if (!query) continue;
    const { plan, generic } = await explainAsRun(sql, query);
    explained.push({ kind, meanMs: round(ms / count, 1)!, generic, plan, counts: planCounts(plan) });
  }
  explained.sort((a, b) => b.meanMs - a.meanMs);
  options.log(
    `gates: explained ${explained.map((e) => `${e.kind} (${describeCounts(e.counts)})`).join('; ')}`,
  );
  return explained;
}

interface RollupCount {
  table: string;
  rows: number;
  stripes: number;
  useCases: number;
}

const ROLLUP_TABLES = [
  'cohort_rollups',
  'latency_histograms',
  'latency_rollups',
  'segment_rollups',
  'confusion_rollups',
];

/** Each rollup's rows, the stripes they are written in, and the use cases they hold. */
async function countRollups(sql: postgres.Sql): Promise<RollupCount[]> {
  const counts: RollupCount[] = [];
  for (const table of ROLLUP_TABLES) {
    const [row] = await sql.unsafe<{ rows: number; stripes: number; use_cases: number }[]>(
      `select count(*)::float8 as rows, count(distinct stripe)::int as stripes,
        count(distinct use_case)::int as use_cases from ${table}`,
    );
    counts.push({ table, rows: row!.rows, stripes: row!.stripes, useCases: row!.use_cases });
  }
  return counts;
}

/**
 * Ticks over the first `useCases` use cases, as many as fit in the budget (at least three; a
 * controller ticks every 10 s for as long as it runs, and PostgreSQL plans a prepared statement
 * afresh for its first five runs), the first dropped when there are more: its guard windows are
 * all read (this process kept none of these yet) and each gate.eligible is recorded once. With
 * `moved`, every judged use case gets decisions before each tick, untimed.
 */
async function tickSeries(
  controller: Controller,
  recorder: QueryRecorder,
  sql: postgres.Sql,
  slots: { next: number },
  series: { useCases: number; moved: boolean },
  options: BenchOptions,
): Promise<TickSeries> {
  const perTick: RecordedQuery[][] = [];
  const tick = async () => {
    if (series.moved) await storeMoreDecisions(sql, slots.next);
    recorder.take();
    const started = performance.now();
    const report = await controller.engine.tick(new Date(slots.next++ * TICK_MS));
    const ms = performance.now() - started;
    perTick.push(relabel(recorder.take()));
    if (!report.ran || report.errors.length > 0)
      throw new Error(`tick did not run cleanly: ${JSON.stringify(report)}`);
    return ms;
  };
  let ticks = await repeat(tick, 3, options.quick ? 6 : 12, options.quick ? 8_000 : 60_000);
  if (ticks.length > 1) {
    ticks = ticks.slice(1);
    perTick.shift();
  }
  const records = perTick.flat();
  options.log(
    `gates: ${series.useCases} use cases, ${series.moved ? 'every one moved' : 'nothing moved'}: ` +
      `${ticks.length} tick(s), median ${round(median(ticks), 0)} ms`,
  );
  return { ...series, tickMs: ticks, queries: perRun(byKind(records), ticks.length), records };
}

/**
 * A few decisions for every judged use case, answered and scored, as ingest and the worker would
 * leave them: each moves both guard windows and the gate cohort of its use case.
 */
async function storeMoreDecisions(sql: postgres.Sql, tick: number): Promise<void> {
  await sql`
    insert into decisions (use_case, request_id, payload_hash, input, context, stage, stage_version, plan_version,
      ai_config, received_at, human_decision, human_at, ai_state, ai_attempts, ai_decision, ai_model_version,
      ai_latency_ms, ai_cost, ai_at, score, compared_at)
    select u.id, 'moved-' || ${tick}::bigint || '-' || g.i, md5(u.id || ${tick}::bigint || g.i) || md5(g.i || u.id),
      '{}'::jsonb, jsonb_build_object('region', 'EU', 'riskTier', 'low'), u.stage, u.stage_version,
      u.plan_version, p.ai_config, now(), '"approve"'::jsonb, now(), 'done', 1, '"approve"'::jsonb, 'sim-1',
      120, 0.000072, now(), 1, now()
    from use_cases u join plan_versions p on p.use_case = u.id and p.version = u.plan_version
    cross join generate_series(1, ${MOVED_PER_USE_CASE}) g(i)
    where u.id like ${`${PREFIX}%`} and u.stage <> 'disabled'`;
}

/**
 * Kinds for the guard reads query-recorder.ts does not tell apart: the movement token (it reads
 * cohort_rollups) and the AI-call window (ordered by arrival).
 */
function relabel(records: RecordedQuery[]): RecordedQuery[] {
  return records.map((r) =>
    r.sql.includes('xmin')
      ? { ...r, kind: 'guard window token' }
      : r.sql.includes('received_at desc limit f.size')
        ? { ...r, kind: 'guard window (AI calls)' }
        : r,
  );
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

interface Explained {
  kind: string;
  meanMs: number;
  generic: boolean | null;
  plan: string[];
  counts: PlanCounts;
}

function report(ms: Measurement[], skipped: Skipped[]): BenchResult {
  const rows: BenchRow[] = [];
  const first = ms[0]!;
  const last = ms.at(-1)!;
  const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1_000}k`);
  const targets: Record<number, number> = { [FEW_USE_CASES]: 50, [USE_CASES]: 400 };
  const seriesName = (t: TickSeries) =>
    `${t.useCases.toLocaleString('en-US')} use cases, ${t.moved ? 'every one moved' : 'nothing moved'}`;
  for (const m of ms) {
    rows.push(
      {
        metric: `${label(m.decisions)} decisions generated (insert, indexes, vacuum)`,
        value: round(m.load.insertSeconds + m.load.indexSeconds + m.load.vacuumSeconds + 0, 0),
        unit: 's',
      },
      {
        metric: `disk use of the database, ${label(m.decisions)} decisions`,
        value: gigabytes(m.disk.databaseBytes),
        unit: 'GB',
      },
    );
    const naiveAll = {
      label: 'naive aggregate, all use cases',
      value: round(median(m.naiveAllMs), 0),
      unit: 'ms',
    } as const;
    for (const t of m.ticks) {
      const tick = median(t.tickMs);
      // The honest worst case (every window read again) is held to the target.
      const limit = t.moved ? targets[t.useCases] : undefined;
      rows.push({
        metric: `tick, ${seriesName(t)}, ${label(m.decisions)} decisions (median)`,
        value: round(tick, 0),
        unit: 'ms',
        baseline: naiveAll,
        ...(limit === undefined ? {} : { target: `≤ ${limit} ms`, met: atMost(tick, limit) }),
      });
    }
    const read = median(m.readMs);
    rows.push({
      metric: `GET /v1/use-cases/:id, ${label(m.decisions)} (median)`,
      value: round(read, 0),
      unit: 'ms',
      baseline: { label: 'naive aggregate, one use case', value: round(median(m.naiveOneMs), 1), unit: 'ms' },
      ...(m.decisions >= 10_000_000 ? { target: '≤ 20 ms', met: atMost(read, 20) } : {}),
    });
  }
  if (ms.length > 1) {
    const growth = (a: number[], b: number[]) => {
      const [x, y] = [median(a), median(b)];
      return x && y ? round(y / x, 1) : null;
    };
    for (const [i, t] of last.ticks.entries()) {
      if (!t.moved) continue;
      const tickGrowth = growth(first.ticks[i]!.tickMs, t.tickMs);
      rows.push({
        metric: `tick growth, ${seriesName(t)}, ${label(first.decisions)} → ${label(last.decisions)}`,
        value: tickGrowth,
        unit: 'x',
        baseline: { label: 'naive', value: growth(first.naiveAllMs, last.naiveAllMs), unit: 'x' },
        target: 'flat (≤ 1.5×)',
        met: atMost(tickGrowth, 1.5),
      });
    }
    const readGrowth = growth(first.readMs, last.readMs);
    rows.push({
      metric: `read growth, ${label(first.decisions)} → ${label(last.decisions)}`,
      value: readGrowth,
      unit: 'x',
      baseline: { label: 'naive', value: growth(first.naiveOneMs, last.naiveOneMs), unit: 'x' },
      target: 'flat (≤ 1.5×)',
      met: atMost(readGrowth, 1.5),
    });
  }
  for (const s of skipped) {
    rows.push({
      metric: `${label(s.decisions)} decisions: ticks and reads`,
      value: null,
      unit: 'ms',
      target: 'flat (≤ 1.5×)',
      met: null,
    });
  }
  const share = (qs: ReturnType<typeof byKind>) =>
    qs
      .slice(0, 4)
      .map((q) => `${q.kind} ${q.ms} ms (${q.count}×)`)
      .join(', ');
  const notes = ms.flatMap((m) => [
    ...m.ticks.map((t) => {
      const tick = median(t.tickMs)!;
      const sqlMs = t.queries.reduce((s, q) => s + q.ms, 0);
      return (
        `${label(m.decisions)}, ${seriesName(t)}: a tick spends ${round(sqlMs, 0)} ms of SQL (issued together) ` +
        `in ${round(tick, 0)} ms (${share(t.queries)}; per tick of ${t.tickMs.length})`
      );
    }),
    `${label(m.decisions)}: a read: ${share(m.readQueries)}`,
  ]);
  for (const s of skipped) {
    notes.push(
      `${label(s.decisions)} decisions not generated: ${s.reason}. Next: run --stored with this point ` +
        'where PostgreSQL has that room (decisions are stored by month, so reads and ticks should stay flat)',
    );
  }
  notes.push(...explainNotes(ms, label));
  const slowest = last.explained[0];
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
      useCases: { few: FEW_USE_CASES, all: USE_CASES },
      movedPerUseCase: MOVED_PER_USE_CASE,
      skipped,
      measurements: ms.map(({ ticks, explained, ...m }) => ({
        ...m,
        ticks: ticks.map(({ records, ...t }) => ({ ...t, tickMs: t.tickMs.map((x) => round(x, 1)) })),
        readMs: m.readMs.map((t) => round(t, 1)),
        naiveAllMs: m.naiveAllMs.map((t) => round(t, 1)),
        naiveOneMs: m.naiveOneMs.map((t) => round(t, 1)),
        explainAnalyze: explained,
      })),
    },
  };
}

/**
 * What the tick over every use case, moved, read at each size, per kind of query (explained as
 * run: time, rows scanned per table, buffers), the rollups' rows and stripes, and per kind how
 * its explained time grew from the first size to the last.
 */
function explainNotes(ms: readonly Measurement[], label: (n: number) => string): string[] {
  const notes = ms.map((m) => {
    const kinds = m.explained.map(
      (e) =>
        `${e.kind}${e.generic === null ? '' : e.generic ? ' (generic plan)' : ' (custom plan)'}: ${describeCounts(e.counts)}`,
    );
    const rollups = m.rollups.map(
      (r) =>
        `${r.table} ${r.rows.toLocaleString('en-US')} rows in ${r.stripes} stripe(s), ` +
        `${Math.round(r.rows / Math.max(r.useCases, 1)).toLocaleString('en-US')} a use case`,
    );
    return (
      `${label(m.decisions)}, ${USE_CASES.toLocaleString('en-US')} use cases, every one moved, each kind's last query ` +
      `explained: ${kinds.join('; ')}. Rollups: ${rollups.join(', ')}`
    );
  });
  const [first, last] = [ms[0]!, ms.at(-1)!];
  if (first !== last) {
    const growth = last.explained.flatMap((e) => {
      const before = first.explained.find((f) => f.kind === e.kind);
      if (!before?.counts.executionMs || e.counts.executionMs === null) return [];
      const rows = (c: PlanCounts) => Object.values(c.rowsByTable).reduce((a, b) => a + b, 0);
      return [
        `${e.kind} ${round(e.counts.executionMs / before.counts.executionMs, 1)}× ` +
          `(rows scanned ${round(rows(e.counts) / Math.max(rows(before.counts), 1), 1)}×, ` +
          `buffers read ${before.counts.sharedRead.toLocaleString('en-US')} → ${e.counts.sharedRead.toLocaleString('en-US')})`,
      ];
    });
    notes.push(`explained, ${label(first.decisions)} → ${label(last.decisions)}: ${growth.join('; ')}`);
  }
  return notes;
}
