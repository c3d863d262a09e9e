// @ts-check
import {
  count,
  criterionComparator,
  criterionFigure,
  duration,
  PAIRED_CRITERION as PAIRED,
  percent,
  points,
  usd,
} from '../format/figures.js';
import { el, statusMark, svg, verdictBadge } from './dom.js';
import { criterionLabel, dateTime, since } from './format.js';
import { currentCohort } from './views.js';

/**
 * Champion and challenger (README): the configuration that serves beside the one judged to take
 * over, the paired comparison of the two on the same requests, and the challenger's criteria.
 * Pure functions of GET /v1/use-cases/:id; text goes in as text nodes.
 */

/**
 * @typedef {import('./api.js').UseCaseDetail} UseCaseDetail
 * @typedef {import('./api.js').Challenger} Challenger
 * @typedef {import('./api.js').Criterion} Criterion
 * @typedef {import('./api.js').CriterionStatus} CriterionStatus
 * @typedef {import('./dom.js').Children} Children
 * @typedef {import('../statistics/paired-difference.js').DifferenceBounds} DifferenceBounds
 */

const STAGES = ['shadow', 'human-reviewed', 'limited-autonomous'];

/** @param {string} aiConfig */
const shortConfig = (aiConfig) => aiConfig.slice(0, 8);

/**
 * A list of facts: each a term, what it is, and the `data-field` of the value (for the tests).
 * @param {Array<[string, Children, string?]>} facts
 */
function facts(facts) {
  return el(
    'dl',
    { class: 'facts' },
    facts.map(([term, value, field]) => [
      el('dt', {}, term),
      el('dd', { dataset: field ? { field } : undefined }, value),
    ]),
  );
}

/**
 * @param {number | null | undefined} agreement
 * @param {number | null | undefined} lower
 * @param {number | null | undefined} samples
 */
function agreementFigure(agreement, lower, samples) {
  return [
    el('span', { dataset: { value: agreement ?? '' } }, percent(agreement)),
    el('span', { class: 'muted small' }, ` lower ${percent(lower)} · ${count(samples ?? 0)} compared`),
  ];
}

/**
 * The configuration that serves, and the figures its gate cohort shows in the existing detail.
 * @param {UseCaseDetail} detail
 */
function championSide(detail) {
  const cohort = currentCohort(detail);
  return el(
    'div',
    { class: 'side champion', dataset: { side: 'champion' } },
    el('h4', {}, 'Champion ', el('span', { class: 'muted small' }, 'serves and decides')),
    facts([
      ['plan version', `v${detail.champion.planVersion}`, 'plan-version'],
      [
        'AI configuration',
        el('code', { title: detail.champion.aiConfig }, shortConfig(detail.champion.aiConfig)),
        'ai-config',
      ],
      ['model', cohort?.modelVersion ?? detail.earnedModelVersion ?? 'pending', 'model'],
      [
        `agreement (${detail.stage})`,
        agreementFigure(cohort?.agreement, cohort?.agreementLowerBound, cohort?.samples),
        'agreement',
      ],
      ['cost per decision', usd(cohort?.costPerDecision), 'cost'],
      ['AI latency p95', duration(cohort?.latencyP95Ms), 'latency-p95'],
    ]),
  );
}

/**
 * The configuration judged, on its own cohort since it started.
 * @param {Challenger} challenger
 * @param {number} now
 */
