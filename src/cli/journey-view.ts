import type { JourneyResponse } from '../http/routes/journey-routes.js';
import { count, duration, NONE, percent } from '../format/figures.js';
import { formatTable, timestamp } from './format-table.js';

type Point = JourneyResponse['points'][number];

/** `93.10% ≥ 90.00%`: a measured value against the threshold it is judged by. */
function against(actual: number | null, threshold: number | null, op: '≥' | '<'): string {
  if (actual === null) return NONE;
  return threshold === null
    ? percent(actual)
    : `${percent(actual)} ${op === '≥' ? 'vs ≥' : 'vs <'} ${percent(threshold)}`;
}

/**
 * One line per stage visit, oldest first: when it began and for how long, who moved it there and
 * why, and what the last tick of the visit judged it on (the gate's bound against its threshold,
 * the guard window against its guard).
 */
export function journeyTable(journey: JourneyResponse): string {
  const last = new Map<number, Point>();
  for (const p of journey.points) last.set(p.stageVersion, p);
  const now = Date.parse(journey.now);
  return formatTable(
    [
      { header: 'STAGE' },
      { header: 'ENTERED' },
      { header: 'FOR', align: 'right' },
      { header: 'BY' },
      { header: 'COMPARED', align: 'right' },
      { header: 'AGREEMENT', align: 'right' },
      { header: 'GATE BOUND' },
      { header: 'VERDICT' },
      { header: 'GUARD WINDOW' },
      { header: 'REASON' },
    ],
    journey.visits.map((v) => {
      const p = last.get(v.stageVersion);
      const end = v.leftAt ? Date.parse(v.leftAt) : Math.max(now, Date.parse(v.enteredAt));
      return [
        `${v.stage}${v.forced ? ' (forced)' : ''}`,
        timestamp(v.enteredAt),
        duration(end - Date.parse(v.enteredAt)),
        v.actor,
        p ? count(p.samples) : NONE,
        p ? percent(p.agreement) : NONE,
        p ? against(p.lowerBound, p.required, '≥') : NONE,
        p ? (p.targetStage ? `${p.verdict} → ${p.targetStage}` : p.verdict) : NONE,
        p ? against(p.guardAgreement, p.guardThreshold, '<') : NONE,
        v.reason,
      ];
    }),
  );
}
