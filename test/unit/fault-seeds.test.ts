import { describe, expect, it } from 'vitest';
import {
  caseRandom,
  MAX_SEED,
  parseSeed,
  runSeed,
  seededRandom,
} from '../../scripts/faults/seeded-random.js';

describe('the fault suite seeds', () => {
  it('replays the same draws from the same seed, and other draws from another', () => {
    const draws = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 20 }, () => r.next());
    };
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
    for (const x of draws(7)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('keeps int and around within their ranges and reaches both ends of a small range', () => {
    const r = seededRandom(1234);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const n = r.int(3, 6);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(6);
      seen.add(n);
      const a = r.around(1_000, 0.25);
      expect(a).toBeGreaterThanOrEqual(750);
      expect(a).toBeLessThanOrEqual(1_250);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });

  it('gives each run a seed of its own that replays it as the first run of --seed', () => {
    expect([1, 2, 3].map((run) => runSeed(500, run))).toEqual([500, 501, 502]);
    expect(runSeed(MAX_SEED, 2)).toBe(0);
    const draws = (seed: number, name: string) => {
      const r = caseRandom(seed, name);
      return Array.from({ length: 5 }, () => r.int(0, 1_000_000));
    };
    // Run 3 of base 500 draws exactly what run 1 of base 502 draws.
    expect(draws(runSeed(500, 3), 'controller-kill')).toEqual(draws(runSeed(502, 1), 'controller-kill'));
    expect(draws(501, 'controller-kill')).not.toEqual(draws(502, 'controller-kill'));
    // Cases of one run draw differently, and report the run's seed.
    expect(draws(501, 'controller-kill')).not.toEqual(draws(501, 'redis-loss'));
    expect(caseRandom(501, 'redis-loss').seed).toBe(501);
  });

  it('accepts decimal seeds within 32 bits and refuses anything else', () => {
    expect(parseSeed('0')).toBe(0);
    expect(parseSeed(String(MAX_SEED))).toBe(MAX_SEED);
    for (const bad of ['', '-1', '1.5', 'abc', '0x10', String(MAX_SEED + 1)])
      expect(parseSeed(bad)).toBeNull();
    expect(() => seededRandom(-1)).toThrow(RangeError);
  });
});
