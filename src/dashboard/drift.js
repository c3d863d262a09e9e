// @ts-check
import { count, decimal, percent } from '../format/figures.js';
import { api, useCasePath } from './api.js';
import { el, num, table } from './dom.js';
import { dateTime } from './format.js';

/**
 * Drift (README "Drift"): the current window of the stage visit against the reference it was
 * earned on, as GET /v1/use-cases/:id/drift answers it. The fields that moved most side by side
 * (a bar chart each), every field's measures and verdict, the override and escalation rates beside
 * their reference values, and what each drift guard does. Text goes in as text nodes.
 */

/**
 * @typedef {import('zod').infer<typeof import('../http/routes/drift-routes.js').driftResponseSchema>} Drift
 * @typedef {Drift['fields'][number]} DriftField
 * @typedef {Drift['guards'][number]} DriftGuard
 * @typedef {Drift['overrideRate']} DriftRate
 * @typedef {import('./dom.js').Children} Children
 */

/** The fields charted, most moved first. */
export const CHARTED_FIELDS = 3;
/** Bars per chart at most: a categorical field's values with the largest shares. */
const MAX_BARS = 12;
const COLORS = { reference: '#94a3b8', current: '#2563eb' };

/** @type {Array<{ destroy(): void }>} */
let drawn = [];

/**
 * The drift of a use case, or why it could not be read (the panel says so).
 * @param {string} id
 * @returns {Promise<Drift | { error: string }>}
 */
export function readDrift(id) {
  return /** @type {Promise<Drift>} */ (api(useCasePath(id, '/drift'))).catch((e) => ({
    error: /** @type {Error} */ (e).message,
  }));
}

/**
 * Where the fields' thresholds come from, as the controller judged them.
 * @param {DriftField[]} fields
 */
function thresholdNote(fields) {
  const watched = fields.find((f) => f.watched);
  const other = fields.find((f) => !f.watched);
  return [
    watched && `${decimal(watched.threshold, 2)} for the fields the stage's driftAbove guard names`,
    other &&
      `${decimal(other.threshold, 2)}, a major shift, for ${watched ? 'the others' : 'every field: the stage has no driftAbove guard'}`,
  ]
    .filter(Boolean)
    .join('; ');
}

/**
 * The fields with observations, largest PSI first (none measured last).
 * @param {Drift} drift
 */
export function rankedFields(drift) {
  return drift.fields
    .filter((f) => f.referenceTotal > 0 || f.currentTotal > 0)
    .sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1));
}

/** @param {'stable' | 'drifted' | 'insufficient'} verdict */
function verdictBadge(verdict) {
  return el(
    'span',
    { class: `badge drift-${verdict}`, dataset: { field: 'verdict', value: verdict } },
    verdict,
  );
}

/**
 * What a guard does now: trips at the next tick, has tripped against this reference, holds, or waits.
 * @param {Drift} drift
 * @param {DriftGuard} g
 */
function guardCheck(drift, g) {
  const tripped = drift.reference.trippedAt;
  if (g.status === 'drifted') {
    // A guard trips once per reference: drifted again after a trip, it waits for a re-baseline.
    return tripped
      ? { check: 'tripped', text: `tripped at ${dateTime(tripped)} (once per reference)` }
      : { check: 'would-trip', text: 'would trip at the next tick' };
  }
  if (g.status === 'stable') return { check: 'holds', text: 'holds' };
  return { check: 'insufficient', text: `waits for a full window (${count(drift.minWindow)})` };
}

/**
 * @param {DriftGuard} g
 * @param {number | null} x
 */
const guardFigure = (g, x) => (g.guard === 'driftAbove' ? decimal(x) : percent(x, 1));

/** @type {Record<DriftGuard['guard'], string>} */
const GUARD_LABELS = {
  driftAbove: 'PSI of its fields',
  overrideRateAbove: 'override rate',
  escalationRateAbove: 'escalation rate',
};

/** @param {Drift} drift */
function guardsTable(drift) {
  if (drift.guards.length === 0) {
    return el(
      'p',
      { class: 'muted small' },
      `No drift guard in ${drift.stage}: the figures are for reading.`,
    );
  }
  return table(
    ['Guard', num('Above'), num('Actual'), 'Status', 'Check'],
    drift.guards.map((g) => {
      const { check, text } = guardCheck(drift, g);
      return el(
        'tr',
        { class: `drift-guard drift-guard-${check}`, dataset: { guard: g.guard, status: g.status, check } },
        el(
          'td',
          {},
          el('code', {}, g.guard),
          el(
            'div',
            { class: 'muted small' },
            GUARD_LABELS[g.guard] ?? g.guard,
            g.drifted?.length ? `: above on ${g.drifted.join(', ')}` : null,
          ),
        ),
        el('td', { class: 'num' }, guardFigure(g, g.threshold)),
        el(
          'td',
          { class: 'num', dataset: { field: 'actual', value: g.actual ?? '' } },
          guardFigure(g, g.actual),
        ),
        el('td', {}, verdictBadge(g.status)),
        el('td', { dataset: { field: 'check' } }, text),
      );
    }),
    { class: 'drift-guards' },
  );
}

