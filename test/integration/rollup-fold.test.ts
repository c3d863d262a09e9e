import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { FOLDED_STRIPE, RollupFold, STRIPED_TABLES } from '../../src/metrics/rollup-fold.js';
import { RollupStore } from '../../src/metrics/rollup-store.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, mirrored, planInput } from '../support/store-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const LABELS = ['approve', 'reject', 'escalate'];
const SEGMENTS = ['region', 'riskTier'];

/** Per table, per key (use case included), every value column summed over the stripes. */
type Sums = Record<string, Map<string, number[]>>;

async function sums(database: Database, useCase?: string): Promise<Sums> {
  const out: Sums = {};
  for (const table of STRIPED_TABLES) {
    const key = table.key.filter((k) => useCase === undefined || k.name !== 'use_case');
    const rows = await database.rows<{ k: string; v: Array<number | string> }>(
      sql.raw(`
      select concat_ws('|', ${key.map((k) => `"${k.name}"::text`).join(', ')}) as k,
        array[${table.values.map((v) => `sum("${v}")::float8`).join(', ')}] as v
      from ${table.name} ${useCase === undefined ? '' : `where use_case = '${useCase}'`}
      group by ${key.map((k) => `"${k.name}"`).join(', ')}`),
    );
    out[table.name] = new Map(rows.map((r) => [r.k, r.v.map(Number)]));
  }
  return out;
}

/** The same keys with the same sums (floats to 1e-9 relative: folding adds in another order). */
function expectSameSums(got: Sums, want: Sums): void {
  for (const [table, rows] of Object.entries(want)) {
    expect([...got[table]!.keys()].sort(), table).toEqual([...rows.keys()].sort());
    for (const [key, values] of rows) {
      const folded = got[table]!.get(key)!;
      for (const [i, v] of values.entries()) {
        const tolerance = 1e-9 * (1 + Math.abs(v));
        expect(Math.abs(folded[i]! - v), `${table} ${key} column ${i}`).toBeLessThanOrEqual(tolerance);
      }
    }
  }
}

/** Rows per table: all of them, distinct keys, and the striped rows of keys with more than one row. */
async function rowCounts(database: Database, useCase?: string) {
  const out: Record<string, { rows: number; keys: number; foldable: number }> = {};
  for (const table of STRIPED_TABLES) {
    const key = table.key.map((k) => `"${k.name}"`).join(', ');
    const [row] = await database.rows<{ rows: number; keys: number; foldable: number }>(
      sql.raw(`
      select coalesce(sum(n), 0)::int as rows, count(*)::int as keys,
        coalesce(sum(striped) filter (where n > 1), 0)::int as foldable
      from (select count(*) as n, count(*) filter (where stripe <> ${FOLDED_STRIPE}) as striped
        from ${table.name} ${useCase === undefined ? '' : `where use_case = '${useCase}'`} group by ${key}) k`),
    );
    out[table.name] = { rows: Number(row!.rows), keys: Number(row!.keys), foldable: Number(row!.foldable) };
  }
  return out;
}

const total = (report: Record<string, number>) => Object.values(report).reduce((s, n) => s + n, 0);

/**
 * Decisions the way ingest and the worker write them: mirrored in batches (concurrently, so on
 * PostgreSQL several connections write several stripes), then most answered, some failed.
 */
