import type { SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { GuardWindowStore, type WindowRequest } from '../../src/promotion/guard-window-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, BACKENDS, mirrored, planInput } from '../support/store-fixtures.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

interface Compiler {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
}

/**
 * The database a store or controller is given, keeping the use cases each guard window read asked
 * for (the last `f.size` entries of an index; the movement token reads the rollups only).
 */
function recordingWindowReads(inner: Database) {
  const reads: string[][] = [];
  const database: Database = {
    ...inner,
    kind: inner.kind,
    db: inner.db,
    relaxed: inner.relaxed,
    rows: (query) => inner.rows(query),
    preparedRows: (query) => {
      const { sql, params } = (inner.db as unknown as Compiler).dialect.sqlToQuery(query);
      if (sql.includes('limit f.size')) reads.push(params[0] as string[]);
      return inner.preparedRows(query);
    },
  };
  /** The use cases whose windows were read since the last call, each once. */
  const take = () => {
    const asked = [...new Set(reads.flat())].sort();
    reads.length = 0;
    return asked;
  };
  return { database, take };
}

/** Decisions of `useCase` whose AI call ended: answered in agreement with the human, or failed. */
async function endedCalls(
  database: Database,
  useCase: string,
  ids: string[],
  outcome: 'agree' | 'fail',
  stageVersion = 1,
) {
  const aiConfig = planInput(useCase).aiConfig;
  const rows = ids.map((id) => mirrored(useCase, id, { human: 'approve', aiConfig, stageVersion }));
  await new DecisionStore(database).insertMirrored(rows);
  const calls = new AiCallStore(database);
  for (const row of rows) {
    const call = await calls.claim(row, 60_000);
    if (outcome === 'agree') await calls.recordAnswer(call!.id, answer('approve'), 1);
    else await calls.recordFailure(call!.id, { error: 'timeout', latencyMs: 2000, modelVersion: null });
  }
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe.each(BACKENDS)('guard windows kept between ticks on %s', (_backend, create) => {
  let tdb: TestDatabase;
  const request = (useCase: string, over: Partial<WindowRequest> = {}): WindowRequest => ({
    useCase,
    stageVersion: 1,
    size: 5,
    ...over,
  });

  beforeAll(async () => {
    tdb = await create();
    const useCases = new UseCaseStore(tdb.database);
    for (const id of ['calm', 'busy']) {
      await useCases.applyPlan(planInput(id));
      await endedCalls(tdb.database, id, ids(`${id}-first`, 6), 'agree');
    }
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when nothing moved, a window is reused; when decisions arrive, are answered, scored or a plan or stage version changes, it is read again', async () => {
    const recorded = recordingWindowReads(tdb.database);
    const store = new GuardWindowStore(recorded.database);
    const both = () => store.windows([request('calm'), request('busy')]);

    const first = await both();
    expect(recorded.take()).toEqual(['busy', 'calm']);
    expect(first.get('busy')).toEqual({ compared: 5, scoreSum: 5, aiCalls: 5, aiErrors: 0, labels: {} });
    expect(await both()).toEqual(first);
    expect(recorded.take()).toEqual([]);

    // New failing calls on one use case: only its windows are read, and they hold the failures.
    await endedCalls(tdb.database, 'busy', ids('busy-failing', 3), 'fail');
    const moved = await both();
    expect(recorded.take()).toEqual(['busy']);
    expect(moved.get('busy')).toMatchObject({ aiCalls: 5, aiErrors: 3, compared: 5 });
    expect(moved.get('calm')).toEqual(first.get('calm'));

    // A human decision arriving later and its score (an update, not an insert) move the use case.
    const late = mirrored('calm', 'calm-late', { aiConfig: planInput('calm').aiConfig });
    const decisions = new DecisionStore(tdb.database);
    await decisions.insertMirrored([late]);
    await both();
    expect(recorded.take()).toEqual(['calm']);
    const calls = new AiCallStore(tdb.database);
    await calls.recordAnswer((await calls.claim(late, 60_000))!.id, answer('reject'), null);
    await both();
    expect(recorded.take()).toEqual(['calm']);
    const human = await decisions.recordHuman(late, {
      decision: 'approve',
      decidedBy: 'clerk',
      handlingMs: 5,
    });
    expect(human.status).toBe('recorded');
    await both();
    expect(recorded.take()).toEqual(['calm']);
    await decisions.recordScore(human.status === 'recorded' ? human.row.id : 0, 0);
    expect((await both()).get('calm')).toMatchObject({ compared: 5, scoreSum: 4 });
    expect(recorded.take()).toEqual(['calm']);

    // Another window size, labels, or stage version is never answered from the kept window.
    await store.windows([request('calm', { size: 3 }), request('busy')]);
    expect(recorded.take()).toEqual(['calm']);
    await store.windows([request('calm', { size: 3, labels: ['approve'], labelWindow: 2 }), request('busy')]);
    expect(recorded.take()).toEqual(['calm']);
    const next = await store.windows([request('calm', { stageVersion: 2 }), request('busy')]);
    expect(recorded.take()).toEqual(['calm']);
    expect(next.get('calm')).toEqual({ compared: 0, scoreSum: 0, aiCalls: 0, aiErrors: 0, labels: {} });
  });

  it('when two controllers keep their own windows, then each reads again what the other saw move', async () => {
    const a = recordingWindowReads(tdb.database);
    const b = recordingWindowReads(tdb.database);
    const [storeA, storeB] = [new GuardWindowStore(a.database), new GuardWindowStore(b.database)];
    const asked = [request('calm'), request('busy')];
    await storeA.windows(asked);
    await storeB.windows(asked);
    await storeA.windows(asked);
    expect([a.take(), b.take()]).toEqual([
      ['busy', 'calm'],
      ['busy', 'calm'],
    ]);
    await endedCalls(tdb.database, 'calm', ids('calm-second', 5), 'fail');
    const [readA, readB] = [await storeA.windows(asked), await storeB.windows(asked)];
    expect([a.take(), b.take()]).toEqual([['calm'], ['calm']]);
    expect(readA).toEqual(readB);
    expect(readA.get('calm')).toMatchObject({ aiCalls: 5, aiErrors: 5 });
  });
});

describe('a guard judged on kept windows, over ticks of the engine', () => {
  const USE_CASE = 'kept-guard';
  let tdb: TestDatabase;
  let tc: TestController;
  let recorded: ReturnType<typeof recordingWindowReads>;
  let hour = 0;
  const tick = () => tc.controller.engine.tick(new Date(Date.UTC(2030, 0, 1, hour++)));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    recorded = recordingWindowReads(tdb.database);
    tc = await startTestController({ database: recorded.database, queue: 'in-process' });
    await new UseCaseStore(tdb.database).applyPlan(
      planInput(USE_CASE, '    rollbackWhen: { window: 5, aiErrorRateAbove: 0.5, action: notify }'),
    );
  });
  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when failing calls arrive between ticks, then the guard trips at the next tick; a tick with nothing new reads no window and judges the same', async () => {
    await endedCalls(tdb.database, USE_CASE, ids('good', 5), 'agree');
    expect((await tick()).guardTrips).toEqual([]);
    expect(recorded.take()).toEqual([USE_CASE]);
    expect((await tick()).guardTrips).toEqual([]);
    expect(recorded.take()).toEqual([]);

    await endedCalls(tdb.database, USE_CASE, ids('failing', 3), 'fail');
    expect((await tick()).guardTrips).toEqual([USE_CASE]);
    expect(recorded.take()).toEqual([USE_CASE]);
    // Nothing new: the kept window trips the notify-only guard again, as a fresh read would.
    expect((await tick()).guardTrips).toEqual([USE_CASE]);
    expect(recorded.take()).toEqual([]);
  });
});
