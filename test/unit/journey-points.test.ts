import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CohortMetrics } from '../../src/metrics/metrics-types.js';
import type { GateAssessment } from '../../src/promotion/gate-types.js';
import {
  GROWTH,
  journeyPoint,
  MAX_POINTS_PER_VISIT,
  MIN_STEP,
  nextSeq,
  type PreviousPoint,
} from '../../src/promotion/journey-points.js';
import { MAX_JOURNEY_POINTS, stageVisits } from '../../src/promotion/journey-store.js';
import type { TransitionRecord } from '../../src/promotion/transition-store.js';

const gate = (over: Partial<GateAssessment>): GateAssessment =>
  ({
    fromStage: 'shadow',
    targetStage: 'human-reviewed',
    verdict: 'inconclusive',
    criteria: [],
    approval: 'manual',
    confidence: 0.95,
    majorityBaseline: null,
    warnings: [],
    ...over,
  }) as GateAssessment;

const cohort = (samples: number, agreement: number, agreementLowerBound: number) =>
  ({ samples, agreement, agreementLowerBound }) as CohortMetrics;

const base = {
  useCase: 'invoice-triage',
  stageVersion: 3,
  planVersion: 2,
  at: new Date('2026-12-06T10:00:00Z'),
};

describe('a journey point', () => {
  it("in a gated stage, then it carries the gate's sequential bound and threshold, not the cohort's bound", () => {
    const point = journeyPoint({
      ...base,
      stage: 'shadow',
      cohort: cohort(400, 0.93, 0.91),
      gate: gate({
        criteria: [
          {
            name: 'agreementLowerBound',
            required: 0.9,
            actual: 0.872,
            status: 'inconclusive',
            holds: false,
            observed: 0.93,
            samples: 400,
          },
        ],
      }),
      window: null,
      agreementBelow: null,
    });
    expect(point).toMatchObject({
      samples: 400,
      agreement: 0.93,
      lowerBound: 0.872,
      required: 0.9,
      targetStage: 'human-reviewed',
      verdict: 'inconclusive',
      guardSamples: null,
      guardAgreement: null,
      guardThreshold: null,
    });
  });

  it("in a guarded stage without a gate, then it carries the cohort's bound and the guard window's agreement against agreementBelow", () => {
    const point = journeyPoint({
      ...base,
      stage: 'limited-autonomous',
      cohort: cohort(120, 0.9, 0.84),
      gate: gate({ fromStage: 'limited-autonomous', targetStage: null, verdict: 'none' }),
      window: { compared: 50, scoreSum: 40, aiCalls: 50, aiErrors: 0, labels: {} },
      agreementBelow: 0.85,
    });
    expect(point).toMatchObject({
      lowerBound: 0.84,
      required: null,
      verdict: 'none',
      guardSamples: 50,
      guardAgreement: 0.8,
      guardThreshold: 0.85,
    });
  });

  it('when nothing was compared yet, then its ratios are null, never NaN', () => {
    const point = journeyPoint({
      ...base,
      stage: 'limited-autonomous',
      cohort: null,
      gate: gate({ verdict: 'none', targetStage: null }),
      window: { compared: 0, scoreSum: 0, aiCalls: 0, aiErrors: 0, labels: {} },
      agreementBelow: 0.85,
    });
    expect(point).toMatchObject({ samples: 0, agreement: null, lowerBound: null, guardAgreement: null });
  });
});

