import { describe, expect, it } from 'vitest';
import { computeCohortMetrics } from '../../src/metrics/cohort-metrics.js';
import type { CohortAggregate } from '../../src/metrics/metrics-types.js';

const LABELS = ['approve', 'reject', 'escalate'];

/** A shadow cohort: 61 decisions over exactly 3 days, 42 AI calls of which 2 failed, 40 compared. */
const shadow: CohortAggregate = {
  stage: 'shadow',
  aiConfig: 'cfg-1',
  modelVersion: 'model-2024-06',
  decisions: 61,
  compared: 40,
  scoreSum: 34,
  aiAttempted: 42,
  aiErrors: 2,
  latencyP50Ms: 120,
  latencyP95Ms: 900,
  aiCostSum: 1.26,
  inputTokensSum: 10_000,
  outputTokensSum: 2_000,
  humanDecisions: 61,
  pendingHuman: 0,
  pendingAi: 19,
  // Both failed AI calls were on requests the human rejected.
  aiFailedWithHuman: 2,
  labelFailures: [{ human: 'reject', count: 2 }],
  firstDecisionAt: new Date('2024-03-01T00:00:00.000Z'),
  lastDecisionAt: new Date('2024-03-04T00:00:00.000Z'),
  // Rows = human, columns = AI. The AI once answered "hold", a label outside the plan.
  //            approve reject escalate hold | human total
  // approve       20      2       1     0  | 23
  // reject         0     10       0     1  | 11
  // escalate       2      0       4     0  |  6
  // AI total      22     12       5     1  | 40, diagonal 34
  confusion: [
    { human: 'approve', ai: 'approve', count: 20 },
    { human: 'approve', ai: 'reject', count: 2 },
    { human: 'approve', ai: 'escalate', count: 1 },
    { human: 'reject', ai: 'reject', count: 10 },
    { human: 'reject', ai: 'hold', count: 1 },
    { human: 'escalate', ai: 'approve', count: 2 },
    { human: 'escalate', ai: 'escalate', count: 4 },
  ],
  segments: [
    { segment: 'riskTier', value: 'low', compared: 30, scoreSum: 27, failed: 0 },
    { segment: 'region', value: 'US', compared: 15, scoreSum: 12, failed: 0 },
    { segment: 'riskTier', value: 'high', compared: 10, scoreSum: 7, failed: 0 },
    { segment: 'region', value: 'EU', compared: 25, scoreSum: 22, failed: 0 },
    { segment: 'region', value: 'APAC', compared: 0, scoreSum: 0, failed: 0 },
  ],
};

/**
 * Wilson 95% lower bounds worked by hand, z = 1.959964, z² = 3.841459, d = 1 + z²/n,
 * lower = (p̂ + z²/2n)/d − (z/d)·√(p̂(1−p̂)/n + z²/4n²):
 *   34/40: d = 1.09603647, centre 0.81933244, half 0.11005568 → 0.70927676
 *   22/25: d = 1.15365835, centre 0.82938694, half 0.12894488 → 0.70044206
 *   12/15: d = 1.25609725, centre 0.73883501, half 0.19068950 → 0.54814551
 *    7/10: d = 1.38414588, centre 0.64449344, half 0.24771529 → 0.39677815
 *   27/30: d = 1.12804863, centre 0.85459464, half 0.11080547 → 0.74378917
 */
