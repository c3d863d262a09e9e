import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { monthOfIdValue } from '../../src/db/decision-month.js';
import {
  DecisionPartitions,
  MONTHS_AHEAD,
  monthLabel,
  partitionTable,
} from '../../src/db/decision-partitions.js';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, BACKENDS, mirrored, planInput } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const UC = 'months';

async function one<T>(database: Database, query: ReturnType<typeof sql>): Promise<T> {
  const [row] = await database.rows<T>(query);
  return row as T;
}

async function currentMonth(database: Database): Promise<number> {
  return Number((await one<{ m: number }>(database, sql`select shadowgate_month(now()) as m`)).m);
}

/**
 * Makes last month a partition of its own, as a controller running last month would have left it
 * (decisions_legacy then ends where it begins), and moves the given keys' rows into it.
 */
async function storeLastMonth(database: Database, keys: readonly string[]): Promise<number> {
  const last = (await currentMonth(database)) - 1;
  const table = partitionTable(last);
  const exists = await one<{ t: string | null }>(database, sql`select to_regclass(${table})::text as t`);
  if (!exists.t) {
    await database.rows(sql`alter table decisions detach partition decisions_legacy`);
    await database.rows(
      sql.raw(
        `alter table decisions attach partition decisions_legacy for values from (minvalue) to (${last})`,
      ),
    );
    await database.rows(
      sql.raw(`create table ${table} partition of decisions for values from (${last}) to (${last + 1})`),
    );
    await database.rows(
      sql.raw(`alter table ${table} add primary key (id), add check ((id >> 40) = ${last})`),
    );
    await database.rows(sql.raw(`create unique index on ${table} (use_case, request_id, received_month)`));
  }
  await database.rows(sql`
    update decisions set received_month = ${last}::int, id = (${last}::bigint << 40) + id % (1::bigint << 40)
    where use_case = ${UC} and request_id = any(${`{${keys.join(',')}}`}::text[])`);
  return last;
}

/** A decision as migration 0019 leaves one stored before it: month 0, an id below 2^40, in decisions_legacy. */
async function storeBeforePartitioning(database: Database, requestId: string): Promise<void> {
  await database.rows(sql`
    insert into decisions (id, received_month, use_case, request_id, payload_hash, context, stage, stage_version,
      plan_version, ai_config, ai_state)
    values (nextval('decisions_id_seq') % (1::bigint << 40), 0, ${UC}, ${requestId}, ${`hash-of-${requestId}`}, '{}',
      'shadow', 1, 1, 'cfg-test', 'owed')`);
}

async function rowsOf(database: Database, requestId: string) {
  return database.rows<{ id: number; received_month: number; human: unknown; ai_state: string }>(sql`
    select id, received_month, human_decision as human, ai_state from decisions
    where use_case = ${UC} and request_id = ${requestId} order by received_month`);
}