async function writeDecisions(
  database: Database,
  useCase: string,
  from: number,
  count: number,
): Promise<void> {
  const decisions = new DecisionStore(database);
  const calls = new AiCallStore(database);
  const aiConfig = aiConfigKey(planInput(useCase).plan);
  const rows = Array.from({ length: count }, (_, n) => {
    const i = from + n;
    return mirrored(useCase, `r${i}`, {
      aiConfig,
      context: {
        region: ['eu', 'us', 'apac'][i % 3],
        ...(i % 4 === 0 ? {} : { riskTier: i % 5 ? 'low' : 'high' }),
      },
      human: LABELS[i % 3],
    });
  });
  const batches = [];
  for (let i = 0; i < rows.length; i += 10) batches.push(rows.slice(i, i + 10));
  await Promise.all(batches.map((batch) => decisions.insertMirrored(batch)));
  await Promise.all(
    rows.map(async (row, n) => {
      const i = from + n;
      const call = await calls.claim(row, 60_000);
      if (!call) throw new Error(`no call owed for ${row.requestId}`);
      if (i % 11 === 0) {
        await calls.recordFailure(call.id, { error: 'timeout', latencyMs: 3000, modelVersion: null });
        return;
      }
      const ai = LABELS[(i * 7) % 3]!;
      await calls.recordAnswer(
        call.id,
        answer(ai, {
          latencyMs: 20 + ((i * 37) % 900),
          costUsd: (i % 13) / 10_000,
          modelVersion: `m${i % 2}`,
        }),
        ai === LABELS[i % 3] ? 1 : 0,
      );
    }),
  );
}

/**
 * On PostgreSQL only: the controller folds nothing on PGlite, whose one connection writes one
 * stripe. Decisions are written from several connections at once, so keys gather several stripes.
 */
