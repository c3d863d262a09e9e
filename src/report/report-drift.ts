import type { DriftReading } from '../metrics/drift-service.js';
import type { DriftWindow } from '../metrics/drift-store.js';
import { type DriftSummary, driftSummary } from '../metrics/use-case-reader.js';
import type { Plan } from '../plans/plan-schema.js';
import type { DriftSection, DriftTrip, EventTally } from './report-types.js';

/**
 * The report's Drift section (README "Drift"): the reading `GET /v1/use-cases/:id` summarises (the
 * same one), in full per field, and the `drift.detected` events. Audit details are stored JSON
 * written by earlier versions too, so they are read defensively.
 */

type Json = Record<string, unknown>;

const HOUR_MS = 3_600_000;
const obj = (v: unknown): Json | null => (v !== null && typeof v === 'object' ? (v as Json) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj).filter((x) => x !== null) : []);

function windowOf(w: Omit<DriftWindow, 'cells'>) {
  return {
    from: w.fromHour === null ? null : new Date(w.fromHour * HOUR_MS).toISOString(),
    to: w.toHour === null ? null : new Date((w.toHour + 1) * HOUR_MS).toISOString(),
    decisions: w.decisions,
  };
}

export function driftSection(
  plan: Plan,
  reading: DriftReading,
  trips: EventTally,
  recent: ReadonlyArray<{ at: Date; details: unknown }>,
): DriftSection {
  const summary: DriftSummary = driftSummary(plan, reading);
  return {
    stage: reading.stage,
    stageVersion: reading.stageVersion,
    window: reading.window,
    minWindow: reading.minWindow,
    reference: {
      takenAt: summary.reference.takenAt,
      takenBy: summary.reference.takenBy,
      reason: reading.reference.reason,
      trippedAt: summary.reference.trippedAt,
      window: windowOf(reading.reference.window),
    },
    current: windowOf(reading.current),
    fields: reading.view.fields.map((f, i) => {
      const s = summary.fields[i]!;
      return {
        field: f.field,
        type: f.type,
        referenceTotal: f.referenceTotal,
        currentTotal: f.currentTotal,
        psi: f.psi,
        jsDistance: f.jsDistance,
        unseenShare: f.unseenShare,
        ks: f.ks,
        normalisedWasserstein: f.normalisedWasserstein,
        watched: s.watched,
        threshold: s.threshold,
        verdict: s.verdict,
      };
    }),
    overrideRate: summary.overrideRate,
    escalationRate: summary.escalationRate,
    guards: summary.guards,
    trips,
    recentTrips: recent.map(driftTrip),
  };
}

/** A `drift.detected` event: the guards as they stood and the fields above their threshold. */
export function driftTrip(e: { at: Date; details: unknown }): DriftTrip {
  const d = obj(e.details);
  return {
    at: e.at.toISOString(),
    stageVersion: num(d?.stageVersion),
    guards: list(d?.guards).map((g) => ({
      guard: str(g.guard) ?? 'unknown',
      threshold: num(g.threshold),
      status: str(g.status),
      actual: num(g.actual),
    })),
    fields: list(d?.fields).map((f) => ({
      field: str(f.field) ?? 'unknown',
      psi: num(f.psi),
      referenceTotal: num(f.referenceTotal),
      currentTotal: num(f.currentTotal),
    })),
  };
}
