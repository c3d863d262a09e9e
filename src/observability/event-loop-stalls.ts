import { performance } from 'node:perf_hooks';

export interface StallWatchOptions {
  /** How often the probe timer is due (default 100 ms). */
  probeMs?: number;
  /** A probe this late counts as a stall (default 1 s). */
  thresholdMs?: number;
}

/**
 * Calls `onStall(ms)` after the event loop was blocked for more than `thresholdMs`: a timer due
 * every `probeMs` that fires that much late. Unlike a lag read at scrape time, or the maximum of
 * a delay histogram that each scrape resets, nothing is missed between scrapes or taken by
 * another scraper. Ten unref'd timer callbacks a second; returns the function that stops it.
 */
export function watchEventLoopStalls(
  onStall: (ms: number) => void,
  options: StallWatchOptions = {},
): () => void {
  const probeMs = options.probeMs ?? 100;
  const thresholdMs = options.thresholdMs ?? 1_000;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - probeMs;
    last = now;
    if (late > thresholdMs) onStall(late);
  }, probeMs);
  timer.unref();
  return () => clearInterval(timer);
}
