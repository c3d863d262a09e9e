import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Mode } from '../plans/plan-schema.js';
import { percentileBetween } from './latency-histogram.js';
import { cohortAggregate } from './metrics-store.js';
import type { CohortAggregate } from './metrics-types.js';

/** Which rollups to read: a use case, optionally one stage, optionally one stage version of it. */
export interface RollupFilter {
  useCase: string;
  stage?: Mode;
  stageVersion?: number;
}

/** A read of one use case's rollups: which, the plan's segments, and whether it has labels. */
export interface RollupRequest extends RollupFilter {
  segments: readonly string[];
  labels: boolean;
}

interface KeyRow {
  use_case: string;
  stage: Mode;
  ai_config: string;
  model_version: string;
}

interface CohortRow extends KeyRow {
  decisions: number;
  compared: number;
  score_sum: number;
  ai_attempted: number;
  ai_errors: number;
  ai_cost: number;
  input_tokens: number;
  output_tokens: number;
  human_decisions: number;
  pending_human: number;
  pending_ai: number;
  ai_failed_with_human: number;
  first_at: Date | string | null;
  last_at: Date | string | null;
}

/**
 * A cohort's latency buckets ranked: how many latencies were counted, and for each percentile the
 * buckets of the values at its two neighbouring ranks (see `histogramPercentile`).
 */
interface LatencyRow extends KeyRow {
  total: number;
  p50_lo: number;
  p50_hi: number;
  p95_lo: number;
  p95_hi: number;
}

const keyOf = (r: KeyRow) => `${r.use_case}\u0000${r.stage}\u0000${r.ai_config}\u0000${r.model_version}`;

/**
 * Reads cohorts from the rollups the decisions triggers keep (migration 0004): the same
 * aggregates as `MetricsStore` over the raw decisions, at a cost that does not grow with the
 * decisions stored. Any number of use cases are read in four queries (the tick reads all of
 * them at once). Latency percentiles come from 2% buckets ranked in SQL (latency-histogram.ts); the first
 * and last decision of a cohort are index probes. Rollup rows come in stripes (one per writing
 * connection, see rollup-schema.ts): every read sums them. Reads with a time range or a segment
 * filter go to `MetricsStore`, which scans the range.
 */
export class RollupStore {
  constructor(private readonly database: Database) {}

  async cohorts(
    filter: RollupFilter,
    segments: readonly string[],
    labels: boolean,
  ): Promise<CohortAggregate[]> {
    const read = await this.cohortsOf([{ ...filter, segments, labels }]);
    return read.get(filter.useCase) ?? [];
  }

