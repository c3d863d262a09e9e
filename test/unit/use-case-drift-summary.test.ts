import { describe, expect, it } from 'vitest';
import type { DriftReading } from '../../src/metrics/drift-service.js';
import { type DriftCells, type DriftWindow, emptyCells } from '../../src/metrics/drift-store.js';
import { driftView } from '../../src/metrics/drift-view.js';
import type { MetricsStore } from '../../src/metrics/metrics-store.js';
import type { RollupStore } from '../../src/metrics/rollup-store.js';
import { driftSummary, MAJOR_SHIFT_PSI, UseCaseReader } from '../../src/metrics/use-case-reader.js';
import { planSchema } from '../../src/plans/plan-schema.js';
import type { UseCase } from '../../src/plans/use-case-store.js';

const plan = planSchema.parse({
  useCase: 'summary',
  owner: 'o@example.com',
  decision: { type: 'label', labels: ['approve', 'reject', 'escalate'] },
  ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' },
  segments: ['region', 'channel'],
  drift: { window: 1000, minWindow: 500 },
  stages: {
    shadow: {},
    'human-reviewed': {
      rollbackWhen: {
        driftAbove: { psi: 0.1, fields: ['region'] },
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

const reference = windowOf((c) => {
  c.segment.region = { north: 600, south: 300, east: 100 };
  c.segment.channel = { web: 500, mail: 500 };
  c['built-in'].override = { kept: 950, changed: 50 };
}, 1000);
// region moves a little (PSI between 0.1 and 0.25), channel a lot; the override rate doubles.
const current = windowOf((c) => {
  c.segment.region = { north: 420, south: 330, east: 250 };
  c.segment.channel = { web: 100, mail: 900 };
  c['built-in'].override = { kept: 900, changed: 100 };
}, 1000);

const reading: DriftReading = {
  stage: 'human-reviewed',
  stageVersion: 2,
  window: 1000,
  minWindow: 500,
  reference: {
    id: 7,
    useCase: 'summary',
    stageVersion: 2,
    stage: 'human-reviewed',
    takenAt: new Date('2026-04-20T12:00:00Z'),
    takenBy: 'system',
    reason: 'entered human-reviewed',
    trippedAt: null,
    window: reference,
  },
  current,
  view: driftView(plan, 'human-reviewed', reference, current),
};

describe('the drift summary of a use case detail', () => {
  it('when a field a guard names moves past its psi and another past 0.25, then each is drifted against its own threshold, with the PSI, rates and guards of the drift view', () => {
    const s = driftSummary(plan, reading);
    const region = s.fields.find((f) => f.field === 'region')!;
    const channel = s.fields.find((f) => f.field === 'channel')!;
    expect(region.psi).toBe(reading.view.fields.find((f) => f.field === 'region')!.psi);
    expect(region.psi!).toBeGreaterThan(0.1);
    expect(region.psi!).toBeLessThan(MAJOR_SHIFT_PSI);
    expect(region).toMatchObject({ watched: true, threshold: 0.1, verdict: 'drifted' });
    expect(channel).toMatchObject({ watched: false, threshold: MAJOR_SHIFT_PSI, verdict: 'drifted' });
    // No AI answers on either side: nothing to judge.
    expect(s.fields.find((f) => f.field === 'aiLabel')).toMatchObject({ verdict: 'insufficient', psi: null });
    expect(s.reference).toEqual({
      takenAt: '2026-04-20T12:00:00.000Z',
      takenBy: 'system',
      trippedAt: null,
      decisions: 1000,
    });
    expect(s.overrideRate).toEqual({ current: 0.1, samples: 1000, reference: 0.05, referenceSamples: 1000 });
    expect(s.guards).toBe(reading.view.guards);
    expect(s.guards.map((g) => [g.guard, g.status])).toEqual([
      ['driftAbove', 'drifted'],
      ['overrideRateAbove', 'stable'],
    ]);
  });

  it('when a detail is read, then it makes one drift read, and the report gets that same reading', async () => {
    let reads = 0;
    const rollups = {
      cohorts: async () => [],
      cohortsOf: async () => new Map(),
    } as unknown as RollupStore;
    const reader = new UseCaseReader(rollups, {} as MetricsStore, null, async () => {
      reads++;
      return reading;
    });
    const useCase = {
      id: 'summary',
      stage: 'human-reviewed',
      stageVersion: 2,
      plan,
      planVersion: 1,
      planHash: 'h',
      stageEnteredAt: new Date('2026-04-20T12:00:00Z'),
      earnedModelVersion: null,
      serving: { aiConfig: 'cfg' },
    } as unknown as UseCase;
    const detail = await reader.detail(useCase, new Date());
    expect(reads).toBe(1);
    expect(detail.drift).toEqual(driftSummary(plan, reading));
    const both = await reader.detailAndDrift(useCase, new Date());
    expect(reads).toBe(2);
    expect(both.drift).toBe(reading);
    expect(
      await new UseCaseReader(rollups, {} as MetricsStore, null).detail(useCase, new Date()),
    ).toMatchObject({ drift: null });
  });
});
