import { describe, expect, it } from 'vitest';
import { type Plan, planSchema } from '../../src/plans/plan-schema.js';
import { assessChallenger, PAIRED_CRITERION } from '../../src/promotion/challenger-assessment.js';
import type { DifferenceBounds } from '../../src/statistics/paired-difference.js';
import { cohortMetrics as cohort } from '../support/gate-fixtures.js';

const DAY = 86_400_000;
const STARTED = new Date('2026-03-01T00:00:00Z');
const LATER = new Date(STARTED.getTime() + 10 * DAY);

const PLAN: Plan = planSchema.parse({
  useCase: 'invoice-triage',
  owner: 'ap@example.com',
  decision: { type: 'label', labels: ['approve', 'reject'] },
  ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
  stages: {
    shadow: { promoteWhen: { minSamples: 100, agreementLowerBound: 0.9 } },
    'human-reviewed': { promoteWhen: { minSamples: 200, minDuration: '7d', maxAiErrorRate: 0.05 } },
    'limited-autonomous': {},
  },
});

const pairs = (lower: number, upper: number, n = 800): DifferenceBounds => ({
  n,
  mean: (lower + upper) / 2,
  lower,
  upper,
});
const GOOD = cohort({ samples: 1000, agreement: 0.97, aiCalls: 1000, aiErrors: 0, aiErrorRate: 0 });

function assess(over: Partial<Parameters<typeof assessChallenger>[0]> = {}) {
  return assessChallenger({
    plan: PLAN,
    stage: 'limited-autonomous',
    cohort: GOOD,
    paired: pairs(-0.01, 0.03),
    margin: 0.02,
    startedAt: STARTED,
    now: LATER,
    ...over,
  });
}

describe('a challenger’s verdict', () => {
  it('in limited-autonomous, judges the gates of shadow and human-reviewed on its own cohort, and the paired criterion', () => {
    const a = assess();
    expect(a.verdict).toBe('eligible');
    expect(a.criteria.map((c) => c.name)).toEqual([
      'shadow.minSamples',
      'shadow.agreementLowerBound',
      'human-reviewed.minSamples',
      'human-reviewed.minDuration',
      'human-reviewed.maxAiErrorRate',
      PAIRED_CRITERION,
    ]);
    expect(a.criteria.at(-1)).toMatchObject({
      required: -0.02,
      actual: -0.01,
      status: 'holds',
      samples: 800,
    });
  });

  it('in human-reviewed, judges only the stages below it', () => {
    const names = assess({ stage: 'human-reviewed' }).criteria.map((c) => c.name);
    expect(names).toEqual(['shadow.minSamples', 'shadow.agreementLowerBound', PAIRED_CRITERION]);
  });

  it('counts the evidence floor from when the challenger started, not from the stage', () => {
    const a = assess({ now: new Date(STARTED.getTime() + 2 * DAY) });
    expect(a.verdict).toBe('inconclusive');
    expect(a.criteria.find((c) => c.name === 'human-reviewed.minDuration')?.status).toBe('inconclusive');
  });

  it('waits without pairs, and while the paired bound straddles −margin', () => {
    const none = assess({ paired: null });
    expect(none.verdict).toBe('inconclusive');
    expect(none.criteria.at(-1)).toMatchObject({ actual: null, samples: 0, status: 'inconclusive' });
    expect(assess({ paired: pairs(-0.05, 0.01) }).verdict).toBe('inconclusive');
  });

  it('blocks a challenger shown worse than the champion by more than the margin, however good against the humans', () => {
    const a = assess({ paired: pairs(-0.2, -0.05) });
    expect(a.verdict).toBe('blocked');
    expect(a.criteria.at(-1)?.status).toBe('blocked');
  });

  it('blocks a challenger that fails a lower stage’s gate against the humans, though as good as its champion', () => {
    const a = assess({
      cohort: cohort({ samples: 1000, agreement: 0.6, aiCalls: 1000, aiErrors: 0, aiErrorRate: 0 }),
    });
    expect(a.verdict).toBe('blocked');
    expect(a.criteria.find((c) => c.name === 'shadow.agreementLowerBound')?.status).toBe('blocked');
  });
});
