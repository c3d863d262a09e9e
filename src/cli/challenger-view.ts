import { oneLine } from '../contracts/safe-text.js';
import {
  count,
  criterionComparator,
  criterionFigure,
  duration,
  NONE,
  percent,
  usd,
  points,
} from '../format/figures.js';
import type {
  ActiveChallengerView,
  ChallengerView,
  ChampionView,
  EndedChallengerView,
} from '../promotion/challenger-view.js';
import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { Criterion } from '../promotion/gate-types.js';
import { formatTable, timestamp } from './format-table.js';

export type { ActiveChallengerView, ChallengerView, ChampionView, EndedChallengerView };

function requirement(c: Criterion): string {
  return `${criterionComparator(c.name)} ${criterionFigure(c.name, c.required)}`;
}

/** `status USE_CASE`'s line about the active challenger; null without one. */
export function challengerStatusLine(
  useCase: string,
  challenger: ActiveChallengerView | null,
): string | null {
  if (!challenger) return null;
  const changes = challenger.changes.length > 0 ? ` (${challenger.changes.join(', ')})` : '';
  return oneLine(
    `challenger plan version ${challenger.planVersion}${changes} since ${timestamp(challenger.startedAt)}: ${challenger.verdict} (shadowgate challenger ${useCase})`,
  );
}

/** Everything `challenger USE_CASE` shows: champion, the active challenger and its evidence, earlier ones. */
export function challengerText(useCase: string, view: ChallengerView): string {
  const lines = [
    oneLine(
      `${useCase}: champion plan version ${view.champion.planVersion}, AI configuration ${view.champion.aiConfig}`,
    ),
  ];
  const active = view.challenger;
  if (!active) {
    lines.push('no challenger');
  } else {
    lines.push(...activeSection(active));
  }
  lines.push('', historySection(view.history));
  return lines.join('\n');
}

function activeSection(c: ActiveChallengerView): string[] {
  const fields: Array<[string, string]> = [
    ['changed', c.changes.length > 0 ? c.changes.join(', ') : NONE],
    ['since', `${timestamp(c.startedAt)}, by ${c.startedBy}`],
    [
      'approval',
      `${c.approval}, margin ${percent(c.margin)}, sample rate ${percent(c.sampleRate)} of live requests`,
    ],
    ['verdict', c.verdict],
    ['owed calls', count(c.owedCalls)],
  ];
  const width = Math.max(...fields.map(([label]) => label.length));
  return [
    oneLine(`challenger plan version ${c.planVersion}, AI configuration ${c.aiConfig}`),
    ...fields.map(([label, value]) => oneLine(`  ${label.padEnd(width)}  ${value}`)),
    '',
    'Criteria (every one must hold for a swap):',
    criteriaTable(c.criteria),
    '',
    pairedLine(c),
    '',
    'Challenger cohort (its answers against the people, since it started):',
    cohortTable(c.cohort),
  ];
}

export function criteriaTable(criteria: readonly Criterion[]): string {
  return formatTable(
    [
      { header: 'CRITERION' },
      { header: 'REQUIRED' },
      { header: 'ACTUAL', align: 'right' },
      { header: 'STATUS' },
      { header: 'DETAIL' },
    ],
    criteria.map((c) => [
      c.name,
      requirement(c),
      criterionFigure(c.name, c.actual),
      c.status,
      c.detail ?? '',
    ]),
  );
}

/** The paired comparison with the champion: pairs, mean difference and its bounds. */
export function pairedLine(c: Pick<ActiveChallengerView, 'paired' | 'margin'>): string {
  const head = 'Paired with the champion (challenger − champion agreement on the same requests):';
  const p = c.paired;
  if (!p) return `${head} no pairs yet; the lower bound must reach ${points(-c.margin)}`;
  return `${head} ${count(p.n)} pairs, mean ${points(p.mean)}, bounds ${points(p.lower)} to ${points(p.upper)}; the lower bound must reach ${points(-c.margin)}`;
}

function cohortTable(cohort: CohortMetrics | null): string {
  if (!cohort) return '  no answers compared yet';
  return formatTable(
    [
      { header: 'MODEL' },
      { header: 'SAMPLES', align: 'right' },
      { header: 'AGREEMENT', align: 'right' },
      { header: 'WILSON 95%', align: 'right' },
      { header: 'AI ERRORS', align: 'right' },
      { header: 'AI P50', align: 'right' },
      { header: 'AI P95', align: 'right' },
      { header: 'AI COST/DECISION', align: 'right' },
      { header: 'COST/DECISION', align: 'right' },
    ],
    [
      [
        cohort.modelVersion ?? NONE,
        count(cohort.samples),
        percent(cohort.agreement),
        percent(cohort.agreementLowerBound),
        percent(cohort.aiErrorRate),
        duration(cohort.latencyP50Ms),
        duration(cohort.latencyP95Ms),
        usd(cohort.aiCostPerDecision),
        usd(cohort.costPerDecision),
      ],
    ],
  );
}

function historySection(history: readonly EndedChallengerView[]): string {
  if (history.length === 0) return 'No earlier challengers.';
  const table = formatTable(
    [
      { header: 'ID', align: 'right' },
      { header: 'PLAN', align: 'right' },
      { header: 'STATE' },
      { header: 'STARTED' },
      { header: 'ENDED' },
      { header: 'BY' },
      { header: 'REASON' },
    ],
    history.map((h) => [
      String(h.id),
      String(h.planVersion),
      h.state,
      timestamp(h.startedAt),
      timestamp(h.endedAt),
      h.endedBy ?? NONE,
      h.endReason ?? NONE,
    ]),
  );
  return `Earlier challengers (newest first):\n${table}`;
}
