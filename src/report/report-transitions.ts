import type { TransitionRecord } from '../promotion/transition-store.js';
import type { CriterionStatus } from '../promotion/gate-types.js';
import type { GuardTrip, TransitionEntry, TransitionEvidence } from './report-types.js';

/**
 * Transitions and guard trips as the report shows them. Snapshots and audit details are
 * stored JSON written by earlier versions too, so every field is read defensively.
 */

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** `stage.<kind>` audit events name the kind of each transition by its stage version. */
export function transitionKinds(
  events: ReadonlyArray<{ action: string; details: unknown }>,
): Map<number, string> {
  const kinds = new Map<number, string>();
  for (const e of events) {
    const version = num(obj(e.details)?.stageVersion);
    if (version !== null && e.action.startsWith('stage.'))
      kinds.set(version, e.action.slice('stage.'.length));
  }
  return kinds;
}

export function transitionEntries(
  transitions: readonly TransitionRecord[],
  kinds: ReadonlyMap<number, string>,
): TransitionEntry[] {
  return transitions.map((t) => ({
    at: t.at.toISOString(),
    from: t.fromStage,
    to: t.toStage,
    kind: t.fromStage === null ? 'create' : (kinds.get(t.stageVersion) ?? null),
    actor: t.actor,
    reason: t.reason,
    forced: t.forced,
    planVersion: t.planVersion,
    modelVersion: t.modelVersion,
    stageVersion: t.stageVersion,
    approvedBy: t.approvedBy?.length ? [...t.approvedBy] : null,
    evidence: snapshotEvidence(t.snapshot),
  }));
}

/** The gate verdict and key figures a transition's snapshot held; null when it held none. */
export function snapshotEvidence(snapshot: unknown): TransitionEvidence | null {
  const s = obj(snapshot);
  const gate = obj(s?.gate);
  const metrics = obj(s?.metrics);
  const guard = obj(s?.guard);
  if (!gate && !metrics && !guard) return null;
  const stored: unknown[] = Array.isArray(gate?.criteria) ? gate.criteria : [];
  const criteria = stored.map(obj).filter((c) => c !== null);
  return {
    verdict: str(gate?.verdict),
    targetStage: str(gate?.targetStage),
    samples: num(metrics?.samples),
    agreement: num(metrics?.agreement),
    agreementLowerBound: num(metrics?.agreementLowerBound),
    aiErrorRate: num(metrics?.aiErrorRate),
    latencyP95Ms: num(metrics?.latencyP95Ms),
    aiCostPerDecision: num(metrics?.aiCostPerDecision),
    modelVersion: str(metrics?.modelVersion),
    notHolding: criteria.flatMap((c) => {
      const status = storedStatus(c);
      if (status === 'holds') return [];
      return [{ name: String(c.name), required: figure(c.required) ?? '', actual: figure(c.actual), status }];
    }),
    guard: guard ? guardChecks(guard.checks) : null,
  };
}

/**
 * A stored criterion's status. Snapshots written before `status` existed carry `holds` and, when
 * more evidence could still change a criterion that does not hold, `inconclusive: true`.
 */
export function storedStatus(c: Json): CriterionStatus {
  if (c.status === 'holds' || c.status === 'inconclusive' || c.status === 'blocked') return c.status;
  if (c.holds === true) return 'holds';
  return c.inconclusive === true ? 'inconclusive' : 'blocked';
}

const figure = (v: unknown): number | string | null => num(v) ?? str(v);

/** A `guard.tripped` audit event: `{stageVersion, verdict: GuardVerdict}`. */
export function guardTrip(event: { at: Date; details: unknown }): GuardTrip {
  const verdict = obj(obj(event.details)?.verdict);
  return {
    at: event.at.toISOString(),
    stage: str(verdict?.stage),
    action: str(verdict?.action),
    checks: guardChecks(verdict?.checks),
  };
}

function guardChecks(value: unknown): GuardTrip['checks'] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((c) => {
    const check = obj(c);
    const name = str(check?.name);
    const threshold = num(check?.threshold);
    if (!check || name === null || threshold === null) return [];
    return [
      {
        name,
        threshold,
        actual: num(check.actual),
        samples: num(check.samples) ?? 0,
        trips: check.trips === true,
      },
    ];
  });
}
