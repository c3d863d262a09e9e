import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';

/** A use case's current stage visit, whose rollups a token stands for. */
export interface StageVisit {
  useCase: string;
  stageVersion: number;
}

/**
 * Per use case, a token that changes whenever anything read from its stage version's rollups or
 * decisions may have changed: every `cohort_rollups` row of the stage version with its `xmin`. The
 * rollup triggers rewrite a cohort row of the decision's (use case, stage version) for every
 * decision inserted, deleted or updated in a column any rollup counts (the cohort upsert runs for
 * every such row, before the segment, confusion, latency and label-failure upserts of the same
 * statement), and a rewritten row has the writing transaction's id. So what was read after a token
 * can be reused while the token is unchanged; read the token before what it guards, so that a
 * change committed between the two is in the read or moves the next token, never neither. The
 * token is PostgreSQL's, so processes agree on it. One statement for all the visits.
 */
export async function movementTokens(
  database: Database,
  visits: readonly StageVisit[],
): Promise<Map<string, string>> {
  if (visits.length === 0) return new Map();
  const rows = await database.preparedRows<{ use_case: string; token: string | null }>(sql`
    select f.use_case, t.token from unnest(${sql.param(visits.map((v) => v.useCase))}::text[],
      ${sql.param(visits.map((v) => v.stageVersion))}::int[]) f(use_case, stage_version)
    cross join lateral (
      select md5(string_agg(concat_ws('/', r.stage, r.ai_config, r.model_version, r.stripe, r.xmin::text), ','
        order by r.stage, r.ai_config, r.model_version, r.stripe)) as token
      from cohort_rollups r where r.use_case = f.use_case and r.stage_version = f.stage_version) t`);
  return new Map(rows.map((r) => [r.use_case, r.token ?? '']));
}
