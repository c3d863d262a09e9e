import type { CohortMetrics } from '../../src/metrics/metrics-types.js';
import type { StageSummary } from '../../src/metrics/stage-summary.js';
import { decimal, duration, NONE, percent, usd, count } from '../../src/format/figures.js';
import { textTable } from './text-table.js';

/**
 * The demo's closing tables, rendered from the controller's own answer to
 * `GET /v1/use-cases/:id` (`metrics.stages`): one row per stage and cohort
 * (AI configuration × model version), then segments and the confusion matrix.
 */

interface Row {
  stage: StageSummary;
  cohort: CohortMetrics | null;
}

function rows(stages: StageSummary[]): Row[] {
  return stages.flatMap((stage): Row[] =>
    stage.cohorts.length === 0
      ? [{ stage, cohort: null }]
      : stage.cohorts.map((cohort) => ({ stage, cohort })),
  );
}

export function evidenceTable(stages: StageSummary[]): string[] {
  return textTable(
    [
      'stage',
      'model',
      'decisions',
      'samples',
      'agreement',
      'lower bound',
      'kappa',
      'AI errors',
      'p50',
      'p95',
    ],
    rows(stages).map(({ stage, cohort: c }) => [
      stage.stage,
      c?.modelVersion ?? NONE,
      count(c ? c.decisions : stage.decisions),
      count(c ? c.samples : stage.samples),
      percent(c?.agreement),
      percent(c?.agreementLowerBound),
      decimal(c?.kappa),
      c?.aiErrorRate == null ? NONE : `${percent(c.aiErrorRate)} (${count(c.aiErrors)})`,
      duration(c?.latencyP50Ms),
      duration(c?.latencyP95Ms),
    ]),
  );
}

export function costTable(stages: StageSummary[]): string[] {
  return textTable(
    [
      'stage',
      'AI/decision',
      'human/decision',
      'total/decision',
      'decisions/month',
      'cost/month',
      'savings/month',
    ],
    rows(stages).map(({ stage, cohort: c }) => [
      stage.stage,
      usd(c?.aiCostPerDecision),
      usd(c?.humanCostPerDecision),
      usd(c?.costPerDecision),
      count(c?.monthlyVolume),
      usd(c?.monthlyCost),
      usd(c?.monthlySavings),
    ]),
  );
}

/**
 * What matters beyond agreement, per stage and cohort: the recall of each label (of the requests
 * the human gave it, the share the AI gave it too) and the mean cost of the AI's errors per
 * compared decision with the upper bound the gate judges `maxErrorCostPerDecision` on. Empty when
 * no cohort has label decisions.
 */
export function labelTable(stages: StageSummary[]): string[] {
  const labels: string[] = [];
  for (const { cohort } of rows(stages)) {
    for (const l of cohort?.perLabel ?? []) if (!labels.includes(l.label)) labels.push(l.label);
  }
  if (labels.length === 0) return [];
  return textTable(
    ['stage', 'model', ...labels.map((l) => `recall ${l}`), 'error cost/decision', 'upper bound'],
    rows(stages).map(({ stage, cohort: c }) => {
      const byLabel = new Map((c?.perLabel ?? []).map((l) => [l.label, l]));
      return [
        stage.stage,
        c?.modelVersion ?? NONE,
        ...labels.map((l) => percent(byLabel.get(l)?.recall)),
        usd(c?.errorCost?.perDecision),
        usd(c?.errorCost?.upperBound),
      ];
    }),
  );
}

/** Agreement per value of each plan segment, one block per cohort that has any. */
export function segmentTables(stages: StageSummary[]): string[] {
  const lines: string[] = [];
  for (const { stage, cohort } of rows(stages)) {
    if (!cohort || cohort.segments.length === 0) continue;
    lines.push(`  ${stage.stage} · ${cohort.modelVersion ?? 'no model version yet'}`);
    lines.push(
      ...textTable(
        ['segment', 'value', 'samples', 'agreement', 'lower bound'],
        cohort.segments.map((s) => [
          s.segment,
          s.value,
          count(s.samples),
          percent(s.agreement),
          percent(s.agreementLowerBound),
        ]),
      ),
    );
  }
  return lines;
}

/** Rows: the clerk's label; columns: the AI's. The diagonal is agreement. */
export function confusionTables(stages: StageSummary[]): string[] {
  const lines: string[] = [];
  for (const { stage, cohort } of rows(stages)) {
    const confusion = cohort?.confusion;
    if (!cohort || !confusion) continue;
    lines.push(`  ${stage.stage} · ${cohort.modelVersion ?? 'no model version yet'}`);
    lines.push(
      ...textTable(
        ['human \\ AI', ...confusion.labels, 'total'],
        confusion.labels.map((label, r) => {
          const counts = confusion.matrix[r] ?? [];
          return [label, ...counts.map((n) => count(n)), count(counts.reduce((a, b) => a + b, 0))];
        }),
      ),
    );
    const perLabel = (cohort.perLabel ?? [])
      .map((l) => `${l.label} ${percent(l.precision, 0)}/${percent(l.recall, 0)}`)
      .join(', ');
    if (perLabel) lines.push(`  AI precision/recall per label: ${perLabel}`);
  }
  return lines;
}

/** The pace behind the monthly projection, for the note under the cost table. */
export function observedPace(stages: StageSummary[]): { decisions: number; seconds: number } | null {
  const c = stages.flatMap((s) => s.cohorts).find((x) => x.firstDecisionAt && x.lastDecisionAt);
  if (!c) return null;
  const seconds = (Date.parse(c.lastDecisionAt!) - Date.parse(c.firstDecisionAt!)) / 1000;
  return seconds > 0 ? { decisions: c.decisions, seconds } : null;
}
