import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { DRIFT_VALUE_CHARS, DRIFT_VALUES_PER_HOUR, DriftStore } from '../../src/metrics/drift-store.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { MAX_CATEGORIES } from '../../src/statistics/drift.js';
import { type Auth, applyApproved, createKey } from '../support/change-approval.js';
import { BACKENDS, mirrored, planInput } from '../support/store-fixtures.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 16, a hostile client: decisions whose segment takes a new value every time must not grow
 * the drift counts (migration 0015). Per hour of a stage version, a segment field holds at most
 * DRIFT_VALUES_PER_HOUR named values and `__other__`; the counts still add up to every decision.
 */

interface ValueRow {
  hour: number;
  value: string;
  n: number;
}

/** The region's counts per hour and value, stripes summed. */
async function regionCounts(tdb: TestDatabase, useCase: string): Promise<ValueRow[]> {
  const rows = await tdb.database.rows<ValueRow>(sql`
    select hour, value, sum(count)::int as n from drift_counts
    where use_case = ${useCase} and kind = 'segment' and field = 'region'
    group by hour, value`);
  return rows.map((r) => ({ hour: Number(r.hour), value: r.value, n: Number(r.n) }));
}

function byHour(rows: ValueRow[]): Map<number, ValueRow[]> {
  const out = new Map<number, ValueRow[]>();
  for (const r of rows) out.set(r.hour, [...(out.get(r.hour) ?? []), r]);
  return out;
}

const total = (rows: ValueRow[]) => rows.reduce((s, r) => s + r.n, 0);

