/**
 * The p-quantile (p in [0, 1]) with linear interpolation between the two nearest ranks — the
 * definition of PostgreSQL's `percentile_cont`, so in-memory and SQL figures agree:
 * with sorted values v and h = p·(n − 1), the result is v[⌊h⌋] + (h − ⌊h⌋)·(v[⌈h⌉] − v[⌊h⌋]).
 * Input order does not matter and the input is not mutated. Null for an empty list.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile: p must be in [0, 1], got ${p}`);
  if (values.some(Number.isNaN)) throw new RangeError('percentile: values must not contain NaN');
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const h = p * (sorted.length - 1);
  const below = sorted[Math.floor(h)]!;
  const above = sorted[Math.ceil(h)]!;
  return below === above ? below : below + (h - Math.floor(h)) * (above - below);
}
