import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { RollupStore, type VisitRequest } from '../../src/metrics/rollup-store.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, BACKENDS, mirrored, planInput } from '../support/store-fixtures.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

interface Compiler {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
}

/**
 * The database a store or controller is given, keeping the use cases each rollup read of a gate
 * cohort asked for (the latency histogram's read stands for the five; the movement token reads
 * cohort_rollups only).
 */
function recordingRollupReads(inner: Database) {
  const reads: string[][] = [];
  const database: Database = {
    ...inner,
    kind: inner.kind,
    db: inner.db,
    relaxed: inner.relaxed,
    rows: (query) => inner.rows(query),
    preparedRows: (query) => {
      const { sql: text, params } = (inner.db as unknown as Compiler).dialect.sqlToQuery(query);
      if (text.includes('from latency_histograms')) reads.push(params[0] as string[]);
      return inner.preparedRows(query);
    },
  };
  /** The use cases whose rollups were read since the last call, each once. */
  const take = () => {
    const asked = [...new Set(reads.flat())].sort();
    reads.length = 0;
    return asked;
  };
  return { database, take };
}

/** Answered decisions of `useCase`, each agreeing with the human (score 1) unless `agree` is false. */
async function answered(
  database: Database,
  useCase: string,
  ids: string[],
  options: { agree?: boolean; region?: string } = {},
) {
  const aiConfig = planInput(useCase).aiConfig;
  const rows = ids.map((id) =>
    mirrored(useCase, id, {
      human: 'approve',
      aiConfig,
      context: { region: options.region ?? 'EU', riskTier: 'low' },
    }),
  );
  await new DecisionStore(database).insertMirrored(rows);
  const calls = new AiCallStore(database);
  for (const row of rows) {
    const call = await calls.claim(row, 60_000);
    const agree = options.agree ?? true;
    await calls.recordAnswer(call!.id, answer(agree ? 'approve' : 'reject'), agree ? 1 : 0);
  }
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe.each(BACKENDS)('gate cohorts kept between ticks on %s', (_backend, create) => {
  let tdb: TestDatabase;
  const request = (useCase: string, over: Partial<VisitRequest> = {}): VisitRequest => ({
    useCase,
    stage: 'shadow',
    stageVersion: 1,
    planVersion: 1,
    segments: ['region', 'riskTier'],
    labels: true,
    ...over,
  });
  /** What a read with nothing kept answers, for comparing with what the kept store answers. */
  const fresh = async (requests: VisitRequest[]) => new RollupStore(tdb.database).cohortsOf(requests);

  beforeAll(async () => {
    tdb = await create();
    const useCases = new UseCaseStore(tdb.database);
    for (const id of ['calm', 'busy']) {
      await useCases.applyPlan(planInput(id));
      await answered(tdb.database, id, ids(`${id}-first`, 4));
    }
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when nothing moved, the cohorts are reused; when a decision arrives, is answered, scored, or changes in a column one rollup alone counts, its use case is read again and answers as a fresh read', async () => {
    const recorded = recordingRollupReads(tdb.database);
    const store = new RollupStore(recorded.database);
    const asked = [request('calm'), request('busy')];
    const both = () => store.visitCohorts(asked);

    const first = await both();
    expect(recorded.take()).toEqual(['busy', 'calm']);
    expect(first).toEqual(await fresh(asked));
    expect(first.get('busy')?.[0]).toMatchObject({ compared: 4, scoreSum: 4 });
    expect(await both()).toEqual(first);
    expect(recorded.take()).toEqual([]);

    // Disagreeing answers on one use case: only it is read again, and the read holds them.
    await answered(tdb.database, 'busy', ids('busy-second', 2), { agree: false });
    const moved = await both();
    expect(recorded.take()).toEqual(['busy']);
    expect(moved).toEqual(await fresh(asked));
    expect(moved.get('busy')?.[0]).toMatchObject({ compared: 6, scoreSum: 4 });

    // A decision arriving without its human side, its answer, then its human side and score.
    const late = mirrored('calm', 'calm-late', { aiConfig: planInput('calm').aiConfig });
    const decisions = new DecisionStore(tdb.database);
    await decisions.insertMirrored([late]);
    const arrived = await both();
    expect(recorded.take()).toEqual(['calm']);
    expect(arrived).toEqual(await fresh(asked));
    expect(arrived.get('calm')?.reduce((n, c) => n + c.pendingHuman, 0)).toBe(1);
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
    expect((await both()).get('calm')?.[0]).toMatchObject({ compared: 5, scoreSum: 4 });
    expect(recorded.take()).toEqual(['calm']);

    // A column only the segment rollups count (the context), then one only the latency buckets
    // count: the cohort's own counts do not change, yet its use case is read again.
    await tdb.database.db.execute(
      sql`update decisions set context = '{"region": "US", "riskTier": "low"}' where request_id = 'calm-first-0'`,
    );
    const regions = await both();
    expect(recorded.take()).toEqual(['calm']);
    expect(regions).toEqual(await fresh(asked));
    expect(regions.get('calm')?.[0]?.segments).toContainEqual(
      expect.objectContaining({ segment: 'region', value: 'US', compared: 1 }),
    );
    const p95 = regions.get('calm')?.[0]?.latencyP95Ms;
    await tdb.database.db.execute(
      sql`update decisions set ai_latency_ms = 2500 where use_case = 'calm' and request_id like 'calm-first-%'`,
    );
    const slower = await both();
    expect(recorded.take()).toEqual(['calm']);
    expect(slower).toEqual(await fresh(asked));
    expect(slower.get('calm')?.[0]?.latencyP95Ms).toBeGreaterThan(p95 ?? 0);
  });

  it('when the stage version, plan version, segments or labels asked for differ, then the cohorts are read again; what is kept cannot be changed by a reader', async () => {
    const recorded = recordingRollupReads(tdb.database);
    const store = new RollupStore(recorded.database);
    const kept = await store.visitCohorts([request('calm'), request('busy')]);
    expect(recorded.take()).toEqual(['busy', 'calm']);
    for (const over of [
      { stageVersion: 2 },
      { planVersion: 2 },
      { segments: ['region'] },
      { labels: false },
    ] satisfies Array<Partial<VisitRequest>>) {
      const read = await store.visitCohorts([request('calm', over), request('busy')]);
      expect(recorded.take(), JSON.stringify(over)).toEqual(['calm']);
      expect(read.get('calm')).toEqual((await fresh([request('calm', over)])).get('calm'));
      await store.visitCohorts([request('calm'), request('busy')]);
      recorded.take();
    }
    const cohort = kept.get('busy')![0]!;
    expect(() => {
      cohort.compared = 0;
    }).toThrow(TypeError);
    expect(() =>
      cohort.segments.push({ segment: 'x', value: 'y', compared: 1, scoreSum: 1, failed: 0 }),
    ).toThrow(TypeError);
  });
});

describe('a gate judged on kept cohorts, over ticks of the engine', () => {
  const USE_CASE = 'kept-gate';
  let tdb: TestDatabase;
  let tc: TestController;
  let recorded: ReturnType<typeof recordingRollupReads>;
  let hour = 0;
  const tick = () => tc.controller.engine.tick(new Date(Date.UTC(2030, 0, 1, hour++)));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    recorded = recordingRollupReads(tdb.database);
    tc = await startTestController({ database: recorded.database, queue: 'in-process' });
    const input = planInput(USE_CASE, '  human-reviewed: {}\n');
    const text = input.text.replace(
      'promoteWhen: { minSamples: 500, agreementLowerBound: 0.9 }',
      'promoteWhen: { minSamples: 6, agreementLowerBound: 0.1 }',
    );
    const parsed = parsePlanText(text);
    if (!parsed.ok || text === input.text) throw new Error('the test plan did not take the smaller gate');
    await new UseCaseStore(tdb.database).applyPlan({
      ...input,
      plan: parsed.plan,
      text,
      textHash: parsed.hash,
      aiConfig: aiConfigKey(parsed.plan),
    });
  });
  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when agreeing answers arrive between ticks, then the gate is eligible at the next tick; a tick with nothing new reads no rollup and judges the same', async () => {
    await answered(tdb.database, USE_CASE, ids('first', 5));
    expect((await tick()).eligible).toEqual([]);
    expect(recorded.take()).toEqual([USE_CASE]);
    expect((await tick()).eligible).toEqual([]);
    expect(recorded.take()).toEqual([]);

    await answered(tdb.database, USE_CASE, ids('second', 3));
    expect((await tick()).eligible).toEqual([USE_CASE]);
    expect(recorded.take()).toEqual([USE_CASE]);
    expect((await tick()).eligible).toEqual([USE_CASE]);
    expect(recorded.take()).toEqual([]);
  });
});
