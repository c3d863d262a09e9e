import { describe, expect, it } from 'vitest';
import type { CohortMetrics, SegmentMetrics } from '../../src/metrics/metrics-types.js';
import { type Mode, type Plan, type PlanInput, planSchema } from '../../src/plans/plan-schema.js';
import { assessGate, nextStage, verdictOf } from '../../src/promotion/gate-assessment.js';
import type { Criterion, GateAssessment } from '../../src/promotion/gate-types.js';
import { sequentialLowerBound, sequentialUpperBound } from '../../src/statistics/confidence-sequence.js';
import { wilsonLowerBound } from '../../src/statistics/wilson.js';
import { cohortMetrics as cohort } from '../support/gate-fixtures.js';

const DAY = 86_400_000;
const ENTERED = new Date('2026-03-01T00:00:00Z');
const LATER = new Date(ENTERED.getTime() + 30 * DAY);

type PromoteWhenInput = NonNullable<NonNullable<PlanInput['stages']>['shadow']>['promoteWhen'];

function plan(promoteWhen: PromoteWhenInput, extra: Partial<PlanInput> = {}): Plan {
  return planSchema.parse({
    useCase: 'invoice-triage',
    owner: 'ap@example.com',
    decision: { type: 'label', labels: ['approve', 'reject'] },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
    stages: {
      shadow: { promoteWhen, approval: 'automatic' },
      'human-reviewed': { promoteWhen: { minSamples: 1000 } },
      'limited-autonomous': {},
    },
    ...extra,
  });
}

function segment(segmentName: string, value: string, samples: number, agreement: number): SegmentMetrics {
  return { segment: segmentName, value, samples, agreement, agreementLowerBound: null, aiFailures: 0 };
}

function assess(p: Plan, metrics: CohortMetrics | null, now = LATER, stage: Mode = 'shadow'): GateAssessment {
  return assessGate({ plan: p, stage, metrics, stageEnteredAt: ENTERED, now });
}

function criterion(a: GateAssessment, name: string): Criterion {
  const found = a.criteria.find((c) => c.name === name);
  if (!found) throw new Error(`no criterion ${name} in ${a.criteria.map((c) => c.name).join(', ')}`);
  return found;
}

const status = (c: Criterion) => c.status;

describe('assessGate: stages', () => {
  it('when in shadow, then the target is the next stage the plan has and approval is the stage’s', () => {
    const a = assess(plan({ minSamples: 0 }), null);
    expect(a).toMatchObject({ fromStage: 'shadow', targetStage: 'human-reviewed', approval: 'automatic' });
    expect(a.statistics).toBe('sequential');
    expect(a.confidence).toBe(0.95);
  });

  it('when in human-reviewed, then its own promoteWhen is judged towards limited-autonomous', () => {
    const a = assess(plan({}), cohort({ samples: 999 }), LATER, 'human-reviewed');
    expect(a).toMatchObject({
      targetStage: 'limited-autonomous',
      verdict: 'inconclusive',
      approval: 'manual',
    });
    expect(criterion(a, 'minSamples')).toMatchObject({ required: 1000, actual: 999 });
  });

  it.each<Mode>(['limited-autonomous', 'disabled'])(
    'when in %s, then there is nothing to promote to',
    (stage) => {
      const a = assess(plan({ minSamples: 0 }), cohort({ samples: 10 }), LATER, stage);
      expect(a).toMatchObject({ targetStage: null, verdict: 'none', criteria: [] });
    },
  );

  it('when the stage has no promoteWhen, then the verdict is none but the target is shown', () => {
    const p = planSchema.parse({
      useCase: 'x',
      owner: 'o',
      decision: { type: 'label', labels: ['a', 'b'] },
      ai: { adapter: 'http', url: 'http://127.0.0.1:9/d' },
      stages: { shadow: {}, 'human-reviewed': {} },
    });
    expect(assess(p, null)).toMatchObject({ targetStage: 'human-reviewed', verdict: 'none', criteria: [] });
  });

  it('when the plan has only shadow, then shadow has no next stage', () => {
    const p = planSchema.parse({
      useCase: 'x',
      owner: 'o',
      decision: { type: 'label', labels: ['a', 'b'] },
      ai: { adapter: 'http', url: 'http://127.0.0.1:9/d' },
      stages: { shadow: { promoteWhen: { minSamples: 1 } } },
    });
    expect(nextStage(p, 'shadow')).toBeNull();
    expect(assess(p, cohort({ samples: 5 }))).toMatchObject({ targetStage: null, verdict: 'none' });
  });
});

