// @ts-check
import { el, num, stageBadge, statusMark, table, verdictBadge } from './dom.js';
import {
  count,
  criterionComparator,
  criterionFigure,
  decimal,
  duration,
  NONE,
  percent,
  usd,
} from '../format/figures.js';
import { criterionLabel, dateTime, since } from './format.js';

/** The tables and lists of the dashboard, each a pure function of the API's answers. */

/**
 * @typedef {import('./api.js').UseCaseSummary} UseCaseSummary
 * @typedef {import('./api.js').UseCaseDetail} UseCaseDetail
 * @typedef {import('./api.js').CohortMetrics} CohortMetrics
 * @typedef {import('./api.js').GateAssessment} GateAssessment
 * @typedef {import('./api.js').Criterion} Criterion
 * @typedef {import('./api.js').Transition} Transition
 * @typedef {import('./dom.js').Cell} Cell
 * @typedef {import('./dom.js').Children} Children
 */

/**
 * A use case of the overview: its summary, and its details or why they could not be read.
 * @typedef {{ summary: UseCaseSummary, detail?: UseCaseDetail, error?: string }} Entry
 */

/**
 * The cohort a gate judges, as the API picks it: current stage and AI configuration, latest model.
 * @param {UseCaseDetail} detail
 * @returns {CohortMetrics | null}
 */
export function currentCohort(detail) {
  const stage = detail.metrics.stages.find((s) => s.stage === detail.stage);
  const candidates = (stage?.cohorts ?? []).filter(
    (c) => c.aiConfig === detail.aiConfig && c.modelVersion !== null,
  );
  return candidates.reduce(
    (latest, c) => (latest === null || (c.lastDecisionAt ?? '') > (latest.lastDecisionAt ?? '') ? c : latest),
    /** @type {CohortMetrics | null} */ (null),
  );
}

/** @param {UseCaseDetail} detail */
export function allCohorts(detail) {
  return detail.metrics.stages.flatMap((s) => s.cohorts);
}

/** @param {CohortMetrics} c */
export const cohortName = (c) =>
  `${c.stage} · model ${c.modelVersion ?? 'pending'} · config ${c.aiConfig.slice(0, 8)}`;

/** @type {Record<string, string>} */
const CHIP_LABELS = {
  minSamples: 'samples',
  minDuration: 'time',
  agreementLowerBound: 'agreement bound',
  maxAiErrorRate: 'AI errors',
  maxP95LatencyMs: 'p95',
  maxAiCostPerDecision: 'AI cost',
};

/** @param {string} name */
const chipLabel = (name) => CHIP_LABELS[name] ?? name.replace(/^segment:/, '');

/** @param {Criterion} c */
function criterionChip(c) {
  const { status } = c;
  const text = `${chipLabel(c.name)} ${criterionFigure(c.name, c.actual)} ${criterionComparator(c.name)} ${criterionFigure(c.name, c.required)}`;
  return el('li', { class: `chip chip-${status}`, title: `${status}${c.detail ? `: ${c.detail}` : ''}` }, [
    statusMark(status),
    ' ',
    text,
  ]);
}

/**
 * One row per use case: stage, gate verdict and each criterion, headline numbers.
 * @param {Entry[]} entries
 * @param {string | null} selectedId
 * @param {(id: string) => void} onSelect
 */
export function overviewTable(entries, selectedId, onSelect) {
  const rows = entries.map(({ summary, detail, error }) => {
    const select = el(
      'button',
      { class: 'link', type: 'button', onclick: () => onSelect(summary.id) },
      summary.id,
    );
    if (!detail) {
      return el('tr', { dataset: { useCase: summary.id } }, [
        el('td', {}, select),
        el('td', {}, stageBadge(summary.stage)),
        el('td', { colspan: '5', class: 'error' }, error ?? 'not loaded'),
      ]);
    }
    const stage = detail.metrics.stages.find((s) => s.stage === detail.stage);
    const cohort = currentCohort(detail);
    const gate = detail.gate;
    const criteria = gate?.criteria ?? [];
    const holding = criteria.filter((c) => c.holds).length;
    return el(
      'tr',
      { dataset: { useCase: summary.id }, class: summary.id === selectedId ? 'selected' : undefined },
      [
        el('td', {}, select, el('div', { class: 'muted small' }, detail.owner)),
        el('td', {}, stageBadge(detail.stage)),
        el(
          'td',
          {},
          gate ? verdictBadge(gate.verdict) : NONE,
          gate?.targetStage ? el('div', { class: 'muted small' }, `to ${gate.targetStage}`) : null,
          criteria.length > 0
            ? el('div', { class: 'muted small' }, `${holding} of ${criteria.length} hold`)
            : null,
        ),
        el('td', { class: 'criteria-cell' }, el('ul', { class: 'chips' }, criteria.map(criterionChip))),
        el(
          'td',
          num(count(stage?.samples ?? 0), 'samples', stage?.samples ?? 0).props,
          count(stage?.samples ?? 0),
        ),
        el(
          'td',
          { class: 'num' },
          el(
            'span',
            { dataset: { field: 'agreement', value: cohort?.agreement ?? '' } },
            percent(cohort?.agreement),
          ),
          el('div', { class: 'muted small' }, `lower ${percent(cohort?.agreementLowerBound)}`),
        ),
        el(
          'td',
          num(usd(cohort?.costPerDecision), 'cost', cohort?.costPerDecision).props,
          usd(cohort?.costPerDecision),
        ),
      ],
    );
  });
  return table(
    [
      'Use case',
      'Stage',
      'Gate',
      'Criteria (actual against required)',
      { props: { class: 'num' }, content: 'Samples' },
      { props: { class: 'num' }, content: 'Agreement' },
      { props: { class: 'num' }, content: 'Cost / decision' },
    ],
    rows,
    { class: 'overview', id: 'use-case-table' },
  );
}

