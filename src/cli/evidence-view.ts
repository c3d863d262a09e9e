import { oneLine } from '../contracts/safe-text.js';
import { count, kappa, percent, usd } from '../format/figures.js';
import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { Criterion, GateWarning } from '../promotion/gate-types.js';
import { formatTable } from './format-table.js';

/**
 * What `status USE_CASE` shows of the cohort the gate counts beyond agreement: AI failures and
 * coverage, kappa with its interval, the majority baseline, the cost of the AI's errors and the
 * evidence per label; and the gate's warnings. Fields a controller before them does not send
 * print as `—`.
 */

/** One `warning: …` line per warning of the gate (with the use case when several are listed). */
export function warningLines(warnings: readonly GateWarning[] | undefined, useCase?: string): string[] {
  const prefix = useCase === undefined ? '' : `${useCase}: `;
  return (warnings ?? []).map((w) => oneLine(`warning: ${prefix}${w.message}`));
}

/** The gate cohort's figures, one labelled line each; null without a cohort. */
export function evidenceLines(c: CohortMetrics | null): string[] | null {
  if (!c) return null;
  const fields: Array<[string, string]> = [
    ['agreement', agreementText(c)],
    ['coverage', coverageText(c)],
    ['kappa (95% interval)', kappa(c.kappa, c.kappaInterval)],
  ];
  if (c.majorityBaseline) {
    fields.push([
      'majority baseline',
      `always answering "${c.majorityBaseline.label}" would agree ${percent(c.majorityBaseline.agreement)}`,
    ]);
  }
  if (c.errorCost) fields.push(['error cost', errorCostText(c.errorCost)]);
  if (c.expectedErrorCostPerDecision !== null && c.expectedErrorCostPerDecision !== undefined) {
    fields.push([
      'expected error cost',
      `${usd(c.expectedErrorCostPerDecision)} per decision (the share the AI decides; in cost per decision ${usd(c.costPerDecision)} and net of the savings)`,
    ]);
  }
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => oneLine(`  ${label.padEnd(width)}  ${value}`));
}

function agreementText(c: CohortMetrics): string {
  const plain = `${percent(c.agreement)} of ${count(c.samples)} compared`;
  const failures = c.aiFailedWithHuman ?? 0;
  return `${plain}; ${percent(c.agreementWithFailures)} counting the ${count(failures)} AI call(s) that failed for good on decided requests as disagreements`;
}

function coverageText(c: CohortMetrics): string {
  return `${percent(c.coverage)} of the decisions owed an AI answer have one`;
}

function errorCostText(e: NonNullable<CohortMetrics['errorCost']>): string {
  return `${usd(e.perDecision)} per compared decision, upper bound ${usd(e.upperBound)}, lower bound ${usd(e.lowerBound)} (${count(e.samples)} decisions; one error costs at most ${usd(e.maxCost)})`;
}

/** Per label: recall (of the person's) and precision (of the AI's), with their counts; null without labels. */
export function perLabelTable(c: CohortMetrics | null): string | null {
  if (!c?.perLabel || c.perLabel.length === 0) return null;
  return formatTable(
    [
      { header: 'LABEL' },
      { header: 'PERSON GAVE IT', align: 'right' },
      { header: 'AI TOO', align: 'right' },
      { header: 'RECALL', align: 'right' },
      { header: 'AI GAVE IT', align: 'right' },
      { header: 'PRECISION', align: 'right' },
      { header: 'AI FAILURES', align: 'right' },
    ],
    c.perLabel.map((l) => [
      l.label,
      count(l.support),
      count(l.hits),
      percent(l.recall),
      count(l.predicted),
      percent(l.precision),
      count(l.aiFailures),
    ]),
  );
}

/** What each kind of criterion measures, for the kinds among `criteria` whose name does not say it. */
export function criterionLegend(criteria: readonly Pick<Criterion, 'name'>[]): string[] {
  const kinds = new Set(criteria.map((c) => kindOf(c.name)));
  return LEGEND.filter(([kind]) => kinds.has(kind)).map(([, text]) => `  ${text}`);
}

function kindOf(name: string): string {
  const colon = name.indexOf(':');
  return colon > 0 ? name.slice(0, colon) : name;
}

const LEGEND: ReadonlyArray<readonly [string, string]> = [
  [
    'agreementLowerBound',
    'agreementLowerBound: ACTUAL is the lower bound of agreement; OBSERVED the agreement over the compared decisions (and, under aiFailures: disagree, the failed AI calls)',
  ],
  ['segment', 'segment:<field>=<value>: the same bound on the decisions with that context value'],
  [
    'labelRecallLowerBound',
    'labelRecallLowerBound:<label>: of the requests a person gave <label>, the share the AI gave it too (recall); ACTUAL is its lower bound, OBSERVED the share and the requests',
  ],
  [
    'labelPrecisionLowerBound',
    "labelPrecisionLowerBound:<label>: of the AI's <label> answers, the share a person agreed with (precision); ACTUAL is its lower bound, OBSERVED the share and the answers",
  ],
  [
    'judgeAgreementLowerBound',
    "judgeAgreementLowerBound: the judge's agreement with people's ratings of the calibration sample, for the judge version scoring now; ACTUAL is its lower bound, OBSERVED the agreement and the ratings (never blocks: a judge people disagree with leaves the gate inconclusive)",
  ],
  [
    'maxErrorCostPerDecision',
    "maxErrorCostPerDecision: the mean cost of the AI's errors per compared decision (errorCosts, USD); ACTUAL is the upper bound of its confidence sequence, OBSERVED the mean",
  ],
];
