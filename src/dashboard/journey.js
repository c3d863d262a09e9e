// @ts-check
import { count, duration, percent } from '../format/figures.js';
import { agreementAxis, draw } from './charts.js';
import { el } from './dom.js';
import { dateTime } from './format.js';

/**
 * The journey view: the stage visits as a strip, and agreement over the journey with the gate's
 * and the guard's lines, from `GET /v1/use-cases/:id/journey`. Both are on the controller's clock,
 * which the transitions are recorded on (the demo's simulated clock, in the demo).
 *
 * @typedef {import('../http/routes/journey-routes.js').JourneyResponse} Journey
 * @typedef {Journey['points'][number]} JourneyPoint
 */

/** The stage colours of the badges (dashboard.css), lighter: the bands behind the chart. */
const BANDS = /** @type {Record<string, string>} */ ({
  shadow: 'rgba(148, 163, 184, 0.16)',
  'human-reviewed': 'rgba(37, 99, 235, 0.10)',
  'limited-autonomous': 'rgba(22, 163, 74, 0.12)',
  disabled: 'rgba(220, 38, 38, 0.10)',
});

const LINES = {
  agreement: '#2563eb',
  lower: '#1e3a8a',
  gate: '#9a3412',
  guardWindow: '#7c3aed',
  guard: '#7c3aed',
};

/** A visit narrower than this share of the journey is still wide enough to read. */
const MIN_SHARE = 0.11;

/**
 * When each visit starts and ends, ms; the open one ends at the controller's now.
 * @param {Journey} journey
 */
function spans(journey) {
  const now = Date.parse(journey.now);
  return journey.visits.map((v) => {
    const start = Date.parse(v.enteredAt);
    return { visit: v, start, end: Math.max(start, v.leftAt ? Date.parse(v.leftAt) : now) };
  });
}

/**
 * The stage visits as a strip, each as wide as its time (never narrower than MIN_SHARE).
 * @param {Journey} journey
 */
export function stageStrip(journey) {
  const all = spans(journey);
  if (all.length === 0) return el('p', { class: 'muted' }, 'No stage visits yet.');
  const total = Math.max(1, (all.at(-1)?.end ?? 0) - (all[0]?.start ?? 0));
  const weights = all.map((s) => Math.max(MIN_SHARE, (s.end - s.start) / total));
  const sum = weights.reduce((a, b) => a + b, 0);
  return el(
    'ol',
    { class: 'stage-strip', id: 'stage-strip', 'aria-label': 'stage visits' },
    all.map((s, i) => {
      const item = el(
        'li',
        {
          class: `stage-${s.visit.stage}${s.visit.forced ? ' forced' : ''}`,
          title: `${s.visit.stage} from ${dateTime(s.visit.enteredAt)}${
            s.visit.leftAt ? ` to ${dateTime(s.visit.leftAt)}` : ' (now)'
          }\n${s.visit.actor}: ${s.visit.reason}`,
          dataset: { stage: s.visit.stage, stageVersion: s.visit.stageVersion },
        },
        el('span', { class: 'name' }, s.visit.stage),
        el('span', { class: 'length', dataset: { field: 'length' } }, duration(s.end - s.start)),
      );
      // Through the CSSOM: the page's Content Security Policy refuses inline style attributes.
      item.style.flexBasis = `${((100 * (weights[i] ?? 0)) / sum).toFixed(2)}%`;
      return item;
    }),
  );
}

/**
 * Where each point sits on the chart's axis: the compared decisions of the journey so far. A visit
 * starts from where the one before ended; within it the axis moves by what the cohort grew (a cohort
 * that started over, for a new model version, moves it by its own samples). Time would crowd the
 * chart where evidence arrives fast and stretch it where it waits (a minDuration, a night).
 * @param {JourneyPoint[]} points
 */
export function evidenceAxis(points) {
  /** @type {number[]} */
  const xs = [];
  let x = 0;
  let previous = /** @type {JourneyPoint | null} */ (null);
  for (const p of points) {
    const sameVisit = previous !== null && previous.stageVersion === p.stageVersion;
    const grew = sameVisit && previous !== null ? p.samples - previous.samples : p.samples;
    x += grew >= 0 ? grew : p.samples;
    xs.push(x);
    previous = p;
  }
  return xs;
}

/**
 * One line of the chart: a point per journey point, broken between stage visits (a null point at
 * each visit's start), so a line never joins two visits.
 * @param {JourneyPoint[]} points
 * @param {number[]} xs
 * @param {(p: JourneyPoint) => number | null} value
 */
function line(points, xs, value) {
  /** @type {Array<{ x: number, y: number | null }>} */
  const data = [];
  points.forEach((p, i) => {
    const x = xs[i] ?? 0;
    if (i > 0 && points[i - 1]?.stageVersion !== p.stageVersion) data.push({ x, y: null });
    data.push({ x, y: value(p) });
  });
  return data;
}

