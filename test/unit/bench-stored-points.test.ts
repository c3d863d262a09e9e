import { describe, expect, it } from 'vitest';
import { parseDecisionCounts } from '../../scripts/bench/stored-points.js';

describe('the gates benchmark points (npm run bench -- --stored)', () => {
  it('reads counts with k and M suffixes, in the order given', () => {
    expect(parseDecisionCounts('1M,10M,100M')).toEqual([1_000_000, 10_000_000, 100_000_000]);
    expect(parseDecisionCounts('500k, 2.5M ,3000000')).toEqual([500_000, 2_500_000, 3_000_000]);
  });

  it('refuses what is not a count, out of bounds or out of order, naming the part', () => {
    expect(() => parseDecisionCounts('1M,ten')).toThrow(/"ten" is not a count/);
    expect(() => parseDecisionCounts('1M,')).toThrow(/"" is not a count/);
    expect(() => parseDecisionCounts('-5M')).toThrow(/not a count/);
    expect(() => parseDecisionCounts('999')).toThrow(/from 1,000 to 1,000,000,000/);
    expect(() => parseDecisionCounts('2000M')).toThrow(/2,000,000,000 decisions/);
    expect(() => parseDecisionCounts('10M,1M')).toThrow(/ascending/);
    expect(() => parseDecisionCounts('1M,1000k')).toThrow(/ascending/);
  });
});
