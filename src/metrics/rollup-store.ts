import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Mode } from '../plans/plan-schema.js';
import { histogramPercentile } from './latency-histogram.js';
import { cohortAggregate } from './metrics-store.js';
import { movementTokens } from './rollup-movement.js';
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

/** The tick's read of a use case: its current stage visit, under the plan version it is judged by. */
export interface VisitRequest extends RollupRequest {
  stage: Mode;
  stageVersion: number;
  planVersion: number;
}

/** A visit's cohorts as read, what they were read for, and the movement token they were read after. */
interface KeptVisit {
  key: string;
  token: string;
  cohorts: CohortAggregate[];
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

/** A cohort's latency histogram: its buckets holding a positive count, ascending, and their counts. */
interface LatencyRow extends KeyRow {
  buckets: number[];
  counts: number[];
}

const keyOf = (r: KeyRow) => `${r.use_case}\u0000${r.stage}\u0000${r.ai_config}\u0000${r.model_version}`;

/**
 * Reads cohorts from the rollups the decisions triggers keep (migration 0004): the same
 * aggregates as `MetricsStore` over the raw decisions, at a cost that does not grow with the
 * decisions stored. Any number of use cases are read in five queries (the tick reads all of
 * them at once). Latency percentiles come from 2% buckets, read as one histogram per cohort and
 * ranked here (latency-histogram.ts); the first and last decision of a cohort are index probes. Rollup rows come in stripes (one per writing
 * connection, see rollup-schema.ts): every read sums them. Reads with a time range or a segment
 * filter go to `MetricsStore`, which scans the range.
 */
export class RollupStore {
  private readonly kept = new Map<string, KeptVisit>();

  constructor(private readonly database: Database) {}

  /**
   * The cohorts of each use case's current stage visit, for the tick, which asks for every use case
   * it judges each time (a use case it no longer asks for is forgotten, so what is kept is bounded
   * by the use cases). Each process keeps what it read, and reads a use case again only when its
   * request changed (stage, stage version, plan version, segments, labels) or its rollups moved
   * (rollup-movement.ts): an unmoved use case costs its share of one token read instead of its
   * share of the five rollup reads of `cohortsOf`. What is kept is handed out frozen. `tokens`:
   * the visits' movement tokens, read by the caller before this call; read here when absent.
   */
  async visitCohorts(
    requests: readonly VisitRequest[],
    tokens?: ReadonlyMap<string, string>,
  ): Promise<Map<string, CohortAggregate[]>> {
    const result = new Map<string, CohortAggregate[]>();
    if (requests.length === 0) {
      this.kept.clear();
      return result;
    }
    const movement = tokens ?? (await movementTokens(this.database, requests));
    const moved: Array<{ request: VisitRequest; key: string; token: string }> = [];
    for (const request of requests) {
      const { stage, stageVersion, planVersion, segments, labels } = request;
      const key = JSON.stringify([stage, stageVersion, planVersion, segments, labels]);
      const token = movement.get(request.useCase) ?? '';
      const last = this.kept.get(request.useCase);
      if (last && last.key === key && last.token === token) result.set(request.useCase, last.cohorts);
      else moved.push({ request, key, token });
    }
    const read = moved.length > 0 ? await this.cohortsOf(moved.map((m) => m.request)) : new Map();
    for (const { request, key, token } of moved) {
      const cohorts = frozen(read.get(request.useCase) ?? []);
      this.kept.set(request.useCase, { key, token, cohorts });
      result.set(request.useCase, cohorts);
    }
    const asked = new Set(requests.map((r) => r.useCase));
    for (const useCase of this.kept.keys()) if (!asked.has(useCase)) this.kept.delete(useCase);
    return result;
  }

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
    const anyMatches = sql`r.use_case = f.use_case and (f.stage is null or r.stage = f.stage)
      and (f.stage_version is null or r.stage_version = f.stage_version)`;
    // The tick names one stage visit per use case: as plain equalities, the whole key is an index
    // condition, and the planner's estimate stays low enough that PostgreSQL does not JIT-compile
    // the reads (over 1,000 use cases, the `is null or` form cost as much to compile as to run).
    const oneStageVisit = requests.every((r) => r.stage !== undefined && r.stageVersion !== undefined);
    const matches = oneStageVisit
      ? sql`r.use_case = f.use_case and r.stage_version = f.stage_version and r.stage = f.stage`
      : anyMatches;
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
      // A cohort's histogram, a row a stripe (an index lookup per use case, at most ROLLUP_STRIPES
      // rows a cohort), summed and ranked here: summing the buckets in SQL (unnest, group, order)
      // cost as much per bucket as the rows a bucket it replaced.
      preparedRows<LatencyRow>(sql`
        select f.use_case, r.stage, r.ai_config, r.model_version, r.buckets, r.counts
        from ${filters} cross join lateral (
          select r.stage, r.ai_config, r.model_version, r.buckets, r.counts
          from latency_histograms r where ${matches} offset 0) r`),
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
    const histograms = new Map<string, Map<number, number>>();
    for (const r of latencies) {
      const key = keyOf(r);
      if (!cohorts.has(key)) continue;
      const histogram = histograms.get(key) ?? new Map<number, number>();
      histograms.set(key, histogram);
      for (let i = 0; i < r.buckets.length; i++) {
        const bucket = Number(r.buckets[i]);
        histogram.set(bucket, (histogram.get(bucket) ?? 0) + Number(r.counts[i]));
      }
    }
    for (const [key, histogram] of histograms) {
      const cohort = cohorts.get(key)!;
      cohort.latencyP50Ms = histogramPercentile(histogram, 0.5);
      cohort.latencyP95Ms = histogramPercentile(histogram, 0.95);
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

/** Cohorts handed to every tick that reuses them: frozen, so what one reader does cannot change another's. */
function frozen(cohorts: CohortAggregate[]): CohortAggregate[] {
  for (const cohort of cohorts) {
    for (const list of [cohort.confusion, cohort.segments, cohort.labelFailures]) {
      for (const entry of list) Object.freeze(entry);
      Object.freeze(list);
    }
    Object.freeze(cohort);
  }
  return Object.freeze(cohorts) as CohortAggregate[];
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
