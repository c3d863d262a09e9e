import { describe, expect, it } from 'vitest';
import { type DriftResponse, driftText, VALUES_SHOWN, wouldTrip } from '../../src/cli/drift-view.js';

const VALUES = Array.from({ length: 13 }, (_, i) => ({
  value: i === 0 ? `${'v'.repeat(100)}\nsecond line` : `value-${i}`,
  reference: 10,
  current: 10,
  referenceShare: 1 / 13,
  currentShare: 1 / 13,
  psi: 0,
}));

const DRIFT: DriftResponse = {
  useCase: 'u',
  stage: 'limited-autonomous',
  stageVersion: 4,
  window: 1000,
  minWindow: 500,
  reference: {
    id: 1,
    takenAt: '2026-04-20T12:00:00.000Z',
    takenBy: 'system',
    reason: 'entered limited-autonomous: the window of the stage before',
    trippedAt: null,
    window: { stageVersion: 3, from: null, to: null, decisions: 0 },
  },
  current: {
    stageVersion: 4,
    from: '2026-04-30T10:00:00.000Z',
    to: '2026-04-30T12:00:00.000Z',
    decisions: 130,
  },
  fields: [
    {
      field: 'supplier',
      kind: 'segment',
      type: 'categorical',
      referenceTotal: 0,
      currentTotal: 130,
      psi: null,
      jsDistance: null,
      unseenShare: 1,
      ks: null,
      wasserstein: null,
      normalisedWasserstein: null,
      values: VALUES,
      watched: true,
      threshold: 0.1,
      verdict: 'insufficient',
    },
  ],
  overrideRate: { current: null, samples: 0, reference: null, referenceSamples: 0 },
  escalationRate: {
    current: 0.25,
    samples: 120,
    reference: 0.2,
    referenceSamples: 900,
    byReason: { boundary: 0.1, confidence: 0.15, model: 0, 'ai-failure': 0, audit: 0 },
  },
  guards: [
    {
      stage: 'limited-autonomous',
      guard: 'driftAbove',
      threshold: 0.1,
      status: 'insufficient',
      actual: null,
    },
    {
      stage: 'limited-autonomous',
      guard: 'escalationRateAbove',
      threshold: 0.5,
      status: 'insufficient',
      actual: 0.25,
    },
  ],
};

describe('drift view', () => {
  it('when the reference is empty and the window short, then the guards would not trip and say why, the rates read in percent with the escalation reasons', () => {
    const text = driftText('u', DRIFT);
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'u: drift in limited-autonomous (stage version 4), window the trailing whole hours holding 1,000 decisions; a guard judges from 500 observations',
    );
    expect(lines[1]).toBe(
      'reference  0 decisions; taken 2026-04-20 12:00:00Z by system: entered limited-autonomous: the window of the stage before',
    );
    expect(text).toMatch(/\nescalation\s+25\.00%\s+120\s+20\.00%\s+900\n/);
    expect(text).toContain(
      '\nescalated by reason: boundary 10.00%, confidence 15.00%, model 0.00%, ai-failure 0.00%, audit 0.00%\n',
    );
    // The field's verdict is the controller's, shown as it says.
    expect(text).toMatch(/\nsupplier\s+categorical\s+0\s+130\s+—.*\sinsufficient\n/);
    expect(text).toMatch(
      /\ndriftAbove\s+PSI > 0\.100\s+—\s+insufficient\s+no: fewer than 500 observations \(or no reference\)\n/,
    );
    expect(text).toMatch(
      /\nescalationRateAbove\s+escalation rate > 50\.00%\s+25\.00%\s+insufficient\s+no: fewer/,
    );
  });

  it('when a field has many values, long ones and line breaks, then each is one cut row and the rest are counted', () => {
    const text = driftText('u', DRIFT);
    const rows = text.split('\n');
    const head = rows.indexOf('supplier: reference against current, largest PSI contribution first');
    expect(rows[head + 1]).toMatch(/^VALUE\s+REFERENCE\s+CURRENT\s+PSI$/);
    expect(rows[head + 2]).toMatch(new RegExp(`^${'v'.repeat(63)}…\\s+7\\.69% \\(10\\)`));
    expect(rows[head + 2 + VALUES_SHOWN]).toBe('and 3 more (--json lists every one)');
    expect(text).not.toContain('second line');
  });

  it('when a guard is drifted, then it would trip unless it tripped already against this reference', () => {
    const g = {
      stage: 's',
      guard: 'driftAbove' as const,
      threshold: 0.25,
      status: 'drifted' as const,
      actual: 0.4,
      drifted: ['region'],
    };
    expect(wouldTrip(g, null, 100)).toBe('yes: region above it');
    expect(wouldTrip(g, '2026-04-30T12:00:00.000Z', 100)).toBe(
      'no: tripped already against this reference: region above it',
    );
    expect(wouldTrip({ ...g, status: 'stable' }, null, 100)).toBe('no');
  });
});
