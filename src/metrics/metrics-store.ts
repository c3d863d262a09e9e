import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { Mode } from '../plans/plan-schema.js';
import type { CohortAggregate } from './metrics-types.js';
import { OTHER_SEGMENT_VALUE, SEGMENT_VALUE_CHARS, SEGMENT_VALUES_PER_STAGE } from './segment-bounds.js';

export interface MetricsFilter {
  useCase: string;
  stage?: Mode;
  from?: Date;
  to?: Date;
  /** Only decisions whose context has this value for this field. */
  segment?: { name: string; value: string };
}

/** One cohort's aggregate as SQL answers it (the column names both cohort queries use). */
export interface CohortRow {
  stage: Mode;
  ai_config: string;
  model_version: string | null;
  decisions: number;
  compared: number;
  score_sum: number;
  ai_attempted: number;
  ai_errors: number;
  p50: number | null;
  p95: number | null;
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

const cohortKey = (stage: string, aiConfig: string, modelVersion: string | null) =>
  `${stage}\u0000${aiConfig}\u0000${modelVersion ?? ''}`;

/**
 * Aggregates decisions per cohort (stage × AI configuration × model version) in
 * SQL; the statistics on top are pure (see cohort-metrics.ts).
 */
export class MetricsStore {
  constructor(private readonly database: Database) {}