/**
 * Every criterion of the gate with what it asks, what was measured, and whether it holds.
 * @param {GateAssessment | null | undefined} gate
 */
export function gatePanel(gate) {
  if (!gate) return el('p', { class: 'muted' }, 'The controller reports no gate for this use case.');
  const intro = el(
    'p',
    { class: 'muted small' },
    gate.verdict === 'none'
      ? `No promotion gate from ${gate.fromStage}: the plan names no later stage or no promoteWhen.`
      : `From ${gate.fromStage} to ${gate.targetStage}, approval ${gate.approval}; agreement bounds ${gate.statistics} at ${percent(gate.confidence, 1)} confidence.`,
  );
  if (gate.criteria.length === 0) return el('div', {}, intro);
  const rows = gate.criteria.map((c) => {
    const { status } = c;
    const observed =
      c.observed !== undefined && c.observed !== null
        ? el('div', { class: 'muted small' }, `observed ${percent(c.observed)} of ${count(c.samples)}`)
        : null;
    return el('tr', { class: `criterion criterion-${status}`, dataset: { criterion: c.name, status } }, [
      el('td', {}, criterionLabel(c.name), c.detail ? el('div', { class: 'muted small' }, c.detail) : null),
      el('td', { class: 'num' }, `${criterionComparator(c.name)} ${criterionFigure(c.name, c.required)}`),
      el('td', { class: 'num' }, criterionFigure(c.name, c.actual), observed),
      el('td', {}, statusMark(status), ' ', status),
    ]);
  });
  return el(
    'div',
    {},
    intro,
    table(
      [
        'Criterion',
        { props: { class: 'num' }, content: 'Required' },
        { props: { class: 'num' }, content: 'Actual' },
        'Status',
      ],
      rows,
      { class: 'gate' },
    ),
  );
}

/**
 * Against all-human work, per month at the observed volume.
 * @param {number | null | undefined} monthly
 */
function savings(monthly) {
  if (monthly === null || monthly === undefined) return '';
  return monthly >= 0 ? `saves ${usd(monthly)}/mo` : `${usd(-monthly)}/mo more than all-human`;
}

/**
 * One row per cohort (stage × AI configuration × model version).
 * @param {UseCaseDetail} detail
 */