function challengerSide(challenger, now) {
  const { cohort } = challenger;
  return el(
    'div',
    { class: 'side challenger', dataset: { side: 'challenger' } },
    el('h4', {}, 'Challenger ', verdictBadge(challenger.verdict)),
    facts([
      ['plan version', `v${challenger.planVersion}`, 'plan-version'],
      [
        'AI configuration',
        el('code', { title: challenger.aiConfig }, shortConfig(challenger.aiConfig)),
        'ai-config',
      ],
      [
        'what changed',
        challenger.changes.length > 0
          ? challenger.changes.map((c, i) => [i > 0 ? ', ' : null, el('code', {}, c)])
          : 'nothing measured',
        'changes',
      ],
      [
        'since',
        [
          `${since(challenger.startedAt, now)} `,
          el(
            'span',
            { class: 'muted small' },
            `(${dateTime(challenger.startedAt)}, by ${challenger.startedBy})`,
          ),
        ],
        'since',
      ],
      ['model', cohort?.modelVersion ?? 'pending', 'model'],
      [
        'agreement',
        agreementFigure(cohort?.agreement, cohort?.agreementLowerBound, cohort?.samples),
        'agreement',
      ],
      ['cost per decision', usd(cohort?.costPerDecision), 'cost'],
      ['AI latency p95', duration(cohort?.latencyP95Ms), 'latency-p95'],
      ['AI error rate', percent(cohort?.aiErrorRate), 'error-rate'],
      ['calls owed', count(challenger.owedCalls), 'owed-calls'],
    ]),
  );
}

/**
 * Where the paired interval lies against the champion (0) and the margin (−margin): the interval
 * as a bar, the observed mean as a dot, −margin as a dashed line. Positions only: every figure is
 * written beside it as text.
 * @param {DifferenceBounds} paired
 * @param {number} margin
 * @param {CriterionStatus} status
 */
export function pairedIntervalChart(paired, margin, status) {
  const width = 320;
  const left = 12;
  const right = width - 12;
  let lo = Math.min(paired.lower, -margin, paired.mean);
  let hi = Math.max(paired.upper, 0, paired.mean);
  const span = Math.max(hi - lo, 4 * margin, 0.04);
  lo = Math.max(-1, lo - span * 0.08);
  hi = Math.min(1, hi + span * 0.08);
  /** @param {number} d */
  const x = (d) => (left + ((d - lo) / (hi - lo)) * (right - left)).toFixed(1);
  const axisY = 48;
  const zero = Number(x(0));
  // The champion's label under its line, kept inside the drawing near either edge.
  const zeroAnchor = zero > width - 26 ? 'end' : zero < 26 ? 'start' : 'middle';
  // −margin's label above, on the side of its line with room for it.
  const floor = Number(x(-margin));
  const floorLabel = floor < 60 ? { x: floor + 3, anchor: 'start' } : { x: floor - 3, anchor: 'end' };
  return svg(
    'svg',
    {
      class: 'paired-chart',
      viewBox: `0 0 ${width} 64`,
      role: 'img',
      'aria-label': `interval ${points(paired.lower)} to ${points(paired.upper)} against ${points(-margin)}`,
      'data-lower': paired.lower,
      'data-upper': paired.upper,
      'data-margin': margin,
    },
    svg('line', { class: 'axis', x1: left, x2: right, y1: axisY, y2: axisY }),
    svg('line', { class: 'zero', x1: x(0), x2: x(0), y1: 12, y2: axisY + 3 }),
    svg('text', { class: 'label', x: x(0), y: 61, 'text-anchor': zeroAnchor }, 'champion'),
    svg('line', { class: 'margin', x1: x(-margin), x2: x(-margin), y1: 12, y2: axisY + 3 }),
    svg(
      'text',
      { class: 'label margin-label', x: floorLabel.x.toFixed(1), y: 10, 'text-anchor': floorLabel.anchor },
      points(-margin),
    ),
    svg('rect', {
      class: `interval interval-${status}`,
      x: x(paired.lower),
      y: 22,
      width: Math.max(1, Number(x(paired.upper)) - Number(x(paired.lower))).toFixed(1),
      height: 12,
      rx: 2,
    }),
    svg('circle', { class: 'mean', cx: x(paired.mean), cy: 28, r: 3.5 }),
  );
}

/**
 * The challenger against the champion on the requests both answered and a person decided.
 * @param {Challenger} challenger
 */
