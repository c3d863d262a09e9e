import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Mode } from '../plans/plan-schema.js';
import { wilsonInterval } from '../statistics/wilson.js';

export const BUCKETS = ['hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];

export interface TimeseriesFilter {
  useCase: string;
  bucket: Bucket;
  stage?: Mode;
  from?: Date;
  to?: Date;
}

/** What SQL aggregates for one time bucket (UTC), decisions counted by their arrival. */
export interface BucketAggregate {
  /** Start of the bucket, ISO 8601 in UTC. */
  start: string;
  decisions: number;
  compared: number;
  scoreSum: number;
  aiAttempted: number;
  aiErrors: number;
  latencyP95Ms: number | null;
  aiCostSum: number;
}

/** One bucket of "agreement over time"; ratios are null where their denominator is zero. */
export interface TimeseriesPoint {
  start: string;
  decisions: number;
  samples: number;
  agreement: number | null;
  /** Wilson interval of agreement within this bucket alone. */
  agreementLower: number | null;
  agreementUpper: number | null;
  aiCalls: number;
  aiErrors: number;
  aiErrorRate: number | null;
  latencyP95Ms: number | null;
  aiCostPerDecision: number | null;
}

/** The same confidence as the metrics' `agreementLowerBound`, so a bucket reads like a cohort. */
export const TIMESERIES_CONFIDENCE = 0.95;

/** Pure: a bucket's aggregates to its point, with the same definitions as the cohort metrics. */
export function timeseriesPoint(agg: BucketAggregate, confidence = TIMESERIES_CONFIDENCE): TimeseriesPoint {
  const interval = wilsonInterval(agg.scoreSum, agg.compared, confidence);
  return {
    start: agg.start,
    decisions: agg.decisions,
    samples: agg.compared,
    agreement: ratio(agg.scoreSum, agg.compared),
    agreementLower: interval?.lower ?? null,
    agreementUpper: interval?.upper ?? null,
    aiCalls: agg.aiAttempted,
    aiErrors: agg.aiErrors,
    aiErrorRate: ratio(agg.aiErrors, agg.aiAttempted),
    latencyP95Ms: agg.latencyP95Ms !== null && Number.isFinite(agg.latencyP95Ms) ? agg.latencyP95Ms : null,
    aiCostPerDecision: ratio(agg.aiCostSum, agg.aiAttempted),
  };
}

interface BucketRow {
  start: string;
  decisions: number;
  compared: number;
  score_sum: number;
  ai_attempted: number;
  ai_errors: number;
  p95: number | null;
  ai_cost: number;
}

// Literal SQL per bucket: the unit is chosen from this table, never taken from a request.
const UNIT: Record<Bucket, SQL> = { hour: sql.raw(`'hour'`), day: sql.raw(`'day'`) };

/** Decisions per time bucket of a use case, in SQL; only buckets with decisions are returned. */
export class TimeseriesStore {
  constructor(private readonly database: Database) {}

  async points(filter: TimeseriesFilter): Promise<TimeseriesPoint[]> {
    const rows = await this.database.rows<BucketRow>(sql`
      select to_char(date_trunc(${UNIT[filter.bucket]}, received_at at time zone 'UTC'),
          'YYYY-MM-DD"T"HH24:MI:SS"Z"') as start,
        count(*)::int as decisions,
        count(score)::int as compared,
        coalesce(sum(score), 0)::float8 as score_sum,
        count(*) filter (where ai_state in ('done', 'error'))::int as ai_attempted,
        count(*) filter (where ai_state = 'error')::int as ai_errors,
        percentile_cont(0.95) within group (order by ai_latency_ms) filter (where ai_state = 'done') as p95,
        coalesce(sum(ai_cost), 0)::float8 as ai_cost
      from decisions where ${whereClause(filter)}
      group by 1 order by 1`);
    return rows.map((r) =>
      timeseriesPoint({
        start: r.start,
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
}

function whereClause(filter: TimeseriesFilter): SQL {
  const parts: SQL[] = [sql`use_case = ${filter.useCase}`];
  if (filter.stage) parts.push(sql`stage = ${filter.stage}`);
  if (filter.from) parts.push(sql`received_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) parts.push(sql`received_at < ${filter.to.toISOString()}::timestamptz`);
  return sql.join(parts, sql` and `);
}

function ratio(numerator: number, denominator: number): number | null {
  if (denominator <= 0) return null;
  const value = numerator / denominator;
  return Number.isFinite(value) ? value : null;
}
