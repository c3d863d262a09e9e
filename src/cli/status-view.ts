import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { JudgeCalibration } from '../metrics/judge-calibration.js';
import { judgeCalibrationLines } from './judge-calibration-view.js';
import type { StageSummary } from '../metrics/stage-summary.js';
import { oneLine } from '../contracts/safe-text.js';
import type { FlagSyncStatus } from '../flags/flag-sync-status.js';
import type { Criterion, GateAssessment } from '../promotion/gate-types.js';
import {
  count,
  criterionComparator,
  criterionFigure,
  duration,
  kappa,
  NONE,
  percent,
  usd,
} from '../format/figures.js';
import type { ChangeView } from '../client/controller-api.js';
import { pendingChangeLines, pendingCountLines } from './changes-view.js';
import { type ActiveChallengerView, type ChampionView, challengerStatusLine } from './challenger-view.js';
import { criterionLegend, evidenceLines, perLabelTable, warningLines } from './evidence-view.js';
import { type Column, formatTable, timestamp } from './format-table.js';
import { type TransitionRow, transitionsTable } from './transitions-view.js';

/** `GET /v1/use-cases/:id` as the CLI reads it. */
export interface UseCaseDetail {
  id: string;
  stage: string;
  owner: string;
  description: string | null;
  planVersion: number;
  stageEnteredAt: string;
  stageVersion: number;
  aiConfig: string;
  earnedModelVersion: string | null;
  metrics: { stages: StageSummary[] };
  gate: GateAssessment | null;
  /** The configuration that answers; absent from controllers before champion and challenger. */
  champion?: ChampionView;
  challenger?: ActiveChallengerView | null;
  /** Whether the flag says what the stage says; absent from controllers before it was reported. */
  flag?: FlagSyncStatus;
  /** A plan scored by a judge: the judge against people; null otherwise, absent from older controllers. */
  judgeCalibration?: JudgeCalibration | null;
}

/** A use case with the cohort its gate counts (current stage since entered, current AI configuration). */
export interface UseCaseStatus {
  detail: UseCaseDetail;
  cohort: CohortMetrics | null;
  /** Its changes waiting for approval (README "Change control"); absent from controllers before them. */
  pending?: readonly ChangeView[];
  /** Its latest stage changes, oldest first, with who asked and who approved each. */
  latestTransitions?: readonly TransitionRow[];
}

const STATUS_COLUMNS: Column[] = [
  { header: 'USE CASE' },
  { header: 'STAGE' },
  { header: 'SAMPLES', align: 'right' },
  { header: 'AGREEMENT', align: 'right' },
  { header: 'LOWER BOUND', align: 'right' },
  { header: 'GATE' },
  { header: 'HELD BACK BY' },
  { header: 'COST/DECISION', align: 'right' },
];

/** One line per use case; at most `maxReasons` criteria are named in HELD BACK BY. */
export function statusTable(items: readonly UseCaseStatus[], maxReasons = 3): string {
  return formatTable(
    STATUS_COLUMNS,
    items.map((item) => statusRow(item, maxReasons)),
  );
}

/**
 * `status` of every use case: the table, then each gate's warnings, each flag not in sync and
 * each use case with changes pending approval, a line each.
 */
