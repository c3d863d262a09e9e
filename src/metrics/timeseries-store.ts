import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Mode } from '../plans/plan-schema.js';
import { wilsonInterval } from '../statistics/wilson.js';
import { HOURLY_GROWTH, histogramPercentile } from './latency-histogram.js';
import { BUCKET_HOURS, type BucketRange, bucketStart } from './timeseries-range.js';

export interface TimeseriesFilter {
  useCase: string;
  range: BucketRange;
  stage?: Mode;
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

interface CountsRow {
  b: number;
  decisions: number;
  compared: number;
  score_sum: number;
  ai_attempted: number;
  ai_errors: number;
  ai_cost: number;
}

/**
 * Decisions per time bucket of a use case, read from the hourly rollups (migration 0006), so a
 * read costs what its buckets hold, not what decisions were stored. Only buckets with decisions
 * are returned; p95 latency comes from a 10% histogram per hour (within 5% of 1 ms + the exact one).
 */
export class TimeseriesStore {
  constructor(private readonly database: Database) {}

  async points(filter: TimeseriesFilter): Promise<TimeseriesPoint[]> {
    const { bucket, first, end } = filter.range;
    const hours = BUCKET_HOURS[bucket];
    // Rollup rows come in stripes and, without a stage, one per stage: summed per bucket.
    const where = sql`r.use_case = ${filter.useCase} and r.hour >= ${first * hours}::int
      and r.hour < ${end * hours}::int and (${filter.stage ?? null}::text is null or r.stage = ${filter.stage ?? null})`;
    const bucketOf = sql`floor(r.hour::float8 / ${hours}::int)::int`;
    const [counts, latencies] = await Promise.all([
      this.database.preparedRows<CountsRow>(sql`
        select ${bucketOf} as b, sum(r.decisions)::float8 as decisions, sum(r.compared)::float8 as compared,
          sum(r.score_sum)::float8 as score_sum, sum(r.ai_attempted)::float8 as ai_attempted,
          sum(r.ai_errors)::float8 as ai_errors, sum(r.ai_cost)::float8 as ai_cost
        from hourly_rollups r where ${where}
        group by 1 having sum(r.decisions) <> 0 order by 1`),
      this.database.preparedRows<{ b: number; bucket: number; count: number }>(sql`
        select ${bucketOf} as b, r.bucket, sum(r.count)::float8 as count
        from hourly_latency_rollups r where ${where}
        group by 1, 2 having sum(r.count) <> 0`),
    ]);
    const histograms = new Map<number, Map<number, number>>();
    for (const r of latencies) {
      const histogram = histograms.get(Number(r.b)) ?? new Map<number, number>();
      histograms.set(Number(r.b), histogram);
      histogram.set(Number(r.bucket), Number(r.count));
    }
    return counts.map((r) => {
      const histogram = histograms.get(Number(r.b));
      return timeseriesPoint({
        start: bucketStart(bucket, Number(r.b)),
        decisions: Number(r.decisions),
        compared: Number(r.compared),
        scoreSum: Number(r.score_sum),
        aiAttempted: Number(r.ai_attempted),
        aiErrors: Number(r.ai_errors),
        latencyP95Ms: histogram ? histogramPercentile(histogram, 0.95, HOURLY_GROWTH) : null,
        aiCostSum: Number(r.ai_cost),
      });
    });
  }
}

function ratio(numerator: number, denominator: number): number | null {
  if (denominator <= 0) return null;
  const value = numerator / denominator;
  return Number.isFinite(value) ? value : null;
}