  async cohorts(filter: MetricsFilter, segments: string[], labels: boolean): Promise<CohortAggregate[]> {
    const where = whereClause(filter);
    const rows = await this.database.rows<CohortRow>(sql`
      select stage, ai_config, ai_model_version as model_version,
        count(*)::int as decisions,
        count(score)::int as compared,
        coalesce(sum(score), 0)::float8 as score_sum,
        count(*) filter (where ai_state in ('done', 'error'))::int as ai_attempted,
        count(*) filter (where ai_state = 'error')::int as ai_errors,
        percentile_cont(0.5) within group (order by ai_latency_ms) filter (where ai_state = 'done') as p50,
        percentile_cont(0.95) within group (order by ai_latency_ms) filter (where ai_state = 'done') as p95,
        coalesce(sum(ai_cost), 0)::float8 as ai_cost,
        coalesce(sum(ai_input_tokens), 0)::float8 as input_tokens,
        coalesce(sum(ai_output_tokens), 0)::float8 as output_tokens,
        count(human_decision)::int as human_decisions,
        count(*) filter (where human_decision is null)::int as pending_human,
        count(*) filter (where ai_state = 'owed')::int as pending_ai,
        count(*) filter (where ai_state = 'error' and human_decision is not null)::int as ai_failed_with_human,
        min(received_at) as first_at, max(received_at) as last_at
      from decisions where ${where}
      group by stage, ai_config, ai_model_version
      order by min(received_at)`);

    const cohorts = new Map<string, CohortAggregate>();
    for (const r of rows) cohorts.set(cohortKey(r.stage, r.ai_config, r.model_version), cohortAggregate(r));
    if (cohorts.size === 0) return [];

    if (segments.length > 0) {
      const segmentRows = await this.database.rows<{
        stage: string;
        ai_config: string;
        model_version: string | null;
        segment: string;
        value: string;
        compared: number;
        score_sum: number;
        failed: number;
      }>(sql`
        with counted as (
          select d.stage, d.ai_config, d.ai_model_version as model_version, s.name as segment,
            case when length(d.context ->> s.name) > ${SEGMENT_VALUE_CHARS} then ${OTHER_SEGMENT_VALUE}
              else coalesce(d.context ->> s.name, 'null') end as value,
            count(d.score)::int as compared, coalesce(sum(d.score), 0)::float8 as score_sum,
            count(*) filter (where d.score is null)::int as failed
          from decisions d cross join unnest(${sql.param(segments)}::text[]) as s(name)
          where ${where} and ${SCORED_OR_FAILED} and d.context ? s.name
          group by 1, 2, 3, 4, 5
        ), ranked as (
          select c.*, dense_rank() over (partition by segment order by total desc, value) as rank
          from counted c join (
            select segment, value, sum(compared + failed) as total from counted group by 1, 2
          ) t using (segment, value)
        )
        select stage, ai_config, model_version, segment,
          case when rank > ${SEGMENT_VALUES_PER_STAGE} then ${OTHER_SEGMENT_VALUE} else value end as value,
          sum(compared)::int as compared, sum(score_sum)::float8 as score_sum, sum(failed)::int as failed
        from ranked group by 1, 2, 3, 4, 5`);
      for (const r of segmentRows) {
        cohorts.get(cohortKey(r.stage, r.ai_config, r.model_version))?.segments.push({
          segment: r.segment,
          value: r.value,
          compared: Number(r.compared),
          scoreSum: Number(r.score_sum),
          failed: Number(r.failed),
        });
      }
    }

    if (labels) {
      const pairs = await this.database.rows<{
        stage: string;
        ai_config: string;
        model_version: string | null;
        human: string;
        ai: string;
        count: number;
      }>(sql`
        select stage, ai_config, ai_model_version as model_version,
          human_decision #>> '{}' as human, ai_decision #>> '{}' as ai, count(*)::int as count
        from decisions d where ${where} and score is not null
        group by 1, 2, 3, 4, 5`);
      for (const r of pairs) {
        cohorts
          .get(cohortKey(r.stage, r.ai_config, r.model_version))
          ?.confusion.push({ human: r.human, ai: r.ai, count: Number(r.count) });
      }
      const failures = await this.database.rows<{
        stage: string;
        ai_config: string;
        model_version: string | null;
        human: string;
        count: number;
      }>(sql`
        select stage, ai_config, ai_model_version as model_version, human_decision #>> '{}' as human,
          count(*)::int as count
        from decisions d where ${where} and ai_state = 'error' and jsonb_typeof(human_decision) = 'string'
        group by 1, 2, 3, 4`);
      for (const r of failures) {
        cohorts
          .get(cohortKey(r.stage, r.ai_config, r.model_version))
          ?.labelFailures.push({ human: r.human, count: Number(r.count) });
      }
    }
    return [...cohorts.values()];
  }
}

/** A cohort row as the pure metrics computation takes it, without its segments and confusion yet. */
export function cohortAggregate(r: CohortRow): CohortAggregate {
  return {
    stage: r.stage,
    aiConfig: r.ai_config,
    modelVersion: r.model_version,
    decisions: Number(r.decisions),
    compared: Number(r.compared),
    scoreSum: Number(r.score_sum),
    aiAttempted: Number(r.ai_attempted),
    aiErrors: Number(r.ai_errors),
    latencyP50Ms: r.p50 === null ? null : Number(r.p50),
    latencyP95Ms: r.p95 === null ? null : Number(r.p95),
    aiCostSum: Number(r.ai_cost),
    inputTokensSum: Number(r.input_tokens),
    outputTokensSum: Number(r.output_tokens),
    humanDecisions: Number(r.human_decisions),
    pendingHuman: Number(r.pending_human),
    pendingAi: Number(r.pending_ai),
    aiFailedWithHuman: Number(r.ai_failed_with_human ?? 0),
    firstDecisionAt: toDate(r.first_at),
    lastDecisionAt: toDate(r.last_at),
    confusion: [],
    segments: [],
    labelFailures: [],
  };
}

/** A decision counted per segment value: compared, or its AI call failed for good on a human decision. */
const SCORED_OR_FAILED = sql`(d.score is not null or (d.ai_state = 'error' and d.human_decision is not null))`;

function whereClause(filter: MetricsFilter): SQL {
  const parts: SQL[] = [sql`use_case = ${filter.useCase}`];
  if (filter.stage) parts.push(sql`stage = ${filter.stage}`);
  if (filter.from) parts.push(sql`received_at >= ${filter.from.toISOString()}::timestamptz`);
  if (filter.to) parts.push(sql`received_at < ${filter.to.toISOString()}::timestamptz`);
  if (filter.segment) parts.push(sql`context ->> ${filter.segment.name} = ${filter.segment.value}`);
  return sql.join(parts, sql` and `);
}

function toDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}
