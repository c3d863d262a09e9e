import { describe, expect, it } from 'vitest';
import { computeCohortMetrics } from '../../src/metrics/cohort-metrics.js';
import type { CohortAggregate } from '../../src/metrics/metrics-types.js';
import { cohortMetricsOptions } from '../../src/metrics/stage-summary.js';
import { type Plan, type PlanInput, planSchema } from '../../src/plans/plan-schema.js';
import { assessGate } from '../../src/promotion/gate-assessment.js';
import type { Criterion, GateAssessment } from '../../src/promotion/gate-types.js';
import { evaluateGuard, type GuardWindow } from '../../src/promotion/guards.js';
import { sequentialLowerBound } from '../../src/statistics/confidence-sequence.js';

const ENTERED = new Date('2026-03-01T00:00:00Z');
const LATER = new Date('2026-04-01T00:00:00Z');
const LABELS = ['approve', 'reject', 'escalate'];

type PromoteWhenInput = NonNullable<NonNullable<PlanInput['stages']>['shadow']>['promoteWhen'];

function plan(promoteWhen: PromoteWhenInput, extra: Partial<PlanInput> = {}): Plan {
  return planSchema.parse({
    useCase: 'invoice-triage',
    owner: 'ap@example.com',
    decision: { type: 'label', labels: LABELS },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
    stages: { shadow: { promoteWhen }, 'human-reviewed': {} },
    ...extra,
  });
}

/** A shadow cohort from (human, ai, count) cells, with failures by the human's label. */
function aggregate(
  cells: Array<[human: string, ai: string, count: number]>,
  failures: Array<[human: string, count: number]> = [],
): CohortAggregate {
  const compared = cells.reduce((n, [, , c]) => n + c, 0);
  const agreeing = cells.reduce((n, [h, a, c]) => n + (h === a ? c : 0), 0);
  const failed = failures.reduce((n, [, c]) => n + c, 0);
  return {
    stage: 'shadow',
    aiConfig: 'cfg',
    modelVersion: 'm1',
    decisions: compared + failed,
    compared,
    scoreSum: agreeing,
    aiAttempted: compared + failed,
    aiErrors: failed,
    latencyP50Ms: null,
    latencyP95Ms: null,
    aiCostSum: 0,
    inputTokensSum: 0,
    outputTokensSum: 0,
    humanDecisions: compared + failed,
    pendingHuman: 0,
    pendingAi: 0,
    aiFailedWithHuman: failed,
    firstDecisionAt: ENTERED,
    lastDecisionAt: LATER,
    confusion: cells.map(([human, ai, count]) => ({ human, ai, count })),
    segments: [],
    labelFailures: failures.map(([human, count]) => ({ human, count })),
  };
}

function assess(p: Plan, agg: CohortAggregate): GateAssessment {
  const metrics = computeCohortMetrics(agg, cohortMetricsOptions(p, 'shadow'));
  return assessGate({ plan: p, stage: 'shadow', metrics, stageEnteredAt: ENTERED, now: LATER });
}

function criterion(a: GateAssessment, name: string): Criterion {
  const found = a.criteria.find((c) => c.name === name);
  if (!found) throw new Error(`no criterion ${name} in ${a.criteria.map((c) => c.name).join(', ')}`);
  return found;
}

/** 1,000 invoices, 90/7/3, and an AI that answers approve to all of them. */
const ALWAYS_APPROVE = aggregate([
  ['approve', 'approve', 900],
  ['reject', 'approve', 70],
  ['escalate', 'approve', 30],
]);
/** The same traffic and an AI right 97% of the time on every label. */
const GOOD = aggregate([
  ['approve', 'approve', 873],
  ['approve', 'reject', 14],
  ['approve', 'escalate', 13],
  ['reject', 'reject', 68],
  ['reject', 'approve', 1],
  ['reject', 'escalate', 1],
  ['escalate', 'escalate', 29],
  ['escalate', 'approve', 1],
]);

