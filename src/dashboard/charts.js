// @ts-check
import { duration, percent, usd } from '../format/figures.js';
import { bucketLabel } from './format.js';

/**
 * The dashboard's charts, drawn by Chart.js (its UMD build, loaded before this module, defines
 * `window.Chart`). Animation is off: the page redraws on refresh and should not flicker.
 */

const { Chart } = window;

/**
 * @typedef {import('chart.js').ChartType} ChartType
 * @typedef {import('./api.js').Timeseries} Timeseries
 * @typedef {import('./api.js').CohortMetrics} CohortMetrics
 * @typedef {import('./api.js').SegmentMetrics} SegmentMetrics
 */

const COLORS = {
  agreement: '#2563eb',
  band: 'rgba(37, 99, 235, 0.14)',
  threshold: '#9a3412',
  latency: '#7c3aed',
  errors: '#dc2626',
  ai: '#0f766e',
  human: '#94a3b8',
  lower: '#1e3a8a',
  grid: '#e5e7eb',
};

Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
Chart.defaults.font.size = 12;
Chart.defaults.color = '#4b5563';
Chart.defaults.borderColor = COLORS.grid;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 12;

/** @type {Map<string, { destroy(): void }>} */
const charts = new Map();

/**
 * Draws a chart in `canvas`, replacing whatever chart was there.
 * @template {ChartType} T
 * @param {HTMLCanvasElement} canvas
 * @param {import('chart.js').ChartConfiguration<T> | import('chart.js').ChartConfigurationCustomTypesPerDataset<T>} config
 */
export function draw(canvas, config) {
  charts.get(canvas.id)?.destroy();
  const chart = new Chart(canvas, config);
  charts.set(canvas.id, chart);
  return chart;
}

export function destroyCharts() {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
}

/**
 * @template V
 * @param {V} value
 * @param {number} n
 */
const flat = (value, n) => Array.from({ length: n }, () => value);

/**
 * Points are drawn on a line only while there are few enough to tell apart.
 * @param {number} n
 */
const pointRadius = (n) => (n > 48 ? 0 : 2);

/**
 * An agreement axis from just below the lowest bound or threshold shown (a 5% step) up to 100%.
 * @param {number | null | undefined} threshold
 * @param {Array<number | null>} lowerBounds
 */
export function agreementAxis(threshold, lowerBounds) {
  const lowest = Math.min(threshold ?? 1, ...lowerBounds.filter((x) => x !== null));
  return {
    min: Math.max(0, Math.floor((lowest - 0.05) * 20) / 20),
    max: 1,
    ticks: { callback: (/** @type {number | string} */ v) => percent(/** @type {number} */ (v), 0) },
  };
}

/**
 * The gate's threshold as a dashed line across all `n` labels; `extra` places it in a mixed chart.
 * @template {object} X
 * @param {string} label
 * @param {number} threshold
 * @param {number} n
 * @param {X} extra
 */
function thresholdLine(label, threshold, n, extra) {
  return {
    label,
    data: flat(threshold, n),
    borderColor: COLORS.threshold,
    borderDash: [6, 4],
    borderWidth: 1.5,
    pointRadius: 0,
    ...extra,
  };
}

/**
 * Tooltips of an agreement chart: each value as a percentage, then what `detail(index)` says of the point.
 * @param {(index: number) => string} detail
 */
function agreementTooltip(detail) {
  return {
    callbacks: {
      /** @param {import('chart.js').TooltipItem<'line' | 'bar'>} ctx */
      label: (ctx) => `${ctx.dataset.label}: ${percent(ctx.parsed.y)}`,
      /** @param {import('chart.js').TooltipItem<'line' | 'bar'>[]} items */
      afterBody: (items) => detail(items[0]?.dataIndex ?? -1),
    },
  };
}

/**
 * Agreement per bucket with its Wilson interval as a filled band, and the gate's threshold.
 * @param {HTMLCanvasElement} canvas
 * @param {Timeseries} series
 * @param {number | null | undefined} threshold the agreement criterion's `required`
 * @param {string | null | undefined} targetStage
 */
export function agreementChart(canvas, series, threshold, targetStage) {
  const labels = series.points.map((p) => bucketLabel(p.start, series.bucket));
  /** @type {import('chart.js').ChartDataset<'line', Array<number | null>>[]} */
  const datasets = [
    {
      label: `${percent(series.confidence, 0)} interval`,
      data: series.points.map((p) => p.agreementUpper),
      borderWidth: 0,
      pointRadius: 0,
      backgroundColor: COLORS.band,
      fill: '+1',
    },
    {
      label: 'lower',
      data: series.points.map((p) => p.agreementLower),
      borderWidth: 0,
      pointRadius: 0,
      fill: false,
    },
    {
      label: 'agreement',
      data: series.points.map((p) => p.agreement),
      borderColor: COLORS.agreement,
      backgroundColor: COLORS.agreement,
      borderWidth: 2,
      pointRadius: pointRadius(series.points.length),
      fill: false,
    },
  ];
  if (threshold !== undefined && threshold !== null) {
    datasets.push(
      thresholdLine(`gate to ${targetStage}: ${percent(threshold, 0)}`, threshold, labels.length, {
        fill: false,
      }),
    );
  }
  return draw(canvas, {
    type: 'line',
    data: { labels, datasets },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        y: agreementAxis(
          threshold,
          series.points.map((p) => p.agreementLower),
        ),
        x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } },
      },
      plugins: {
        legend: { labels: { filter: (item) => item.text !== 'lower' } },
        tooltip: agreementTooltip((i) => {
          const p = series.points[i];
          return p ? `${p.samples} compared of ${p.decisions}` : '';
        }),
      },
    },
  });
}

