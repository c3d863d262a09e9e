/**
 * How the dashboard writes numbers. Every formatter takes the API's raw value and answers "—"
 * for null or undefined (nothing measured yet), never "NaN" or "0".
 */

const NONE = '—';

const missing = (x) => x === null || x === undefined || (typeof x === 'number' && !Number.isFinite(x));

/** 0.9342 → "93.4%". */
export function pct(x, digits = 1) {
  if (missing(x)) return NONE;
  return `${(x * 100).toFixed(digits)}%`;
}

/** Dollars: cents above $1, two significant digits below (AI calls cost fractions of a cent). */
export function usd(x) {
  if (missing(x)) return NONE;
  const abs = Math.abs(x);
  const digits =
    abs >= 1 || abs === 0
      ? { minimumFractionDigits: 2, maximumFractionDigits: 2 }
      : { maximumSignificantDigits: 2 };
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', ...digits }).format(x);
}

export function int(x) {
  if (missing(x)) return NONE;
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format(x);
}

export function ms(x) {
  if (missing(x)) return NONE;
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${int(x)} ms`;
}

const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});
const DAY = new Intl.DateTimeFormat('en-GB', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const HOUR = new Intl.DateTimeFormat('en-GB', {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});

/** Times are shown in UTC, as the API's buckets are. */
export function dateTime(iso) {
  if (!iso) return NONE;
  return `${DATE_TIME.format(new Date(iso))} UTC`;
}

export function bucketLabel(iso, bucket) {
  return (bucket === 'day' ? DAY : HOUR).format(new Date(iso));
}

/** "3d 4h" since `iso`, at `now`. */
export function since(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  const units = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ];
  const parts = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.length === 0 ? `${seconds}s` : parts.join(' ');
}

/** A gate criterion's name as a person reads it. */
export function criterionLabel(name) {
  if (name.startsWith('segment:')) return `agreement bound, ${name.slice('segment:'.length)}`;
  const labels = {
    minSamples: 'compared decisions',
    minDuration: 'time in stage',
    agreementLowerBound: 'agreement lower bound',
    maxAiErrorRate: 'AI error rate',
    maxP95LatencyMs: 'AI latency p95',
    maxAiCostPerDecision: 'AI cost per decision',
  };
  return labels[name] ?? name;
}

/** A criterion's value (required or actual) in the unit of its kind. */
export function criterionValue(name, value) {
  if (missing(value)) return NONE;
  if (typeof value === 'string') return value;
  if (name === 'minSamples') return int(value);
  if (name === 'maxP95LatencyMs') return ms(value);
  if (name === 'maxAiCostPerDecision') return usd(value);
  if (name === 'maxAiErrorRate') return pct(value, 2);
  return pct(value, 1);
}

/** "≥" for floors and lower bounds, "≤" for the maxima. */
export function criterionComparator(name) {
  return name.startsWith('max') ? '≤' : '≥';
}