/**
 * A rate beside its reference: "5.8% of 693 · reference 3.7% of 596".
 * @param {DriftRate} r
 * @param {string} of what the samples are
 */
function rateFigure(r, of) {
  return [
    el('span', { dataset: { value: r.current ?? '' } }, percent(r.current, 1)),
    el(
      'span',
      { class: 'muted small' },
      ` of ${count(r.samples)} ${of} · reference `,
      el('span', { dataset: { reference: r.reference ?? '' } }, percent(r.reference, 1)),
      ` of ${count(r.referenceSamples)}`,
    ),
  ];
}

/** @param {Drift} drift */
function ratesList(drift) {
  const e = drift.escalationRate;
  const reasons = Object.entries(e.byReason ?? {}).filter(([, share]) => share > 0);
  return el(
    'dl',
    { class: 'facts drift-rates' },
    el('dt', {}, 'override rate (human-reviewed)'),
    el('dd', { dataset: { field: 'override-rate' } }, rateFigure(drift.overrideRate, 'suggestions')),
    el('dt', {}, 'escalation rate (limited-autonomous)'),
    el('dd', { dataset: { field: 'escalation-rate' } }, rateFigure(e, 'requests')),
    el('dt', {}, 'escalated, by reason'),
    el(
      'dd',
      { dataset: { field: 'escalation-reasons' } },
      reasons.length === 0
        ? el('span', { class: 'muted' }, 'none in the window')
        : reasons.map(([reason, share], i) => [
            i > 0 ? ' · ' : null,
            el('span', { dataset: { reason, value: share } }, `${reason} ${percent(share, 1)}`),
          ]),
    ),
  );
}

/**
 * The measures of a field in one line: PSI and JS distance (and the unseen share), or PSI, KS and
 * Wasserstein (in the field's units, and over the reference's IQR).
 * @param {DriftField} f
 * @returns {Children}
 */
function measures(f) {
  /**
   * @param {string} name
   * @param {string} field
   * @param {number | null} value
   * @param {string} text
   */
  const m = (name, field, value, text) => [
    name ? `${name} ` : null,
    el('span', { dataset: { field, value: value ?? '' } }, text),
  ];
  const psi = m('PSI', 'psi', f.psi, decimal(f.psi));
  if (f.type === 'categorical') {
    return [
      psi,
      ' · ',
      m('JS', 'js', f.jsDistance, decimal(f.jsDistance)),
      ...(f.unseenShare ? [' · ', m('unseen', 'unseen', f.unseenShare, percent(f.unseenShare, 1))] : []),
    ];
  }
  return [
    psi,
    ' · ',
    m('KS', 'ks', f.ks, decimal(f.ks)),
    ' · ',
    m('Wasserstein', 'wasserstein', f.wasserstein, decimal(f.wasserstein, 2)),
    ' (',
    m('', 'wasserstein-iqr', f.normalisedWasserstein, decimal(f.normalisedWasserstein, 2)),
    ' reference IQRs)',
  ];
}

/**
 * The values a field's chart shows: a categorical field's largest (by the larger of its two shares),
 * a numeric field's buckets in order.
 * @param {DriftField} f
 */
export function chartedValues(f) {
  if (f.type === 'numeric') return f.values;
  return [...f.values]
    .sort((a, b) => Math.max(b.referenceShare, b.currentShare) - Math.max(a.referenceShare, a.currentShare))
    .slice(0, MAX_BARS);
}

/**
 * A charted field: its name and verdict, its measures, and a canvas for its bars.
 * @param {DriftField} f
 * @param {number} i
 */
function fieldCard(f, i) {
  return el(
    'div',
    { class: 'drift-field', dataset: { driftField: f.field } },
    el('h4', {}, el('code', {}, f.field), ' ', verdictBadge(f.verdict)),
    el('div', { class: 'muted small' }, measures(f)),
    el('div', { class: 'chart drift-chart' }, el('canvas', { id: `drift-chart-${i}` })),
  );
}

/**
 * Reference against current shares of one field.
 * @param {HTMLCanvasElement} canvas
 * @param {DriftField} f
 */