export function statusOverview(items: readonly UseCaseStatus[]): string {
  const notes = items.flatMap((item) => [
    ...pendingCountLines(item.pending ?? []),
    ...warningLines(item.detail.gate?.warnings, item.detail.id),
    ...(flagOutOfSync(item.detail.flag)
      ? [oneLine(`${item.detail.id}: flag: ${item.detail.flag.detail}`)]
      : []),
  ]);
  return [statusTable(items), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

/** True when the flag does not say what the stage says (not yet checked is not shown). */
function flagOutOfSync(flag: FlagSyncStatus | undefined): flag is FlagSyncStatus {
  return flag !== undefined && flag.state !== 'in-sync' && flag.state !== 'unknown';
}

/**
 * `flag: pending approval in Unleash since …, last checked …` and what Unleash answered, when the
 * flag does not say what the stage says; nothing when it does.
 */
export function flagLines(flag: FlagSyncStatus | undefined): string[] {
  if (!flagOutOfSync(flag)) return [];
  const head = `flag: ${flag.detail} since ${timestamp(flag.since)}, last checked ${timestamp(flag.checkedAt)} (checked again at every flag sync)`;
  return [oneLine(head), ...(flag.reason ? [oneLine(`  ${flag.reason}`)] : [])];
}

export function statusRow({ detail, cohort }: UseCaseStatus, maxReasons = 3): string[] {
  return [
    detail.id,
    detail.stage,
    count(cohort?.samples ?? 0),
    percent(cohort?.agreement),
    percent(lowerBound(detail.gate, cohort)),
    verdictOf(detail.gate),
    heldBackBy(detail.gate, maxReasons),
    usd(cohort?.costPerDecision),
  ];
}

/** The bound the gate uses (the plan's statistics) when it has the criterion, else the 95% Wilson bound. */
export function lowerBound(gate: GateAssessment | null, cohort: CohortMetrics | null): number | null {
  const criterion = gate?.criteria.find((c) => c.name === 'agreementLowerBound');
  if (criterion && typeof criterion.actual === 'number') return criterion.actual;
  if (criterion) return null;
  return cohort?.agreementLowerBound ?? null;
}

function verdictOf(gate: GateAssessment | null): string {
  if (!gate || gate.verdict === 'none') return NONE;
  return gate.verdict;
}

/** The criteria that do not hold, each with what it measured and what it needs. */
export function heldBackBy(gate: GateAssessment | null, maxReasons = Number.POSITIVE_INFINITY): string {
  const failing = (gate?.criteria ?? []).filter((c) => !c.holds);
  if (failing.length === 0) return NONE;
  const named = failing.slice(0, maxReasons).map(describeCriterion);
  const more = failing.length - named.length;
  return more > 0 ? `${named.join(', ')} (+${more} more)` : named.join(', ');
}

/** `minSamples 6 (≥ 500)`, `maxAiErrorRate 5.00% (≤ 2.00%)`. */
export function describeCriterion(c: Criterion): string {
  return `${c.name} ${criterionFigure(c.name, c.actual)} (${requirement(c)})`;
}

function requirement(c: Criterion): string {
  return `${criterionComparator(c.name)} ${criterionFigure(c.name, c.required)}`;
}

/** Everything `status USE_CASE` shows: the status line, the gate's criteria and every cohort. */
export function statusDetail(item: UseCaseStatus): string {
  const { detail } = item;
  const lines = [
    oneLine(`${detail.id} (owner ${detail.owner})${detail.description ? `: ${detail.description}` : ''}`),
    `stage ${detail.stage} since ${timestamp(detail.stageEnteredAt)}, plan version ${detail.planVersion}, AI configuration ${detail.aiConfig}` +
      // While a challenger is judged, the configuration that answers is the champion's plan version's.
      (detail.champion && detail.champion.planVersion !== detail.planVersion
        ? ` (the champion's, plan version ${detail.champion.planVersion})`
        : '') +
      (detail.earnedModelVersion === null ? '' : `, earned with model ${detail.earnedModelVersion}`),
  ];
  lines.push(...flagLines(detail.flag));
  const challenger = challengerStatusLine(detail.id, detail.challenger ?? null);
  if (challenger) lines.push(challenger);
  const pending = pendingChangeLines(item.pending ?? []);
  if (pending.length > 0) lines.push('', ...pending);
  lines.push('', statusTable([item], Number.POSITIVE_INFINITY));
  // Beside the AI's agreement: whether the judge that scores it agrees with people.
  const judge = judgeCalibrationLines(detail.judgeCalibration);
  if (judge.length > 0) lines.push('', ...judge);
  const warnings = warningLines(detail.gate?.warnings);
  if (warnings.length > 0) lines.push('', ...warnings);
  lines.push('', gateSection(detail.gate));
  const evidence = evidenceLines(item.cohort);
  if (evidence) {
    lines.push(
      '',
      `Evidence the gate counts (${detail.stage} since ${timestamp(detail.stageEnteredAt)}, model ${item.cohort?.modelVersion ?? NONE}):`,
      ...evidence,
    );
  }
  const labels = perLabelTable(item.cohort);
  if (labels) {
    lines.push(
      '',
      "Per label (recall: of the requests a person gave the label, the share the AI gave it too; precision: of the AI's answers with it, the share a person agreed with):",
      labels,
    );
  }
  const cohorts = cohortTable(detail.metrics.stages);
  if (cohorts) lines.push('', 'Evidence per stage and cohort (all time):', cohorts);
  if (item.latestTransitions?.length) {
    lines.push(
      '',
      `Latest stage changes, who asked and who approved (shadowgate transitions ${detail.id} for all):`,
      transitionsTable(item.latestTransitions),
    );
  }
  return lines.join('\n');
}

function gateSection(gate: GateAssessment | null): string {
  if (!gate || gate.verdict === 'none' || !gate.targetStage) {
    return `No gate: the plan has no promotion from ${gate?.fromStage ?? 'this stage'}.`;
  }
  const confidence = percent(gate.confidence, 1);
  const header = `Gate ${gate.fromStage} → ${gate.targetStage}: ${gate.verdict} (approval ${gate.approval}; agreement bounds ${gate.statistics} at ${confidence})`;
  const rows = gate.criteria.map((c) => [
    c.name,
    requirement(c),
    criterionFigure(c.name, c.actual),
    observedText(c),
    c.status,
    c.detail ?? '',
  ]);
  const table = formatTable(
    [
      { header: 'CRITERION' },
      { header: 'REQUIRED' },
      { header: 'ACTUAL', align: 'right' },
      { header: 'OBSERVED', align: 'right' },
      { header: 'STATUS' },
      { header: 'DETAIL' },
    ],
    rows,
  );
  const legend = criterionLegend(gate.criteria);
  return [header, table, ...(legend.length > 0 ? ['What the criteria measure:', ...legend] : [])].join('\n');
}

/** What a bound or the error cost was computed from: the observed rate or mean, and over how many. */
function observedText(c: Criterion): string {
  if (c.observed === undefined) return '';
  const over = c.samples === undefined ? '' : ` of ${count(c.samples)}`;
  return `${criterionFigure(c.name, c.observed)}${over}`;
}

function cohortTable(stages: readonly StageSummary[]): string | null {
  const rows = stages.flatMap((s) =>
    s.cohorts.map((c) => [
      s.stage,
      c.aiConfig,
      c.modelVersion ?? NONE,
      count(c.samples),
      percent(c.agreement),
      percent(c.agreementLowerBound),
      percent(c.agreementWithFailures),
      percent(c.coverage),
      kappa(c.kappa, c.kappaInterval),
      percent(c.aiErrorRate),
      duration(c.latencyP95Ms),
      usd(c.errorCost?.perDecision),
      usd(c.costPerDecision),
    ]),
  );
  if (rows.length === 0) return null;
  return formatTable(
    [
      { header: 'STAGE' },
      { header: 'AI CONFIG' },
      { header: 'MODEL' },
      { header: 'SAMPLES', align: 'right' },
      { header: 'AGREEMENT', align: 'right' },
      { header: 'WILSON 95%', align: 'right' },
      { header: 'W/ AI FAILURES', align: 'right' },
      { header: 'COVERAGE', align: 'right' },
      { header: 'KAPPA (95%)', align: 'right' },
      { header: 'AI ERRORS', align: 'right' },
      { header: 'AI P95', align: 'right' },
      { header: 'ERROR COST', align: 'right' },
      { header: 'COST/DECISION', align: 'right' },
    ],
    rows,
  );
}
