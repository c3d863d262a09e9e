import { sequentialLowerBound, sequentialUpperBound } from './confidence-sequence.js';
import { wilsonInterval } from './wilson.js';

/**
 * The plan's `statistics`: `sequential` (default) is the confidence sequence, valid however often
 * the gate is checked; `fixed` is the Wilson score interval, valid for one look at a sample size
 * fixed in advance. Both at the plan's `confidence`, both from (sum of scores, n).
 *
 * The sequential interval is one confidence sequence at α = 1 − confidence: its lower and upper
 * ends together fail with probability at most α. Wilson's is the two-sided interval at
 * `confidence`, as the metrics report it.
 */
export type AgreementStatistics = 'sequential' | 'fixed';

export function agreementLowerBoundFor(
  method: AgreementStatistics,
  sum: number,
  n: number,
  confidence: number,
): number | null {
  return cached(method === 'sequential' ? SEQUENTIAL_LOWER : FIXED_LOWER, sum, n, confidence);
}

export function agreementUpperBoundFor(
  method: AgreementStatistics,
  sum: number,
  n: number,
  confidence: number,
): number | null {
  return cached(method === 'sequential' ? SEQUENTIAL_UPPER : FIXED_UPPER, sum, n, confidence);
}

const SEQUENTIAL_LOWER = 0;
const SEQUENTIAL_UPPER = 1;
const FIXED_LOWER = 2;
const FIXED_UPPER = 3;

function compute(kind: number, sum: number, n: number, confidence: number): number | null {
  if (kind === SEQUENTIAL_LOWER) return sequentialLowerBound(sum, n, 1 - confidence);
  if (kind === SEQUENTIAL_UPPER) return sequentialUpperBound(sum, n, 1 - confidence);
  const interval = wilsonInterval(sum, n, confidence);
  return interval === null ? null : kind === FIXED_LOWER ? interval.lower : interval.upper;
}

/**
 * The gate asks for the same bounds again and again (every segment value that did not change since
 * the last tick, every read of a use case), so recent ones are kept in a small direct-mapped cache
 * keyed by the exact inputs. A collision only costs a recomputation.
 */
const CACHE_BITS = 12;
const SLOTS = 1 << CACHE_BITS;
const keys = new Float64Array(SLOTS * 4).fill(Number.NaN);
const values = new Float64Array(SLOTS);
const keyView = new Float64Array(4);
const keyBits = new Int32Array(keyView.buffer);

function cached(kind: number, sum: number, n: number, confidence: number): number | null {
  keyView[0] = kind;
  keyView[1] = sum;
  keyView[2] = n;
  keyView[3] = confidence;
  let hash = 0;
  for (let i = 0; i < 8; i++) hash = Math.imul(hash ^ keyBits[i]!, 0x9e3779b1);
  // The top bits of a multiplicative hash depend on every input bit; the low ones do not.
  const slot = hash >>> (32 - CACHE_BITS);
  const k = slot * 4;
  if (keys[k] === kind && keys[k + 1] === sum && keys[k + 2] === n && keys[k + 3] === confidence) {
    return values[slot]!;
  }
  const value = compute(kind, sum, n, confidence);
  if (value !== null) {
    keys[k] = kind;
    keys[k + 1] = sum;
    keys[k + 2] = n;
    keys[k + 3] = confidence;
    values[slot] = value;
  }
  return value;
}