export function stagesTable(detail) {
  /** @type {Array<Node | Cell[]>} */
  const rows = [];
  for (const stage of detail.metrics.stages) {
    if (stage.cohorts.length === 0) {
      rows.push([
        stageBadge(stage.stage),
        NONE,
        num(count(stage.decisions)),
        num(count(stage.samples)),
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
    }
    for (const c of stage.cohorts) {
      rows.push(
        el('tr', { dataset: { stage: c.stage, model: c.modelVersion ?? '' } }, [
          el('td', {}, stageBadge(c.stage)),
          el('td', { class: 'small' }, c.modelVersion ?? 'pending'),
          el('td', { class: 'num' }, count(c.decisions)),
          el('td', { class: 'num', dataset: { field: 'samples', value: c.samples } }, count(c.samples)),
          el(
            'td',
            { class: 'num' },
            el('span', { dataset: { field: 'agreement', value: c.agreement ?? '' } }, percent(c.agreement)),
            el('div', { class: 'muted small' }, `lower ${percent(c.agreementLowerBound)}`),
          ),
          el('td', { class: 'num' }, decimal(c.kappa)),
          el('td', { class: 'num', dataset: { field: 'error-rate' } }, percent(c.aiErrorRate)),
          el('td', { class: 'num' }, `${duration(c.latencyP50Ms)} / ${duration(c.latencyP95Ms)}`),
          el('td', { class: 'num' }, usd(c.aiCostPerDecision)),
          el(
            'td',
            { class: 'num' },
            usd(c.costPerDecision),
            el('div', { class: 'muted small' }, savings(c.monthlySavings)),
          ),
        ]),
      );
    }
  }
  /** @param {Children} content */
  const n = (content) => ({ props: { class: 'num' }, content });
  return table(
    [
      'Stage',
      'Model',
      n('Decisions'),
      n('Samples'),
      n('Agreement'),
      n('κ'),
      n('AI errors'),
      n('p50 / p95'),
      n('AI cost'),
      n('Cost / decision'),
    ],
    rows,
    { class: 'stages' },
  );
}

/**
 * Rows: the human's label; columns: the AI's. The diagonal is agreement.
 * @param {CohortMetrics | null} cohort
 */
export function confusionPanel(cohort) {
  if (!cohort?.confusion) {
    return el(
      'p',
      { class: 'muted' },
      'No confusion matrix: the decisions are not labels, or none were compared yet.',
    );
  }
  const { labels, matrix } = cohort.confusion;
  const max = Math.max(1, ...matrix.flat());
  const rows = labels.map((human, i) =>
    el('tr', {}, [
      el('th', { scope: 'row' }, human),
      ...labels.map((ai, j) => {
        const n = matrix[i]?.[j] ?? 0;
        const shade = Math.ceil((n / max) * 4);
        return el(
          'td',
          {
            class: `num cell ${i === j ? 'diagonal' : 'off'} shade-${shade}`,
            title: `human ${human}, AI ${ai}: ${n}`,
          },
          count(n),
        );
      }),
    ]),
  );
  const matrixTable = el(
    'table',
    { class: 'confusion' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { class: 'corner' }, 'human ↓ AI →'),
        labels.map((l) => el('th', { class: 'num' }, l)),
      ),
    ),
    el('tbody', {}, rows),
  );
  const perLabel = table(
    [
      'Label',
      { props: { class: 'num' }, content: 'Precision' },
      { props: { class: 'num' }, content: 'Recall' },
      { props: { class: 'num' }, content: 'Support' },
    ],
    (cohort.perLabel ?? []).map((l) => [
      l.label,
      num(percent(l.precision)),
      num(percent(l.recall)),
      num(count(l.support)),
    ]),
    { class: 'per-label' },
  );
  return el('div', { class: 'confusion-wrap' }, matrixTable, perLabel);
}

/**
 * Newest first: who moved the use case, from where to where, why, and whether it was forced.
 * @param {Transition[]} transitions
 */
export function transitionsList(transitions) {
  if (transitions.length === 0) return el('p', { class: 'muted' }, 'No stage changes yet.');
  const items = [...transitions].reverse().map((t) => {
    const verdict = t.snapshot?.gate?.verdict;
    return el(
      'li',
      { class: `transition${t.forced ? ' forced' : ''}`, dataset: { stageVersion: t.stageVersion } },
      el('div', { class: 'when' }, dateTime(t.at)),
      el(
        'div',
        { class: 'what' },
        t.fromStage ? [stageBadge(t.fromStage), ' → '] : 'created in ',
        stageBadge(t.toStage),
        t.forced ? el('span', { class: 'badge forced-badge', dataset: { field: 'forced' } }, 'forced') : null,
        verdict ? el('span', { class: 'muted small' }, ` gate was ${verdict}`) : null,
      ),
      el('div', { class: 'reason', dataset: { field: 'reason' } }, t.reason),
      el(
        'div',
        { class: 'muted small' },
        el('span', { dataset: { field: 'actor' } }, t.actor),
        ` · plan v${t.planVersion}${t.modelVersion ? ` · model ${t.modelVersion}` : ''}`,
      ),
    );
  });
  return el('ol', { class: 'timeline', id: 'transitions' }, items);
}

/**
 * @param {UseCaseDetail} detail
 * @param {number} [now]
 */
export function useCaseHeading(detail, now = Date.now()) {
  return el(
    'div',
    { class: 'heading' },
    el('h2', {}, detail.id, ' ', stageBadge(detail.stage)),
    detail.description ? el('p', { class: 'description' }, detail.description) : null,
    el(
      'p',
      { class: 'muted small' },
      `owner ${detail.owner} · plan v${detail.planVersion} · in ${detail.stage} for ${since(detail.stageEnteredAt, now)} (since ${dateTime(detail.stageEnteredAt)})`,
    ),
  );
}
