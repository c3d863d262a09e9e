import type { StageSummary } from '../../src/metrics/stage-summary.js';
import type { ShadowgateEvent, ShadowgateStats } from '@shadowgate/sdk';
import { gateLines } from './gate-summary.js';
import {
  confusionTables,
  costTable,
  evidenceTable,
  labelTable,
  observedPace,
  segmentTables,
} from './stage-table.js';
import { percent, usd, count } from '../../src/format/figures.js';

/** The part of `GET /v1/use-cases/:id` the closing report reads. */
export interface UseCaseDetail {
  segments: string[];
  metrics: { stages: StageSummary[] };
  gate: unknown;
}

/** The demo's closing tables with a few words on how to read each, as lines of text. */
export function closingReport(detail: UseCaseDetail, simulatedAgreement: number | null): string[] {
  const { stages } = detail.metrics;
  const shadow = stages.find((s) => s.stage === 'shadow')?.cohorts[0];
  const pace = observedPace(stages);
  return [
    'What the controller measured, per stage (GET /v1/use-cases/:id)',
    '',
    ...evidenceTable(stages),
    '  samples: invoices where both the clerk and the AI answered. agreement: share of them with the same',
    '  label; lower bound: its 95% Wilson lower bound. kappa: agreement beyond chance (1 perfect, 0 chance).',
    '  AI errors: calls that failed on every attempt (no sample). p50/p95: AI answer time seen by the controller.',
    `  Check: the controller measured ${percent(shadow?.agreement, 2)}; the simulation's own tally is ${percent(simulatedAgreement, 2)}.`,
    '',
    ...labelLines(stages, detail.gate),
    'Cost per decision and per month (USD)',
    '',
    ...costTable(stages),
    `  In shadow a person still decides every invoice, so the AI (${usd(shadow?.aiCostPerDecision)} a call here) is an`,
    '  extra cost and the savings against all-human are negative until the AI decides on its own.',
    ...(pace
      ? [
          `  The monthly figures project the pace the controller saw, ${count(pace.decisions)} decisions in ${pace.seconds.toFixed(1)} s,`,
          '  to 30 days: far above any real invoice desk, which is why they are so large.',
        ]
      : []),
    '',
    `Agreement per segment (the plan's segments: ${detail.segments.join(', ') || 'none'})`,
    '',
    ...segmentTables(stages),
    '',
    "Confusion matrix (rows: the clerk's label; columns: the simulated AI's)",
    '',
    ...confusionTables(stages),
    '',
    'Gate: may the use case move to its next stage?',
    '',
    ...gateLines(detail.gate),
  ];
}

/** Recall per label and the error cost per decision, with how to read them; nothing for other decisions. */
function labelLines(stages: StageSummary[], gate: unknown): string[] {
  const table = labelTable(stages);
  if (table.length === 0) return [];
  const confidence = (gate as { confidence?: unknown } | null)?.confidence;
  const level = typeof confidence === 'number' ? percent(confidence, 0) : "the plan's";
  return [
    "Recall per label and the cost of the AI's errors (USD, priced by the plan's errorCosts)",
    '',
    ...table,
    '  recall: of the invoices the clerks gave a label, the share the AI gave it too. An AI that approved',
    '  everything would agree with most clerks and still show 0% for reject: the gate asks for each label.',
    "  error cost/decision: what the AI's wrong answers would have cost, per invoice compared; upper bound:",
    `  its ${level} anytime-valid upper bound, which the gate holds against maxErrorCostPerDecision.`,
    '',
  ];
}

/** The live path's side: the example service's SDK counters once `sg.close()` has delivered what it held. */
export function sdkCounterLines(
  stats: ShadowgateStats,
  events: ReadonlyMap<ShadowgateEvent['type'], { count: number; first: string }>,
): string[] {
  return [
    "The live path's side: the example service's SDK (sg.stats() after sg.close())",
    '',
    `  sent ${count(stats.sent)} · retried ${count(stats.retried)} · dropped ${count(stats.dropped)} · failed ${count(stats.failed)} · still buffered ${count(stats.buffered)}`,
    '  sent: decisions the controller took; retried: sends repeated after a transient failure;',
    '  dropped: lost to a full buffer or left when close() gave up; failed: refused by the controller for good.',
    ...(events.size === 0
      ? ['  The SDK reported no event: no warning, retry, drop or failure.']
      : [...events].map(([type, e]) => `  SDK events: ${count(e.count)} ${type}, the first: ${e.first}`)),
  ];
}