describe.each(BACKENDS)('decisions by month on %s', (_name, create) => {
  let tdb: TestDatabase;
  let store: DecisionStore;
  let calls: AiCallStore;

  beforeAll(async () => {
    tdb = await create();
    await new UseCaseStore(tdb.database).applyPlan(planInput(UC));
    store = new DecisionStore(tdb.database);
    calls = new AiCallStore(tdb.database);
  });
  afterAll(() => tdb.drop());

  it('when a decision is stored, then its id carries the month it is stored in', async () => {
    await store.insertMirrored([mirrored(UC, 'id-1')]);
    const [row] = await rowsOf(tdb.database, 'id-1');
    const month = await currentMonth(tdb.database);
    expect(Number(row!.received_month)).toBe(month);
    expect(monthOfIdValue(Number(row!.id))).toBe(month);
  });

  it('when a request stored last month is mirrored again, then it is a duplicate, not a second decision', async () => {
    await store.insertMirrored([mirrored(UC, 'retry-1')]);
    const last = await storeLastMonth(tdb.database, ['retry-1']);
    const outcome = await store.insertMirrored([mirrored(UC, 'retry-1'), mirrored(UC, 'retry-new')]);
    expect(outcome.inserted.map((r) => r.requestId)).toEqual(['retry-new']);
    expect(outcome.duplicates).toBe(1);
    expect((await rowsOf(tdb.database, 'retry-1')).map((r) => Number(r.received_month))).toEqual([last]);
    // Another payload under the same key is still refused, whatever month holds the first.
    await expect(
      store.insertMirrored([mirrored(UC, 'retry-1', { payloadHash: 'another payload' })]),
    ).rejects.toMatchObject({ status: 409 });
  });

  it('when a suggestion reuses a request id stored last month, then nothing is stored', async () => {
    await store.insertMirrored([mirrored(UC, 'suggested-1')]);
    await storeLastMonth(tdb.database, ['suggested-1']);
    expect(await store.insertClaimed(mirrored(UC, 'suggested-1'), 60_000)).toBeNull();
    expect(await rowsOf(tdb.database, 'suggested-1')).toHaveLength(1);
  });

  it('when a decision of last month is claimed, answered and decided by a person, then that row takes each write', async () => {
    await store.insertMirrored([mirrored(UC, 'late-1')]);
    const last = await storeLastMonth(tdb.database, ['late-1']);
    const claimed = await calls.claim({ useCase: UC, requestId: 'late-1' }, 60_000);
    expect(claimed).not.toBeNull();
    expect(monthOfIdValue(claimed!.id)).toBe(last);
    expect(await calls.recordAnswer(claimed!.id, answer('approve'), null)).not.toBeNull();
    const human = await store.recordHuman(
      { useCase: UC, requestId: 'late-1' },
      { decision: 'approve', decidedBy: 'clerk-1', handlingMs: 10 },
    );
    expect(human.status).toBe('recorded');
    const rows = await rowsOf(tdb.database, 'late-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ai_state: 'done', human: 'approve' });
    expect(await store.recordScore(Number(rows[0]!.id), 1)).toBe(true);
  });

  it('when the mirror adds the human side to a request stored last month without one, then it completes that one', async () => {
    const bare = mirrored(UC, 'complete-1');
    await store.insertMirrored([bare]);
    await storeLastMonth(tdb.database, ['complete-1']);
    const outcome = await store.insertMirrored([
      {
        ...mirrored(UC, 'complete-1', { human: 'reject', payloadHash: 'with-human' }),
        bareHash: () => bare.payloadHash,
      },
    ]);
    expect(outcome.completed.map((r) => r.requestId)).toEqual(['complete-1']);
    const rows = await rowsOf(tdb.database, 'complete-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.human).toBe('reject');
  });

  it('when a request stored before partitioning is mirrored again, then it is recognised too', async () => {
    await storeBeforePartitioning(tdb.database, 'old-1');
    const outcome = await store.insertMirrored([mirrored(UC, 'old-1')]);
    expect(outcome).toMatchObject({ inserted: [], duplicates: 1 });
    expect((await rowsOf(tdb.database, 'old-1')).map((r) => Number(r.received_month))).toEqual([0]);
  });

  it('when a key is stored in two months (a retry beyond the month before), then the newest is the one named', async () => {
    await storeBeforePartitioning(tdb.database, 'twice-1');
    // Stored again this month without the earlier-month look (as a retry after two months would be).
    await tdb.database.rows(sql`
      insert into decisions (use_case, request_id, payload_hash, context, stage, stage_version, plan_version, ai_config, ai_state)
      values (${UC}, 'twice-1', 'hash-of-twice-1', '{}', 'shadow', 1, 1, 'cfg-test', 'owed')`);
    const month = await currentMonth(tdb.database);
    expect(monthOfIdValue((await store.get({ useCase: UC, requestId: 'twice-1' }))!.id)).toBe(month);
    const claimed = await calls.claim({ useCase: UC, requestId: 'twice-1' }, 60_000);
    expect(monthOfIdValue(claimed!.id)).toBe(month);
    await store.recordHuman(
      { useCase: UC, requestId: 'twice-1' },
      { decision: 'approve', decidedBy: null, handlingMs: null },
    );
    const rows = await rowsOf(tdb.database, 'twice-1');
    expect(rows.map((r) => [Number(r.received_month), r.human])).toEqual([
      [0, null],
      [month, 'approve'],
    ]);
  });

  it('when partitions are made ahead, then each month is made once and never more than 24 months ahead', async () => {
    const partitions = new DecisionPartitions(tdb.database);
    const month = await currentMonth(tdb.database);
    expect(await partitions.ensureAhead()).toBe(0);
    expect(await partitions.ensureAhead(MONTHS_AHEAD + 2)).toBe(2);
    expect(await partitions.ensureAhead(MONTHS_AHEAD + 2)).toBe(0);
    expect(await partitions.monthsAhead()).toBe(MONTHS_AHEAD + 2);
    const tables = (await partitions.list()).map((p) => p.table);
    for (let m = month; m <= month + MONTHS_AHEAD + 2; m++) expect(tables).toContain(partitionTable(m));
    // The function refuses what an owner of the database asks beyond 24 months, whoever calls it.
    const refused = await partitions.ensureAhead(25).catch((error: Error & { cause?: Error }) => error);
    expect(String((refused as Error & { cause?: Error }).cause?.message)).toMatch(/at most 24 months ahead/);
  });

  it('when a past month is detached, then its rows leave the reads and the rollups keep what they counted', async () => {
    const partitions = new DecisionPartitions(tdb.database);
    const month = await currentMonth(tdb.database);
    await expect(partitions.detach(monthLabel(month), { drop: true })).rejects.toMatchObject({
      status: 409,
    });
    await expect(partitions.detach('2026-13', { drop: true })).rejects.toMatchObject({ status: 400 });
    // Last month still owes the AI calls of retry-1, suggested-1 and complete-1.
    await expect(partitions.detach(monthLabel(month - 1), { drop: true })).rejects.toThrow(/owes 3 AI call/);
    await tdb.database.rows(
      sql`update decisions set ai_state = 'error', ai_error = 'timeout' where ai_state = 'owed' and received_month = ${month - 1}::int`,
    );
    const rollups = sql`select stage_version, count(*)::int as cohorts, sum(decisions)::int as decisions,
      sum(ai_errors)::int as errors from cohort_rollups where use_case = ${UC} group by 1`;
    const before = await tdb.database.rows(rollups);
    const outcome = await partitions.detach(monthLabel(month - 1), { drop: true });
    expect(outcome).toMatchObject({ table: partitionTable(month - 1), dropped: true });
    expect(await tdb.database.rows(rollups)).toEqual(before);
    expect(await rowsOf(tdb.database, 'late-1')).toEqual([]);
    expect((await partitions.list()).map((p) => p.table)).not.toContain(partitionTable(month - 1));
    // The gauge operators alert on: months ahead without a gap, −1 once this month has none.
    await tdb.database.rows(sql.raw(`alter table decisions detach partition ${partitionTable(month + 2)}`));
    expect(await partitions.monthsAhead()).toBe(1);
    await tdb.database.rows(sql.raw(`alter table decisions detach partition ${partitionTable(month)}`));
    expect(await partitions.monthsAhead()).toBe(-1);
    await expect(partitions.detach(monthLabel(month - 1), { drop: true })).rejects.toMatchObject({
      status: 404,
    });
  });
});