function pairedSide(challenger) {
  const { paired, margin } = challenger;
  const criterion = challenger.criteria.find((c) => c.name === PAIRED);
  const intro = el(
    'p',
    { class: 'muted small' },
    `Challenger − champion agreement on the same requests: the interval's lower end must be at least ${points(-margin)} (the plan's margin). Approval ${challenger.approval}; ${percent(challenger.sampleRate, 0)} of requests asked.`,
  );
  if (!paired) {
    return el(
      'div',
      { class: 'side paired', dataset: { side: 'paired' } },
      el('h4', {}, 'Paired comparison'),
      intro,
      el('p', { class: 'muted', dataset: { field: 'paired-n', value: 0 } }, 'No pairs yet.'),
    );
  }
  return el(
    'div',
    { class: 'side paired', dataset: { side: 'paired' } },
    el('h4', {}, 'Paired comparison'),
    facts([
      ['pairs', el('span', { dataset: { value: paired.n } }, count(paired.n)), 'paired-n'],
      [
        'observed mean difference',
        el('span', { dataset: { value: paired.mean } }, points(paired.mean)),
        'paired-mean',
      ],
      [
        'interval',
        el(
          'span',
          { dataset: { lower: paired.lower, upper: paired.upper } },
          `${points(paired.lower)} .. ${points(paired.upper)}`,
        ),
        'paired-interval',
      ],
    ]),
    pairedIntervalChart(paired, margin, criterion?.status ?? 'inconclusive'),
    intro,
  );
}

/**
 * A challenger criterion's stage (`shadow.minSamples`: shadow) and the gate's own name.
 * @param {string} name
 */
function splitName(name) {
  const dot = name.indexOf('.');
  const stage = dot > 0 ? name.slice(0, dot) : '';
  return STAGES.includes(stage) ? { stage, base: name.slice(dot + 1) } : { stage: null, base: name };
}

/**
 * @param {string} base
 * @param {number | string | null | undefined} value
 */
const figure = (base, value) => criterionFigure(base, value);

/** @param {Criterion[]} criteria */
function criteriaTable(criteria) {
  const rows = criteria.map((c) => {
    const { status } = c;
    const { stage, base } = splitName(c.name);
    const observed =
      c.observed !== undefined && c.observed !== null
        ? el(
            'div',
            { class: 'muted small' },
            base === PAIRED
              ? `observed ${points(c.observed)} on ${count(c.samples)} pairs`
              : `observed ${percent(c.observed)} of ${count(c.samples)}`,
          )
        : null;
    return el('tr', { class: `criterion criterion-${status}`, dataset: { criterion: c.name, status } }, [
      el(
        'td',
        {},
        stage ? el('span', { class: 'muted small' }, `${stage} gate · `) : null,
        criterionLabel(base),
        c.detail ? el('div', { class: 'muted small' }, c.detail) : null,
      ),
      el('td', { class: 'num' }, `${criterionComparator(base)} ${figure(base, c.required)}`),
      el('td', { class: 'num' }, figure(base, c.actual), observed),
      el('td', {}, statusMark(status), ' ', status),
    ]);
  });
  return el(
    'table',
    { class: 'gate challenger-criteria' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', {}, 'Criterion'),
        el('th', { class: 'num' }, 'Required'),
        el('th', { class: 'num' }, 'Actual'),
        el('th', {}, 'Status'),
      ),
    ),
    el('tbody', {}, rows),
  );
}

/**
 * The panel, or null when the use case has no challenger.
 * @param {UseCaseDetail} detail
 * @param {Children} actions the release key's buttons (nothing for a key that may not)
 * @param {number} [now]
 */
export function challengerPanel(detail, actions, now = Date.now()) {
  const { challenger } = detail;
  if (!challenger) return null;
  const holding = challenger.criteria.filter((c) => c.holds).length;
  return el(
    'section',
    { class: 'panel wide', id: 'challenger-panel', dataset: { verdict: challenger.verdict } },
    el(
      'div',
      { class: 'panel-head' },
      el('h3', {}, 'Champion and challenger'),
      el('div', { class: 'actions', id: 'challenger-actions' }, actions),
    ),
    el(
      'div',
      { class: 'duel' },
      championSide(detail),
      challengerSide(challenger, now),
      pairedSide(challenger),
    ),
    el(
      'p',
      { class: 'muted small' },
      `The challenger takes over when every criterion holds (${holding} of ${challenger.criteria.length} do): the gates below ${detail.stage === 'disabled' ? 'the stage held' : detail.stage} on its own answers since it started, and the paired comparison.`,
    ),
    criteriaTable(challenger.criteria),
  );
}
