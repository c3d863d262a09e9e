import { count, duration, NONE, percent, percentAgainst } from '../format/figures.js';
import { type JourneyView, visitSummaries } from '../promotion/journey-store.js';
import { formatTable, timestamp } from './format-table.js';

/**
 * One line per stage visit, oldest first: when it began and for how long, who moved it there and
 * why, and what the last tick of the visit judged it on (the gate's bound against its threshold,
 * the guard window against its guard).
 */
export function journeyTable(journey: JourneyView): string {
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
    visitSummaries(journey).map((v) => {
      const p = v.lastJudged;
      return [
        `${v.stage}${v.forced ? ' (forced)' : ''}`,
        timestamp(v.enteredAt),
        duration(v.durationMs),
        v.actor,
        p ? count(p.samples) : NONE,
        p ? percent(p.agreement) : NONE,
        p ? percentAgainst(p.lowerBound, p.required, '≥') : NONE,
        p ? (p.targetStage ? `${p.verdict} → ${p.targetStage}` : p.verdict) : NONE,
        p ? percentAgainst(p.guardAgreement, p.guardThreshold, '<') : NONE,
        v.reason,
      ];
    }),
  );
}
