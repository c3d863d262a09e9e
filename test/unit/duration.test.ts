import { describe, expect, it } from 'vitest';
import { formatDuration, parseDurationMs } from '../../src/plans/duration.js';

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

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1s 500ms'],
    [45_000, '45s'],
    [61_000, '1m 1s'],
    [1_800_000, '30m'],
    [7 * 86_400_000 + 2 * 3_600_000, '7d 2h'],
    [7 * 86_400_000 + 2 * 3_600_000 + 59 * 60_000, '7d 2h'],
    [7 * 86_400_000 + 30 * 60_000, '7d'],
    [14 * 86_400_000, '14d'],
    [-90_000, '-1m 30s'],
  ])('when given %d ms, then it reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('when just short of a day, then it never reads as a whole day', () => {
    expect(formatDuration(86_400_000 - 1)).toBe('23h 59m');
  });
});
