import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ControllerMetrics } from '../../src/observability/metrics-registry.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe("the README's metrics table", () => {
  it('when the registry is built, then the README lists exactly its shadowgate_ metrics', () => {
    const metrics = new ControllerMetrics({
      useCases: async () => [],
      queueDepth: async () => ({ waiting: 0, active: 0, delayed: 0 }),
      owedCalls: async () => new Map(),
    });
    try {
      const registered = metrics.registry
        .getMetricsAsArray()
        .map((m) => m.name)
        .filter((name) => name.startsWith('shadowgate_'))
        .sort();
      const documented = [...README.matchAll(/^\| `(shadowgate_\w+)` \|/gm)].map((m) => m[1]).sort();
      expect(documented).toEqual(registered);
    } finally {
      metrics.close();
    }
  });
});
