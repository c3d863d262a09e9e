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

const DISPLAY_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', UNIT_MS.d],
  ['h', UNIT_MS.h],
  ['m', UNIT_MS.m],
  ['s', UNIT_MS.s],
  ['ms', UNIT_MS.ms],
];

/**
 * The largest unit and, when not zero, the next one: `7d 2h`, `45m`, `1s 500ms`, `0s`. The rest
 * is cut, never rounded up, so elapsed time shown next to a required one never looks longer.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  let rest = Math.floor(Math.abs(ms));
  const parts: string[] = [];
  for (const [unit, size] of DISPLAY_UNITS) {
    if (parts.length === 2) break;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
    else if (parts.length > 0) break;
  }
  return parts.length === 0 ? '0s' : sign + parts.join(' ');
}
