import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { databaseBeforeMigration, type ReleaseBeforeDatabase } from '../support/release-before.js';
import { databaseUrl } from '../support/services.js';
import { mirrored } from '../support/store-fixtures.js';

const UC = 'upgrade';
const ROWS = 2_000;

/**
 * A database that ran the release before migration 0019 with decisions in it, then migrated: the
 * table becomes decisions_legacy in place (nothing copied, no index built again), and every row,
 * rollup and idempotency key is as it was.
 */
describe('migration 0019 on a database holding decisions', () => {
  let release: ReleaseBeforeDatabase;
  let client: ReleaseBeforeDatabase['client'];
  let database: Database;
  let before: { rows: unknown[]; rollups: unknown[]; indexes: string[] };

  beforeAll(async () => {
    // The migrations as the release before 0019 shipped them.
    release = await databaseBeforeMigration(19);
    client = release.client;
    await client.unsafe(`
      insert into decisions (use_case, request_id, payload_hash, input, context, stage, stage_version, plan_version,
        ai_config, ai_state, human_decision, ai_decision, ai_at, ai_latency_ms, ai_cost, score, compared_at)
      select '${UC}', 'r-' || g, 'hash-of-r-' || g, '{"n": 1}', '{}', 'shadow', 1, 1, 'cfg-test',
        case when g % 10 = 0 then 'owed' else 'done' end,
        to_jsonb(case when g % 3 = 0 then 'reject' else 'approve' end),
        case when g % 10 = 0 then null else '"approve"'::jsonb end,
        case when g % 10 = 0 then null else now() end, case when g % 10 = 0 then null else 40 + g % 7 end,
        case when g % 10 = 0 then null else 0.001 end,
        case when g % 10 = 0 then null when g % 3 = 0 then 0 else 1 end,
        case when g % 10 = 0 then null else now() end
      from generate_series(1, ${ROWS}) g`);
    before = {
      rows: await client.unsafe('select * from decisions order by id'),
      rollups: await client.unsafe('select * from cohort_rollups order by 1, 2, 3, 4, 5'),
      indexes: (await client.unsafe(`select indexname from pg_indexes where tablename = 'decisions'`)).map(
        (r) => r.indexname as string,
      ),
    };
    database = await openDatabase({ url: databaseUrl(release.name), maxConnections: 2 });
    await database.migrate();
  });

  afterAll(async () => {
    await database?.close();
    await release?.drop();
  });

  it('when it has run, then every row and rollup is as it was, each row in decisions_legacy as month 0', async () => {
    const rows = await client.unsafe('select * from decisions order by id');
    expect(rows.map(({ received_month, ...rest }) => rest)).toEqual(before.rows);
    expect(new Set(rows.map((r) => r.received_month))).toEqual(new Set([0]));
    const [legacy] = await client.unsafe('select count(*)::int as n from decisions_legacy');
    expect(legacy!.n).toBe(ROWS);
    expect(await client.unsafe('select * from cohort_rollups order by 1, 2, 3, 4, 5')).toEqual(
      before.rollups,
    );
  });

  it('when it has run, then decisions_legacy keeps its indexes, taken over by the partitioned table, none built twice', async () => {
    const legacy = await client.unsafe(
      `select indexname from pg_indexes where tablename = 'decisions_legacy'`,
    );
    expect(legacy).toHaveLength(before.indexes.length);
    // Each non-unique index of the parent is attached to one of decisions_legacy's own.
    const attached = await client.unsafe(`
      select count(*)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where c.relname like 'decisions_legacy_%' and i.inhparent in
        (select indexrelid from pg_index where indrelid = 'decisions'::regclass)`);
    const parentIndexes = await client.unsafe(
      `select count(*)::int as n from pg_index where indrelid = 'decisions'::regclass`,
    );
    expect(attached[0]!.n).toBe(parentIndexes[0]!.n);
  });

  it('when decisions arrive after it, then their ids are above every earlier one and earlier keys are still recognised', async () => {
    const store = new DecisionStore(database);
    const outcome = await store.insertMirrored([mirrored(UC, 'r-5'), mirrored(UC, 'new-1')]);
    expect(outcome.inserted.map((r) => r.requestId)).toEqual(['new-1']);
    expect(outcome.duplicates).toBe(1);
    const [ids] = await client.unsafe(`
      select (select id from decisions where request_id = 'new-1') as fresh,
        (select max(id) from decisions_legacy) as oldest_max`);
    expect(BigInt(ids!.fresh)).toBeGreaterThan(BigInt(ids!.oldest_max));
    const human = await store.recordHuman(
      { useCase: UC, requestId: 'r-7' },
      { decision: 'reject', decidedBy: null, handlingMs: null },
    );
    expect(human.status).toBe('conflict');
  });
});
