/** A controller's `/metrics` as the suite reads it: fetched without a key, summed by label. */

export async function metricsText(controllerUrl: string): Promise<string> {
  const response = await fetch(`${controllerUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return response.text();
}

/** Sums a counter of the Prometheus text over the series whose labels include `labels`. */
export function counterSum(text: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (!matches) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
