/**
 * Durations as the rollout plan writes them (`durationSchema`): a number of seconds, or a number
 * with a unit — `500ms`, `45s`, `30m`, `12h`, `7d`, `2w` (decimals allowed: `1.5h`).
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Milliseconds, rounded to a whole millisecond. Throws a RangeError on anything else. */
export function parseDurationMs(d: number | string): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new RangeError(`not a duration: ${d}`);
    return Math.round(d * 1000);
  }
  const match = DURATION.exec(d.trim());
  if (!match) throw new RangeError(`not a duration: ${JSON.stringify(d)}`);
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
  const ms = Math.round(Number(amount) * UNIT_MS[unit]);
  if (!Number.isFinite(ms)) throw new RangeError(`not a duration: ${JSON.stringify(d)}`);
  return ms;
}
