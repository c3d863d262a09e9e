import { criterionFigure } from '../format/figures.js';
import type { EventTally, EvidenceReport, Risk } from './report-types.js';

/** Guard trips, budget exhaustion and flag repairs older than this are history, not open risks. */
export const RECENT_MS = 30 * 86_400_000;
const MAX_LISTED_SEGMENTS = 10;

/**
 * What a governance review should look at before trusting the use case further: criteria of
 * the current gate that do not hold, thin segments, evidence still pending, forced promotions,
 * and recent guard trips, budget exhaustion and hand edits of the flag.
 */
export function openRisks(
  report: Omit<EvidenceReport, 'risks'>,
  context: { flagRepairs: EventTally; now: Date },
): Risk[] {
  const risks: Risk[] = [];
  const recent = (tally: EventTally) =>
    tally.count > 0 && tally.last !== null && context.now.getTime() - Date.parse(tally.last) <= RECENT_MS;

  if (report.useCase.stage === 'disabled') {
    risks.push({ kind: 'disabled', message: 'the use case is disabled (kill switch): the AI is not called' });
  } else if (report.evaluation.currentCohort === null) {
    risks.push({
      kind: 'no-evidence',
      message: `no compared decisions yet in ${report.useCase.stage} under the current AI configuration`,
    });
  }

  for (const c of report.gate?.criteria ?? []) {
    if (c.status === 'holds') continue;
    risks.push({
      kind: 'criterion',
      message: `${c.name} ${c.status}: required ${criterionFigure(c.name, c.required)}, actual ${c.actual === null ? 'none yet' : criterionFigure(c.name, c.actual)}${c.detail ? ` (${c.detail})` : ''}`,
    });
  }

  const current = report.evaluation.stages.flatMap((s) => s.cohorts).find((c) => c.current);
  const thin = current?.segments.filter((s) => s.underMinSamples === true) ?? [];
  if (thin.length > 0) {
    const listed = thin.slice(0, MAX_LISTED_SEGMENTS).map((s) => `${s.segment}=${s.value} (${s.samples})`);
    const more = thin.length > MAX_LISTED_SEGMENTS ? ` and ${thin.length - MAX_LISTED_SEGMENTS} more` : '';
    risks.push({
      kind: 'thin-segment',
      message: `segment values under minSegmentSamples in the current cohort: ${listed.join(', ')}${more}`,
    });
  }

  for (const s of report.evaluation.stages) {
    if (s.pendingAi === 0 && s.pendingHuman === 0) continue;
    risks.push({
      kind: 'pending',
      message: `${s.stage}: ${s.pendingAi} AI calls still owed, ${s.pendingHuman} decisions waiting for a human (not counted either way)`,
    });
  }

  for (const t of report.transitions) {
    if (!t.forced) continue;
    const overridden = t.evidence?.notHolding.map((c) => c.name).join(', ');
    risks.push({
      kind: 'forced-promotion',
      message: `forced from ${t.from} to ${t.to} at ${t.at} by ${t.actor}: "${t.reason}"${overridden ? `; not holding then: ${overridden}` : ''}`,
    });
  }

  for (const g of report.guards.stages) {
    if (!recent(g.trips)) continue;
    risks.push({
      kind: 'guard-tripped',
      message: `the ${g.stage} guard tripped ${g.trips.count} time(s), last at ${g.trips.last}`,
    });
  }
  const budget = report.guards.budget.exhaustedDays;
  if (recent(budget)) {
    risks.push({
      kind: 'budget-exhausted',
      message: `the daily AI budget (${report.guards.budget.maxDailyCost ?? '?'} USD) ran out on ${budget.count} day(s), last at ${budget.last}`,
    });
  }
  if (recent(context.flagRepairs)) {
    risks.push({
      kind: 'flag-repaired',
      message: `the feature flag was edited outside Shadowgate and repaired ${context.flagRepairs.count} time(s), last at ${context.flagRepairs.last}`,
    });
  }
  return risks;
}
