// @ts-check
/**
 * How the dashboard writes times and criterion names. Figures (money, rates, counts, durations)
 * are written by ../format/figures.js, as the CLI and the report write them.
 */

import { duration, NONE } from '../format/figures.js';

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

/**
 * Times are shown in UTC, as the API's buckets are.
 * @param {string | null | undefined} iso
 */
export function dateTime(iso) {
  if (!iso) return NONE;
  return `${DATE_TIME.format(new Date(iso))} UTC`;
}

/**
 * @param {string} iso
 * @param {import('./api.js').Bucket} bucket
 */
export function bucketLabel(iso, bucket) {
  return (bucket === 'day' ? DAY : HOUR).format(new Date(iso));
}

/**
 * The time since `iso`, at `now`: "3d 4h", "45m".
 * @param {string} iso
 * @param {number} [now]
 */
export function since(iso, now = Date.now()) {
  return duration(Math.max(0, now - new Date(iso).getTime()));
}

/**
 * A gate criterion's name as a person reads it.
 * @param {string} name
 */
export function criterionLabel(name) {
  if (name.startsWith('segment:')) return `agreement bound, ${name.slice('segment:'.length)}`;
  if (name.startsWith('labelRecallLowerBound:')) {
    return `recall of ${name.slice('labelRecallLowerBound:'.length)}, lower bound`;
  }
  if (name.startsWith('labelPrecisionLowerBound:')) {
    return `precision of ${name.slice('labelPrecisionLowerBound:'.length)}, lower bound`;
  }
  /** @type {Record<string, string>} */
  const labels = {
    minSamples: 'compared decisions',
    minDuration: 'time in stage',
    agreementLowerBound: 'agreement lower bound',
    judgeAgreementLowerBound: "judge's agreement with people, lower bound",
    maxAiErrorRate: 'AI error rate',
    maxP95LatencyMs: 'AI latency p95',
    maxAiCostPerDecision: 'AI cost per decision',
    maxErrorCostPerDecision: 'error cost per decision, upper bound',
    championNonInferiority: 'no worse than the champion (paired)',
  };
  return labels[name] ?? name;
}
