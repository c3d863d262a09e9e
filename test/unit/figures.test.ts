import { describe, expect, it } from 'vitest';
import {
  count,
  criterionComparator,
  criterionFigure,
  decimal,
  duration,
  kappa,
  NONE,
  percent,
  points,
  usd,
} from '../../src/format/figures.js';

describe('figures', () => {
  it.each([null, undefined, Number.NaN, Number.POSITIVE_INFINITY])(
    'when the value is %s, then every formatter writes the dash, never NaN or 0',
    (x) => {
      for (const format of [usd, percent, count, decimal, duration]) expect(format(x)).toBe(NONE);
      expect(criterionFigure('maxAiCostPerDecision', x)).toBe(NONE);
    },
  );

  it.each([
    [0, '$0.00'],
    [1, '$1.00'],
    [12.345, '$12.35'],
    [999.99, '$999.99'],
    [999.996, '$1,000'],
    [1000, '$1,000'],
    [12_345.67, '$12,346'],
    [5_400_000, '$5,400,000'],
    [0.5, '$0.50'],
    [0.123, '$0.12'],
    [0.0123, '$0.012'],
    [0.015, '$0.015'],
    [0.002, '$0.002'],
    [0.00042, '$0.00042'],
    [0.0999, '$0.10'],
    [1e-9, '$0.000000001'],
    [-6, '-$6.00'],
    [-0.002, '-$0.002'],
    [-1234, '-$1,234'],
  ])('when %d dollars are written, then they read %s', (x, text) => {
    expect(usd(x)).toBe(text);
  });

  it.each([
    [0.93421, '93.42%'],
    [1, '100.00%'],
    [0, '0.00%'],
    [0.0005, '0.05%'],
  ])('when the rate %d is written, then it reads %s', (x, text) => {
    expect(percent(x)).toBe(text);
  });

  it('when fewer decimals are asked for, then the percentage has them', () => {
    expect(percent(0.95, 0)).toBe('95%');
    expect(percent(0.9512, 1)).toBe('95.1%');
  });

  it.each([
    [0, '0'],
    [999, '999'],
    [1234, '1,234'],
    [1_234_567.4, '1,234,567'],
    [-12_000, '-12,000'],
  ])('when the count %d is written, then it reads %s', (x, text) => {
    expect(count(x)).toBe(text);
  });

  it('when a plain number is written, then it has the decimals asked for, three unless told', () => {
    expect(decimal(0.81234)).toBe('0.812');
    expect(decimal(0.81234, 2)).toBe('0.81');
  });

  it('when kappa has an interval, then both ends follow it in the same decimals; without one the kappa stands alone', () => {
    expect(kappa(0.81234, { lower: 0.78, upper: 0.8451 })).toBe('0.812 (0.780 to 0.845)');
    expect(kappa(-0.05, { lower: -0.2, upper: 0.1 })).toBe('-0.050 (-0.200 to 0.100)');
    expect(kappa(0.5, null)).toBe('0.500');
    expect(kappa(null, { lower: 0, upper: 1 })).toBe('—');
  });

  it.each([
    [0, '0s'],
    [0.4, '0ms'],
    [500, '500ms'],
    [89.6, '90ms'],
    [999.6, '1s'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [12_345, '12.3s'],
    [45_000, '45s'],
    [59_999, '59.9s'],
    [60_000, '1m'],
    [61_000, '1m 1s'],
    [180_000, '3m'],
    [1_800_000, '30m'],
    [2 * 3_600_000 + 5 * 60_000 + 59_000, '2h 5m'],
    [7 * 86_400_000 + 2 * 3_600_000, '7d 2h'],
    [7 * 86_400_000 + 2 * 3_600_000 + 59 * 60_000, '7d 2h'],
    [7 * 86_400_000 + 30 * 60_000, '7d'],
    [14 * 86_400_000, '14d'],
    [-90_000, '-1m 30s'],
  ])('when %d ms are written, then they read %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it('when just short of a day or a minute, then it never reads as the whole of it', () => {
    expect(duration(86_400_000 - 1)).toBe('23h 59m');
    expect(duration(60_000 - 1)).toBe('59.9s');
  });

  it('when a criterion figure is written, then it is in the unit of its kind, and text is kept', () => {
    expect(criterionFigure('minSamples', 12_500)).toBe('12,500');
    expect(criterionFigure('agreementLowerBound', 0.9)).toBe('90.00%');
    expect(criterionFigure('segment:region=EU', 0.8123456)).toBe('81.23%');
    expect(criterionFigure('maxAiErrorRate', 0.02)).toBe('2.00%');
    expect(criterionFigure('maxP95LatencyMs', 1500)).toBe('1.5s');
    expect(criterionFigure('maxAiCostPerDecision', 0.002)).toBe('$0.002');
    expect(criterionFigure('labelRecallLowerBound:reject', 0.70123)).toBe('70.12%');
    expect(criterionFigure('labelPrecisionLowerBound:approve', 0.98)).toBe('98.00%');
    expect(criterionFigure('maxErrorCostPerDecision', 4.567)).toBe('$4.57');
    expect(criterionFigure('maxErrorCostPerDecision', 0.0123)).toBe('$0.012');
    expect(criterionFigure('minDuration', '6d 23h')).toBe('6d 23h');
    expect(criterionFigure('somethingNew', 0.25)).toBe('0.25');
  });

  it('when a criterion is a maximum, then its comparator is ≤; floors and bounds are ≥', () => {
    expect(criterionComparator('maxAiErrorRate')).toBe('≤');
    expect(criterionComparator('minSamples')).toBe('≥');
    expect(criterionComparator('segment:region=EU')).toBe('≥');
    expect(criterionComparator('labelRecallLowerBound:reject')).toBe('≥');
    expect(criterionComparator('maxErrorCostPerDecision')).toBe('≤');
  });
  it("when a challenger's criterion carries its stage's prefix, then it reads in the gate's units; the paired one in signed percentage points", () => {
    expect(criterionFigure('shadow.minSamples', 1234)).toBe('1,234');
    expect(criterionFigure('human-reviewed.agreementLowerBound', 0.91234)).toBe('91.23%');
    expect(criterionFigure('shadow.labelRecallLowerBound:reject', 0.8)).toBe('80.00%');
    expect(criterionFigure('shadow.maxErrorCostPerDecision', 5)).toBe('$5.00');
    expect(criterionFigure('limited-autonomous.maxP95LatencyMs', 1500)).toBe(duration(1500));
    expect(criterionFigure('shadow.minDuration', '7d')).toBe('7d');
    expect(criterionFigure('championNonInferiority', -0.0612)).toBe('-6.1 pp');
    expect(criterionFigure('championNonInferiority', 0.008)).toBe('+0.8 pp');
    expect(criterionFigure('championNonInferiority', null)).toBe('—');
    expect(criterionComparator('shadow.maxAiErrorRate')).toBe('≤');
    expect(points(-0.00001)).toBe('0.0 pp');
  });
});
