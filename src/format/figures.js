// @ts-check
/**
 * Figures as people read them: money, rates, counts and durations. The CLI, the Markdown report,
 * the demo and the dashboard all write figures with this module, so a figure prints the same in
 * each. Plain JavaScript with JSDoc types: the browser loads it as it is (`/format/figures.js`),
 * and the TypeScript code imports it. It imports nothing.
 *
 * Deterministic: no locale, no time zone. Every formatter answers NONE for null, undefined or a
 * number that is not finite (nothing measured yet), never "NaN" or "0".
 */

export const NONE = '—';

/**
 * @param {unknown} x
 * @returns {x is number}
 */
function measured(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

/**
 * Thousands separators in a string of digits: "1234567" → "1,234,567".
 * @param {string} digits
 */
function group(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Dollars. From $1,000 whole dollars with thousands separators ($12,346); from $1 cents ($12.35);
 * below $1 two significant digits and at least cents ($0.50, $0.012, $0.00042), since an AI call
 * costs fractions of a cent and a per-decision cost would otherwise print as $0.00.
 * @param {number | null | undefined} x
 */
export function usd(x) {
  if (!measured(x)) return NONE;
  const sign = x < 0 ? '-' : '';
  const abs = Math.abs(x);
  if (Math.round(abs * 100) >= 100_000) return `${sign}$${group(Math.round(abs).toString())}`;
  if (abs >= 1 || abs === 0) {
    const [whole = '0', cents = '00'] = abs.toFixed(2).split('.');
    return `${sign}$${group(whole)}.${cents}`;
  }
  const decimals = Math.min(20, Math.max(2, 1 - Math.floor(Math.log10(abs))));
  const text = abs.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1');
  return `${sign}$${text}`;
}

/**
 * A rate or fraction (agreement, error rate, precision) as a percentage: 0.93421 → "93.42%".
 * @param {number | null | undefined} x
 * @param {number} [digits] decimals of the percentage, 2 unless told
 */
export function percent(x, digits = 2) {
  if (!measured(x)) return NONE;
  return `${(x * 100).toFixed(digits)}%`;
}

/**
 * A count, rounded to a whole number, with thousands separators: 12345 → "12,345".
 * @param {number | null | undefined} x
 */
export function count(x) {
  if (!measured(x)) return NONE;
  const n = Math.round(x);
  return `${n < 0 ? '-' : ''}${group(Math.abs(n).toString())}`;
}

/**
 * A plain number to a fixed number of decimals (Cohen's kappa, a score): 0.81234 → "0.812".
 * @param {number | null | undefined} x
 * @param {number} [digits] 3 unless told
 */
export function decimal(x, digits = 3) {
  if (!measured(x)) return NONE;
  return x.toFixed(digits);
}

/** @type {ReadonlyArray<readonly [string, number]>} */
const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * A duration in milliseconds, written as the plan writes durations: "850ms" below a second,
 * "1.5s" below a minute, then the largest unit and the next one when it is not zero: "3m",
 * "1m 30s", "2h 5m", "7d", "6d 23h". Milliseconds are rounded; from a second on, the rest is
 * cut, never rounded up, so time elapsed shown beside the time required never looks longer than
 * it is. Zero is "0s".
 * @param {number | null | undefined} ms
 */
export function duration(ms) {
  if (!measured(ms)) return NONE;
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs === 0) return '0s';
  if (Math.round(abs) < 1000) return `${sign}${Math.round(abs)}ms`;
  // 999.6 ms rounds to a whole second: 1s, not 0.9s.
  if (abs < 60_000) return `${sign}${Math.max(10, Math.floor(abs / 100)) / 10}s`;
  /** @type {string[]} */
  const parts = [];
  let rest = Math.floor(abs);
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (parts.length === 0 && n === 0) continue;
    if (n > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2 || (parts.length === 1 && n === 0)) break;
  }
  return sign + parts.join(' ');
}

/**
 * A gate criterion's figure (its `required` or `actual`) in the unit of its kind: samples as a
 * count, agreement bounds and the error rate as percentages, latency as a duration, cost in
 * dollars. Text (a duration the plan wrote) is shown as it is.
 * @param {string} name the criterion's name: a `promoteWhen` field or `segment:<field>=<value>`
 * @param {number | string | null | undefined} value
 */
export function criterionFigure(name, value) {
  if (typeof value === 'string') return value;
  if (!measured(value)) return NONE;
  if (name === 'minSamples') return count(value);
  if (name === 'maxP95LatencyMs') return duration(value);
  if (name === 'maxAiCostPerDecision') return usd(value);
  if (name === 'agreementLowerBound' || name === 'maxAiErrorRate' || name.startsWith('segment:')) {
    return percent(value);
  }
  return String(value);
}

/**
 * "≥" for floors and lower bounds, "≤" for the maxima.
 * @param {string} name the criterion's name
 */
export function criterionComparator(name) {
  return name.startsWith('max') ? '≤' : '≥';
}
