import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/plans/duration.js';

describe('parseDurationMs', () => {
  it.each([
    ['500ms', 500],
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1.5h', 5_400_000],
    ['0s', 0],
  ])('when given %s, then it is %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it('when given a number, then it counts seconds', () => {
    expect(parseDurationMs(90)).toBe(90_000);
    expect(parseDurationMs(0.25)).toBe(250);
  });

  it('when a fraction of a millisecond results, then it is rounded', () => {
    expect(parseDurationMs('0.0004s')).toBe(0);
    expect(parseDurationMs('1.0006s')).toBe(1001);
  });

  it.each(['7', '7 d', '7x', '-1s', 'd', '', '1e3s'])('when given %j, then it throws', (text) => {
    expect(() => parseDurationMs(text)).toThrow(RangeError);
  });

  it('when given a negative or endless number, then it throws', () => {
    expect(() => parseDurationMs(-1)).toThrow(RangeError);
    expect(() => parseDurationMs(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