describe('per-label criteria', () => {
  it('when an always-approve AI agrees 90% overall, then the agreement bar passes but reject recall blocks', () => {
    const p = plan({ minSamples: 500, agreementLowerBound: 0.85, labelRecallLowerBound: { reject: 0.7 } });
    const gate = assess(p, ALWAYS_APPROVE);
    expect(criterion(gate, 'agreementLowerBound').status).toBe('holds');
    expect(criterion(gate, 'labelRecallLowerBound:reject')).toMatchObject({
      status: 'blocked',
      required: 0.7,
      observed: 0,
      samples: 70,
    });
    expect(gate.verdict).toBe('blocked');
  });

  it('when the AI is right 97% on every label, then recall and precision bounds hold with their own counts', () => {
    const p = plan({
      minSamples: 500,
      labelRecallLowerBound: { reject: 0.75, approve: 0.9 },
      labelPrecisionLowerBound: { reject: 0.6 },
      minLabelSamples: 50,
    });
    const gate = assess(p, GOOD);
    const recall = criterion(gate, 'labelRecallLowerBound:reject');
    expect(recall).toMatchObject({ status: 'holds', samples: 70, observed: 68 / 70 });
    expect(recall.actual).toBeCloseTo(sequentialLowerBound(68, 70, 0.05)!, 12);
    expect(criterion(gate, 'labelPrecisionLowerBound:reject')).toMatchObject({
      status: 'holds',
      samples: 82,
      observed: 68 / 82,
    });
    expect(gate.verdict).toBe('eligible');
  });

  it('when a label has fewer compared decisions than minLabelSamples, then it is inconclusive, never a pass', () => {
    const p = plan({ minSamples: 500, labelRecallLowerBound: { escalate: 0.5 }, minLabelSamples: 50 });
    const c = criterion(assess(p, GOOD), 'labelRecallLowerBound:escalate');
    expect(c.status).toBe('inconclusive');
    expect(c.detail).toContain('30 of the 50 samples a label needs');
  });

  it('when the AI fails on the rejects, then failures count against reject recall unless the plan excludes them', () => {
    const cells: Array<[string, string, number]> = [
      ['approve', 'approve', 900],
      ['reject', 'reject', 60],
      ['escalate', 'escalate', 30],
    ];
    const agg = aggregate(cells, [['reject', 40]]);
    const when = { minSamples: 500, agreementLowerBound: 0.9, labelRecallLowerBound: { reject: 0.8 } };
    const disagree = assess(plan(when), agg);
    expect(criterion(disagree, 'labelRecallLowerBound:reject')).toMatchObject({
      status: 'blocked',
      samples: 100,
    });
    expect(criterion(disagree, 'agreementLowerBound').samples).toBe(1030);
    const exclude = assess(plan(when, { aiFailures: 'exclude' }), agg);
    expect(criterion(exclude, 'labelRecallLowerBound:reject')).toMatchObject({
      status: 'holds',
      samples: 60,
    });
    expect(criterion(exclude, 'agreementLowerBound').samples).toBe(990);
  });
});

describe('the error cost criterion', () => {
  const costs = { errorCosts: { approve: { reject: 500, escalate: 40 }, reject: { approve: 25 } } };

  it('when the always-approve AI approves rejections at 500 USD, then maxErrorCostPerDecision 5 blocks it', () => {
    const p = plan({ minSamples: 500, maxErrorCostPerDecision: 5 }, costs);
    const c = criterion(assess(p, ALWAYS_APPROVE), 'maxErrorCostPerDecision');
    // 70 × 500 + 30 × 40 over 1,000 decisions.
    expect(c).toMatchObject({ status: 'blocked', required: 5, samples: 1000, observed: 36.2 });
    expect(c.actual as number).toBeGreaterThan(36.2);
  });

  it('when the AI is right 97% on every label, then the upper bound is below 5 USD and it holds', () => {
    const p = plan({ minSamples: 500, maxErrorCostPerDecision: 5 }, costs);
    const metrics = computeCohortMetrics(GOOD, cohortMetricsOptions(p, 'shadow'));
    // 14 approvals rejected (25 USD), 1 rejection approved (500), 1 escalation approved (40); the
    // escalations of approvals and rejections are not priced (defaultErrorCost 0).
    expect(metrics.errorCost).toMatchObject({ perDecision: 0.89, samples: 1000, maxCost: 500 });
    const c = criterion(assess(p, GOOD), 'maxErrorCostPerDecision');
    expect(c.status).toBe('holds');
    expect(c.actual as number).toBeGreaterThan(0.89);
    expect(c.actual as number).toBeLessThanOrEqual(5);
  });

  it('when nothing is compared yet, then it is inconclusive', () => {
    const p = plan({ maxErrorCostPerDecision: 5 }, costs);
    expect(criterion(assess(p, aggregate([])), 'maxErrorCostPerDecision').status).toBe('inconclusive');
  });

  it('when limited-autonomous decides alone, then its projected cost includes the expected error cost', () => {
    const p = plan(
      {},
      {
        ...costs,
        humanCostPerDecision: 2,
        stages: {
          shadow: {},
          'human-reviewed': {},
          'limited-autonomous': { auditRate: 0.1 },
        },
      },
    );
    // 1,000 decisions: 910 without a human (the AI's, unaudited), 90 audited or escalated.
    const agg = { ...GOOD, stage: 'limited-autonomous' as const, humanDecisions: 90 };
    const m = computeCohortMetrics(agg, cohortMetricsOptions(p, 'limited-autonomous'));
    // The AI decided 910 / 0.9 ≈ 1,011 → all of them (capped at 1).
    expect(m.expectedErrorCostPerDecision).toBeCloseTo(0.89, 10);
    expect(m.costPerDecision).toBeCloseTo(0 + 2 * 0.09 + 0.89, 10);
    const shadow = computeCohortMetrics(GOOD, cohortMetricsOptions(p, 'shadow'));
    expect(shadow.expectedErrorCostPerDecision).toBeNull();
  });
});

