import type { Plan } from '../plans/plan-schema.js';
import {
  type BucketScheme,
  CONFIDENCE_BUCKETS,
  type CategoryDrift,
  categoricalDrift,
  checkBucketScheme,
  driftVerdict,
  LATENCY_MS_BUCKETS,
  numericDrift,
} from '../statistics/drift.js';
import { type DriftCells, type DriftKind, type DriftWindow, emptyCells, fieldCounts } from './drift-store.js';

/**
 * What `GET /v1/use-cases/:id/drift` shows and the drift guards judge: per field, the reference
 * against the current window (src/statistics/drift.ts), the override and escalation rates, and
 * each guard's status. A pure function of the plan and two windows of counts.
 */

/** A numeric context field's buckets when the plan declares none: a 1-2-5 series from 0 to 10^9. */
export const DEFAULT_NUMERIC_BUCKETS: BucketScheme = checkBucketScheme({
  bounds: [0, ...Array.from({ length: 27 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3)), 1e9],
});

/** The values of `decisions.route` that sent the request to a person. */
export const ESCALATION_REASONS = ['boundary', 'confidence', 'model', 'ai-failure', 'audit'] as const;

export interface DriftValue {
  value: string;
  reference: number;
  current: number;
  referenceShare: number;
  currentShare: number;
  psi: number;
}

export interface FieldDriftView {
  field: string;
  kind: DriftKind;
  type: 'categorical' | 'numeric';
  referenceTotal: number;
  currentTotal: number;
  psi: number | null;
  jsDistance: number | null;
  unseenShare: number | null;
  ks: number | null;
  wasserstein: number | null;
  normalisedWasserstein: number | null;
  /** Categories (largest PSI contribution first) or buckets (in order, `value` their range). */
  values: DriftValue[];
}

export interface RateView {
  /** Of `samples` observations in the current window, the share; null without any. */
  current: number | null;
  samples: number;
  reference: number | null;
  referenceSamples: number;
  /** Escalations only: the share of the window sent to a person for each reason. */
  byReason?: Record<string, number>;
}

export interface DriftGuardView {
  stage: string;
  guard: 'driftAbove' | 'overrideRateAbove' | 'escalationRateAbove';
  threshold: number;
  /** `insufficient` until the window holds `drift.minWindow` observations (and a reference, for PSI). */
  status: 'stable' | 'drifted' | 'insufficient';
  /** The largest PSI among the named fields, or the rate. */
  actual: number | null;
  /** driftAbove: the fields above `psi` (a full window). */
  drifted?: string[];
}

export interface DriftView {
  fields: FieldDriftView[];
  overrideRate: RateView;
  escalationRate: RateView;
  guards: DriftGuardView[];
}

/** The fields the plan measures, with their kind and (numeric) bucket scheme. */
export function measuredFields(
  plan: Plan,
): Array<{ field: string; kind: DriftKind; scheme: BucketScheme | null }> {
  const out: Array<{ field: string; kind: DriftKind; scheme: BucketScheme | null }> = plan.segments.map(
    (field) => ({ field, kind: 'segment', scheme: null }),
  );
  if (plan.decision.type === 'label') {
    out.push({ field: 'humanLabel', kind: 'built-in', scheme: null });
    out.push({ field: 'aiLabel', kind: 'built-in', scheme: null });
  }
  out.push({ field: 'aiConfidence', kind: 'built-in', scheme: CONFIDENCE_BUCKETS });
  out.push({ field: 'aiLatency', kind: 'built-in', scheme: LATENCY_MS_BUCKETS });
  for (const field of plan.drift.numeric) {
    const bounds = plan.drift.buckets?.[field];
    out.push({ field, kind: 'numeric', scheme: bounds ? { bounds } : DEFAULT_NUMERIC_BUCKETS });
  }
  return out;
}

/** Counts per bucket from the cells' bucket indexes (an index outside the scheme clamps into it). */
function histogram(scheme: BucketScheme, counts: Record<string, number>): number[] {
  const out = new Array<number>(scheme.bounds.length - 1).fill(0);
  for (const [value, n] of Object.entries(counts)) {
    const i = Number(value);
    if (!Number.isInteger(i)) continue;
    out[Math.min(out.length - 1, Math.max(0, i))]! += n;
  }
  return out;
}

function fieldView(
  field: string,
  kind: DriftKind,
  scheme: BucketScheme | null,
  reference: DriftCells,
  current: DriftCells,
): FieldDriftView {
  const ref = fieldCounts(reference, kind, field);
  const cur = fieldCounts(current, kind, field);
  if (scheme === null) {
    const d = categoricalDrift(ref, cur);
    return {
      field,
      kind,
      type: 'categorical',
      referenceTotal: d.referenceTotal,
      currentTotal: d.currentTotal,
      psi: d.psi,
      jsDistance: d.jsDistance,
      unseenShare: d.currentTotal > 0 ? d.unseenShare : null,
      ks: null,
      wasserstein: null,
      normalisedWasserstein: null,
      values: d.categories.map((c: CategoryDrift) => ({ ...c })),
    };
  }
  const r = histogram(scheme, ref);
  const c = histogram(scheme, cur);
  // numericDrift gives KS and Wasserstein; PSI and shares per bucket come from the same counts.
  const d = numericOf(scheme, r, c);
  return { field, kind, type: 'numeric', ...d };
}