describe('computeCohortMetrics', () => {
  const metrics = computeCohortMetrics(shadow, { humanCostPerDecision: 1.8, labels: LABELS });

  it('when a cohort is aggregated, then its key and counts pass through', () => {
    expect(metrics).toMatchObject({
      stage: 'shadow',
      aiConfig: 'cfg-1',
      modelVersion: 'model-2024-06',
      decisions: 61,
      samples: 40,
      aiCalls: 42,
      aiErrors: 2,
      latencyP50Ms: 120,
      latencyP95Ms: 900,
      inputTokens: 10_000,
      outputTokens: 2_000,
      pendingHuman: 0,
      pendingAi: 19,
      firstDecisionAt: '2024-03-01T00:00:00.000Z',
      lastDecisionAt: '2024-03-04T00:00:00.000Z',
    });
  });

  it('when 34 of 40 compared decisions agree, then agreement is 0.85 and its Wilson bound 0.709277', () => {
    expect(metrics.agreement).toBe(0.85);
    expect(metrics.agreementLowerBound).toBeCloseTo(0.709276756, 9);
  });

  it('when the labels are counted, then kappa is 173/233', () => {
    // pₒ = 34/40 = 0.85; pₑ = (23·22 + 11·12 + 6·5 + 0·1) / 40² = 668/1600 = 0.4175
    // κ = (0.85 − 0.4175) / (1 − 0.4175) = 0.4325 / 0.5825 = 173/233 = 0.742489…
    expect(metrics.kappa).toBeCloseTo(173 / 233, 12);
  });

  it('when 2 of 42 AI calls failed, then the error rate is 1/21', () => {
    expect(metrics.aiErrorRate).toBeCloseTo(2 / 42, 15);
  });

  it('when every decision had a human, then costs are 0.03 AI + 1.80 human = 1.83 per decision', () => {
    // AI: 1.26 USD / 42 calls = 0.03; human: 1.80 × 61/61.
    expect(metrics.aiCostPerDecision).toBeCloseTo(0.03, 12);
    expect(metrics.humanCostPerDecision).toBe(1.8);
    expect(metrics.costPerDecision).toBeCloseTo(1.83, 12);
  });

  it('when 61 decisions span 3 days, then 600 a month cost 1098 and save −18 against all-human', () => {
    // 60 arrival intervals in 3 days = 20 a day → 600 per 30 days.
    expect(metrics.monthlyVolume).toBeCloseTo(600, 9);
    // 600 × 1.83 = 1098; all-human 600 × 1.80 = 1080; in shadow both are paid: 1080 − 1098 = −18.
    expect(metrics.monthlyCost).toBeCloseTo(1098, 9);
    expect(metrics.monthlySavings).toBeCloseTo(-18, 9);
  });

  it('when labels are given, then the confusion matrix lists plan labels first and the stray one after', () => {
    expect(metrics.confusion).toEqual({
      labels: ['approve', 'reject', 'escalate', 'hold'],
      matrix: [
        [20, 2, 1, 0],
        [0, 10, 0, 1],
        [2, 0, 4, 0],
        [0, 0, 0, 0],
      ],
    });
  });

  it('when labels are given, then precision runs down AI columns and recall along human rows', () => {
    expect(metrics.perLabel).toEqual([
      {
        label: 'approve',
        precision: 20 / 22,
        recall: 20 / 23,
        support: 23,
        hits: 20,
        predicted: 22,
        aiFailures: 0,
      },
      {
        label: 'reject',
        precision: 10 / 12,
        recall: 10 / 11,
        support: 11,
        hits: 10,
        predicted: 12,
        aiFailures: 2,
      },
      {
        label: 'escalate',
        precision: 4 / 5,
        recall: 4 / 6,
        support: 6,
        hits: 4,
        predicted: 5,
        aiFailures: 0,
      },
      { label: 'hold', precision: 0, recall: null, support: 0, hits: 0, predicted: 1, aiFailures: 0 },
    ]);
  });

  it('when segments arrive unordered, then they come out sorted by segment then value with Wilson bounds', () => {
    expect(metrics.segments.map((s) => [s.segment, s.value, s.samples, s.agreement])).toEqual([
      ['region', 'APAC', 0, null],
      ['region', 'EU', 25, 0.88],
      ['region', 'US', 15, 0.8],
      ['riskTier', 'high', 10, 0.7],
      ['riskTier', 'low', 30, 0.9],
    ]);
    const bounds = metrics.segments.map((s) => s.agreementLowerBound);
    expect(bounds[0]).toBeNull();
    expect(bounds[1]).toBeCloseTo(0.700442061, 9);
    expect(bounds[2]).toBeCloseTo(0.548145513, 9);
    expect(bounds[3]).toBeCloseTo(0.396778147, 9);
    expect(bounds[4]).toBeCloseTo(0.743789174, 9);
  });

  it('when the same segment value arrives in two rows, then they are merged', () => {
    const split = computeCohortMetrics(
      {
        ...shadow,
        segments: [
          { segment: 'region', value: 'EU', compared: 10, scoreSum: 9, failed: 0 },
          { segment: 'region', value: 'EU', compared: 15, scoreSum: 13, failed: 0 },
        ],
      },
      { humanCostPerDecision: 1.8 },
    );
    expect(split.segments).toEqual([
      {
        segment: 'region',
        value: 'EU',
        samples: 25,
        agreement: 0.88,
        agreementLowerBound: expect.closeTo(0.700442061, 9),
        aiFailures: 0,
      },
    ]);
  });

  it('when a confidence is given, then the bounds use it', () => {
    // 34/40 at 99%: z = 2.575829, d = 1.16587242, centre 0.80020438, half 0.14359470 → 0.65660967
    const strict = computeCohortMetrics(shadow, { humanCostPerDecision: 1.8, confidence: 0.99 });
    expect(strict.agreementLowerBound).toBeCloseTo(0.656609671, 9);
  });

  it('when the aggregate is used, then it is not modified', () => {
    const before = structuredClone(shadow);
    computeCohortMetrics(shadow, { humanCostPerDecision: 1.8, labels: LABELS });
    expect(shadow).toEqual(before);
  });
});