function drawField(canvas, f) {
  const values = chartedValues(f);
  /**
   * @param {'reference' | 'current'} side
   * @param {string} label
   */
  const dataset = (side, label) => ({
    label,
    data: values.map((v) => (side === 'reference' ? v.referenceShare : v.currentShare)),
    backgroundColor: COLORS[side],
  });
  return new window.Chart(canvas, {
    type: 'bar',
    data: {
      labels: values.map((v) => v.value),
      datasets: [
        dataset('reference', `reference (${count(f.referenceTotal)})`),
        dataset('current', `current (${count(f.currentTotal)})`),
      ],
    },
    options: {
      scales: {
        y: { beginAtZero: true, ticks: { callback: (v) => percent(/** @type {number} */ (v), 0) } },
        x: { ticks: { maxRotation: 45, autoSkip: f.type === 'numeric' } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const v = values[ctx.dataIndex];
              const n = ctx.datasetIndex === 0 ? v?.reference : v?.current;
              return `${ctx.dataset.label?.split(' ')[0]}: ${percent(ctx.parsed.y, 1)} (${count(n)})`;
            },
          },
        },
      },
    },
  });
}

/**
 * Every field's measures and verdict, most moved first.
 * @param {DriftField[]} fields
 */
function fieldsTable(fields) {
  return table(
    [
      'Field',
      num('PSI'),
      num('JS / KS'),
      num('Wasserstein / IQR'),
      num('Reference'),
      num('Current'),
      'Verdict',
    ],
    fields.map((f) =>
      el(
        'tr',
        { dataset: { field: f.field } },
        el('td', {}, el('code', {}, f.field)),
        el('td', { class: 'num', dataset: { measure: 'psi', value: f.psi ?? '' } }, decimal(f.psi)),
        el(
          'td',
          { class: 'num' },
          f.type === 'categorical' ? `JS ${decimal(f.jsDistance)}` : `KS ${decimal(f.ks)}`,
        ),
        el('td', { class: 'num' }, f.type === 'numeric' ? decimal(f.normalisedWasserstein, 2) : '—'),
        el('td', { class: 'num' }, count(f.referenceTotal)),
        el('td', { class: 'num' }, count(f.currentTotal)),
        el('td', {}, verdictBadge(f.verdict)),
      ),
    ),
    { class: 'drift-fields-table' },
  );
}

/**
 * @param {Drift['current']} w
 * @param {string} what
 */
function windowText(w, what) {
  return w.decisions === 0
    ? `${what}: no decisions`
    : `${what}: ${count(w.decisions)} decisions, ${dateTime(w.from)} to ${dateTime(w.to)}`;
}

/**
 * The panel. Its charts are drawn once it is in the page (right after the caller appends it).
 * @param {Drift | { error: string }} drift
 */
export function driftPanel(drift) {
  for (const chart of drawn) chart.destroy();
  drawn = [];
  const head = el('h3', {}, 'Drift');
  if ('error' in drift) {
    return el(
      'section',
      { class: 'panel wide', id: 'drift-panel' },
      head,
      el('p', { class: 'error' }, drift.error),
    );
  }
  const fields = rankedFields(drift);
  const charted = fields.filter((f) => f.psi !== null).slice(0, CHARTED_FIELDS);
  const ref = drift.reference;
  const panel = el(
    'section',
    { class: 'panel wide', id: 'drift-panel', dataset: { stage: drift.stage } },
    head,
    el(
      'p',
      { class: 'muted small' },
      `${drift.stage}, stage version ${drift.stageVersion}. `,
      el(
        'span',
        { dataset: { field: 'reference-window', value: ref.window.decisions } },
        windowText(ref.window, 'Reference'),
      ),
      `, taken ${dateTime(ref.takenAt)} by ${ref.takenBy} (${ref.reason}). `,
      el(
        'span',
        { dataset: { field: 'current-window', value: drift.current.decisions } },
        windowText(drift.current, 'Current window'),
      ),
      ` (drift.window ${typeof drift.window === 'number' ? `${count(drift.window)} decisions` : drift.window}; judged from ${count(drift.minWindow)}).`,
    ),
    guardsTable(drift),
    ratesList(drift),
    charted.length === 0
      ? el('p', { class: 'muted' }, 'Nothing measured in this window yet.')
      : el(
          'div',
          { class: 'drift-charts' },
          charted.map((f, i) => fieldCard(f, i)),
        ),
    fields.length > 0 ? fieldsTable(fields) : null,
    el(
      'p',
      { class: 'muted small' },
      `Verdict: drifted when the PSI is above the field's threshold (${thresholdNote(drift.fields)}), on a window of at least ${count(drift.minWindow)} observations of the field. PSI: population stability index; JS: Jensen–Shannon distance; KS: Kolmogorov–Smirnov.`,
    ),
  );
  // Drawn once the caller has put the panel in the page (Chart.js sizes a canvas by its box).
  queueMicrotask(() => {
    charted.forEach((f, i) => {
      const canvas = panel.querySelector(`#drift-chart-${i}`);
      if (canvas instanceof HTMLCanvasElement && canvas.isConnected) drawn.push(drawField(canvas, f));
    });
  });
  return panel;
}
