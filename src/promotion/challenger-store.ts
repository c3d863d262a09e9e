import { and, eq, sql } from 'drizzle-orm';
import { localComparator } from '../comparison/comparators.js';
import { cancelOwedCalls } from '../db/challenger-call-cancel.js';
import { DECISION_OF_CHALLENGER_CALL } from '../db/decision-month.js';
import type { Database } from '../db/database.js';
import { auditEvents, challengerCalls, challengers, useCases } from '../db/schema.js';
import { type CohortRow, cohortAggregate } from '../metrics/metrics-store.js';
import type { CohortAggregate } from '../metrics/metrics-types.js';
import type { Plan } from '../plans/plan-schema.js';
import {
  addPairedDifference,
  emptyPairedDifference,
  type PairedDifferenceState,
} from '../statistics/paired-difference.js';

/** Pairs and scores folded per challenger per tick; the rest wait for the next tick. */
const FOLD_BATCH = 5_000;

export interface ChallengerRecord {
  id: number;
  useCase: string;
  planVersion: number;
  aiConfig: string;
  championPlanVersion: number;
  championAiConfig: string;
  state: string;
  startedAt: Date;
  startedBy: string;
  endedAt: Date | null;
  endedBy: string | null;
  endReason: string | null;
  paired: PairedDifferenceState | null;
  eligibleNotifiedAt: Date | null;
}

/**
 * The tick's side of challengers (README "Champion and challenger"): scores the challenger's answers
 * whose human side arrived after them, folds each pair (the challenger's and the champion's score on
 * the same request) into the challenger's paired confidence sequence exactly once, and aggregates
 * its cohort. Swaps and discards are recorded here too.
 */
export class ChallengerStore {
  constructor(private readonly database: Database) {}

  async active(useCase: string): Promise<ChallengerRecord | null> {
    const [row] = await this.database.db
      .select()
      .from(challengers)
      .where(and(eq(challengers.useCase, useCase), eq(challengers.state, 'active')));
    return (row as ChallengerRecord | undefined) ?? null;
  }

  /** Every challenger the use case had, newest first (the history). */
  async history(useCase: string, limit = 50): Promise<ChallengerRecord[]> {
    const rows = await this.database.db
      .select()
      .from(challengers)
      .where(eq(challengers.useCase, useCase))
      .orderBy(sql`${challengers.id} desc`)
      .limit(limit);
    return rows as ChallengerRecord[];
  }

  /** Scores answers that were made before their human side arrived, with the challenger plan's comparator. */
  async scoreLate(challengerId: number, plan: Plan): Promise<number> {
    const rows = await this.database.rows<{ id: number; human: unknown; ai: unknown }>(sql`
      select cc.id, d.human_decision as human, cc.decision as ai
      from challenger_calls cc join decisions d on ${sql.raw(DECISION_OF_CHALLENGER_CALL)}
      where cc.challenger_id = ${challengerId} and cc.state = 'done' and cc.score is null
        and d.human_decision is not null
      order by cc.id limit ${FOLD_BATCH}`);
    const compare = localComparator(plan.comparator);
    if (rows.length === 0 || compare === null) return 0;
    const scores = rows.map((r) => compare(r.human, r.ai));
    await this.database.rows(sql`
      update challenger_calls cc set score = s.score
      from unnest(${`{${rows.map((r) => Number(r.id)).join(',')}}`}::bigint[], ${`{${scores.join(',')}}`}::float8[]) as s(id, score)
      where cc.id = s.id and cc.score is null`);
    return rows.length;
  }

  /**
   * Folds the pairs not yet folded, in call id order, each once: the challenger's row is locked
   * for the fold, so two controllers never fold the same pair twice. A request whose champion call
   * failed has no pair and is set aside.
   */
  async foldPairs(challengerId: number, alpha: number): Promise<PairedDifferenceState | null> {
    return this.database.db.transaction(async (tx) => {
      const [held] = await tx
        .select({ paired: challengers.paired, state: challengers.state })
        .from(challengers)
        .where(eq(challengers.id, challengerId))
        .for('update');
      if (held?.state !== 'active') return null;
      const state = (held.paired as PairedDifferenceState | null) ?? emptyPairedDifference(alpha);
      const rows = (await tx.execute(sql`
        select cc.id, cc.score as challenger, d.score as champion, d.ai_state
        from challenger_calls cc join decisions d on ${sql.raw(DECISION_OF_CHALLENGER_CALL)}
        where cc.challenger_id = ${challengerId} and cc.score is not null and not cc.paired
          and (d.score is not null or d.ai_state = 'error')
        order by cc.id limit ${FOLD_BATCH}`)) as unknown as Array<{
        id: number;
        challenger: number;
        champion: number | null;
      }>;
      const list = Array.isArray(rows) ? rows : ((rows as { rows: typeof rows }).rows ?? []);
      if (list.length === 0) return state;
      for (const r of list) {
        if (r.champion === null) continue;
        addPairedDifference(state, Number(r.challenger) - Number(r.champion));
      }
      await tx.execute(sql`
        update challenger_calls set paired = true
        where id = any(${`{${list.map((r) => Number(r.id)).join(',')}}`}::bigint[])`);
      await tx.update(challengers).set({ paired: state }).where(eq(challengers.id, challengerId));
      return state;
    });
  }