describe('drift counts under a new region value on every decision, through the API on PostgreSQL', () => {
  const UC = 'hostile-regions';
  const HOSTILE = 5000;
  /**
   * As long a context string as the API takes, 1,000 characters of three bytes that do not
   * compress: by name, past what a btree index entry may hold (2,704 bytes).
   */
  const long = (k: number) =>
    Array.from({ length: 1000 }, (_, i) =>
      String.fromCodePoint(0x4e00 + ((k * 7919 + i * 104_729) % 20_000)),
    ).join('');
  let tdb: TestDatabase;
  let tc: TestController;
  let release: Auth;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    release = await createKey(tc, 'rm-cap', 'release');
    const text = labelPlan(UC, 'http://127.0.0.1:9/decide').replace(
      /stages:[\s\S]*$/,
      `drift: { window: 1d, minWindow: 500 }
stages:
  shadow:
    sampleRate: 0
    rollbackWhen: { driftAbove: { psi: 0.25, fields: [region] }, action: notify }
`,
    );
    await applyApproved(tc, UC, text, release);
    const send = async (from: number, count: number, region: (k: number) => string) => {
      const decisions = Array.from({ length: count }, (_, i) => ({
        useCase: UC,
        requestId: `${UC}-${from + i}`,
        input: { invoice: from + i },
        context: { region: region(from + i), riskTier: (from + i) % 2 === 0 ? 'low' : 'high' },
        human: { decision: 'approve' },
      }));
      await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
    };
    // The traffic the reference is taken from: three regions.
    await send(0, 1000, (k) => ['north', 'south', 'east'][k % 3]!);
    await tc.http
      .post(`/v1/use-cases/${UC}/drift/baseline`)
      .set(release)
      .send({ reason: 'the traffic before the hostile client' })
      .expect(200);
    // Then a region never seen before on every decision, some of them as long as the API allows.
    for (let k = 1000; k < 1000 + HOSTILE; k += 1000) {
      await send(k, 1000, (i) => (i % 100 === 0 ? long(i) : `region-${i}`));
    }
  });

  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when 5,000 decisions each bring a new region, then each hour holds at most DRIFT_VALUES_PER_HOUR named values and __other__, and every decision is counted', async () => {
    const rows = await regionCounts(tdb, UC);
    expect(total(rows)).toBe(1000 + HOSTILE);
    for (const [, hour] of byHour(rows)) {
      expect(hour.length).toBeLessThanOrEqual(DRIFT_VALUES_PER_HOUR + 1);
      expect(hour.every((r) => r.value === '__other__' || r.value.length <= DRIFT_VALUE_CHARS)).toBe(true);
    }
    // The regions the reference saw keep their names; most of the new ones are folded.
    const named = new Map(rows.filter((r) => r.value !== '__other__').map((r) => [r.value, r.n]));
    for (const region of ['north', 'south', 'east'])
      expect(rows.filter((r) => r.value === region)).not.toEqual([]);
    expect(named.size).toBeLessThanOrEqual(DRIFT_VALUES_PER_HOUR * byHour(rows).size);
    const other = total(rows.filter((r) => r.value === '__other__'));
    expect(other).toBeGreaterThanOrEqual(HOSTILE - DRIFT_VALUES_PER_HOUR * byHour(rows).size);
    // The stored rows, stripes and all, are bounded the same way.
    const [stored] = await tdb.database.rows<{ n: number }>(sql`
      select count(*)::int as n from drift_counts where use_case = ${UC} and kind = 'segment' and field = 'region'`);
    expect(Number(stored!.n)).toBeLessThanOrEqual((DRIFT_VALUES_PER_HOUR + 1) * 8 * byHour(rows).size);
    // Another segment of the same decisions is counted exactly.
    const [tiers] = await tdb.database.rows<{ values: number; n: number }>(sql`
      select count(distinct value)::int as values, sum(count)::int as n from drift_counts
      where use_case = ${UC} and kind = 'segment' and field = 'riskTier'`);
    expect([Number(tiers!.values), Number(tiers!.n)]).toEqual([2, 1000 + HOSTILE]);
  });

  it('when the drift route reads the window, then it answers with every hostile decision in the unseen share', async () => {
    const { body } = await tc.http.get(`/v1/use-cases/${UC}/drift`).set(tc.admin).expect(200);
    const region = body.fields.find((f: { field: string }) => f.field === 'region');
    expect(region.referenceTotal).toBe(1000);
    expect(region.currentTotal).toBe(1000 + HOSTILE);
    // Named or folded, no hostile region was in the reference: all of them are unseen.
    expect(region.unseenShare).toBeCloseTo(HOSTILE / (1000 + HOSTILE), 12);
    expect(region.values.length).toBeLessThanOrEqual(MAX_CATEGORIES);
    expect(body.guards).toMatchObject([{ guard: 'driftAbove', status: 'drifted', drifted: ['region'] }]);
  });

  it('when the decisions move to another hour, then every count is taken back from where it was counted', async () => {
    const before = await regionCounts(tdb, UC);
    const hours = [...byHour(before).keys()];
    await tdb.database.rows(
      sql`update decisions set received_at = received_at - interval '1 day' where use_case = ${UC}`,
    );
    const after = await regionCounts(tdb, UC);
    // The hours left hold nothing, named values and __other__ alike (no count below zero either).
    expect(after.filter((r) => hours.includes(r.hour) && r.n !== 0)).toEqual([]);
    const moved = after.filter((r) => !hours.includes(r.hour));
    expect(total(moved)).toBe(1000 + HOSTILE);
    for (const [, hour] of byHour(moved)) expect(hour.length).toBeLessThanOrEqual(DRIFT_VALUES_PER_HOUR + 1);
  });
});

