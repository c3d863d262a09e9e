import { criterionFigure, percent } from '../format/figures.js';
import type { EventTally, EvidenceReport, Risk } from './report-types.js';

/** Guard trips, budget exhaustion and flag repairs older than this are history, not open risks. */
export const RECENT_MS = 30 * 86_400_000;
const MAX_LISTED_SEGMENTS = 10;
/** Below this share of decisions with an AI answer, the evidence misses enough requests to say so. */
export const COVERAGE_FLOOR = 0.95;

/**
 * What a governance review should look at before trusting the use case further: criteria of
 * the current gate that do not hold, the gate's warnings (a bar the majority label clears), a
 * current cohort whose coverage is under COVERAGE_FLOOR, thin segments, evidence still pending,
 * forced promotions (of a stage or of a challenger over its champion), a blocked challenger, and
 * a drift guard that sees drift now, recent guard trips, budget exhaustion, hand edits of the flag
 * and unearned model versions.
 */
export function openRisks(
  report: Omit<EvidenceReport, 'risks'>,
  context: { flagRepairs: EventTally; modelChanges: EventTally; now: Date },
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

  for (const w of report.gate?.warnings ?? []) {
    if (w.code === 'majority-baseline') risks.push({ kind: 'majority-baseline', message: w.message });
  }

  const current = report.evaluation.stages.flatMap((s) => s.cohorts).find((c) => c.current);
  if (current && current.coverage !== null && current.coverage < COVERAGE_FLOOR) {
    const counted =
      report.plan.aiFailures === 'exclude'
        ? 'the gate leaves out the requests whose AI call failed (aiFailures: exclude), so it judges the AI on the ones it answered'
        : 'the gate counts the requests whose AI call failed for good, once a person decided them, as disagreements';
    risks.push({
      kind: 'low-coverage',
      message: `coverage of the current cohort is ${percent(current.coverage)} (under ${percent(COVERAGE_FLOOR, 0)}): the rest of the decisions owed an AI answer have none, failed for good or still owed; ${counted}`,
    });
  }
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

  for (const h of report.challengers.history) {
    if (!h.promotion?.forced) continue;
    const overridden = h.promotion.notHolding.map((c) => c.name).join(', ');
    risks.push({
      kind: 'forced-challenger-promotion',
      message: `the challenger of plan version ${h.planVersion} was forced in over the champion of plan version ${h.championPlanVersion} at ${h.promotion.at} by ${h.promotion.actor}: "${h.endReason ?? ''}"; verdict then ${h.promotion.verdict ?? 'unknown'}${overridden ? `; not holding then: ${overridden}` : ''}`,
    });
  }

  const challenger = report.challengers.active;
  if (challenger?.verdict === 'blocked') {
    const blocking = challenger.criteria.filter((c) => c.status === 'blocked');
    const listed = blocking
      .map(
        (c) =>
          `${c.name} (required ${criterionFigure(c.name, c.required)}, actual ${criterionFigure(c.name, c.actual)})`,
      )
      .join(', ');
    risks.push({
      kind: 'challenger-blocked',
      message: `the challenger of plan version ${challenger.planVersion} (since ${challenger.startedAt}) is blocked: ${listed || 'a criterion cannot hold'}; the champion keeps serving until it is discarded or replaced`,
    });
  }

  const drift = report.drift;
  for (const g of drift?.guards ?? []) {
    if (g.status !== 'drifted') continue;
    const fields = g.drifted?.length ? ` (${g.drifted.join(', ')})` : '';
    const tripped = drift?.reference.trippedAt
      ? `it tripped against this reference at ${drift.reference.trippedAt} and does not trip again until a re-baseline`
      : 'the next tick trips it';
    risks.push({
      kind: 'drift',
      message: `the ${g.guard} guard of ${g.stage} sees drift now${fields}: actual ${g.actual === null ? 'none' : g.actual.toFixed(3)} above ${g.threshold}; ${tripped}`,
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
  if (recent(context.modelChanges)) {
    risks.push({
      kind: 'model-changed',
      message: `the AI answered with a model version its stage was not earned with ${context.modelChanges.count} time(s), last at ${context.modelChanges.last}; such answers never decide alone`,
    });
  }
  return risks;
}
