/**
 * Quantiles of many samples with one sort (the `percentile_cont` definition, as
 * src/statistics/percentile.ts), and the least-squares slope the trend verdicts use.
 */
export function quantiles(values: ArrayLike<number>, ps: readonly number[]): Array<number | null> {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => {
    if (sorted.length === 0) return null;
    const h = p * (sorted.length - 1);
    const below = sorted[Math.floor(h)]!;
    const above = sorted[Math.ceil(h)]!;
    return below + (h - Math.floor(h)) * (above - below);
  });
}

export function median(values: ArrayLike<number>): number | null {
  return quantiles(values, [0.5])[0] ?? null;
}

/** Slope of y over x by least squares; null for fewer than two distinct x. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

export const round = (value: number | null | undefined, digits = 1): number | null =>
  value == null ? null : Math.round(value * 10 ** digits) / 10 ** digits;
