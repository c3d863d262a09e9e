import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROLLUP_STRIPES } from '../../src/db/rollup-schema.js';
import { DRIFT_VALUE_CHARS, DRIFT_VALUES_PER_HOUR } from '../../src/metrics/drift-store.js';
import { DEFAULT_NUMERIC_BUCKETS } from '../../src/metrics/drift-view.js';
import {
  OTHER_SEGMENT_VALUE,
  SEGMENT_VALUE_CHARS,
  SEGMENT_VALUES_PER_STAGE,
} from '../../src/metrics/segment-bounds.js';
import {
  bucketThresholds,
  CONFIDENCE_BUCKETS,
  LATENCY_MS_BUCKETS,
  MAX_CATEGORIES,
} from '../../src/statistics/drift.js';

/**
 * The rollup triggers (the drift counts, README "Drift"; the segment rollups, README "Metrics") are
 * SQL restated by each migration that changes them; the one in force is the newest that builds the
 * part. Their numbers are the TypeScript constants'.
 */
const journal = JSON.parse(readFileSync('migrations/meta/_journal.json', 'utf8')) as {
  entries: Array<{ idx: number; tag: string }>;
};
const newestBuilding = (part: string) =>
  [...journal.entries]
    .sort((a, b) => b.idx - a.idx)
    .map((e) => ({ tag: e.tag, text: readFileSync(`migrations/${e.tag}.sql`, 'utf8') }))
    .find((m) => m.text.includes(`${part} text :=`))!;
const inForce = newestBuilding('drift_sql');

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

describe('the segment rollups trigger in force', () => {
  const segments = newestBuilding('segment_sql');

  it('when it bounds a segment, then its numbers are SEGMENT_VALUES_PER_STAGE and SEGMENT_VALUE_CHARS, stated once', () => {
    expect(segments.tag >= '0017').toBe(true);
    expect(segments.text.match(/segment_cap constant int := (\d+);/g)).toHaveLength(1);
    expect(segments.text.match(/segment_cap constant int := (\d+);/)?.[1]).toBe(
      String(SEGMENT_VALUES_PER_STAGE),
    );
    expect(segments.text.match(/segment_chars constant int := (\d+);/g)).toHaveLength(1);
    expect(segments.text.match(/segment_chars constant int := (\d+);/)?.[1]).toBe(
      String(SEGMENT_VALUE_CHARS),
    );
    expect(segments.text).toContain(`'${OTHER_SEGMENT_VALUE}'`);
    // The rebuild after a plan changes its segments is built from the same bounded SQL.
    expect(segments.text).toContain('format(segment_sql, src, segment_cap, segment_chars)');
    expect(segments.text).toMatch(
      /rebuild_segment_rollups[\s\S]*format\(segment_sql, '[^']*', segment_cap,\s*segment_chars\)/,
    );
  });
});

describe('the rollup triggers in force', () => {
  it('when a trigger picks the stripe it writes, then it is one of ROLLUP_STRIPES', () => {
    const cohorts = newestBuilding('cohort_sql');
    const stripes = [...cohorts.text.matchAll(/pg_backend_pid\(\) %%? *(\d+)/g)].map((m) => Number(m[1]));
    expect(stripes.length).toBeGreaterThanOrEqual(5);
    expect(new Set(stripes)).toEqual(new Set([ROLLUP_STRIPES]));
  });
});