describe('folding rollup stripes (PostgreSQL)', () => {
  const UC = 'fold';
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    await new UseCaseStore(tdb.database).applyPlan(planInput(UC));
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when the striped rows are folded, then each key has one row, every sum and the metrics read are as before, and a second fold finds nothing', async () => {
    await writeDecisions(tdb.database, UC, 0, 120);
    const before = await sums(tdb.database);
    const counted = await rowCounts(tdb.database);
    const readBefore = await new RollupStore(tdb.database).cohorts({ useCase: UC }, SEGMENTS, true);
    for (const name of ['cohort_rollups', 'latency_rollups', 'segment_rollups', 'drift_counts']) {
      expect(counted[name]!.rows, name).toBeGreaterThan(counted[name]!.keys);
    }

    const report = await new RollupFold(tdb.database).run();
    expect(total(report)).toBe(Object.values(counted).reduce((s, c) => s + c.foldable, 0));
    for (const [table, c] of Object.entries(await rowCounts(tdb.database))) {
      expect(c, table).toEqual({ rows: counted[table]!.keys, keys: counted[table]!.keys, foldable: 0 });
    }
    expectSameSums(await sums(tdb.database), before);
    const readAfter = await new RollupStore(tdb.database).cohorts({ useCase: UC }, SEGMENTS, true);
    expect(roundFloats(readAfter)).toEqual(roundFloats(readBefore));

    expect(await new RollupFold(tdb.database).run()).toEqual({});
  });

  it('when more decisions are written after a fold, then the next fold adds their stripes to the folded rows', async () => {
    await writeDecisions(tdb.database, UC, 1_000, 30);
    await new RollupFold(tdb.database).run();
    await writeDecisions(tdb.database, UC, 2_000, 60);
    const before = await sums(tdb.database);
    const [folded] = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from cohort_rollups where stripe = ${FOLDED_STRIPE}`,
    );
    expect(Number(folded!.n)).toBeGreaterThan(0);
    expect((await rowCounts(tdb.database)).cohort_rollups!.foldable).toBeGreaterThan(0);

    await new RollupFold(tdb.database).run();
    for (const [table, c] of Object.entries(await rowCounts(tdb.database))) {
      expect(c.rows, table).toBe(c.keys);
    }
    expectSameSums(await sums(tdb.database), before);
  });
});

describe('folding rollup stripes while writers write (PostgreSQL)', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when folds run over and over (two at once) while decisions are stored and answered, then the rollups equal those of the same decisions written at once', async () => {
    const UC = 'fold-busy';
    const store = new UseCaseStore(tdb.database);
    await store.applyPlan(planInput(UC));
    const fold = new RollupFold(tdb.database);
    let writing = true;
    let folds = 0;
    const folding = async () => {
      while (writing) {
        await fold.run();
        folds++;
      }
    };
    const writers = (async () => {
      try {
        for (let round = 0; round < 6; round++) {
          await Promise.all(
            [0, 1, 2].map((w) => writeDecisions(tdb.database, UC, round * 300 + w * 100, 100)),
          );
        }
      } finally {
        writing = false;
      }
    })();
    await Promise.all([writers, folding(), folding()]);
    expect(folds).toBeGreaterThan(2);
    await fold.run();

    // The same final rows inserted by one statement, in a use case of their own, folded or not.
    const copy = `${UC}-copy`;
    await store.applyPlan(planInput(copy));
    await tdb.database.rows(sql`
      insert into decisions (use_case, request_id, payload_hash, input, pending_input, context, stage, stage_version,
        plan_version, ai_config, received_at, human_decision, human_decided_by, human_handling_ms, human_at, ai_state,
        ai_lease_until, ai_attempts, ai_decision, ai_confidence, ai_model_version, ai_latency_ms, ai_input_tokens,
        ai_output_tokens, ai_cost, ai_error, ai_at, score, compared_at, route)
      select ${copy}, request_id, payload_hash, input, pending_input, context, stage, stage_version,
        plan_version, ai_config, received_at, human_decision, human_decided_by, human_handling_ms, human_at, ai_state,
        ai_lease_until, ai_attempts, ai_decision, ai_confidence, ai_model_version, ai_latency_ms, ai_input_tokens,
        ai_output_tokens, ai_cost, ai_error, ai_at, score, compared_at, route
      from decisions where use_case = ${UC}`);
    const [n] = await tdb.database.rows<{ n: number }>(
      sql`select count(*)::int as n from decisions where use_case = ${UC} and score is not null`,
    );
    expect(Number(n!.n)).toBeGreaterThan(1_000);
    expectSameSums(await sums(tdb.database, UC), await sums(tdb.database, copy));
  });

  it('when a writer holds a striped row, then the fold passes over it without waiting, and folds it once it is free', async () => {
    const UC = 'fold-locked';
    await new UseCaseStore(tdb.database).applyPlan(planInput(UC));
    await writeDecisions(tdb.database, UC, 0, 60);
    const before = await sums(tdb.database, UC);
    // A cohort row whose key has other stripes: the fold would fold it.
    const [target] = await tdb.database.rows<{
      stage_version: number;
      stage: string;
      ai_config: string;
      model_version: string;
      stripe: number;
    }>(sql`
      select stage_version, stage, ai_config, model_version, min(stripe)::int as stripe from cohort_rollups
      where use_case = ${UC} group by 1, 2, 3, 4 having count(*) > 1 limit 1`);
    expect(target).toBeDefined();
    const key = target!;
    const rowsOfKey = async () =>
      (
        await tdb.database.rows<{ stripe: number }>(sql`
          select stripe from cohort_rollups where use_case = ${UC} and stage_version = ${key.stage_version}
            and stage = ${key.stage} and ai_config = ${key.ai_config} and model_version = ${key.model_version}
          order by stripe`)
      ).map((r) => Number(r.stripe));
    const holder = postgres(tdb.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const held = holder.begin(async (tx) => {
      await tx`select 1 from cohort_rollups where use_case = ${UC} and stage_version = ${key.stage_version}
        and stage = ${key.stage} and ai_config = ${key.ai_config} and model_version = ${key.model_version}
        and stripe = ${key.stripe} for update`;
      locked();
      await released;
    });
    try {
      await isLocked;
      // Would wait for the lock (and the test time out) if it did not pass over the row.
      await new RollupFold(tdb.database).run();
      expect(await rowsOfKey()).toEqual([FOLDED_STRIPE, key.stripe]);
    } finally {
      release();
      await held;
      await holder.end({ timeout: 5 });
    }
    await new RollupFold(tdb.database).run();
    expect(await rowsOfKey()).toEqual([FOLDED_STRIPE]);
    for (const [table, c] of Object.entries(await rowCounts(tdb.database, UC)))
      expect(c.rows, table).toBe(c.keys);
    expectSameSums(await sums(tdb.database, UC), before);
  });
});

/** Sums of floats differ in their last bits once added in another order. */
function roundFloats<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v) =>
      typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(10)) : v,
    ),
  );
}