function numericOf(scheme: BucketScheme, r: number[], c: number[]) {
  const d = numericDrift(scheme, r, c);
  const { bounds } = scheme;
  const values: DriftValue[] = [];
  const k = r.filter((n, i) => n > 0 || c[i]! > 0).length;
  for (let i = 0; i < r.length; i++) {
    if (r[i] === 0 && c[i] === 0) continue;
    const referenceShare = d.referenceTotal > 0 ? r[i]! / d.referenceTotal : 0;
    const currentShare = d.currentTotal > 0 ? c[i]! / d.currentTotal : 0;
    let psi = 0;
    if (d.referenceTotal > 0 && d.currentTotal > 0) {
      const p = (r[i]! + 0.5) / (d.referenceTotal + k / 2);
      const q = (c[i]! + 0.5) / (d.currentTotal + k / 2);
      psi = (q - p) * Math.log(q / p);
    }
    values.push({
      value: `[${bounds[i]}, ${bounds[i + 1]})`,
      reference: r[i]!,
      current: c[i]!,
      referenceShare,
      currentShare,
      psi,
    });
  }
  return {
    referenceTotal: d.referenceTotal,
    currentTotal: d.currentTotal,
    psi: d.psi,
    jsDistance: null,
    unseenShare: null,
    ks: d.ks,
    wasserstein: d.wasserstein,
    normalisedWasserstein: d.normalisedWasserstein,
    values,
  };
}

function overrideRate(cells: DriftCells): { rate: number | null; samples: number } {
  const o = fieldCounts(cells, 'built-in', 'override');
  const changed = o.changed ?? 0;
  const samples = changed + (o.kept ?? 0);
  return { rate: samples > 0 ? changed / samples : null, samples };
}

function escalationRate(cells: DriftCells): {
  rate: number | null;
  samples: number;
  byReason: Record<string, number>;
} {
  const routes = fieldCounts(cells, 'built-in', 'route');
  let samples = 0;
  for (const n of Object.values(routes)) samples += n;
  const byReason: Record<string, number> = {};
  let escalated = 0;
  for (const reason of ESCALATION_REASONS) {
    const n = routes[reason] ?? 0;
    escalated += n;
    byReason[reason] = samples > 0 ? n / samples : 0;
  }
  return { rate: samples > 0 ? escalated / samples : null, samples, byReason };
}

/** The drift of a use case's current window against its reference, and what each guard would do. */
export function driftView(
  plan: Plan,
  stage: string,
  reference: DriftWindow | null,
  current: DriftWindow,
): DriftView {
  const ref = reference?.cells ?? emptyCells();
  const fields = measuredFields(plan).map(({ field, kind, scheme }) =>
    fieldView(field, kind, scheme, ref, current.cells),
  );
  const o = overrideRate(current.cells);
  const oRef = overrideRate(ref);
  const e = escalationRate(current.cells);
  const eRef = escalationRate(ref);
  const view: DriftView = {
    fields,
    overrideRate: {
      current: o.rate,
      samples: o.samples,
      reference: oRef.rate,
      referenceSamples: oRef.samples,
    },
    escalationRate: {
      current: e.rate,
      samples: e.samples,
      reference: eRef.rate,
      referenceSamples: eRef.samples,
      byReason: e.byReason,
    },
    guards: [],
  };
  const guard = stage in plan.stages ? plan.stages[stage as keyof Plan['stages']]?.rollbackWhen : undefined;
  if (!guard) return view;
  const min = plan.drift.minWindow;
  if (guard.driftAbove) {
    const { psi, fields: named } = guard.driftAbove;
    const verdicts = named.map((name) => {
      const f = fields.find((x) => x.field === name);
      const v = f
        ? driftVerdict(f, { psi }, min)
        : { status: 'insufficient' as const, checks: [{ actual: null }] };
      return { name, status: v.status, psi: f?.psi ?? null };
    });
    const drifted = verdicts.filter((v) => v.status === 'drifted').map((v) => v.name);
    const actuals = verdicts.map((v) => v.psi).filter((p): p is number => p !== null);
    view.guards.push({
      stage,
      guard: 'driftAbove',
      threshold: psi,
      status:
        drifted.length > 0
          ? 'drifted'
          : verdicts.every((v) => v.status === 'stable')
            ? 'stable'
            : 'insufficient',
      actual: actuals.length > 0 ? Math.max(...actuals) : null,
      drifted,
    });
  }
  const rateGuard = (
    name: 'overrideRateAbove' | 'escalationRateAbove',
    threshold: number | undefined,
    r: { rate: number | null; samples: number },
  ) => {
    if (threshold === undefined) return;
    view.guards.push({
      stage,
      guard: name,
      threshold,
      status: r.samples < min || r.rate === null ? 'insufficient' : r.rate > threshold ? 'drifted' : 'stable',
      actual: r.rate,
    });
  };
  rateGuard('overrideRateAbove', guard.overrideRateAbove, o);
  rateGuard('escalationRateAbove', guard.escalationRateAbove, e);
  return view;
}