describe.each(BACKENDS)('the segment bound of the drift counts on %s', (_backend, create) => {
  const UC = 'many-values';
  let tdb: TestDatabase;

  beforeAll(async () => {
    tdb = await create();
    await new UseCaseStore(tdb.database).applyPlan(planInput(UC));
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when statements bring more new values than the hour has room for, then the most frequent take the room, and a value keeps its row', async () => {
    // Every statement below counts into the same hour: never start in the last seconds of one.
    const [clock] = await tdb.database.rows<{ s: number }>(
      sql`select (3600 - date_part('epoch', now())::numeric % 3600)::float8 as s`,
    );
    if (Number(clock!.s) < 10) await new Promise((r) => setTimeout(r, Number(clock!.s) * 1000 + 500));
    const decisions = new DecisionStore(tdb.database);
    const row = (i: number, region: string) =>
      mirrored(UC, `r${i}`, { context: { region, riskTier: 'x'.repeat(DRIFT_VALUE_CHARS + 1) } });
    // 30 values held first; then one statement of 5 decisions of `common` and one each of 200 others.
    await decisions.insertMirrored(Array.from({ length: 30 }, (_, i) => row(i, `first-${i}`)));
    await decisions.insertMirrored([
      ...Array.from({ length: 5 }, (_, i) => row(100 + i, 'common')),
      ...Array.from({ length: 200 }, (_, i) => row(200 + i, `late-${String(i).padStart(3, '0')}`)),
    ]);
    // A value already held keeps counting by name, though the hour is full.
    await decisions.insertMirrored([row(500, 'first-7'), row(501, 'never-before')]);
    const rows = await regionCounts(tdb, UC);
    const counts = Object.fromEntries(rows.map((r) => [r.value, r.n]));
    expect(rows).toHaveLength(DRIFT_VALUES_PER_HOUR + 1);
    expect(counts.common).toBe(5);
    expect(counts['first-7']).toBe(2);
    expect(counts['late-000']).toBe(1);
    expect(counts[`late-${String(DRIFT_VALUES_PER_HOUR - 32).padStart(3, '0')}`]).toBe(1);
    expect(counts[`late-${String(DRIFT_VALUES_PER_HOUR - 31).padStart(3, '0')}`]).toBeUndefined();
    expect(counts['never-before']).toBeUndefined();
    expect(counts.__other__).toBe(200 - (DRIFT_VALUES_PER_HOUR - 31) + 1);
    expect(total(rows)).toBe(237);
    // A value longer than DRIFT_VALUE_CHARS is counted as __other__.
    const window = await new DriftStore(tdb.database).window(UC, 1, '30d', 0, true);
    expect(window.cells.segment.riskTier).toEqual({ __other__: 237 });
  });

  it('when the database is upgraded, then an hour already past the bound keeps its most frequent values by name and folds the rest, every count kept', async () => {
    const HOUR = 1000;
    const name = (i: number) => `v-${String(i).padStart(3, '0')}`;
    const values = Array.from({ length: 150 }, (_, i) => ({ value: name(i), n: 150 - i }));
    values.push({ value: 'L'.repeat(DRIFT_VALUE_CHARS + 50), n: 1000 }, { value: '__other__', n: 7 });
    await tdb.database.rows(sql`
      insert into drift_counts (stripe, use_case, stage_version, hour, kind, field, value, count)
      select (ord % 8)::smallint, ${UC}, 1, ${HOUR}, 'segment', 'region', v, n
      from unnest(${sql.param(values.map((v) => v.value))}::text[], ${sql.param(values.map((v) => v.n))}::int[])
        with ordinality x(v, n, ord)`);
    const migration = readFileSync(
      new URL('../../migrations/0015_drift_value_cap.sql', import.meta.url),
      'utf8',
    );
    await tdb.database.rows(sql.raw(migration));
    const rows = (await regionCounts(tdb, UC)).filter((r) => r.hour === HOUR);
    const counts = Object.fromEntries(rows.map((r) => [r.value, r.n]));
    expect(rows).toHaveLength(DRIFT_VALUES_PER_HOUR + 1);
    expect(counts['v-000']).toBe(150);
    expect(counts[name(DRIFT_VALUES_PER_HOUR - 1)]).toBe(150 - (DRIFT_VALUES_PER_HOUR - 1));
    expect(counts[name(DRIFT_VALUES_PER_HOUR)]).toBeUndefined();
    const folded = values.slice(DRIFT_VALUES_PER_HOUR, 150).reduce((sum, v) => sum + v.n, 0);
    expect(counts.__other__).toBe(7 + 1000 + folded);
    expect(total(rows)).toBe(values.reduce((sum, v) => sum + v.n, 0));
  });
});
