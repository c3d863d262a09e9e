/**
 * The fault suite's randomness, all drawn from one seed so a failing run can be replayed:
 * `npm run faults -- --seed S` gives every run of every case the same timings again.
 * mulberry32 (a 32-bit state PRNG) is plenty for picking timings; it is not for secrets.
 */

/** Seeds are unsigned 32-bit integers, printed and accepted in decimal. */
export const MAX_SEED = 0xffff_ffff;

export interface SeededRandom {
  /** The seed this generator started from. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** `value` scaled by a factor drawn in [1 - spread, 1 + spread], rounded. */
  around(value: number, spread: number): number;
}

export function seededRandom(seed: number): SeededRandom {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be an integer in 0..${MAX_SEED}, got ${seed}`);
  }
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    around: (value, spread) => Math.round(value * (1 - spread + next() * 2 * spread)),
  };
}

/**
 * The seed of the n-th run (from 1): the base seed, then the next ones, wrapping at 2^32. A
 * failed run's seed is thus a base seed of its own: `--seed <that seed>` replays it as run 1.
 */
export function runSeed(baseSeed: number, run: number): number {
  return (baseSeed + run - 1) % (MAX_SEED + 1);
}

/**
 * The generator one case draws from in a run: the run's seed mixed with the case's name, so
 * cases of one run draw differently and selecting other cases with --only changes nothing.
 */
export function caseRandom(seed: number, caseName: string): SeededRandom {
  let h = 0x811c9dc5 ^ seed;
  for (const char of caseName) h = Math.imul(h ^ char.charCodeAt(0), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const random = seededRandom(h >>> 0);
  return { ...random, seed };
}

/** A base seed for when none is given; printed so the run can be replayed. */
export function freshSeed(): number {
  return Math.floor(Math.random() * (MAX_SEED + 1));
}

/** Parses a --seed value: decimal digits within 0..MAX_SEED, or null. */
export function parseSeed(text: string): number | null {
  if (!/^\d{1,10}$/.test(text)) return null;
  const seed = Number(text);
  return seed <= MAX_SEED ? seed : null;
}