describe('assessGate: the evidence floor', () => {
  it('when there are no metrics yet, then the gate is inconclusive with nothing measured', () => {
    const a = assess(plan({ minSamples: 500, agreementLowerBound: 0.9, maxAiErrorRate: 0.02 }), null);
    expect(a.verdict).toBe('inconclusive');
    expect(criterion(a, 'minSamples')).toMatchObject({ actual: 0, status: 'inconclusive', holds: false });
    expect(criterion(a, 'agreementLowerBound')).toMatchObject({
      actual: null,
      status: 'inconclusive',
      holds: false,
    });
    expect(criterion(a, 'maxAiErrorRate')).toMatchObject({
      actual: null,
      status: 'inconclusive',
      holds: false,
    });
  });

  it.each([
    [499, 'inconclusive'],
    [500, 'holds'],
    [501, 'holds'],
  ])('when minSamples is 500 and %s decisions were compared, then it %s', (samples, expected) => {
    const a = assess(plan({ minSamples: 500 }), cohort({ samples }));
    expect(status(criterion(a, 'minSamples'))).toBe(expected);
    expect(a.verdict).toBe(expected === 'holds' ? 'eligible' : 'inconclusive');
  });

  it.each([
    [-1, 'inconclusive', '6d 23h'],
    [0, 'holds', '7d'],
    [1, 'holds', '7d'],
  ])('when minDuration is 7d and the stage is 7d %s ms old, then it %s', (offset, expected, actual) => {
    const now = new Date(ENTERED.getTime() + 7 * DAY + offset);
    const c = criterion(assess(plan({ minDuration: '7d' }), null, now), 'minDuration');
    expect(status(c)).toBe(expected);
    expect(c).toMatchObject({ required: '7d', actual });
  });

  it('when minDuration is a number of seconds, then it is shown as a duration', () => {
    const now = new Date(ENTERED.getTime() + 1800_000);
    const c = criterion(assess(plan({ minDuration: 3600 }), null, now), 'minDuration');
    expect(c).toMatchObject({ required: '1h', actual: '30m', status: 'inconclusive', holds: false });
  });

  it('when the clock is behind the stage’s start, then no time has elapsed', () => {
    const c = criterion(
      assess(plan({ minDuration: '1h' }), null, new Date(ENTERED.getTime() - DAY)),
      'minDuration',
    );
    expect(c).toMatchObject({ actual: '0s', status: 'inconclusive', holds: false });
  });
});