describe('computeCohortMetrics for json decisions and thin evidence', () => {
  it('when only a quarter of decisions had a human and no AI call ended, then human cost is prorated and AI cost unknown', () => {
    const metrics = computeCohortMetrics(
      {
        ...shadow,
        stage: 'limited-autonomous',
        decisions: 100,
        humanDecisions: 25,
        aiAttempted: 0,
        aiErrors: 0,
        aiCostSum: 0,
        confusion: [],
        // 100 decisions over 99 hours: one an hour → 720 per 30 days.
        firstDecisionAt: new Date('2024-03-01T00:00:00.000Z'),
        lastDecisionAt: new Date('2024-03-05T03:00:00.000Z'),
      },
      { humanCostPerDecision: 2 },
    );
    expect(metrics.humanCostPerDecision).toBe(0.5);
    expect(metrics.aiErrorRate).toBeNull();
    expect(metrics.aiCostPerDecision).toBeNull();
    expect(metrics.costPerDecision).toBeNull();
    expect(metrics.monthlyVolume).toBeCloseTo(720, 9);
    expect(metrics.monthlyCost).toBeNull();
    expect(metrics.monthlySavings).toBeNull();
    expect(metrics.kappa).toBeNull();
    expect(metrics.confusion).toBeNull();
    expect(metrics.perLabel).toBeNull();
  });

  it('when nothing has been decided yet, then ratios and projections are null and human cost is the plan figure', () => {
    const metrics = computeCohortMetrics(
      {
        ...shadow,
        decisions: 0,
        compared: 0,
        scoreSum: 0,
        aiAttempted: 0,
        aiErrors: 0,
        aiCostSum: 0,
        humanDecisions: 0,
        pendingAi: 0,
        latencyP50Ms: null,
        latencyP95Ms: null,
        firstDecisionAt: null,
        lastDecisionAt: null,
        confusion: [],
        segments: [],
      },
      { humanCostPerDecision: 1.8, labels: ['a', 'b'] },
    );
    expect(metrics).toMatchObject({
      samples: 0,
      agreement: null,
      agreementLowerBound: null,
      kappa: null,
      aiErrorRate: null,
      humanCostPerDecision: 1.8,
      monthlyVolume: null,
      firstDecisionAt: null,
      lastDecisionAt: null,
      confusion: {
        labels: ['a', 'b'],
        matrix: [
          [0, 0],
          [0, 0],
        ],
      },
      perLabel: [
        { label: 'a', precision: null, recall: null, support: 0 },
        { label: 'b', precision: null, recall: null, support: 0 },
      ],
      segments: [],
    });
  });

  it('when there is one decision or no time between first and last, then no monthly volume', () => {
    const at = new Date('2024-03-01T00:00:00.000Z');
    const one = computeCohortMetrics({ ...shadow, decisions: 1 }, { humanCostPerDecision: 1.8 });
    const burst = computeCohortMetrics(
      { ...shadow, firstDecisionAt: at, lastDecisionAt: at },
      { humanCostPerDecision: 1.8 },
    );
    expect(one.monthlyVolume).toBeNull();
    expect(burst.monthlyVolume).toBeNull();
    expect(burst.monthlySavings).toBeNull();
  });

  it('when inputs carry NaN or Infinity, then no output field is NaN or Infinity', () => {
    const metrics = computeCohortMetrics(
      {
        ...shadow,
        latencyP50Ms: Number.NaN,
        aiCostSum: Number.POSITIVE_INFINITY,
        firstDecisionAt: new Date(Number.NaN),
      },
      { humanCostPerDecision: 1.8 },
    );
    expect(metrics.latencyP50Ms).toBeNull();
    expect(metrics.aiCostPerDecision).toBeNull();
    expect(metrics.firstDecisionAt).toBeNull();
    expect(metrics.monthlyVolume).toBeNull();
    const numbers = Object.values(metrics).filter((v): v is number => typeof v === 'number');
    expect(numbers.every(Number.isFinite)).toBe(true);
  });
});
