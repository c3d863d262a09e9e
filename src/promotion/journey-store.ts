import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { journeyPoints } from '../db/schema.js';
import type { Mode } from '../plans/plan-schema.js';
import type { GateVerdict } from './gate-types.js';
import type { JourneyPoint, PreviousPoint } from './journey-points.js';
import type { TransitionRecord } from './transition-store.js';

/** The most points one journey read answers: the newest, a few stage visits' worth. */
export const MAX_JOURNEY_POINTS = 2_000;

/** A stage visit, from the transition that began it to the one that ended it. */
export interface StageVisit {
  stage: string;
  stageVersion: number;
  enteredAt: Date;
  /** Null for the visit the use case is in. */
  leftAt: Date | null;
  actor: string;
  reason: string;
  forced: boolean;
  planVersion: number;
}

/** Pure: the visits a use case's transitions (in stage-version order) describe. */
export function stageVisits(transitions: readonly TransitionRecord[]): StageVisit[] {
  return transitions.map((t, i) => ({
    stage: t.toStage,
    stageVersion: t.stageVersion,
    enteredAt: t.at,
    leftAt: transitions[i + 1]?.at ?? null,
    actor: t.actor,
    reason: t.reason,
    forced: t.forced,
    planVersion: t.planVersion,
  }));
}

/** A journey as the API answers it (`GET /v1/use-cases/:id/journey`), times as ISO strings. */
export interface JourneyView {
  useCase: string;
  now: string;
  visits: Array<Omit<StageVisit, 'enteredAt' | 'leftAt'> & { enteredAt: string; leftAt: string | null }>;
  points: Array<Omit<JourneyPoint, 'useCase' | 'at'> & { at: string }>;
  truncated: boolean;
}

/**
 * Pure: the journey's answer from the use case's transitions and its newest points (read with
 * MAX_JOURNEY_POINTS + 1, so one more than answered tells there are older ones).
 */
export function journeyView(
  useCase: string,
  transitions: readonly TransitionRecord[],
  points: readonly JourneyPoint[],
  now: Date,
): JourneyView {
  const truncated = points.length > MAX_JOURNEY_POINTS;
  return {
    useCase,
    now: now.toISOString(),
    visits: stageVisits(transitions).map((v) => ({
      ...v,
      enteredAt: v.enteredAt.toISOString(),
      leftAt: v.leftAt?.toISOString() ?? null,
    })),
    points: (truncated ? points.slice(points.length - MAX_JOURNEY_POINTS) : points).map(
      ({ useCase: _, at, ...p }) => ({ ...p, at: at.toISOString() }),
    ),
    truncated,
  };
}

/** Each visit with how long it lasted (the open one until now) and the last point a tick kept in it. */
export function visitSummaries(journey: JourneyView) {
  const last = new Map<number, JourneyView['points'][number]>();
  for (const p of journey.points) last.set(p.stageVersion, p);
  const now = Date.parse(journey.now);
  return journey.visits.map((v) => {
    const entered = Date.parse(v.enteredAt);
    const end = v.leftAt ? Date.parse(v.leftAt) : Math.max(now, entered);
    return { ...v, durationMs: end - entered, lastJudged: last.get(v.stageVersion) ?? null };
  });
}

export type VisitSummary = ReturnType<typeof visitSummaries>[number];

interface PointRow {
  use_case: string;
  stage_version: number;
  seq: number;
  at: Date | string;
  stage: string;
  plan_version: number;
  samples: number;
  agreement: number | null;
  lower_bound: number | null;
  required: number | null;
  target_stage: string | null;
  verdict: string;
  guard_samples: number | null;
  guard_agreement: number | null;
  guard_threshold: number | null;
}

/** Journey points (src/promotion/journey-points.ts): written by the tick, read by the journey route. */
export class JourneyStore {
  constructor(private readonly database: Database) {}

  /** Each use case's newest point, for the tick to tell whether the next one is worth a row. */
  async lastPoints(useCases: readonly string[]): Promise<Map<string, PreviousPoint>> {
    if (useCases.length === 0) return new Map();
    const rows = await this.database.preparedRows<{
      use_case: string;
      stage_version: number;
      seq: number;
      samples: number;
      verdict: string;
      guard_agreement: number | null;
      guard_threshold: number | null;
    }>(sql`
      select f.use_case, p.stage_version, p.seq, p.samples, p.verdict, p.guard_agreement, p.guard_threshold
      from unnest(${sql.param([...useCases])}::text[]) f(use_case)
      cross join lateral (
        select j.stage_version, j.seq, j.samples, j.verdict, j.guard_agreement, j.guard_threshold
        from journey_points j
        where j.use_case = f.use_case order by j.stage_version desc, j.seq desc limit 1) p`);
    return new Map(
      rows.map((r) => [
        r.use_case,
        {
          stageVersion: Number(r.stage_version),
          seq: Number(r.seq),
          samples: Number(r.samples),
          verdict: r.verdict as GateVerdict,
          guardAgreement: nullableNumber(r.guard_agreement),
          guardThreshold: nullableNumber(r.guard_threshold),
        },
      ]),
    );
  }

  /** One insert for the whole tick; a point another process already wrote is kept, not doubled. */
  async record(points: readonly JourneyPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.database.db
      .insert(journeyPoints)
      .values([...points])
      .onConflictDoNothing();
  }

  /** The newest `limit` points of a use case (one more than MAX_JOURNEY_POINTS at most), oldest first. */
  async read(useCase: string, limit = MAX_JOURNEY_POINTS): Promise<JourneyPoint[]> {
    const rows = await this.database.preparedRows<PointRow>(sql`
      select * from (
        select use_case, stage_version, seq, at, stage, plan_version, samples, agreement, lower_bound,
          required, target_stage, verdict, guard_samples, guard_agreement, guard_threshold
        from journey_points where use_case = ${useCase}
        order by stage_version desc, seq desc limit ${Math.min(limit, MAX_JOURNEY_POINTS + 1)}::int) x
      order by stage_version, seq`);
    return rows.map((r) => ({
      useCase: r.use_case,
      stageVersion: Number(r.stage_version),
      seq: Number(r.seq),
      at: new Date(r.at),
      stage: r.stage as Mode,
      planVersion: Number(r.plan_version),
      samples: Number(r.samples),
      agreement: nullableNumber(r.agreement),
      lowerBound: nullableNumber(r.lower_bound),
      required: nullableNumber(r.required),
      targetStage: r.target_stage,
      verdict: r.verdict as GateVerdict,
      guardSamples: nullableNumber(r.guard_samples),
      guardAgreement: nullableNumber(r.guard_agreement),
      guardThreshold: nullableNumber(r.guard_threshold),
    }));
  }
}

function nullableNumber(x: number | string | null): number | null {
  return x === null ? null : Number(x);
}
