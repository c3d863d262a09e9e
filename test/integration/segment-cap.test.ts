import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { MetricsStore } from '../../src/metrics/metrics-store.js';
import { RollupStore } from '../../src/metrics/rollup-store.js';
import {
  OTHER_SEGMENT_VALUE,
  SEGMENT_VALUE_CHARS,
  SEGMENT_VALUES_PER_STAGE,
} from '../../src/metrics/segment-bounds.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, BACKENDS, mirrored, planInput } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

/**
 * Segment values are the client's (a context string of up to 1,000 characters): the segment
 * rollups keep at most SEGMENT_VALUES_PER_STAGE of them by name per stage version and none longer
 * than SEGMENT_VALUE_CHARS (migration 0017), and count the rest as __other__, so a long value
 * cannot fail the comparison of its decision and ever-new values cannot grow what a gate reads.
 */
describe.each(BACKENDS)('segment values a client chooses, on %s', (_name, create) => {
  const UC = 'segment-cap';
  /** 1,000 characters of three bytes that do not compress: past what a btree entry holds. */
  const long = (k: number) =>
    Array.from({ length: 1000 }, (_, i) =>
      String.fromCodePoint(0x4e00 + ((k * 7919 + i * 104_729) % 20_000)),
    ).join('');
  let tdb: TestDatabase;
  let decisions: DecisionStore;
  let aiCalls: AiCallStore;
  let aiConfig: string;
  let next = 0;

  /** Stores decisions with the given regions, answered: compared at once (the human came first). */
  async function compared(regions: readonly string[]): Promise<void> {
    const rows = regions.map((region) =>
      mirrored(UC, `r${next++}`, { aiConfig, context: { region, riskTier: 'low' }, human: 'approve' }),
    );
    await decisions.insertMirrored(rows);
    for (const row of rows) {
      const call = await aiCalls.claim(row, 60_000);
      expect(await aiCalls.recordAnswer(call!.id, answer('approve'), 1)).not.toBeNull();
    }
  }

  async function regionRows(): Promise<Array<{ value: string; compared: number }>> {
    const rows = await tdb.database.rows<{ value: string; compared: number }>(sql`
      select value, sum(compared)::int as compared from segment_rollups
      where use_case = ${UC} and segment = 'region' group by value`);
    return rows.map((r) => ({ value: r.value, compared: Number(r.compared) }));
  }

  beforeAll(async () => {
    tdb = await create();
    decisions = new DecisionStore(tdb.database);
    aiCalls = new AiCallStore(tdb.database);
    await new UseCaseStore(tdb.database).applyPlan(planInput(UC));
    aiConfig = aiConfigKey(planInput(UC).plan);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when a segment value is longer than SEGMENT_VALUE_CHARS, then its decision is compared and counted as __other__', async () => {
    await compared([long(1), long(2), 'x'.repeat(SEGMENT_VALUE_CHARS), 'eu']);
    const rows = await regionRows();
    expect(rows.find((r) => r.value === OTHER_SEGMENT_VALUE)?.compared).toBe(2);
    expect(rows.find((r) => r.value === 'x'.repeat(SEGMENT_VALUE_CHARS))?.compared).toBe(1);
    expect(rows.find((r) => r.value === 'eu')?.compared).toBe(1);
  });

  it('when every decision brings a new value, then at most SEGMENT_VALUES_PER_STAGE are kept by name and every decision is counted once', async () => {
    const fresh = Array.from({ length: SEGMENT_VALUES_PER_STAGE + 60 }, (_, i) => `city-${i}`);
    // In batches, as ingest stores them; a value seen before keeps its row past the bound.
    for (let i = 0; i < fresh.length; i += 40) await compared([...fresh.slice(i, i + 40), 'eu']);
    const rows = await regionRows();
    const named = rows.filter((r) => r.value !== OTHER_SEGMENT_VALUE);
    expect(named.length).toBe(SEGMENT_VALUES_PER_STAGE);
    expect(rows.find((r) => r.value === 'eu')?.compared).toBe(1 + Math.ceil(fresh.length / 40));
    const total = rows.reduce((n, r) => n + r.compared, 0);
    const [row] = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from decisions where use_case = ${UC} and score is not null`,
    );
    const n = Number(row?.n);
    expect(n).toBe(4 + fresh.length + Math.ceil(fresh.length / 40));
    expect(total).toBe(n);

    // What a gate reads: the same bounded values, from the rollups and from the raw decisions.
    for (const store of [new RollupStore(tdb.database), new MetricsStore(tdb.database)]) {
      const [cohort] = await store.cohorts({ useCase: UC }, ['region'], false);
      const values = cohort!.segments.filter((s) => s.segment === 'region');
      expect(values.length).toBeLessThanOrEqual(SEGMENT_VALUES_PER_STAGE + 1);
      expect(values.reduce((t, s) => t + s.compared, 0)).toBe(n);
    }
  });

  it('when the decisions are deleted, then what they added is taken back under the names it was added under', async () => {
    await tdb.database.rows(sql`delete from decisions where use_case = ${UC}`);
    const rows = await regionRows();
    expect(rows.every((r) => r.compared === 0)).toBe(true);
  });
});