  /** The challenger's cohort since it started, as the gates read a cohort (metrics-types.ts). */
  async cohort(challenger: { id: number; aiConfig: string }, segments: string[], labels: boolean) {
    const [row] = await this.database.rows<CohortRow>(sql`
      select 'human-reviewed' as stage, ${challenger.aiConfig}::text as ai_config,
        (array_agg(cc.model_version order by cc.ai_at desc) filter (where cc.model_version is not null))[1] as model_version,
        count(*)::int as decisions, count(cc.score)::int as compared,
        coalesce(sum(cc.score), 0)::float8 as score_sum,
        count(*) filter (where cc.state in ('done', 'error'))::int as ai_attempted,
        count(*) filter (where cc.state = 'error')::int as ai_errors,
        percentile_cont(0.5) within group (order by cc.latency_ms) filter (where cc.state = 'done') as p50,
        percentile_cont(0.95) within group (order by cc.latency_ms) filter (where cc.state = 'done') as p95,
        coalesce(sum(cc.cost), 0)::float8 as ai_cost,
        coalesce(sum(cc.input_tokens), 0)::float8 as input_tokens,
        coalesce(sum(cc.output_tokens), 0)::float8 as output_tokens,
        count(d.human_decision)::int as human_decisions,
        count(*) filter (where d.human_decision is null)::int as pending_human,
        count(*) filter (where cc.state = 'owed')::int as pending_ai,
        count(*) filter (where cc.state = 'error' and d.human_decision is not null)::int as ai_failed_with_human,
        min(cc.received_at) as first_at, max(cc.received_at) as last_at
      from challenger_calls cc join decisions d on ${sql.raw(DECISION_OF_CHALLENGER_CALL)}
      where cc.challenger_id = ${challenger.id} and cc.state <> 'cancelled'`);
    if (!row || Number(row.decisions) === 0) return null;
    const aggregate: CohortAggregate = cohortAggregate(row);
    if (segments.length > 0) {
      const rows = await this.database.rows<{
        segment: string;
        value: string | null;
        compared: number;
        score_sum: number;
        failed: number;
      }>(sql`
        select s.name as segment, d.context ->> s.name as value, count(cc.score)::int as compared,
          coalesce(sum(cc.score), 0)::float8 as score_sum, count(*) filter (where cc.score is null)::int as failed
        from challenger_calls cc join decisions d on ${sql.raw(DECISION_OF_CHALLENGER_CALL)}
        cross join unnest(${sql.param(segments)}::text[]) as s(name)
        where cc.challenger_id = ${challenger.id} and d.context ? s.name
          and (cc.score is not null or (cc.state = 'error' and d.human_decision is not null))
        group by 1, 2`);
      aggregate.segments = rows.map((r) => ({
        segment: r.segment,
        value: r.value ?? 'null',
        compared: Number(r.compared),
        scoreSum: Number(r.score_sum),
        failed: Number(r.failed),
      }));
    }
    if (labels) {
      const rows = await this.database.rows<{ human: string; ai: string; count: number }>(sql`
        select d.human_decision #>> '{}' as human, cc.decision #>> '{}' as ai, count(*)::int as count
        from challenger_calls cc join decisions d on ${sql.raw(DECISION_OF_CHALLENGER_CALL)}
        where cc.challenger_id = ${challenger.id} and cc.score is not null
        group by 1, 2`);
      aggregate.confusion = rows.map((r) => ({ human: r.human, ai: r.ai, count: Number(r.count) }));
      const failures = await this.database.rows<{ human: string; count: number }>(sql`
        select d.human_decision #>> '{}' as human, count(*)::int as count
        from challenger_calls cc join decisions d on ${sql.raw(DECISION_OF_CHALLENGER_CALL)}
        where cc.challenger_id = ${challenger.id} and cc.state = 'error' and jsonb_typeof(d.human_decision) = 'string'
        group by 1`);
      aggregate.labelFailures = failures.map((r) => ({ human: r.human, count: Number(r.count) }));
    }
    return aggregate;
  }

  /**
   * Ends the active challenger `id` (state promoted, discarded, replaced or ended) once: false when
   * it is no longer the active one (another controller or request ended it first). A promotion
   * makes the model version it answered with the one the stage was earned with.
   */
  async end(input: {
    id: number;
    useCase: string;
    state: 'promoted' | 'discarded' | 'ended';
    actor: string;
    reason: string;
    audit: { action: string; details: Record<string, unknown> };
    earnedModelVersion?: string | null;
    at: Date;
  }): Promise<boolean> {
    return this.database.db.transaction(async (tx) => {
      const ended = await tx
        .update(challengers)
        .set({ state: input.state, endedAt: input.at, endedBy: input.actor, endReason: input.reason })
        .where(and(eq(challengers.id, input.id), eq(challengers.state, 'active')))
        .returning({ id: challengers.id });
      if (ended.length === 0) return false;
      await tx.execute(cancelOwedCalls(input.id));
      if (input.state === 'promoted') {
        await tx
          .update(useCases)
          .set({ earnedModelVersion: input.earnedModelVersion ?? null, updatedAt: input.at })
          .where(eq(useCases.id, input.useCase));
      }
      await tx.insert(auditEvents).values({
        actor: input.actor,
        action: input.audit.action,
        useCase: input.useCase,
        details: input.audit.details,
        at: input.at,
      });
      return true;
    });
  }

  /** Records that `challenger.eligible` was told for this challenger; false when it already was. */
  async markEligibleNotified(id: number, at: Date): Promise<boolean> {
    const rows = await this.database.db
      .update(challengers)
      .set({ eligibleNotifiedAt: at })
      .where(and(eq(challengers.id, id), sql`${challengers.eligibleNotifiedAt} is null`))
      .returning({ id: challengers.id });
    return rows.length > 0;
  }

  /** Calls still owed to a challenger: what a restart or a lost queue must not lose. */
  async owedCount(challengerId: number): Promise<number> {
    const [row] = await this.database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(challengerCalls)
      .where(and(eq(challengerCalls.challengerId, challengerId), eq(challengerCalls.state, 'owed')));
    return Number(row?.n ?? 0);
  }
}