describe('assessGate: agreementLowerBound', () => {
  // 582 of 600 agree (97%): the sequential 95% lower bound is 0.944440 (see confidence-sequence tests).
  const evidence = cohort({ samples: 600, agreement: 582 / 600 });
  const bound = sequentialLowerBound(582, 600, 1 - 0.95)!; // alpha exactly as the gate computes it

  it.each([
    ['just under the bound', bound - 1e-9, 'holds'],
    ['at the bound', bound, 'holds'],
    ['just over the bound', bound + 1e-9, 'blocked'],
  ])('when the threshold is %s, then the criterion %s', (_name, threshold, expected) => {
    const c = criterion(assess(plan({ agreementLowerBound: threshold }), evidence), 'agreementLowerBound');
    expect(status(c)).toBe(expected);
    expect(c.actual).toBeCloseTo(bound, 12);
    expect(c).toMatchObject({ required: threshold, samples: 600 });
    expect(c.observed).toBeCloseTo(0.97, 12);
  });

  it('when 97% of 600 agree with minSamples 500 and a 0.90 threshold, then the gate is eligible', () => {
    const a = assess(plan({ minSamples: 500, agreementLowerBound: 0.9 }), evidence);
    expect(a.verdict).toBe('eligible');
  });

  it('when 85% of 600 agree with minSamples 500, then the gate is blocked on agreementLowerBound', () => {
    const a = assess(
      plan({ minSamples: 500, agreementLowerBound: 0.9 }),
      cohort({ samples: 600, agreement: 0.85 }),
    );
    expect(a.verdict).toBe('blocked');
    expect(criterion(a, 'agreementLowerBound')).toMatchObject({ status: 'blocked', holds: false });
  });

  it('when 97% of 300 agree with minSamples 500, then the gate is inconclusive, not blocked', () => {
    const a = assess(
      plan({ minSamples: 500, agreementLowerBound: 0.9 }),
      cohort({ samples: 300, agreement: 0.97 }),
    );
    expect(a.verdict).toBe('inconclusive');
  });

  it('when 88% of 300 agree before minSamples, then the bound below 0.90 is only inconclusive', () => {
    // The interval still reaches above 0.90, so more evidence may lift the lower bound over it.
    expect(sequentialUpperBound(264, 300, 0.05)!).toBeGreaterThan(0.9);
    const a = assess(
      plan({ minSamples: 500, agreementLowerBound: 0.9 }),
      cohort({ samples: 300, agreement: 0.88 }),
    );
    expect(criterion(a, 'agreementLowerBound')).toMatchObject({ status: 'inconclusive', holds: false });
    expect(a.verdict).toBe('inconclusive');
  });

  it('when 50% of 100 agree before minSamples, then the whole interval is under 0.90 and it blocks at once', () => {
    expect(sequentialUpperBound(50, 100, 0.05)!).toBeLessThan(0.9);
    const a = assess(
      plan({ minSamples: 500, agreementLowerBound: 0.9 }),
      cohort({ samples: 100, agreement: 0.5 }),
    );
    expect(status(criterion(a, 'minSamples'))).toBe('inconclusive');
    expect(status(criterion(a, 'agreementLowerBound'))).toBe('blocked');
    expect(a.verdict).toBe('blocked');
  });

  it('when minDuration is not met yet, then a bound below the threshold is inconclusive', () => {
    const a = assess(
      plan({ minDuration: '7d', agreementLowerBound: 0.9 }),
      cohort({ samples: 600, agreement: 0.9 }),
      new Date(ENTERED.getTime() + DAY),
    );
    expect(status(criterion(a, 'agreementLowerBound'))).toBe('inconclusive');
  });

  it('when the same 93% of 500 is judged with fixed statistics, then Wilson passes where the sequential bound does not', () => {
    // Wilson two-sided 95% lower bound of 465/500: centre 0.926722 − half-width 0.022518 = 0.90420.
    const m = cohort({ samples: 500, agreement: 0.93 });
    const fixed = assess(plan({ minSamples: 500, agreementLowerBound: 0.9 }, { statistics: 'fixed' }), m);
    const sequential = assess(plan({ minSamples: 500, agreementLowerBound: 0.9 }), m);
    expect(criterion(fixed, 'agreementLowerBound').actual).toBeCloseTo(wilsonLowerBound(465, 500)!, 12);
    expect(criterion(fixed, 'agreementLowerBound').actual).toBeCloseTo(0.9042, 4);
    expect(fixed.verdict).toBe('eligible');
    expect(sequential.verdict).toBe('blocked');
    expect(fixed.statistics).toBe('fixed');
  });

  it('when the plan asks for 99% confidence, then the bound is computed at alpha 0.01', () => {
    const a = assess(plan({ agreementLowerBound: 0.9 }, { confidence: 0.99 }), evidence);
    expect(criterion(a, 'agreementLowerBound').actual).toBe(sequentialLowerBound(582, 600, 1 - 0.99));
  });
});

describe('assessGate: point criteria', () => {
  const floorMet = { samples: 600, aiCalls: 600 };
  it.each([
    ['maxAiErrorRate', 0.02, 'aiErrorRate', 0.0001],
    ['maxP95LatencyMs', 2500, 'latencyP95Ms', 1],
    ['maxAiCostPerDecision', 0.05, 'aiCostPerDecision', 0.0001],
  ] as const)(
    'when %s is %s, then at it holds, just under holds, just over blocks',
    (name, max, field, step) => {
      const judge = (value: number) =>
        criterion(assess(plan({ [name]: max }), cohort({ ...floorMet, [field]: value })), name);
      expect(judge(max)).toMatchObject({ holds: true, actual: max, required: max });
      expect(judge(max - step).holds).toBe(true);
      const over = judge(max + step);
      expect(status(over)).toBe('blocked');
      expect(over.actual).toBe(max + step);
    },
  );

  it('when the error rate is over its maximum before minSamples, then it is only inconclusive', () => {
    const a = assess(
      plan({ minSamples: 500, maxAiErrorRate: 0.02 }),
      cohort({ samples: 20, aiErrorRate: 0.05 }),
    );
    expect(status(criterion(a, 'maxAiErrorRate'))).toBe('inconclusive');
    expect(a.verdict).toBe('inconclusive');
  });

  it('when nothing was measured for a point criterion, then it is inconclusive', () => {
    const a = assess(plan({ maxP95LatencyMs: 2500 }), cohort({ samples: 600 }));
    expect(criterion(a, 'maxP95LatencyMs')).toMatchObject({
      actual: null,
      status: 'inconclusive',
      holds: false,
    });
  });
});