/**
 * AI latency p95 (left axis) and AI error rate (right axis) per bucket.
 * @param {HTMLCanvasElement} canvas
 * @param {Timeseries} series
 */
export function latencyErrorChart(canvas, series) {
  const labels = series.points.map((p) => bucketLabel(p.start, series.bucket));
  return draw(canvas, {
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'p95 latency',
          data: series.points.map((p) => p.latencyP95Ms),
          borderColor: COLORS.latency,
          backgroundColor: COLORS.latency,
          borderWidth: 2,
          pointRadius: pointRadius(series.points.length),
          yAxisID: 'latency',
        },
        {
          label: 'AI error rate',
          data: series.points.map((p) => p.aiErrorRate),
          borderColor: COLORS.errors,
          backgroundColor: COLORS.errors,
          borderWidth: 2,
          pointRadius: pointRadius(series.points.length),
          yAxisID: 'errors',
        },
      ],
    },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        latency: {
          position: 'left',
          beginAtZero: true,
          ticks: { callback: (v) => duration(/** @type {number} */ (v)) },
        },
        errors: {
          position: 'right',
          beginAtZero: true,
          suggestedMax: 0.05,
          grid: { drawOnChartArea: false },
          ticks: { callback: (v) => percent(/** @type {number} */ (v), 0) },
        },
        x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (ctx) =>
              ctx.dataset.yAxisID === 'errors'
                ? `AI error rate: ${percent(ctx.parsed.y)}`
                : `p95 latency: ${duration(ctx.parsed.y)}`,
          },
        },
      },
    },
  });
}

/**
 * Cost per decision of each cohort, AI and human parts stacked, and in limited-autonomous the
 * expected cost of the AI's errors where it decides alone.
 * @param {HTMLCanvasElement} canvas
 * @param {CohortMetrics[]} cohorts
 */
export function costChart(canvas, cohorts) {
  return draw(canvas, {
    type: 'bar',
    data: {
      labels: cohorts.map((c) => `${c.stage} (${c.modelVersion ?? 'pending'})`),
      datasets: [
        {
          label: 'AI',
          data: cohorts.map((c) => c.aiCostPerDecision ?? 0),
          backgroundColor: COLORS.ai,
        },
        {
          label: 'human',
          data: cohorts.map((c) => c.humanCostPerDecision),
          backgroundColor: COLORS.human,
        },
        {
          // limited-autonomous only: what the AI's errors are expected to cost where it decides.
          label: 'expected errors',
          data: cohorts.map((c) => c.expectedErrorCostPerDecision ?? 0),
          backgroundColor: COLORS.errors,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: { stacked: true, beginAtZero: true, ticks: { callback: (v) => usd(/** @type {number} */ (v)) } },
        y: { stacked: true },
      },
      plugins: {
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${usd(ctx.parsed.x)}` } },
      },
    },
  });
}

/**
 * Agreement of each segment value, its lower bound as a marker, and the gate's segment threshold.
 * @param {HTMLCanvasElement} canvas
 * @param {SegmentMetrics[]} segments
 * @param {number | null | undefined} threshold the segment criteria's `required`
 */
export function segmentChart(canvas, segments, threshold) {
  const labels = segments.map((s) => [s.segment, s.value]);
  /** @type {import('chart.js').ChartDatasetCustomTypesPerDataset<'bar' | 'line', Array<number | null>>[]} */
  const datasets = [
    {
      type: 'bar',
      label: 'agreement',
      data: segments.map((s) => s.agreement),
      backgroundColor: 'rgba(37, 99, 235, 0.55)',
      borderColor: COLORS.agreement,
      borderWidth: 1,
      order: 2,
    },
    {
      type: 'line',
      label: 'lower bound',
      data: segments.map((s) => s.agreementLowerBound),
      showLine: false,
      pointStyle: 'line',
      pointRadius: 14,
      pointHoverRadius: 14,
      pointBorderWidth: 3,
      borderColor: COLORS.lower,
      backgroundColor: COLORS.lower,
      order: 1,
    },
  ];
  if (threshold !== undefined && threshold !== null) {
    datasets.push(
      thresholdLine(`gate ${percent(threshold, 0)}`, threshold, labels.length, { type: 'line', order: 0 }),
    );
  }
  return draw(canvas, {
    data: { labels, datasets },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        y: agreementAxis(
          threshold,
          segments.map((s) => s.agreementLowerBound),
        ),
        x: { ticks: { maxRotation: 0, autoSkip: false } },
      },
      plugins: {
        tooltip: agreementTooltip((i) => {
          const s = segments[i];
          return s ? `${s.samples} compared` : '';
        }),
      },
    },
  });
}
