import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRIFT_VALUE_CHARS, DRIFT_VALUES_PER_HOUR } from '../../src/metrics/drift-store.js';
import { DEFAULT_NUMERIC_BUCKETS } from '../../src/metrics/drift-view.js';
import {
  bucketThresholds,
  CONFIDENCE_BUCKETS,
  LATENCY_MS_BUCKETS,
  MAX_CATEGORIES,
} from '../../src/statistics/drift.js';

/**
 * The drift counts' trigger (README "Drift") is SQL restated by each migration that changes it; the
 * one in force is the newest that builds `drift_sql`. Its numbers are the TypeScript constants'.
 */
const journal = JSON.parse(readFileSync('migrations/meta/_journal.json', 'utf8')) as {
  entries: Array<{ idx: number; tag: string }>;
};
const inForce = [...journal.entries]
  .sort((a, b) => b.idx - a.idx)
  .map((e) => ({ tag: e.tag, text: readFileSync(`migrations/${e.tag}.sql`, 'utf8') }))
  .find((m) => m.text.includes('drift_sql text :='))!;

describe('the drift counts trigger in force', () => {
  it('when it is found, then it is the one that bounds segment values (0015 or later)', () => {
    expect(inForce.tag >= '0015').toBe(true);
  });

  it('when the trigger buckets a value, then it uses the thresholds of the TypeScript schemes', () => {
    for (const scheme of [CONFIDENCE_BUCKETS, LATENCY_MS_BUCKETS, DEFAULT_NUMERIC_BUCKETS]) {
      expect(inForce.text).toContain(`'{${bucketThresholds(scheme).join(',')}}'::float8[]`);
    }
  });

  it('when it bounds a segment field, then its numbers are DRIFT_VALUES_PER_HOUR and DRIFT_VALUE_CHARS, stated once', () => {
    expect(inForce.text.match(/value_cap constant int := (\d+);/g)).toHaveLength(1);
    expect(inForce.text.match(/value_cap constant int := (\d+);/)?.[1]).toBe(String(DRIFT_VALUES_PER_HOUR));
    expect(inForce.text.match(/value_chars constant int := (\d+);/g)).toHaveLength(1);
    expect(inForce.text.match(/value_chars constant int := (\d+);/)?.[1]).toBe(String(DRIFT_VALUE_CHARS));
    // The measures choose their MAX_CATEGORIES among what is stored: never fewer stored than that.
    expect(DRIFT_VALUES_PER_HOUR).toBeGreaterThanOrEqual(MAX_CATEGORIES);
    // No other literal stands in for them where the SQL compares a rank or a length.
    expect(inForce.text).not.toMatch(/<= (?:50|100)\b|> 200\b/);
  });
});