describe('assessGate: segments', () => {
  const segmented = (extra: PromoteWhenInput = {}) =>
    plan(
      {
        minSamples: 500,
        agreementLowerBound: 0.9,
        segmentAgreementLowerBound: 0.85,
        minSegmentSamples: 50,
        ...extra,
      },
      { segments: ['region', 'riskTier'] },
    );
  const overall = { samples: 1000, agreement: 0.97 };

  it('when one segment value agrees 70% while the overall rate passes, then the gate is blocked on it', () => {
    const a = assess(
      segmented(),
      cohort({
        ...overall,
        segments: [segment('region', 'EU', 800, 0.99), segment('region', 'US', 200, 0.7)],
      }),
    );
    expect(a.verdict).toBe('blocked');
    expect(status(criterion(a, 'agreementLowerBound'))).toBe('holds');
    expect(status(criterion(a, 'segment:region=EU'))).toBe('holds');
    expect(criterion(a, 'segment:region=US')).toMatchObject({ required: 0.85, holds: false, samples: 200 });
    expect(status(criterion(a, 'segment:region=US'))).toBe('blocked');
  });

  it('when a segment value is under minSegmentSamples, then the gate is inconclusive on it', () => {
    const a = assess(
      segmented(),
      cohort({
        ...overall,
        segments: [segment('region', 'EU', 960, 0.98), segment('region', 'APAC', 40, 1)],
      }),
    );
    expect(criterion(a, 'segment:region=APAC')).toMatchObject({
      status: 'inconclusive',
      holds: false,
      samples: 40,
    });
    expect(criterion(a, 'segment:region=APAC').detail).toContain('40 of the 50');
    expect(a.verdict).toBe('inconclusive');
  });

  it('when a segment value under minSegmentSamples already fails beyond doubt, then it blocks', () => {
    const a = assess(
      segmented(),
      cohort({
        ...overall,
        segments: [segment('region', 'EU', 970, 0.99), segment('region', 'APAC', 30, 0)],
      }),
    );
    expect(status(criterion(a, 'segment:region=APAC'))).toBe('blocked');
    expect(a.verdict).toBe('blocked');
  });

  it('when a segment value’s bound is at, just under and just over its threshold, then it holds, holds, blocks', () => {
    const bound = sequentialLowerBound(190, 200, 1 - 0.95)!;
    const judge = (threshold: number) =>
      status(
        criterion(
          assess(
            plan({ segmentAgreementLowerBound: threshold, minSegmentSamples: 50 }, { segments: ['region'] }),
            cohort({ ...overall, segments: [segment('region', 'EU', 200, 0.95)] }),
          ),
          'segment:region=EU',
        ),
      );
    expect([judge(bound), judge(bound - 1e-9), judge(bound + 1e-9)]).toEqual(['holds', 'holds', 'blocked']);
  });

  it('when metrics carry segments the plan does not name, then they are not judged', () => {
    const a = assess(
      segmented(),
      cohort({
        ...overall,
        segments: [segment('region', 'EU', 1000, 0.97), segment('channel', 'web', 100, 0.1)],
      }),
    );
    expect(a.criteria.map((c) => c.name)).not.toContain('segment:channel=web');
    expect(a.verdict).toBe('eligible');
  });

  it('when segments arrive in any order, then their criteria come by segment and value', () => {
    const a = assess(
      segmented(),
      cohort({
        ...overall,
        segments: [
          segment('riskTier', 'low', 500, 0.97),
          segment('region', 'US', 500, 0.97),
          segment('region', 'EU', 500, 0.97),
          segment('riskTier', 'high', 500, 0.97),
        ],
      }),
    );
    expect(a.criteria.map((c) => c.name)).toEqual([
      'minSamples',
      'agreementLowerBound',
      'segment:region=EU',
      'segment:region=US',
      'segment:riskTier=high',
      'segment:riskTier=low',
    ]);
  });
});

describe('verdictOf', () => {
  const holds: Criterion = { name: 'a', required: 1, actual: 1, status: 'holds', holds: true };
  const waits: Criterion = { name: 'b', required: 1, actual: 0, status: 'inconclusive', holds: false };
  const fails: Criterion = { name: 'c', required: 1, actual: 0, status: 'blocked', holds: false };

  it.each([
    [[holds, holds], 'eligible'],
    [[holds, waits], 'inconclusive'],
    [[waits, fails, holds], 'blocked'],
    [[fails, waits], 'blocked'],
    [[], 'eligible'],
  ] as const)('when the criteria are %j, then the worst wins: %s', (criteria, expected) => {
    expect(verdictOf(criteria)).toBe(expected);
  });
});
