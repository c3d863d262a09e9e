import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { Mode } from '../plans/plan-schema.js';
import type { GateAssessment, GateVerdict } from './gate-types.js';
import type { GuardWindow } from './guards.js';

/**
 * One point of "agreement over the journey": what the tick judged a use case on, at the
 * controller's time (the clock the transitions are recorded on). In a gated stage, the cohort's
 * agreement and the gate's sequential lower bound against its threshold; in any guarded stage, the
 * guard window's agreement against `agreementBelow`.
 */
export interface JourneyPoint {
  useCase: string;
  stageVersion: number;
  /** 1, 2, … within the stage visit. */
  seq: number;
  at: Date;
  stage: Mode;
  planVersion: number;
  /** Compared decisions of the cohort the gate counts. */
  samples: number;
  agreement: number | null;
  /** The gate's agreement lower bound (sequential, README "Gates and guards"), else the cohort's. */
  lowerBound: number | null;
  /** The gate's `agreementLowerBound` threshold; null when the gate asks none (or there is no gate). */
  required: number | null;
  targetStage: string | null;
  verdict: GateVerdict;
  /** The guard window's compared decisions and agreement, and the guard's `agreementBelow`. */
  guardSamples: number | null;
  guardAgreement: number | null;
  guardThreshold: number | null;
}

/** What a visit's previous point needs to tell whether the next one is worth a row. */
export type PreviousPoint = Pick<
  JourneyPoint,
  'stageVersion' | 'seq' | 'samples' | 'verdict' | 'guardAgreement' | 'guardThreshold'
>;

/**
 * Points a stage visit keeps at most. With the growth rule below a visit of 100M compared
 * decisions takes about 300 points; the cap bounds what a verdict flapping on the line can add.
 */
export const MAX_POINTS_PER_VISIT = 500;
/** A new point once the cohort grew by this many compared decisions… */
export const MIN_STEP = 20;
/** …or by this share of what it held, whichever is more: points thin out as evidence grows. */
export const GROWTH = 0.05;

/**
 * The tick's point for one use case, from what it judged: the gate (pure, gate-evaluator.ts), the
 * cohort the gate counted and, when the stage has a guard, its trailing window.
 */
export function journeyPoint(input: {
  useCase: string;
  stageVersion: number;
  planVersion: number;
  stage: Mode;
  at: Date;
  cohort: CohortMetrics | null;
  gate: GateAssessment;
  window: GuardWindow | null;
  agreementBelow: number | null;
}): Omit<JourneyPoint, 'seq'> {
  const criterion = input.gate.criteria.find((c) => c.name === 'agreementLowerBound');
  const required = typeof criterion?.required === 'number' ? criterion.required : null;
  const bound = typeof criterion?.actual === 'number' ? criterion.actual : null;
  const { window } = input;
  return {
    useCase: input.useCase,
    stageVersion: input.stageVersion,
    at: input.at,
    stage: input.stage,
    planVersion: input.planVersion,
    samples: input.cohort?.samples ?? 0,
    agreement: finite(input.cohort?.agreement),
    lowerBound: finite(criterion ? bound : input.cohort?.agreementLowerBound),
    required,
    targetStage: input.gate.targetStage,
    verdict: input.gate.verdict,
    guardSamples: window && input.agreementBelow !== null ? window.compared : null,
    guardAgreement:
      window && input.agreementBelow !== null && window.compared > 0
        ? finite(window.scoreSum / window.compared)
        : null,
    guardThreshold: window ? input.agreementBelow : null,
  };
}

/**
 * The point's place in its visit, or null when it adds nothing worth a row: the first point of a
 * visit is always kept; then one when the gate's verdict turned, the guard window crossed its
 * threshold either way (so the tick a guard trips on is on the chart), or the cohort grew by
 * max(MIN_STEP, GROWTH × samples); at most MAX_POINTS_PER_VISIT per visit.
 */
export function nextSeq(
  previous: PreviousPoint | undefined,
  point: Omit<JourneyPoint, 'seq'>,
): number | null {
  if (!previous || previous.stageVersion !== point.stageVersion) return 1;
  if (previous.seq >= MAX_POINTS_PER_VISIT) return null;
  const step = Math.max(MIN_STEP, Math.ceil(GROWTH * previous.samples));
  const grew = point.samples >= previous.samples + step;
  const turned = point.verdict !== previous.verdict || underGuard(point) !== underGuard(previous);
  return grew || turned ? previous.seq + 1 : null;
}

/** Whether the guard window's agreement is under the guard's threshold. */
function underGuard(p: Pick<JourneyPoint, 'guardAgreement' | 'guardThreshold'>): boolean {
  return p.guardAgreement !== null && p.guardThreshold !== null && p.guardAgreement < p.guardThreshold;
}

function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
