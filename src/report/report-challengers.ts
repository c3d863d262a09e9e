import type { Criterion } from '../promotion/gate-types.js';
import type { ChallengerView } from '../promotion/challenger-view.js';
import type {
  ChallengerPromotion,
  ChallengerSection,
  EndedChallengerEntry,
  GateCriterionEntry,
} from './report-types.js';

/**
 * The champion and challenger section (README "Champion and challenger"): what
 * `ChallengerService.view` answers (the same as `GET /v1/use-cases/:id/challenger`), and for each
 * promoted challenger the evidence its `challenger.promoted` audit event recorded. Audit details
 * are stored JSON, so they are read defensively.
 */
export type ChallengerViewInput = ChallengerView;

/** A `challenger.promoted` audit event. */
export interface PromotionEvent {
  at: Date;
  actor: string;
  details: unknown;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function challengerSection(
  view: ChallengerViewInput,
  promotions: readonly PromotionEvent[],
  earnedModelVersion: string | null,
): ChallengerSection {
  const active = view.challenger;
  return {
    champion: {
      planVersion: view.champion.planVersion,
      aiConfig: view.champion.aiConfig,
      earnedModelVersion,
    },
    active: active && {
      id: active.id,
      planVersion: active.planVersion,
      aiConfig: active.aiConfig,
      changes: [...active.changes],
      startedAt: active.startedAt,
      startedBy: active.startedBy,
      approval: active.approval,
      margin: active.margin,
      sampleRate: active.sampleRate,
      verdict: active.verdict,
      criteria: active.criteria.map(criterionEntry),
      paired: active.paired && {
        n: active.paired.n,
        mean: active.paired.mean,
        lower: active.paired.lower,
        upper: active.paired.upper,
        required: -active.margin,
      },
      cohort: active.cohort && {
        modelVersion: active.cohort.modelVersion,
        decisions: active.cohort.decisions,
        samples: active.cohort.samples,
        agreement: active.cohort.agreement,
        agreementLowerBound: active.cohort.agreementLowerBound,
        aiCalls: active.cohort.aiCalls,
        aiErrors: active.cohort.aiErrors,
        aiErrorRate: active.cohort.aiErrorRate,
        latencyP50Ms: active.cohort.latencyP50Ms,
        latencyP95Ms: active.cohort.latencyP95Ms,
        aiCostPerDecision: active.cohort.aiCostPerDecision,
      },
      owedCalls: active.owedCalls,
    },
    history: view.history.map(
      (h): EndedChallengerEntry => ({
        id: h.id,
        state: h.state,
        planVersion: h.planVersion,
        aiConfig: h.aiConfig,
        championPlanVersion: h.championPlanVersion,
        startedAt: h.startedAt,
        endedAt: h.endedAt,
        endedBy: h.endedBy,
        endReason: h.endReason,
        promotion: h.state === 'promoted' ? promotionOf(h.id, promotions) : null,
      }),
    ),
  };
}

/** No challenger was read (a report built without them): the champion is what the detail names. */
export function noChallengers(detail: {
  planVersion: number;
  aiConfig: string;
  earnedModelVersion: string | null;
}): ChallengerSection {
  return {
    champion: {
      planVersion: detail.planVersion,
      aiConfig: detail.aiConfig,
      earnedModelVersion: detail.earnedModelVersion,
    },
    active: null,
    history: [],
  };
}

function criterionEntry(c: Criterion): GateCriterionEntry {
  return {
    name: c.name,
    required: c.required,
    actual: c.actual,
    status: c.status,
    detail: c.detail ?? null,
    observed: c.observed ?? null,
    samples: c.samples ?? null,
  };
}

/** The swap of challenger `id` as its audit event recorded it; null when the event is not found. */
function promotionOf(id: number, events: readonly PromotionEvent[]): ChallengerPromotion | null {
  const event = events.find((e) => num(obj(e.details)?.challenger) === id);
  if (!event) return null;
  const d = obj(event.details) ?? {};
  const paired = obj(d.paired);
  const n = num(paired?.n);
  const mean = num(paired?.mean);
  const lower = num(paired?.lower);
  const upper = num(paired?.upper);
  const criteria: unknown[] = Array.isArray(d.criteria) ? d.criteria : [];
  return {
    at: event.at.toISOString(),
    actor: event.actor,
    verdict: str(d.verdict),
    forced: d.forced === true,
    paired:
      n !== null && mean !== null && lower !== null && upper !== null ? { n, mean, lower, upper } : null,
    notHolding: criteria
      .map(obj)
      .filter((c) => c !== null && c.holds !== true && str(c.name) !== null)
      .map((c) => ({ name: str(c!.name)!, status: str(c!.status) ?? 'not holding' })),
  };
}
