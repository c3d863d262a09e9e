import { describe, expect, it } from 'vitest';
import {
  type CalibrationCounts,
  judgeCalibration,
  versionCalibration,
} from '../../src/metrics/judge-calibration.js';
import {
  DEFAULT_CALIBRATION_RATE,
  DEFAULT_JUDGE_AGREEMENT_LOWER_BOUND,
  judgeAgreementBar,
  judgeOf,
} from '../../src/plans/judge-comparator.js';
import { type Plan, type PlanInput, planSchema } from '../../src/plans/plan-schema.js';
import { assessGate } from '../../src/promotion/gate-assessment.js';
import type { Criterion } from '../../src/promotion/gate-types.js';
import { sequentialLowerBound } from '../../src/statistics/confidence-sequence.js';
import { cohortMetrics } from '../support/gate-fixtures.js';

const ENTERED = new Date('2026-03-01T00:00:00Z');
const LATER = new Date('2026-04-01T00:00:00Z');

type PromoteWhenInput = NonNullable<NonNullable<PlanInput['stages']>['shadow']>['promoteWhen'];

const JUDGE = { type: 'judge', url: 'http://127.0.0.1:9100/judge', calibrationRate: 0.05 } as const;

/** A text plan scored by a judge with the judge fields of promoteWhen, or (`judge` null) by exact. */
function plan(
  promoteWhen: PromoteWhenInput,
  judge: { judgeAgreementLowerBound?: number; minJudgeRatings?: number } | null = {},
): Plan {
  return planSchema.parse({
    useCase: 'support-reply-draft',
    owner: 'support@example.com',
    decision: { type: 'text', maxLength: 2000 },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
    ...(judge === null ? {} : { comparator: JUDGE }),
    stages: { shadow: { promoteWhen: { ...promoteWhen, ...judge } }, 'human-reviewed': {} },
  });
}

/** `rated` ratings of which `agreed` agree, split evenly enough to have a kappa. */
function counts(judgeVersion: string, rated: number, agreed: number): CalibrationCounts {
  const disagreed = rated - agreed;
  const bothAcceptable = Math.ceil(agreed * 0.7);
  return {
    judgeVersion,
    rated,
    agreed,
    bothAcceptable,
    neither: agreed - bothAcceptable,
    judgeOnly: Math.ceil(disagreed / 2),
    peopleOnly: Math.floor(disagreed / 2),
  };
}

function judgeCriterion(p: Plan, rows: CalibrationCounts[] | null, current = 'j1'): Criterion | undefined {
  const calibration = rows === null ? undefined : judgeCalibration(3, current, rows, 'sequential', 0.95);
  const gate = assessGate({
    plan: p,
    stage: 'shadow',
    metrics: cohortMetrics({
      samples: 5000,
      agreement: 0.96,
      ...(calibration ? { judgeCalibration: calibration } : {}),
    }),
    stageEnteredAt: ENTERED,
    now: LATER,
  });
  return gate.criteria.find((c) => c.name === 'judgeAgreementLowerBound');
}

describe('the judge against people: a 2×2 of judge (score ≥ 0.5) and people', () => {
  it('when the cells are known, then agreement, its sequential bound and kappa are the textbook ones', () => {
    // 40 both acceptable, 50 neither, 5 + 5 off the diagonal: pₒ = 0.9, pₑ = 0.45² + 0.55² = 0.505.
    const v = versionCalibration(
      {
        judgeVersion: 'j1',
        rated: 100,
        agreed: 90,
        bothAcceptable: 40,
        judgeOnly: 5,
        peopleOnly: 5,
        neither: 50,
      },
      'sequential',
      0.95,
    );
    expect(v.agreement).toBe(0.9);
    expect(v.agreementLowerBound).toBeCloseTo(sequentialLowerBound(90, 100, 0.05)!, 12);
    expect(v.kappa).toBeCloseTo((0.9 - 0.505) / (1 - 0.505), 12);
    expect(v.kappaInterval!.lower).toBeLessThan(v.kappa!);
    expect(v.kappaInterval!.upper).toBeGreaterThan(v.kappa!);
  });

  it('when nothing is rated, then there is no agreement, bound or kappa', () => {
    const v = versionCalibration(counts('j1', 0, 0), 'sequential', 0.95);
    expect(v).toMatchObject({ agreement: null, agreementLowerBound: null, kappa: null, kappaInterval: null });
  });

  it('when several judge versions were rated, then the one that scores now comes first', () => {
    const c = judgeCalibration(3, 'j2', [counts('j1', 200, 190), counts('j2', 10, 9)], 'sequential', 0.95);
    expect(c.versions.map((v) => v.judgeVersion)).toEqual(['j2', 'j1']);
  });
});