  /** The cohorts of each requested use case (one request per use case). */
  async cohortsOf(requests: readonly RollupRequest[]): Promise<Map<string, CohortAggregate[]>> {
    const byUseCase = new Map<string, CohortAggregate[]>(requests.map((r) => [r.useCase, []]));
    if (requests.length === 0) return byUseCase;
    const filters = sql`unnest(${sql.param(requests.map((r) => r.useCase))}::text[],
      ${sql.param(requests.map((r) => r.stage ?? null))}::text[],
      ${sql.param(requests.map((r) => r.stageVersion ?? null))}::int[]) f(use_case, stage, stage_version)`;
    // A lateral subquery kept apart (offset 0), so each requested use case is an index lookup: as
    // a join, the generic plan of the prepared statement scanned every rollup row of every use case.
    const matches = sql`r.use_case = f.use_case and (f.stage is null or r.stage = f.stage)
      and (f.stage_version is null or r.stage_version = f.stage_version)`;
    // The tick names one stage visit per use case: as plain equalities, the index hands each
    // cohort's buckets over in order, and the ranking below sorts nothing. A cohort is then one
    // (ai_config, model_version) of the visit's stage.
    const oneStageVisit = requests.every((r) => r.stage !== undefined && r.stageVersion !== undefined);
    const visitMatches = sql`r.use_case = f.use_case and r.stage_version = f.stage_version and r.stage = f.stage`;
    const cohortOf = (t: 's' | 'b') =>
      oneStageVisit
        ? sql.raw(`${t}.ai_config, ${t}.model_version`)
        : sql.raw(`${t}.stage, ${t}.ai_config, ${t}.model_version`);
    const preparedRows = <T>(query: SQL) => this.database.preparedRows<T>(query);
    const [rows, latencies, segmentRows, pairs, failures] = await Promise.all([
      preparedRows<CohortRow>(sql`
        with r as (
          select r.use_case, r.stage_version, r.stage, r.ai_config, r.model_version,
            sum(r.decisions) as decisions, sum(r.compared) as compared, sum(r.score_sum) as score_sum,
            sum(r.ai_attempted) as ai_attempted, sum(r.ai_errors) as ai_errors, sum(r.ai_cost) as ai_cost,
            sum(r.input_tokens) as input_tokens, sum(r.output_tokens) as output_tokens,
            sum(r.human_decisions) as human_decisions, sum(r.pending_human) as pending_human,
            sum(r.pending_ai) as pending_ai, sum(r.ai_failed_with_human) as ai_failed_with_human
          from ${filters} cross join lateral (select * from cohort_rollups r where ${matches} offset 0) r
          group by 1, 2, 3, 4, 5 having sum(r.decisions) <> 0)
        select r.use_case, r.stage, r.ai_config, r.model_version,
          sum(r.decisions)::float8 as decisions, sum(r.compared)::float8 as compared,
          sum(r.score_sum)::float8 as score_sum, sum(r.ai_attempted)::float8 as ai_attempted,
          sum(r.ai_errors)::float8 as ai_errors, sum(r.ai_cost)::float8 as ai_cost,
          sum(r.input_tokens)::float8 as input_tokens, sum(r.output_tokens)::float8 as output_tokens,
          sum(r.human_decisions)::float8 as human_decisions, sum(r.pending_human)::float8 as pending_human,
          sum(r.pending_ai)::float8 as pending_ai,
          sum(r.ai_failed_with_human)::float8 as ai_failed_with_human, min(e.first_at) as first_at, max(e.last_at) as last_at
        from r cross join lateral (select ${edges('asc')}, ${edges('desc')}) e(first_at, last_at)
        group by 1, 2, 3, 4
        order by min(e.first_at)`),
      // Ranked in SQL, per use case (an index lookup each): one row per cohort, not one per bucket.
      preparedRows<LatencyRow>(sql`
        select f.use_case, h.stage, h.ai_config, h.model_version, h.total,
          h.p50_lo, h.p50_hi, h.p95_lo, h.p95_hi
        from ${filters} cross join lateral (
          select min(b.stage) as stage, b.ai_config, b.model_version, max(b.total) as total,
            ${bucketsAtRank(0.5, 'p50')}, ${bucketsAtRank(0.95, 'p95')}
          from (
            select s.*, sum(s.n) over (partition by ${cohortOf('s')} order by s.bucket) as seen,
              sum(s.n) over (partition by ${cohortOf('s')}) as total
            from (
              select r.stage, r.ai_config, r.model_version, r.bucket, sum(r.count::float8) as n
              from latency_rollups r where ${oneStageVisit ? visitMatches : matches}
              group by 1, 2, 3, 4 having sum(r.count::float8) > 0) s) b
          group by ${cohortOf('b')}) h`),
      requests.some((r) => r.segments.length > 0)
        ? preparedRows<
            KeyRow & { segment: string; value: string; compared: number; score_sum: number; failed: number }
          >(sql`
          select r.use_case, r.stage, r.ai_config, r.model_version, r.segment, r.value,
            sum(r.compared)::float8 as compared, sum(r.score_sum)::float8 as score_sum,
            sum(r.failed)::float8 as failed
          from ${filters} cross join lateral (select * from segment_rollups r where ${matches} offset 0) r
          group by 1, 2, 3, 4, 5, 6 having sum(r.compared) <> 0 or sum(r.failed) <> 0`)
        : [],
      requests.some((r) => r.labels)
        ? preparedRows<KeyRow & { human: string; ai: string; count: number }>(sql`
          select r.use_case, r.stage, r.ai_config, r.model_version, r.human, r.ai, sum(r.count)::float8 as count
          from ${filters} cross join lateral (select * from confusion_rollups r where ${matches} offset 0) r
          group by 1, 2, 3, 4, 5, 6 having sum(r.count) <> 0`)
        : [],
      requests.some((r) => r.labels)
        ? preparedRows<KeyRow & { human: string; count: number }>(sql`
          select r.use_case, r.stage, r.ai_config, r.model_version, r.human, sum(r.count)::float8 as count
          from ${filters} cross join lateral (select * from label_failure_rollups r where ${matches} offset 0) r
          group by 1, 2, 3, 4, 5 having sum(r.count) <> 0`)
        : [],
    ]);

    const cohorts = new Map<string, CohortAggregate>();
    for (const r of rows) {
      const cohort = toAggregate(r);
      cohorts.set(keyOf(r), cohort);
      byUseCase.get(r.use_case)?.push(cohort);
    }
    for (const r of latencies) {
      const cohort = cohorts.get(keyOf(r));
      if (!cohort) continue;
      const total = Number(r.total);
      cohort.latencyP50Ms = percentileBetween(total, 0.5, Number(r.p50_lo), Number(r.p50_hi));
      cohort.latencyP95Ms = percentileBetween(total, 0.95, Number(r.p95_lo), Number(r.p95_hi));
    }
    const wanted = new Map(requests.map((r) => [r.useCase, r]));
    for (const r of segmentRows) {
      if (!wanted.get(r.use_case)?.segments.includes(r.segment)) continue;
      cohorts.get(keyOf(r))?.segments.push({
        segment: r.segment,
        value: r.value,
        compared: Number(r.compared),
        scoreSum: Number(r.score_sum),
        failed: Number(r.failed),
      });
    }
    for (const r of pairs) {
      if (!wanted.get(r.use_case)?.labels) continue;
      cohorts.get(keyOf(r))?.confusion.push({ human: r.human, ai: r.ai, count: Number(r.count) });
    }
    for (const r of failures) {
      if (!wanted.get(r.use_case)?.labels) continue;
      cohorts.get(keyOf(r))?.labelFailures.push({ human: r.human, count: Number(r.count) });
    }
    return byUseCase;
  }
}

