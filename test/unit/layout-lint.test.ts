import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { cruise, type IViolation } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

/**
 * `npm run lint` runs dependency-cruiser with .dependency-cruiser.cjs. These fixtures (test/fixtures/
 * layout, laid out like src/) hold imports against the flow, so the rules are shown to catch them.
 */
const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs');
const fixtures = resolve(import.meta.dirname, '../fixtures/layout');

async function violations(): Promise<IViolation[]> {
  const result = await cruise(['src'], {
    baseDir: fixtures,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: resolve(import.meta.dirname, '../../tsconfig.json') },
    doNotFollow: { path: 'node_modules' },
  });
  if (typeof result.output === 'string') throw new Error('expected the cruise result, got text');
  return result.output.summary.violations;
}

describe('layout lint', () => {
  it('when a lower layer imports http/ or pure statistics imports node:fs, then each import is reported', async () => {
    const found = (await violations()).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(found).toContain('layer-shadow-metrics: src/metrics/rate.ts → src/http/render.ts');
    expect(found).toContain('pure-core-no-io: src/statistics/mean.ts → fs');
    // An import within a folder is allowed: only the two imports against the flow are reported.
    expect(found).toHaveLength(2);
  });
});