describe('judgeOf and the default bar', () => {
  it('when the comparator is not a judge, then there is no judge and no bar', () => {
    const p = plan({ minSamples: 10, agreementLowerBound: 0.9 }, null);
    expect(judgeOf(p)).toBeNull();
    expect(judgeAgreementBar(p, p.stages.shadow.promoteWhen!)).toBeUndefined();
  });

  it('when a judge has no valid calibrationRate, then the default rate is read', () => {
    // A plan stored before its schema checked the rate is read as stored.
    const p = { comparator: { type: 'judge', calibrationRate: 7 } } as unknown as Plan;
    expect(judgeOf(p)).toEqual({ calibrationRate: DEFAULT_CALIBRATION_RATE });
    expect(judgeOf(plan({ minSamples: 1 }))).toEqual({ calibrationRate: 0.05 });
  });

  it("when a judge's plan omits the bar, then the gate holds the judge to 0.8", () => {
    const p = plan({ minSamples: 10, agreementLowerBound: 0.9 });
    expect(judgeAgreementBar(p, p.stages.shadow.promoteWhen!)).toBe(DEFAULT_JUDGE_AGREEMENT_LOWER_BOUND);
    expect(judgeCriterion(p, null)).toMatchObject({ required: 0.8 });
  });

  it('when a plan without a judge sets judgeAgreementLowerBound, then the plan is refused', () => {
    const result = planSchema.safeParse({
      useCase: 'x',
      owner: 'o@example.com',
      decision: { type: 'text', maxLength: 100 },
      ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
      stages: { shadow: { promoteWhen: { judgeAgreementLowerBound: 0.9 } } },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([
      'stages',
      'shadow',
      'promoteWhen',
      'judgeAgreementLowerBound',
    ]);
  });
});

describe('judgeAgreementLowerBound: a gate relying on a judge waits until the judge agrees with people', () => {
  const p = plan({ minSamples: 100, agreementLowerBound: 0.9 }, { minJudgeRatings: 50 });

  it('when nothing was judged yet, then it is inconclusive and the gate with it', () => {
    const gate = assessGate({
      plan: p,
      stage: 'shadow',
      metrics: cohortMetrics({ samples: 5000, agreement: 0.96 }),
      stageEnteredAt: ENTERED,
      now: LATER,
    });
    expect(gate.verdict).toBe('inconclusive');
    expect(gate.criteria.find((c) => c.name === 'judgeAgreementLowerBound')).toMatchObject({
      status: 'inconclusive',
      holds: false,
      actual: null,
      detail: 'no decision judged yet',
    });
  });

  it('when the judge has no ratings, then it is inconclusive, however good the AI looks', () => {
    expect(judgeCriterion(p, [])).toMatchObject({
      status: 'inconclusive',
      actual: null,
      samples: 0,
      judgeVersion: 'j1',
    });
  });

  it('when a judge agreeing 95% has enough ratings, then it holds, with the bound as actual', () => {
    const c = judgeCriterion(p, [counts('j1', 100, 95)]);
    expect(c).toMatchObject({ status: 'holds', holds: true, required: 0.8, samples: 100, observed: 0.95 });
    expect(c!.actual).toBeCloseTo(sequentialLowerBound(95, 100, 0.05)!, 12);
    expect(c!.actual as number).toBeGreaterThanOrEqual(0.8);
  });

  it('when the bound clears the bar on fewer than minJudgeRatings ratings, then it waits for them', () => {
    const strict = plan({ minSamples: 100 }, { minJudgeRatings: 200 });
    expect(judgeCriterion(strict, [counts('j1', 150, 150)])).toMatchObject({
      status: 'inconclusive',
      detail: '150 of the 200 ratings the judge needs',
    });
  });

  it('when a judge agrees with people only 70%, then it stays inconclusive (never blocked) and says why', () => {
    for (const rated of [50, 300, 3000]) {
      const c = judgeCriterion(p, [counts('j1', rated, Math.round(rated * 0.7))]);
      expect(c).toMatchObject({ status: 'inconclusive', holds: false });
      expect(c!.actual as number).toBeLessThan(0.8);
    }
    const many = judgeCriterion(p, [counts('j1', 3000, 2100)]);
    expect(many!.detail).toMatch(/agrees with people less than 0\.8 .*fix or replace the judge/);
  });

  it('when a new judge version scores the newest decisions, then the old version’s ratings do not count', () => {
    const c = judgeCriterion(p, [counts('j1', 500, 490)], 'j2');
    expect(c).toMatchObject({ status: 'inconclusive', samples: 0, judgeVersion: 'j2' });
  });

  it('when the plan raises the bar, then the same ratings no longer hold', () => {
    const high = plan({ minSamples: 100 }, { judgeAgreementLowerBound: 0.9 });
    expect(judgeCriterion(high, [counts('j1', 100, 95)])).toMatchObject({
      status: 'inconclusive',
      required: 0.9,
    });
  });

  it('when the comparator is not a judge, then there is no such criterion', () => {
    expect(judgeCriterion(plan({ minSamples: 100 }, null), [counts('j1', 100, 95)])).toBeUndefined();
  });
});
