/** The gates benchmark's points (`npm run bench -- --stored LIST`). */

/** Bounds of `--stored`: a point below a thousand measures nothing, one past a billion no disk holds. */
const STORED_RANGE = { min: 1_000, max: 1_000_000_000 };

/**
 * `--stored`'s list: counts of stored decisions such as `1M,10M,100M` (a `k` or `M` suffix, or a
 * plain number), strictly ascending, each within 1,000 and 1,000M.
 */
export function parseDecisionCounts(text: string): number[] {
  const counts = text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(part);
    if (!match) throw new Error(`"${part.trim()}" is not a count of decisions (such as 500k, 1M or 2000000)`);
    const scale = { '': 1, k: 1_000, m: 1_000_000 }[match[2]!.toLowerCase() as '' | 'k' | 'm'];
    const count = Math.round(Number(match[1]) * scale);
    if (count < STORED_RANGE.min || count > STORED_RANGE.max) {
      throw new Error(
        `${count.toLocaleString('en-US')} decisions: a point holds from ${STORED_RANGE.min.toLocaleString('en-US')} ` +
          `to ${STORED_RANGE.max.toLocaleString('en-US')}`,
      );
    }
    return count;
  });
  for (let i = 1; i < counts.length; i++) {
    if (counts[i]! <= counts[i - 1]!)
      throw new Error('the points must be in ascending order, each larger than the last');
  }
  return counts;
}