describe('the majority baseline', () => {
  it('when the bar is at or below always answering approve and nothing else is judged, then the gate warns', () => {
    const gate = assess(plan({ minSamples: 500, agreementLowerBound: 0.85 }), ALWAYS_APPROVE);
    expect(gate.majorityBaseline).toEqual({ label: 'approve', agreement: 0.9 });
    expect(gate.warnings).toEqual([expect.objectContaining({ code: 'majority-baseline' })]);
    expect(gate.warnings[0]!.message).toContain('90%');
  });

  it('when a per-label criterion is set, or the bar is above the baseline, then it does not', () => {
    const perLabel = plan({ agreementLowerBound: 0.85, labelRecallLowerBound: { reject: 0.7 } });
    expect(assess(perLabel, ALWAYS_APPROVE).warnings).toEqual([]);
    expect(assess(plan({ agreementLowerBound: 0.95 }), ALWAYS_APPROVE).warnings).toEqual([]);
  });
});

describe('the labelRecallBelow guard', () => {
  const guarded = planSchema.parse({
    useCase: 'invoice-triage',
    owner: 'ap@example.com',
    decision: { type: 'label', labels: LABELS },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
    stages: {
      shadow: {},
      'human-reviewed': { rollbackWhen: { labelRecallBelow: { reject: 0.8 }, labelWindow: 40 } },
    },
  });
  const window = (compared: number, hits: number): GuardWindow => ({
    compared: 200,
    scoreSum: 190,
    aiCalls: 200,
    aiErrors: 0,
    labels: { reject: { compared, hits } },
  });

  it('when reject recall over a full label window is under its threshold, then it trips', () => {
    const verdict = evaluateGuard(guarded, 'human-reviewed', window(40, 30))!;
    expect(verdict.trips).toBe(true);
    expect(verdict.checks).toEqual([
      { name: 'labelRecallBelow:reject', threshold: 0.8, actual: 0.75, samples: 40, trips: true },
    ]);
  });

  it('when the label window is not full, or recall holds, then it does not', () => {
    expect(evaluateGuard(guarded, 'human-reviewed', window(39, 20))!.trips).toBe(false);
    expect(evaluateGuard(guarded, 'human-reviewed', window(40, 32))!.trips).toBe(false);
  });
});

describe('plan rules for labels and costs', () => {
  const problems = (extra: Partial<PlanInput>, promoteWhen: PromoteWhenInput = {}) => {
    const result = planSchema.safeParse({
      useCase: 'invoice-triage',
      owner: 'ap@example.com',
      decision: { type: 'label', labels: LABELS },
      ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
      stages: { shadow: { promoteWhen } },
      ...extra,
    });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('when a criterion or a cost names a label the plan does not have, then the path names it', () => {
    expect(problems({}, { labelRecallLowerBound: { rejekt: 0.9 } })).toEqual([
      'stages.shadow.promoteWhen.labelRecallLowerBound.rejekt: "rejekt" is not one of decision.labels',
    ]);
    expect(problems({ errorCosts: { approve: { hold: 3 } } })).toEqual([
      'errorCosts.approve.hold: "hold" is not one of decision.labels',
    ]);
  });

  it('when agreeing is priced, or the error cost criterion has no prices, then the plan is refused', () => {
    expect(problems({ errorCosts: { approve: { approve: 3 } } })).toEqual([
      'errorCosts.approve.approve: agreeing costs nothing: expected 0 or no entry',
    ]);
    expect(problems({}, { maxErrorCostPerDecision: 5 })[0]).toContain('needs errorCosts');
    expect(problems({ defaultErrorCost: 10 }, { maxErrorCostPerDecision: 5 })).toEqual([]);
  });

  it('when a JSON decision names labels or costs, then it is refused', () => {
    const json = { decision: { type: 'json' as const } };
    expect(problems({ ...json, errorCosts: { a: { b: 1 } } })).toEqual([
      'errorCosts: names labels: it needs decision.type label',
    ]);
    expect(problems(json, { labelPrecisionLowerBound: { a: 0.9 } })).toEqual([
      'stages.shadow.promoteWhen.labelPrecisionLowerBound: names labels: it needs decision.type label',
    ]);
  });

  it('when a cost is negative or absurd, then the shape refuses it', () => {
    expect(problems({ errorCosts: { approve: { reject: -1 } } })).toHaveLength(1);
    expect(problems({ errorCosts: { approve: { reject: 1e12 } } })).toHaveLength(1);
  });
});
