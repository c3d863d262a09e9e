import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Mode } from '../plans/plan-schema.js';
import { interpolatedLatencyMs } from './latency-histogram.js';
import type { CohortAggregate } from './metrics-types.js';

/** Which rollups to read: a use case, optionally one stage, optionally one stage version of it. */
export interface RollupFilter {
  useCase: string;
  stage?: Mode;
  stageVersion?: number;
}

interface KeyRow {
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
  first_at: Date | string | null;
  last_at: Date | string | null;
}

const keyOf = (r: KeyRow) => `${r.stage}\u0000${r.ai_config}\u0000${r.model_version}`;

/**
 * Reads a use case's cohorts from the rollups the decisions triggers keep (migration 0004): the
 * same aggregates as `MetricsStore` over the raw decisions, at a cost that does not grow with the
 * decisions stored. Latency percentiles come from 2% buckets (see latency-histogram.ts); the first
 * and last decision of a cohort are index probes. Reads with a time range or a segment filter go
 * to `MetricsStore`, which scans the range. Rollup rows come in stripes (one per writing
 * connection, see rollup-schema.ts): every read sums them.
 */
export class RollupStore {
  constructor(private readonly database: Database) {}

  async cohorts(
    filter: RollupFilter,
    segments: readonly string[],
    labels: boolean,
  ): Promise<CohortAggregate[]> {
    const where = whereClause(filter);
    const [rows, latencies, segmentRows, pairs] = await Promise.all([
      this.database.rows<CohortRow>(sql`
        with r as (
          select r.use_case, r.stage_version, r.stage, r.ai_config, r.model_version,
            sum(r.decisions) as decisions, sum(r.compared) as compared, sum(r.score_sum) as score_sum,
            sum(r.ai_attempted) as ai_attempted, sum(r.ai_errors) as ai_errors, sum(r.ai_cost) as ai_cost,
            sum(r.input_tokens) as input_tokens, sum(r.output_tokens) as output_tokens,
            sum(r.human_decisions) as human_decisions, sum(r.pending_human) as pending_human,
            sum(r.pending_ai) as pending_ai
          from cohort_rollups r where ${where}
          group by 1, 2, 3, 4, 5 having sum(r.decisions) <> 0)
        select r.stage, r.ai_config, r.model_version,
          sum(r.decisions)::float8 as decisions, sum(r.compared)::float8 as compared,
          sum(r.score_sum)::float8 as score_sum, sum(r.ai_attempted)::float8 as ai_attempted,
          sum(r.ai_errors)::float8 as ai_errors, sum(r.ai_cost)::float8 as ai_cost,
          sum(r.input_tokens)::float8 as input_tokens, sum(r.output_tokens)::float8 as output_tokens,
          sum(r.human_decisions)::float8 as human_decisions, sum(r.pending_human)::float8 as pending_human,
          sum(r.pending_ai)::float8 as pending_ai, min(e.first_at) as first_at, max(e.last_at) as last_at
        from r cross join lateral (select ${edges('asc')}, ${edges('desc')}) e(first_at, last_at)
        group by 1, 2, 3
        order by min(e.first_at)`),
      // For each percentile p, like percentile_cont: the buckets of the values at ranks ⌊p(n−1)⌋
      // and ⌈p(n−1)⌉, and how far p(n−1) lies between them.
      this.database.rows<KeyRow & { p: number; lo: number; hi: number; frac: number }>(sql`
        with h as (
          select r.stage, r.ai_config, r.model_version, r.bucket, sum(r.count) as n
          from latency_rollups r where ${where} group by 1, 2, 3, 4 having sum(r.count) > 0),
        w as (
          select h.*, sum(n) over (partition by stage, ai_config, model_version order by bucket) as upto,
            sum(n) over (partition by stage, ai_config, model_version) as total from h)
        select stage, ai_config, model_version, q.p::float8 as p,
          min(bucket) filter (where upto > floor(q.p * (total - 1))) as lo,
          min(bucket) filter (where upto > ceil(q.p * (total - 1))) as hi,
          (q.p * (total - 1) - floor(q.p * (total - 1)))::float8 as frac
        from w cross join (values (0.5), (0.95)) q(p)
        group by stage, ai_config, model_version, q.p, total`),
      segments.length === 0
        ? []
        : this.database.rows<
            KeyRow & { segment: string; value: string; compared: number; score_sum: number }
          >(sql`
          select r.stage, r.ai_config, r.model_version, r.segment, r.value,
            sum(r.compared)::float8 as compared, sum(r.score_sum)::float8 as score_sum
          from segment_rollups r
          where ${where} and r.segment = any(${sql.param([...segments])}::text[])
          group by 1, 2, 3, 4, 5 having sum(r.compared) <> 0`),
      labels
        ? this.database.rows<KeyRow & { human: string; ai: string; count: number }>(sql`
          select r.stage, r.ai_config, r.model_version, r.human, r.ai, sum(r.count)::float8 as count
          from confusion_rollups r where ${where}
          group by 1, 2, 3, 4, 5 having sum(r.count) <> 0`)
        : [],
    ]);

    const cohorts = new Map<string, CohortAggregate>();
    for (const r of rows) {
      cohorts.set(keyOf(r), {
        stage: r.stage,
        aiConfig: r.ai_config,
        modelVersion: r.model_version === '' ? null : r.model_version,
        decisions: Number(r.decisions),
        compared: Number(r.compared),
        scoreSum: Number(r.score_sum),
        aiAttempted: Number(r.ai_attempted),
        aiErrors: Number(r.ai_errors),
        latencyP50Ms: null,
        latencyP95Ms: null,
        aiCostSum: Number(r.ai_cost),
        inputTokensSum: Number(r.input_tokens),
        outputTokensSum: Number(r.output_tokens),
        humanDecisions: Number(r.human_decisions),
        pendingHuman: Number(r.pending_human),
        pendingAi: Number(r.pending_ai),
        firstDecisionAt: toDate(r.first_at),
        lastDecisionAt: toDate(r.last_at),
        confusion: [],
        segments: [],
      });
    }
    for (const r of latencies) {
      const cohort = cohorts.get(keyOf(r));
      if (!cohort) continue;
      const ms = interpolatedLatencyMs(Number(r.lo), Number(r.hi), Number(r.frac));
      if (Number(r.p) === 0.5) cohort.latencyP50Ms = ms;
      else cohort.latencyP95Ms = ms;
    }
    for (const r of segmentRows) {
      cohorts.get(keyOf(r))?.segments.push({
        segment: r.segment,
        value: r.value,
        compared: Number(r.compared),
        scoreSum: Number(r.score_sum),
      });
    }
    for (const r of pairs) {
      cohorts.get(keyOf(r))?.confusion.push({ human: r.human, ai: r.ai, count: Number(r.count) });
    }
    return [...cohorts.values()];
  }
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

function whereClause(filter: RollupFilter): SQL {
  const parts: SQL[] = [sql`r.use_case = ${filter.useCase}`];
  if (filter.stage) parts.push(sql`r.stage = ${filter.stage}`);
  if (filter.stageVersion !== undefined) parts.push(sql`r.stage_version = ${filter.stageVersion}`);
  return sql.join(parts, sql` and `);
}

function toDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}
