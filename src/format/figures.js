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

/**
 * Cohen's kappa, with its interval when there is one: 0.81234 and {0.78, 0.845} → "0.812 (0.780 to
 * 0.845)"; the kappa alone without one.
 * @param {number | null | undefined} k
 * @param {{ lower: number, upper: number } | null | undefined} [interval]
 */
export function kappa(k, interval) {
  if (!measured(k)) return NONE;
  if (!interval || !measured(interval.lower) || !measured(interval.upper)) return decimal(k);
  return `${decimal(k)} (${decimal(interval.lower)} to ${decimal(interval.upper)})`;
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
 * A gate criterion's figure (its `required`, `actual` or `observed`) in the unit of its kind:
 * samples as a count, agreement bounds (overall, per segment value, per label) and the error rate
 * as percentages, latency as a duration, costs (the AI's, the error cost per decision) in dollars.
 * Text (a duration the plan wrote) is shown as it is.
 * @param {string} name the criterion's name: a `promoteWhen` field, `segment:<field>=<value>`,
 *   `labelRecallLowerBound:<label>` or `labelPrecisionLowerBound:<label>`
 * @param {number | string | null | undefined} value
 */
export function criterionFigure(name, value) {
  if (typeof value === 'string') return value;
  if (!measured(value)) return NONE;
  if (name === PAIRED_CRITERION) return points(value);
  name = baseCriterion(name);
  if (name === 'minSamples') return count(value);
  if (name === 'maxP95LatencyMs') return duration(value);
  if (name === 'maxAiCostPerDecision' || name === 'maxErrorCostPerDecision') return usd(value);
  if (
    name === 'agreementLowerBound' ||
    name === 'judgeAgreementLowerBound' ||
    name === 'maxAiErrorRate' ||
    name.startsWith('segment:') ||
    name.startsWith('labelRecallLowerBound:') ||
    name.startsWith('labelPrecisionLowerBound:')
  ) {
    return percent(value);
  }
  return String(value);
}

/**
 * "≥" for floors and lower bounds, "≤" for the maxima.
 * @param {string} name the criterion's name
 */
export function criterionComparator(name) {
  return baseCriterion(name).startsWith('max') ? '≤' : '≥';
}

/** A challenger's paired criterion (its agreement minus its champion's, on the same requests). */
export const PAIRED_CRITERION = 'championNonInferiority';

/** The stages whose gates a challenger is judged by; its criteria are named `<stage>.<criterion>`. */
const GATE_STAGES = ['shadow', 'human-reviewed', 'limited-autonomous'];

/**
 * The `promoteWhen` field a criterion's name stands for: `shadow.minSamples` → `minSamples`.
 * @param {string} name
 */
export function baseCriterion(name) {
  const dot = name.indexOf('.');
  return dot > 0 && GATE_STAGES.includes(name.slice(0, dot)) ? name.slice(dot + 1) : name;
}

/**
 * A difference of two agreements (a challenger's minus its champion's) in percentage points,
 * signed: 0.008 → "+0.8 pp", -0.02 → "-2.0 pp", 0 → "0.0 pp".
 * @param {number | null | undefined} x
 */
export function points(x) {
  if (!measured(x)) return NONE;
  const text = (Math.abs(x) * 100).toFixed(1);
  const sign = text === '0.0' ? '' : x < 0 ? '-' : '+';
  return `${sign}${text} pp`;
}

/**
 * A measured rate against the threshold it is judged by: "93.10% vs ≥ 90.00%" (a gate's bound must
 * reach it), "84.50% vs < 85.00%" (a guard trips under it); the rate alone without a threshold.
 * @param {number | null | undefined} actual
 * @param {number | null | undefined} threshold
 * @param {'≥' | '<'} op
 */
export function percentAgainst(actual, threshold, op) {
  if (!measured(actual)) return NONE;
  return measured(threshold) ? `${percent(actual)} vs ${op} ${percent(threshold)}` : percent(actual);
}
