import { mean, slope } from './stats.js';

/** One sample of the end-to-end run: seconds since the load began and what stood then. */
export interface Sample {
  t: number;
  /** Decisions whose AI call is owed: the backlog. */
  owed: number;
  compared: number;
  stored: number;
  rssMb: number;
  /** The controller's PostgreSQL connections running a statement at that moment. */
  pgActive: number;
}

export interface Trends {
  steadySeconds: number;
  owedFirst: number;
  owedLast: number;
  owedMax: number;
  /** Least-squares growth of the backlog over the steady part of the run; null with too few samples. */
  owedGrowth: number | null;
  comparedPerSecond: number | null;
  rssFirstMb: number;
  rssLastMb: number;
  rssGrowthMb: number | null;
  /** Fitted growth of at most max(10 MB, 5% of the mean RSS). */
  rssFlat: boolean | null;
  pgActiveMean: number | null;
}

/**
 * Trends over the steady part of a run (after the warm-up, until the load ended), by least
 * squares, so the sawtooth of a garbage collector or of the queue's batches does not decide the
 * verdict; growth is the fitted slope times the steady duration.
 */
export function summariseTrends(samples: readonly Sample[], warmupS: number, loadEndS: number): Trends {
  const steady = samples.filter((s) => s.t >= warmupS && s.t <= loadEndS);
  const first = steady[0];
  const last = steady.at(-1);
  const span = first && last ? last.t - first.t : 0;
  const grow = (pick: (s: Sample) => number) => {
    const m = slope(steady.map((s) => ({ x: s.t, y: pick(s) })));
    return m === null ? null : m * span;
  };
  const rssGrowthMb = grow((s) => s.rssMb);
  const rssMean = mean(steady.map((s) => s.rssMb)) ?? 0;
  return {
    steadySeconds: span,
    owedFirst: first?.owed ?? 0,
    owedLast: last?.owed ?? 0,
    owedMax: Math.max(0, ...steady.map((s) => s.owed)),
    owedGrowth: grow((s) => s.owed),
    comparedPerSecond: first && last && span > 0 ? (last.compared - first.compared) / span : null,
    rssFirstMb: first?.rssMb ?? 0,
    rssLastMb: last?.rssMb ?? 0,
    rssGrowthMb,
    rssFlat: rssGrowthMb === null ? null : rssGrowthMb <= Math.max(10, 0.05 * rssMean),
    pgActiveMean: mean(steady.map((s) => s.pgActive)),
  };
}