/** A rollup row as a cohort aggregate: '' stands for no model version; percentiles come later. */
function toAggregate(r: CohortRow): CohortAggregate {
  return cohortAggregate({
    ...r,
    model_version: r.model_version === '' ? null : r.model_version,
    p50: null,
    p95: null,
  });
}

/**
 * The buckets holding the latencies at ranks ⌊p(n − 1)⌋ and ⌈p(n − 1)⌉ of the ranked buckets `b`
 * (`seen`: the latencies up to and with the bucket, `total`: all of the cohort), as `<name>_lo`
 * and `<name>_hi`: the first bucket whose running count passes the rank, as `histogramPercentile`.
 */
function bucketsAtRank(p: number, name: 'p50' | 'p95'): SQL {
  const at = (round: SQL) =>
    sql`min(b.bucket) filter (where b.seen > ${round}(${sql.param(p)}::float8 * (b.total - 1)))`;
  return sql`${at(sql`floor`)} as ${sql.identifier(`${name}_lo`)}, ${at(sql`ceil`)} as ${sql.identifier(`${name}_hi`)}`;
}

/** The first (asc) or last (desc) decision of rollup row r: one probe of the decisions_cohort index. */
function edges(order: 'asc' | 'desc'): SQL {
  const direction = order === 'asc' ? sql`asc` : sql`desc`;
  const probe = (model: SQL) => sql`(
    select d.received_at from decisions d
    where d.use_case = r.use_case and d.stage_version = r.stage_version and d.stage = r.stage
      and d.ai_config = r.ai_config and ${model}
    order by d.received_at ${direction} limit 1)`;
  // Two probes, one gated off by its constant condition: `is null` and `=` each use the index.
  return sql`coalesce(
    ${probe(sql`r.model_version = '' and d.ai_model_version is null`)},
    ${probe(sql`r.model_version <> '' and d.ai_model_version = r.model_version`)})`;
}
