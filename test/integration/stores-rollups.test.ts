import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import type { CohortAggregate } from '../../src/metrics/metrics-types.js';
import { MetricsStore } from '../../src/metrics/metrics-store.js';
import { RollupStore } from '../../src/metrics/rollup-store.js';
import { type Bucket, bucketRange } from '../../src/metrics/timeseries-range.js';
import {
  type TimeseriesPoint,
  TimeseriesStore,
  timeseriesPoint,
} from '../../src/metrics/timeseries-store.js';
import type { Mode } from '../../src/plans/plan-schema.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { GuardWindowStore } from '../../src/promotion/guard-window-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, BACKENDS, mirrored, planInput } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const UC = 'rollups';
const SEGMENTS = ['region', 'riskTier'];
const LABELS = ['approve', 'reject', 'escalate'];
const DECISIONS = 240;

/** A deterministic stream of numbers in [0, 1), so every run builds the same decisions. */
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

type Key = Pick<CohortAggregate, 'stage' | 'aiConfig' | 'modelVersion'>;
const keyOf = (c: Key) => `${c.stage}/${c.aiConfig}/${c.modelVersion ?? '-'}`;
const ordered = <T>(rows: T[], key: (row: T) => string) =>
  [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

/**
 * The rollups must give what the aggregate over the raw decisions gives: every count and sum
 * exactly (sums of floats to 1e-9), latency percentiles within the 2% of a histogram bucket.
 */
function expectSameCohorts(fromRollups: CohortAggregate[], fromRaw: CohortAggregate[]) {
  expect(fromRollups.map(keyOf).sort()).toEqual(fromRaw.map(keyOf).sort());
  const raw = new Map(fromRaw.map((c) => [keyOf(c), c]));
  for (const rolled of fromRollups) {
    const expected = raw.get(keyOf(rolled))!;
    const { latencyP50Ms, latencyP95Ms, scoreSum, aiCostSum, segments, confusion, labelFailures, ...counts } =
      rolled;
    expect(counts).toEqual({
      ...counts,
      ...Object.fromEntries(Object.keys(counts).map((k) => [k, expected[k as keyof CohortAggregate]])),
    });
    expect(scoreSum).toBeCloseTo(expected.scoreSum, 9);
    expect(aiCostSum).toBeCloseTo(expected.aiCostSum, 9);
    for (const [got, want] of [
      [latencyP50Ms, expected.latencyP50Ms],
      [latencyP95Ms, expected.latencyP95Ms],
    ] as const) {
      if (want === null) expect(got).toBeNull();
      else expect(Math.abs(got! - want) / want, `latency ${got} against ${want}`).toBeLessThanOrEqual(0.02);
    }
    const bySegment = (s: { segment: string; value: string }) => `${s.segment}=${s.value}`;
    expect(ordered(segments, bySegment).map((s) => ({ ...s, scoreSum: round(s.scoreSum) }))).toEqual(
      ordered(expected.segments, bySegment).map((s) => ({ ...s, scoreSum: round(s.scoreSum) })),
    );
    const byPair = (p: { human: string; ai: string }) => `${p.human}/${p.ai}`;
    expect(ordered(confusion, byPair)).toEqual(ordered(expected.confusion, byPair));
    const byHuman = (f: { human: string }) => f.human;
    expect(ordered(labelFailures, byHuman)).toEqual(ordered(expected.labelFailures, byHuman));
  }
}

const round = (n: number) => Math.round(n * 1e9) / 1e9;

/** The decisions' time span (97 minutes apart from 2024-03-01): 17 days, in both bucket sizes. */
const SERIES_FROM = new Date('2024-03-01T00:00:00Z');
const SERIES_TO = new Date('2024-03-18T00:00:00Z');

/** The time series computed the exact way, over the raw decisions, for comparison. */
async function exactSeries(
  database: TestDatabase['database'],
  bucket: Bucket,
  stage?: Mode,
): Promise<TimeseriesPoint[]> {
  const seconds = bucket === 'hour' ? 3600 : 86_400;
  const rows = await database.rows<{
    b: number;
    decisions: number;
    compared: number;
    score_sum: number;
    ai_attempted: number;
    ai_errors: number;
    p95: number | null;
    ai_cost: number;
  }>(sql`
    select floor(extract(epoch from received_at) / ${seconds}::int)::int as b, count(*)::int as decisions,
      count(score)::int as compared, coalesce(sum(score), 0)::float8 as score_sum,
      count(*) filter (where ai_state in ('done', 'error'))::int as ai_attempted,
      count(*) filter (where ai_state = 'error')::int as ai_errors,
      percentile_cont(0.95) within group (order by ai_latency_ms) filter (where ai_state = 'done') as p95,
      coalesce(sum(ai_cost), 0)::float8 as ai_cost
    from decisions where use_case = ${UC} and (${stage ?? null}::text is null or stage = ${stage ?? null})
    group by 1 order by 1`);
  return rows.map((r) =>
    timeseriesPoint({
      start: new Date(Number(r.b) * seconds * 1000).toISOString().replace('.000Z', 'Z'),
      decisions: Number(r.decisions),
      compared: Number(r.compared),
      scoreSum: Number(r.score_sum),
      aiAttempted: Number(r.ai_attempted),
      aiErrors: Number(r.ai_errors),
      latencyP95Ms: r.p95 === null ? null : Number(r.p95),
      aiCostSum: Number(r.ai_cost),
    }),
  );
}

/**
 * The series read from the hourly rollups must be the exact one: every count and ratio (floats
 * to 1e-9), p95 latency within the 5% of 1 ms a 10% histogram bucket allows.
 */
function expectSameSeries(fromRollups: TimeseriesPoint[], exact: TimeseriesPoint[]) {
  expect(fromRollups.map((p) => p.start)).toEqual(exact.map((p) => p.start));
  for (const [i, point] of fromRollups.entries()) {
    const want = exact[i]!;
    const { latencyP95Ms, ...rest } = point;
    for (const [key, value] of Object.entries(rest)) {
      const expected = want[key as keyof TimeseriesPoint];
      if (typeof value === 'number')
        expect(value, `${point.start} ${key}`).toBeCloseTo(expected as number, 9);
      else expect(value, `${point.start} ${key}`).toEqual(expected);
    }
    if (want.latencyP95Ms === null) expect(latencyP95Ms).toBeNull();
    else
      expect(Math.abs(latencyP95Ms! - want.latencyP95Ms)).toBeLessThanOrEqual(0.05 * (1 + want.latencyP95Ms));
  }
}

describe.each(BACKENDS)('incremental rollups on %s', (_backend, create) => {
  let tdb: TestDatabase;
  let rollups: RollupStore;
  let raw: MetricsStore;
  let decisions: DecisionStore;

  beforeAll(async () => {
    tdb = await create();
    rollups = new RollupStore(tdb.database);
    raw = new MetricsStore(tdb.database);
    decisions = new DecisionStore(tdb.database);
    const aiCalls = new AiCallStore(tdb.database);
    await new UseCaseStore(tdb.database).applyPlan(planInput(UC));
    const aiConfig = aiConfigKey(planInput(UC).plan);
    const next = sequence(7);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;

    // Shadow was entered twice (stage versions 1 and 3), human-reviewed once (2); batches of 40.
    const rows = Array.from({ length: DECISIONS }, (_, i) => {
      const version = pick([1, 2, 3]);
      const context: Record<string, unknown> = {
        region: pick(['eu', 'us', 'apac']),
        channel: pick(['web', 'mail']),
      };
      if (next() < 0.7) context.riskTier = pick(['low', 'high']);
      if (next() < 0.05) context.region = null;
      return mirrored(UC, `d${i}`, {
        stage: version === 2 ? 'human-reviewed' : 'shadow',
        stageVersion: version,
        aiConfig,
        context,
        human: next() < 0.5 ? pick(LABELS) : undefined,
        aiState: next() < 0.1 ? 'none' : 'owed',
      });
    });
    for (let i = 0; i < rows.length; i += 40) await decisions.insertMirrored(rows.slice(i, i + 40));
    await tdb.database.rows(
      sql`update decisions set received_at = ('2024-03-01T00:00:00Z'::timestamptz
        + (substr(request_id, 2)::int * interval '97 minutes')) where use_case = ${UC}`,
    );

    for (const row of rows) {
      const roll = next();
      if (row.aiState === 'none' || roll < 0.1) continue; // left owed
      const call = await aiCalls.claim(row, 60_000);
      if (roll < 0.18) {
        await aiCalls.recordFailure(call!.id, {
          error: 'timeout',
          latencyMs: 3000,
          modelVersion: next() < 0.5 ? 'm1' : null,
        });
        continue;
      }
      const ai = pick(LABELS);
      const human = row.human?.decision;
      const stored = await aiCalls.recordAnswer(
        call!.id,
        answer(ai, {
          modelVersion: pick(['m1', 'm2']),
          latencyMs: 20 + next() * 900,
          costUsd: next() / 1000,
        }),
        human === undefined ? null : human === ai ? 1 : 0,
      );
      expect(stored).not.toBeNull();
    }
    // Half the decisions without a human get one later; those answered are scored then.
    for (const row of rows.filter((r) => !r.human)) {
      if (next() < 0.5) continue;
      const outcome = await decisions.recordHuman(row, {
        decision: pick(LABELS),
        decidedBy: 'clerk',
        handlingMs: 5,
      });
      if (outcome.status !== 'recorded' || outcome.row.aiState !== 'done') continue;
      await decisions.recordScore(
        outcome.row.id,
        outcome.row.humanDecision === outcome.row.aiDecision ? 1 : 0,
      );
    }
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when decisions are stored, answered, failed, joined by their human later and scored, then the rollups give the aggregate over the raw decisions', async () => {
    const all = await rollups.cohorts({ useCase: UC }, SEGMENTS, true);
    expect(all.length).toBeGreaterThanOrEqual(5);
    // Failed calls on human-decided requests are counted per cohort, segment value and label.
    expect(all.reduce((n, c) => n + c.aiFailedWithHuman, 0)).toBeGreaterThan(0);
    expect(all.some((c) => c.labelFailures.length > 0 && c.segments.some((s) => s.failed > 0))).toBe(true);
    expectSameCohorts(all, await raw.cohorts({ useCase: UC }, SEGMENTS, true));
    for (const stage of ['shadow', 'human-reviewed'] as const) {
      expectSameCohorts(
        await rollups.cohorts({ useCase: UC, stage }, SEGMENTS, true),
        await raw.cohorts({ useCase: UC, stage }, SEGMENTS, true),
      );
    }
  });

  it('when decisions are answered, failed, joined by their human and scored later, then their drift counts are those of the same rows inserted as they are now', async () => {
    // The UPDATE trigger counts only the drift fields an update can have changed (migration 0021):
    // what it left must be what the INSERT trigger counts for the final rows.
    const copy = `${UC}-copy`;
    await new UseCaseStore(tdb.database).applyPlan(planInput(copy));
    await tdb.database.rows(sql`
      insert into decisions (use_case, request_id, payload_hash, input, pending_input, context, stage, stage_version,
        plan_version, ai_config, received_at, human_decision, human_decided_by, human_handling_ms, human_at, ai_state,
        ai_lease_until, ai_attempts, ai_decision, ai_confidence, ai_model_version, ai_latency_ms, ai_input_tokens,
        ai_output_tokens, ai_cost, ai_error, ai_at, score, compared_at, route)
      select ${copy}, request_id, payload_hash, input, pending_input, context, stage, stage_version,
        plan_version, ai_config, received_at, human_decision, human_decided_by, human_handling_ms, human_at, ai_state,
        ai_lease_until, ai_attempts, ai_decision, ai_confidence, ai_model_version, ai_latency_ms, ai_input_tokens,
        ai_output_tokens, ai_cost, ai_error, ai_at, score, compared_at, route
      from decisions where use_case = ${UC}`);
    const counts = (useCase: string) =>
      tdb.database.rows<Record<string, unknown>>(sql`
        select stage_version, hour, kind, field, value, sum(count)::int as n from drift_counts
        where use_case = ${useCase} group by 1, 2, 3, 4, 5 having sum(count) <> 0 order by 1, 2, 3, 4, 5`);
    const kept = await counts(UC);
    expect(new Set(kept.map((r) => r.field))).toEqual(
      new Set(['decisions', 'humanLabel', 'aiLabel', 'aiConfidence', 'aiLatency', 'override', ...SEGMENTS]),
    );
    expect(kept).toEqual(await counts(copy));
    await tdb.database.rows(sql`delete from decisions where use_case = ${copy}`);
  });

  it('when decisions are answered, scored and deleted, then the latency histograms hold bucket by bucket what the per-bucket rollups the release before reads hold', async () => {
    // Migration 0022 keeps both: latency_histograms for this release, latency_rollups for the one
    // before while a rolling upgrade runs them side by side.
    const fromHistograms = () =>
      tdb.database.rows<Record<string, unknown>>(sql`
        select r.use_case, r.stage_version, r.stage, r.ai_config, r.model_version, u.bucket, sum(u.n)::int as n
        from latency_histograms r cross join lateral unnest(r.buckets, r.counts) u(bucket, n)
        group by 1, 2, 3, 4, 5, 6 having sum(u.n) <> 0 order by 1, 2, 3, 4, 5, 6`);
    const fromRollups = () =>
      tdb.database.rows<Record<string, unknown>>(sql`
        select use_case, stage_version, stage, ai_config, model_version, bucket, sum(count)::int as n
        from latency_rollups group by 1, 2, 3, 4, 5, 6 having sum(count) <> 0 order by 1, 2, 3, 4, 5, 6`);
    const kept = await fromHistograms();
    expect(kept.length).toBeGreaterThan(100);
    expect(kept).toEqual(await fromRollups());
    // A row holds each bucket once, in order, and none whose count came to 0.
    const rows = await tdb.database.rows<{ buckets: number[]; counts: number[] }>(
      sql`select buckets, counts from latency_histograms where use_case = ${UC}`,
    );
    for (const { buckets, counts } of rows) {
      expect(buckets.map(Number)).toEqual([...new Set(buckets.map(Number))].sort((a, b) => a - b));
      expect(counts.map(Number)).not.toContain(0);
    }
    // Taken back, in one statement with decisions of other buckets and cohorts, and put back.
    const copy = `${UC}-latency`;
    await new UseCaseStore(tdb.database).applyPlan(planInput(copy));
    await tdb.database.rows(sql`
      insert into decisions (use_case, request_id, payload_hash, input, context, stage, stage_version, plan_version,
        ai_config, received_at, human_decision, ai_state, ai_decision, ai_model_version, ai_latency_ms, ai_at, score)
      select ${copy}, request_id, payload_hash, input, context, stage, stage_version, plan_version, ai_config,
        received_at, human_decision, ai_state, ai_decision, ai_model_version, ai_latency_ms, ai_at, score
      from decisions where use_case = ${UC}`);
    await tdb.database.rows(sql`delete from decisions where use_case = ${copy} and ai_latency_ms < 400`);
    const halfTaken = await fromHistograms();
    expect(halfTaken.filter((r) => r.use_case === copy).length).toBeGreaterThan(0);
    expect(halfTaken).toEqual(await fromRollups());
    await tdb.database.rows(sql`delete from decisions where use_case = ${copy}`);
    expect(await fromHistograms()).toEqual(kept);
    expect(await fromRollups()).toEqual(kept);
  });

  it('when the time series is read per hour or per day, whole or by stage, then the hourly rollups give the exact series over the raw decisions', async () => {
    const series = new TimeseriesStore(tdb.database);
    for (const bucket of ['hour', 'day'] as const) {
      const range = bucketRange(bucket, SERIES_TO, SERIES_FROM, SERIES_TO);
      for (const stage of [undefined, 'shadow', 'human-reviewed'] as const) {
        const points = await series.points({ useCase: UC, range, ...(stage ? { stage } : {}) });
        expect(points.length).toBeGreaterThan(bucket === 'hour' ? 50 : 10);
        expectSameSeries(points, await exactSeries(tdb.database, bucket, stage));
      }
    }
  });

  it('when the decisions table is out of reach, then the time series is still read whole: it reads the rollups alone', async () => {
    const series = new TimeseriesStore(tdb.database);
    const range = bucketRange('hour', SERIES_TO, SERIES_FROM, SERIES_TO);
    const before = await series.points({ useCase: UC, range });
    await tdb.database.rows(sql`alter table decisions rename to decisions_out_of_reach`);
    try {
      expect(await series.points({ useCase: UC, range })).toEqual(before);
    } finally {
      await tdb.database.rows(sql`alter table decisions_out_of_reach rename to decisions`);
    }
  });

  it('when a stage was entered again, then its stage version holds only the decisions of that visit', async () => {
    const third = await rollups.cohorts({ useCase: UC, stage: 'shadow', stageVersion: 3 }, SEGMENTS, true);
    const [{ n } = { n: -1 }] = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from decisions where use_case = ${UC} and stage_version = 3`,
    );
    expect(third.reduce((sum, c) => sum + c.decisions, 0)).toBe(n);
    const all = await rollups.cohorts({ useCase: UC, stage: 'shadow' }, SEGMENTS, true);
    expect(all.reduce((sum, c) => sum + c.decisions, 0)).toBeGreaterThan(n);
  });

  it('when the day has AI spend, then the daily spend equals the sum over the calls made that day', async () => {
    const guards = new GuardWindowStore(tdb.database);
    const [{ cost } = { cost: -1 }] = await tdb.database.rows<{ cost: number }>(sql`
      select coalesce(sum(ai_cost), 0)::float8 as cost from decisions
      where use_case = ${UC} and ai_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'`);
    expect(cost).toBeGreaterThan(0);
    expect(await guards.spendToday(UC, new Date())).toBeCloseTo(cost, 9);
    expect(await guards.spendToday(UC, new Date(Date.now() + 86_400_000))).toBe(0);
  });

  it('when guard windows are read, then calls come in the order their requests arrived and each label has its own window', async () => {
    const guards = new GuardWindowStore(tdb.database);
    const read = await guards.windows([
      { useCase: UC, stageVersion: 1, size: 60, labels: ['reject', 'approve'], labelWindow: 7 },
    ]);
    const window = read.get(UC)!;
    // The same windows computed over the raw decisions, by their definition.
    const [calls] = await tdb.database.rows<{ n: number; e: number }>(sql`
      select count(*)::int as n, count(*) filter (where ai_state = 'error')::int as e from (
        select ai_state from decisions where use_case = ${UC} and stage_version = 1
          and ai_state in ('done', 'error') order by received_at desc limit 60) x`);
    expect({ aiCalls: window.aiCalls, aiErrors: window.aiErrors }).toEqual({
      aiCalls: calls!.n,
      aiErrors: calls!.e,
    });
    expect(calls!.e).toBeGreaterThan(0);
    for (const label of ['reject', 'approve']) {
      const [w] = await tdb.database.rows<{ n: number; h: number }>(sql`
        select count(*)::int as n, count(*) filter (where score = 1)::int as h from (
          select score from decisions where use_case = ${UC} and stage_version = 1 and score is not null
            and human_decision = to_jsonb(${label}::text) order by compared_at desc limit 7) x`);
      expect(window.labels[label]).toEqual({ compared: w!.n, hits: w!.h });
      expect(w!.n).toBeGreaterThan(0);
    }
  });

  it('when a plan changes its segments, then the new ones are counted over the decisions already stored', async () => {
    const input = planInput(UC);
    const text = input.text.replace('segments: [region, riskTier]', 'segments: [region, channel]');
    const parsed = parsePlanText(text);
    if (!parsed.ok) throw new Error('test plan is invalid');
    await new UseCaseStore(tdb.database).applyPlan({
      ...input,
      text,
      plan: parsed.plan,
      textHash: parsed.hash,
    });
    const segments = ['region', 'channel'];
    const fromRollups = await rollups.cohorts({ useCase: UC }, segments, true);
    expect(fromRollups.some((c) => c.segments.some((s) => s.segment === 'channel'))).toBe(true);
    expectSameCohorts(fromRollups, await raw.cohorts({ useCase: UC }, segments, true));
  });

  it('when decisions are deleted, then what they contributed is taken back', async () => {
    await tdb.database.rows(
      sql`delete from decisions where use_case = ${UC} and substr(request_id, 2)::int % 3 = 0`,
    );
    expectSameCohorts(
      await rollups.cohorts({ useCase: UC }, ['region', 'channel'], true),
      await raw.cohorts({ useCase: UC }, ['region', 'channel'], true),
    );
    const range = bucketRange('day', SERIES_TO, SERIES_FROM, SERIES_TO);
    expectSameSeries(
      await new TimeseriesStore(tdb.database).points({ useCase: UC, range }),
      await exactSeries(tdb.database, 'day'),
    );
  });
});
