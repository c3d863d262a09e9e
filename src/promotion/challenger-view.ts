import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { Criterion } from './gate-types.js';

/**
 * Champion and challenger as the API answers them (`GET /v1/use-cases/:id/challenger`, the
 * `champion` and `challenger` of `GET /v1/use-cases/:id`): the one wire type the service returns
 * and the CLI, the report and the dashboard read.
 */

/** The AI configuration that answers: `champion` of `GET /v1/use-cases/:id` and `…/challenger`. */
export interface ChampionView {
  planVersion: number;
  aiConfig: string;
}

/** The active challenger as the API sends it (README "Champion and challenger"). */
export interface ActiveChallengerView {
  id: number;
  planVersion: number;
  aiConfig: string;
  /** What differs from the champion's AI configuration (`ai.url`, `ai.model`, `comparator`, …). */
  changes: string[];
  startedAt: string;
  startedBy: string;
  approval: 'manual' | 'automatic';
  margin: number;
  sampleRate: number;
  verdict: 'eligible' | 'inconclusive' | 'blocked';
  /** The lower stages' criteria named `<stage>.<criterion>`, then `championNonInferiority`. */
  criteria: Criterion[];
  /** Bounds on (challenger − champion agreement), paired per request; null before the first pair. */
  paired: { n: number; mean: number; lower: number; upper: number } | null;
  cohort: CohortMetrics | null;
  owedCalls: number;
}

/** A challenger that ended: promoted, discarded, replaced by another, or ended by a return to shadow. */
export interface EndedChallengerView {
  id: number;
  planVersion: number;
  aiConfig: string;
  championPlanVersion: number;
  state: string;
  startedAt: string;
  endedAt: string | null;
  endedBy: string | null;
  endReason: string | null;
}

/** `GET /v1/use-cases/:id/challenger`, and the answer of `…/challenger/promote` and `…/discard`. */
export interface ChallengerView {
  champion: ChampionView;
  challenger: ActiveChallengerView | null;
  history: EndedChallengerView[];
}