/**
 * The stretch of the axis each visit with points covers: from where the visit before it ended (0
 * for the first) to its own last point.
 * @param {JourneyPoint[]} points
 * @param {number[]} xs
 */
function visitBands(points, xs) {
  /** @type {Array<{ stage: string, from: number, to: number }>} */
  const bands = [];
  points.forEach((p, i) => {
    const x = xs[i] ?? 0;
    const last = bands.at(-1);
    if (last && points[i - 1]?.stageVersion === p.stageVersion) {
      last.to = x;
      return;
    }
    bands.push({ stage: p.stage, from: last?.to ?? 0, to: x });
  });
  return bands;
}

/**
 * Agreement over the journey: the gate's cohort agreement and its sequential lower bound against
 * the gate's threshold, and the guard window's agreement against its guard, along the compared
 * decisions of the journey (evidenceAxis), over bands that show the stage each stretch was in.
 * @param {HTMLCanvasElement} canvas
 * @param {Journey} journey
 */
export function journeyChart(canvas, journey) {
  const { points } = journey;
  const xs = evidenceAxis(points);
  const bands = visitBands(points, xs);
  const series = [
    { label: 'agreement', value: (/** @type {JourneyPoint} */ p) => p.agreement, color: LINES.agreement },
    { label: 'lower bound', value: (/** @type {JourneyPoint} */ p) => p.lowerBound, color: LINES.lower },
    { label: 'gate threshold', value: (/** @type {JourneyPoint} */ p) => p.required, color: LINES.gate },
    {
      label: 'guard window',
      value: (/** @type {JourneyPoint} */ p) => p.guardAgreement,
      color: LINES.guardWindow,
    },
    {
      label: 'guard threshold',
      value: (/** @type {JourneyPoint} */ p) => p.guardThreshold,
      color: LINES.guard,
    },
  ];
  const datasets = series
    .map((s) => ({ ...s, data: line(points, xs, s.value) }))
    .filter((s) => s.data.some((d) => d.y !== null))
    .map((s) => {
      const threshold = s.label.endsWith('threshold');
      return {
        label: s.label,
        data: s.data,
        borderColor: s.color,
        backgroundColor: s.color,
        borderWidth: threshold ? 1.5 : 2,
        borderDash: threshold ? [6, 4] : [],
        stepped: threshold ? /** @type {const} */ ('before') : false,
        pointRadius: threshold || points.length > 48 ? 0 : 2,
        spanGaps: false,
      };
    });
  const lowest = points.flatMap((p) => [p.lowerBound, p.guardAgreement, p.required, p.guardThreshold]);
  /** @type {import('chart.js').Plugin<'line'>} */
  const stageBands = {
    id: 'stageBands',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      for (const b of bands) {
        const left = Math.max(chartArea.left, scales.x?.getPixelForValue(b.from) ?? 0);
        const right = Math.min(chartArea.right, scales.x?.getPixelForValue(b.to) ?? 0);
        if (right <= left) continue;
        ctx.fillStyle = BANDS[b.stage] ?? 'transparent';
        ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
      }
      ctx.restore();
    },
  };
  /** @param {number} x */
  const pointAt = (x) => points[xs.lastIndexOf(x)];
  return draw(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'linear',
          min: 0,
          max: Math.max(1, xs.at(-1) ?? 0),
          title: { display: true, text: 'compared decisions over the journey' },
          ticks: { maxTicksLimit: 8, maxRotation: 0, callback: (v) => count(Number(v)) },
        },
        y: agreementAxis(
          null,
          lowest.filter((x) => x !== null),
        ),
      },
      plugins: {
        tooltip: {
          callbacks: {
            title: (items) => {
              const p = pointAt(items[0]?.parsed.x ?? -1);
              return p ? `${p.stage} · ${dateTime(p.at)}` : '';
            },
            label: (ctx) => `${ctx.dataset.label}: ${percent(ctx.parsed.y)}`,
            afterBody: (items) => {
              const p = pointAt(items[0]?.parsed.x ?? -1);
              return p ? `${count(p.samples)} compared in this visit · gate ${p.verdict}` : '';
            },
          },
        },
      },
    },
    plugins: [stageBands],
  });
}

/**
 * The panel's body: the strip, then the chart's canvas (drawn once in the page) or why there is none.
 * @param {Journey | { error: string }} journey
 */
export function journeyBody(journey) {
  if ('error' in journey) return [el('p', { class: 'error' }, journey.error)];
  return [
    stageStrip(journey),
    journey.points.length === 0
      ? el('p', { class: 'muted' }, 'No tick has judged this use case yet.')
      : el('div', { class: 'chart' }, el('canvas', { id: 'journey-chart' })),
    journey.truncated
      ? el('p', { class: 'muted small' }, 'Only the newest points are shown; older ones exist.')
      : null,
  ];
}