describe('which points are kept', () => {
  const point = (samples: number, verdict: GateAssessment['verdict'] = 'inconclusive', stageVersion = 3) =>
    ({ ...base, stageVersion, stage: 'shadow', samples, verdict }) as Parameters<typeof nextSeq>[1];
  const previous = (
    seq: number,
    samples: number,
    verdict: PreviousPoint['verdict'] = 'inconclusive',
  ): PreviousPoint => ({
    stageVersion: 3,
    seq,
    samples,
    verdict,
    guardAgreement: null,
    guardThreshold: null,
  });

  it('keeps the first point of a visit, and the first after a stage change', () => {
    expect(nextSeq(undefined, point(0))).toBe(1);
    expect(nextSeq(previous(40, 9_000), point(9_001, 'inconclusive', 4))).toBe(1);
  });

  it('keeps a point once the cohort grew by the larger of the fixed step and the growth share', () => {
    expect(nextSeq(previous(2, 100), point(100 + MIN_STEP - 1))).toBeNull();
    expect(nextSeq(previous(2, 100), point(100 + MIN_STEP))).toBe(3);
    const step = Math.ceil(GROWTH * 10_000);
    expect(nextSeq(previous(7, 10_000), point(10_000 + step - 1))).toBeNull();
    expect(nextSeq(previous(7, 10_000), point(10_000 + step))).toBe(8);
  });

  it('keeps a point when the verdict turns, however little the cohort grew', () => {
    expect(nextSeq(previous(5, 500), point(501, 'eligible'))).toBe(6);
  });

  it('keeps a point when the guard window crosses its threshold, either way', () => {
    const guarded = (samples: number, guardAgreement: number) =>
      ({ ...point(samples, 'none'), guardAgreement, guardThreshold: 0.9 }) as Parameters<typeof nextSeq>[1];
    const before = { ...previous(9, 300, 'none'), guardAgreement: 0.93, guardThreshold: 0.9 };
    expect(nextSeq(before, guarded(301, 0.92))).toBeNull();
    expect(nextSeq(before, guarded(301, 0.88))).toBe(10);
    expect(nextSeq({ ...before, guardAgreement: 0.88 }, guarded(302, 0.91))).toBe(10);
  });

  it('keeps no more than the cap per visit, whatever happens within it', () => {
    expect(nextSeq(previous(MAX_POINTS_PER_VISIT, 500), point(5_000, 'eligible'))).toBeNull();
  });

  it('keeps a few hundred points for a visit of a hundred million compared decisions', () => {
    let last: PreviousPoint | undefined;
    let kept = 0;
    // Each tick sees 0.1% more evidence: the growth rule, not the tick rate, sets the count.
    for (
      let samples = 0;
      samples <= 100_000_000;
      samples = Math.max(samples + 1, Math.ceil(samples * 1.001))
    ) {
      const p = point(samples);
      const seq = nextSeq(last, p);
      if (seq === null) continue;
      kept++;
      last = previous(seq, samples);
    }
    expect(kept).toBeGreaterThan(200);
    expect(kept).toBeLessThan(350);
  });
});

describe('stage visits', () => {
  it('runs each visit from the transition that began it to the one that ended it', () => {
    const t = (stageVersion: number, toStage: string, at: string) =>
      ({
        stageVersion,
        toStage,
        at: new Date(at),
        actor: 'a',
        reason: 'r',
        forced: false,
        planVersion: 1,
      }) as TransitionRecord;
    const visits = stageVisits([
      t(1, 'shadow', '2026-12-01T00:00:00Z'),
      t(2, 'human-reviewed', '2026-12-08T00:00:00Z'),
    ]);
    expect(visits.map((v) => [v.stage, v.enteredAt.toISOString(), v.leftAt?.toISOString() ?? null])).toEqual([
      ['shadow', '2026-12-01T00:00:00.000Z', '2026-12-08T00:00:00.000Z'],
      ['human-reviewed', '2026-12-08T00:00:00.000Z', null],
    ]);
  });
});

describe("the README's account of the journey points", () => {
  it('states the thinning rule and the bounds the code applies', () => {
    const readme = readFileSync('README.md', 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(`grew by ${MIN_STEP} compared decisions or ${GROWTH * 100}%`);
    expect(readme).toContain(`never more than ${MAX_POINTS_PER_VISIT} per visit`);
    expect(readme).toContain(`The newest ${MAX_JOURNEY_POINTS.toLocaleString('en-US')} points are answered`);
  });
});
