import { describe, expect, it } from 'vitest';
import { type DriftCells, type DriftWindow, emptyCells } from '../../src/metrics/drift-store.js';
import { DEFAULT_NUMERIC_BUCKETS, driftView } from '../../src/metrics/drift-view.js';
import { planSchema } from '../../src/plans/plan-schema.js';
import { evaluateDriftGuards } from '../../src/promotion/guards.js';

const plan = planSchema.parse({
  useCase: 'view',
  owner: 'o@example.com',
  decision: { type: 'label', labels: ['approve', 'reject', 'escalate'] },
  ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' },
  segments: ['region'],
  drift: { window: 1000, numeric: ['amount'], minWindow: 500 },
  stages: {
    shadow: {},
    'human-reviewed': {
      rollbackWhen: {
        driftAbove: { psi: 0.25, fields: ['region', 'amount'] },
        overrideRateAbove: 0.2,
        action: 'notify',
      },
    },
  },
});

function windowOf(fill: (cells: DriftCells) => void, decisions: number): DriftWindow {
  const cells = emptyCells();
  fill(cells);
  return { stageVersion: 2, fromHour: 0, toHour: 9, decisions, cells };
}

const regions = (north: number, south: number, east: number) => (c: DriftCells) => {
  c.segment.region = { north, south, east };
};

describe('driftView', () => {
  it('when the region mix moves from 60/30/10 to 10/30/60 over a full window, then the guard is drifted on region', () => {
    const view = driftView(
      plan,
      'human-reviewed',
      windowOf(regions(600, 300, 100), 1000),
      windowOf(regions(100, 300, 600), 1000),
    );
    const region = view.fields.find((f) => f.field === 'region')!;
    expect(region.psi!).toBeGreaterThan(1.5);
    expect(view.guards[0]).toMatchObject({ guard: 'driftAbove', status: 'drifted', drifted: ['region'] });
    const verdict = evaluateDriftGuards(plan, 'human-reviewed', view.guards, 1000)!;
    expect(verdict).toMatchObject({ trips: true, action: 'notify', rollbackTo: 'shadow' });
    expect(verdict.checks[0]).toMatchObject({ name: 'driftAbove:region', threshold: 0.25, trips: true });
  });

  it('when the window holds fewer than minWindow observations, then the guard is insufficient however large the shift', () => {
    const view = driftView(
      plan,
      'human-reviewed',
      windowOf(regions(600, 300, 100), 1000),
      windowOf(regions(10, 30, 60), 100),
    );
    expect(view.guards[0]).toMatchObject({ status: 'insufficient' });
    expect(evaluateDriftGuards(plan, 'human-reviewed', view.guards, 100)!.trips).toBe(false);
  });

  it('when a numeric field moves two buckets up, then PSI, KS and Wasserstein see it, with buckets named by their range', () => {
    // Default buckets: index 7 is [100, 200), index 9 is [500, 1000).
    expect(DEFAULT_NUMERIC_BUCKETS.bounds.slice(7, 10)).toEqual([100, 200, 500]);
    const view = driftView(
      plan,
      'human-reviewed',
      windowOf((c) => {
        c.numeric.amount = { '7': 1000 };
      }, 1000),
      windowOf((c) => {
        c.numeric.amount = { '9': 1000 };
      }, 1000),
    );
    const amount = view.fields.find((f) => f.field === 'amount')!;
    expect(amount.type).toBe('numeric');
    expect(amount.ks).toBe(1);
    expect(amount.wasserstein).toBeCloseTo(750 - 150, 9);
    expect(amount.values.map((v) => v.value)).toEqual(['[100, 200)', '[500, 1000)']);
    expect(view.guards[0]).toMatchObject({ status: 'drifted', drifted: ['amount'] });
  });

  it('when overrides rise above the bound over a full window, then the override guard is drifted, with the reference rate beside it', () => {
    const view = driftView(
      plan,
      'human-reviewed',
      windowOf((c) => {
        c['built-in'].override = { kept: 950, changed: 50 };
      }, 1000),
      windowOf((c) => {
        c['built-in'].override = { kept: 700, changed: 300 };
      }, 1000),
    );
    expect(view.overrideRate).toMatchObject({ current: 0.3, samples: 1000, reference: 0.05 });
    expect(view.guards.find((g) => g.guard === 'overrideRateAbove')).toMatchObject({
      status: 'drifted',
      actual: 0.3,
    });
  });
});
