import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { histogramPercentile } from '../../src/metrics/latency-histogram.js';
import { type RollupFilter, RollupStore } from '../../src/metrics/rollup-store.js';
import { BACKENDS } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const UC = 'latency-ranks';

/** A deterministic stream of numbers in [0, 1), so every run writes the same buckets. */
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

interface BucketRow {
  stripe: number;
  stageVersion: number;
  stage: string;
  modelVersion: string;
  bucket: number;
  count: number;
}

/**
 * Cohorts shaped like the rollups the trigger keeps, and the edges a ranking can get wrong: several
 * stripes and stage versions of one bucket, buckets whose stripes cancel to zero or below (a
 * decision counted and taken back), a cohort of one latency, one of two, one of one bucket.
 */
function bucketRows(): BucketRow[] {
  const next = sequence(11);
  const rows: BucketRow[] = [];
  const cohorts = [
    { stage: 'shadow', modelVersion: 'm1', buckets: 120, stageVersions: [1, 3] },
    { stage: 'shadow', modelVersion: '', buckets: 40, stageVersions: [1] },
    { stage: 'human-reviewed', modelVersion: 'm2', buckets: 300, stageVersions: [2] },
  ];
  for (const c of cohorts) {
    for (let i = 0; i < c.buckets; i++) {
      const bucket = Math.floor(next() * 450);
      for (const stageVersion of c.stageVersions) {
        rows.push({
          ...c,
          stageVersion,
          stripe: Math.floor(next() * 8),
          bucket,
          count: 1 + Math.floor(next() * 40),
        });
      }
    }
  }
  // Taken back: a bucket of m1 cancelled to 0 across two stripes, one of '' left below 0.
  rows.push({ stage: 'shadow', modelVersion: 'm1', stageVersion: 1, stripe: 0, bucket: 460, count: 5 });
  rows.push({ stage: 'shadow', modelVersion: 'm1', stageVersion: 1, stripe: 1, bucket: 460, count: -5 });
  rows.push({ stage: 'shadow', modelVersion: '', stageVersion: 1, stripe: 2, bucket: 470, count: -3 });
  rows.push({
    stage: 'limited-autonomous',
    modelVersion: 'one',
    stageVersion: 4,
    stripe: 0,
    bucket: 77,
    count: 1,
  });
  rows.push({
    stage: 'limited-autonomous',
    modelVersion: 'two',
    stageVersion: 4,
    stripe: 3,
    bucket: 90,
    count: 1,
  });
  rows.push({
    stage: 'limited-autonomous',
    modelVersion: 'two',
    stageVersion: 4,
    stripe: 5,
    bucket: 12,
    count: 1,
  });
  return rows;
}

/** The TypeScript rule over the same buckets, summed per cohort as the rollup read sums them. */
function expectedPercentiles(rows: BucketRow[], filter: RollupFilter) {
  const histograms = new Map<string, Map<number, number>>();
  for (const r of rows) {
    if (filter.stage && r.stage !== filter.stage) continue;
    if (filter.stageVersion !== undefined && r.stageVersion !== filter.stageVersion) continue;
    const key = `${r.stage}/${r.modelVersion}`;
    const histogram = histograms.get(key) ?? new Map<number, number>();
    histograms.set(key, histogram);
    histogram.set(r.bucket, (histogram.get(r.bucket) ?? 0) + r.count);
  }
  return new Map(
    [...histograms].map(([key, h]) => [
      key,
      { p50: histogramPercentile(h, 0.5), p95: histogramPercentile(h, 0.95) },
    ]),
  );
}

describe.each(BACKENDS)('latency percentiles ranked in SQL on %s', (_backend, create) => {
  let tdb: TestDatabase;
  const rows = bucketRows();

  beforeAll(async () => {
    tdb = await create();
    const cohorts = new Map(
      rows.map((r) => [`${r.stripe}/${r.stageVersion}/${r.stage}/${r.modelVersion}`, r]),
    );
    for (const c of cohorts.values()) {
      await tdb.database.rows(sql`insert into cohort_rollups (stripe, use_case, stage_version, stage, ai_config,
        model_version, decisions) values (${c.stripe}, ${UC}, ${c.stageVersion}, ${c.stage}, 'cfg', ${c.modelVersion}, 1)`);
    }
    // A stripe's row holds its buckets in order, each once, as the trigger keeps them.
    const histograms = new Map<string, { row: BucketRow; counts: Map<number, number> }>();
    for (const r of rows) {
      const key = `${r.stripe}/${r.stageVersion}/${r.stage}/${r.modelVersion}`;
      const histogram = histograms.get(key) ?? { row: r, counts: new Map<number, number>() };
      histograms.set(key, histogram);
      histogram.counts.set(r.bucket, (histogram.counts.get(r.bucket) ?? 0) + r.count);
    }
    for (const { row: r, counts } of histograms.values()) {
      const buckets = [...counts.keys()].filter((b) => counts.get(b) !== 0).sort((a, b) => a - b);
      await tdb.database.rows(sql`insert into latency_histograms (stripe, use_case, stage_version, stage, ai_config,
        model_version, buckets, counts) values (${r.stripe}, ${UC}, ${r.stageVersion}, ${r.stage}, 'cfg',
        ${r.modelVersion}, ${`{${buckets.join(',')}}`}::int[], ${`{${buckets.map((b) => counts.get(b)).join(',')}}`}::bigint[])`);
    }
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it.each<[string, RollupFilter]>([
    ['every stage version', { useCase: UC }],
    ['one stage', { useCase: UC, stage: 'shadow' }],
    ['one stage version', { useCase: UC, stage: 'shadow', stageVersion: 3 }],
    ['one stage version of two model versions', { useCase: UC, stage: 'shadow', stageVersion: 1 }],
    ['a stage of one and two latencies', { useCase: UC, stage: 'limited-autonomous' }],
  ])(
    'when the buckets of %s are ranked in SQL, then p50 and p95 equal the TypeScript rule on the same buckets',
    async (_name, filter) => {
      const read = await new RollupStore(tdb.database).cohorts(filter, [], false);
      const expected = expectedPercentiles(rows, filter);
      expect(read.map((c) => `${c.stage}/${c.modelVersion ?? ''}`).sort()).toEqual(
        [...expected.keys()].sort(),
      );
      for (const cohort of read) {
        const want = expected.get(`${cohort.stage}/${cohort.modelVersion ?? ''}`)!;
        expect(want.p50).not.toBeNull();
        expect(cohort.latencyP50Ms).toBe(want.p50);
        expect(cohort.latencyP95Ms).toBe(want.p95);
      }
    },
  );
});
