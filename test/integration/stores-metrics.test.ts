import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import type { CohortAggregate } from '../../src/metrics/metrics-types.js';
import { type MetricsFilter, MetricsStore } from '../../src/metrics/metrics-store.js';
import { AiCallStore, type RecordedAnswer } from '../../src/shadow/ai-call-store.js';
import { answer, BACKENDS, mirrored } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const UC = 'metrics';
const JAN = '2024-01-10T00:00:00.000Z';
const FEB = '2024-02-01T00:00:00.000Z';

interface Answered {
  ai: string;
  score: number | null;
  latency: number;
  cost: number;
  model: string;
}
type Outcome = Answered | { error: string; latency: number; model: string } | 'owed';

interface Row {
  id: string;
  stage?: string;
  human?: string;
  context?: Record<string, string>;
  at: string;
  outcome: Outcome | 'none';
}

const done = (ai: string, score: number | null, latency: number, cost: number, model = 'm1'): Answered => ({
  ai,
  score,
  latency,
  cost,
  model,
});

/**
 * The hand-built set: shadow × m1 (four compared, one without a human, one error),
 * shadow × m2 (two compared), shadow × no model yet (two owed), human-reviewed × m1
 * (one compared) and human-reviewed × no model (one that owes no call).
 */
const ROWS: Row[] = [
  {
    id: 'r1',
    human: 'approve',
    context: { region: 'eu', riskTier: 'low' },
    at: JAN,
    outcome: done('approve', 1, 10, 0.001),
  },
  { id: 'r2', human: 'reject', context: { region: 'eu' }, at: JAN, outcome: done('approve', 0, 20, 0.002) },
  { id: 'r3', human: 'approve', context: { region: 'eu' }, at: JAN, outcome: done('approve', 1, 30, 0.003) },
  {
    id: 'r4',
    human: 'escalate',
    context: { region: 'us', riskTier: 'high' },
    at: JAN,
    outcome: done('reject', 0, 40, 0.004),
  },
  { id: 'r5', context: { region: 'us' }, at: FEB, outcome: done('approve', null, 100, 0.005) },
  {
    id: 'r6',
    human: 'approve',
    context: { region: 'eu' },
    at: FEB,
    outcome: { error: 'timeout', latency: 5000, model: 'm1' },
  },
  { id: 'r7', human: 'approve', at: FEB, outcome: done('approve', 1, 7, 0.01, 'm2') },
  { id: 'r8', human: 'reject', at: FEB, outcome: done('reject', 1, 9, 0.01, 'm2') },
  { id: 'r9', human: 'approve', at: FEB, outcome: 'owed' },
  { id: 'r10', at: FEB, outcome: 'owed' },
  {
    id: 'r11',
    stage: 'human-reviewed',
    human: 'approve',
    context: { region: 'eu' },
    at: FEB,
    outcome: done('approve', 1, 50, 0.02),
  },
  { id: 'r12', stage: 'human-reviewed', human: 'reject', at: FEB, outcome: 'none' },
];

const cohortId = (c: CohortAggregate) => `${c.stage}/${c.modelVersion ?? '-'}`;

async function cohortsById(store: MetricsStore, filter: Partial<MetricsFilter>, labels = true) {
  const cohorts = await store.cohorts({ useCase: UC, ...filter }, ['region', 'riskTier'], labels);
  return Object.fromEntries(cohorts.map((c) => [cohortId(c), c]));
}

const bySegment = (a: { segment: string; value: string }, b: { segment: string; value: string }) =>
  `${a.segment}/${a.value}`.localeCompare(`${b.segment}/${b.value}`);
const byPair = (a: { human: string; ai: string }, b: { human: string; ai: string }) =>
  `${a.human}/${a.ai}`.localeCompare(`${b.human}/${b.ai}`);

describe.each(BACKENDS)('cohort metrics on %s', (_backend, create) => {
  let tdb: TestDatabase;
  let metrics: MetricsStore;

  beforeAll(async () => {
    tdb = await create();
    metrics = new MetricsStore(tdb.database);
    const decisions = new DecisionStore(tdb.database);
    const aiCalls = new AiCallStore(tdb.database);
    await decisions.insertMirrored(
      ROWS.map((r) =>
        mirrored(UC, r.id, {
          human: r.human,
          context: r.context,
          stage: r.stage,
          aiState: r.outcome === 'none' ? 'none' : 'owed',
        }),
      ),
    );
    // A decision of another use case must not count anywhere.
    await decisions.insertMirrored([mirrored('other', 'r1', { human: 'approve' })]);
    for (const r of ROWS) {
      await tdb.database.rows(
        sql`update decisions set received_at = ${r.at}::timestamptz where use_case = ${UC} and request_id = ${r.id}`,
      );
      if (r.outcome === 'owed' || r.outcome === 'none') continue;
      const call = await aiCalls.claim({ useCase: UC, requestId: r.id }, 60_000);
      if ('error' in r.outcome) {
        await aiCalls.recordFailure(call!.id, {
          error: r.outcome.error,
          latencyMs: r.outcome.latency,
          modelVersion: r.outcome.model,
        });
        continue;
      }
      const reply: RecordedAnswer = answer(r.outcome.ai, {
        modelVersion: r.outcome.model,
        latencyMs: r.outcome.latency,
        costUsd: r.outcome.cost,
        // Tokens follow latency so their sums are easy to check: 10 × and 1 × the latency.
        inputTokens: r.outcome.latency * 10,
        outputTokens: r.outcome.latency,
      });
      await aiCalls.recordAnswer(call!.id, reply, r.outcome.score);
    }
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when every decision is aggregated, then each stage × model version is its own cohort', async () => {
    const all = await cohortsById(metrics, {});
    expect(Object.keys(all).sort()).toEqual([
      'human-reviewed/-',
      'human-reviewed/m1',
      'shadow/-',
      'shadow/m1',
      'shadow/m2',
    ]);
    for (const c of Object.values(all)) expect(c.aiConfig).toBe('cfg-test');
  });

  it('when a cohort has answers, errors and a missing human, then its counts, sums and percentiles are the hand-computed ones', async () => {
    const m1 = (await cohortsById(metrics, {}))['shadow/m1']!;
    expect(m1).toMatchObject({
      decisions: 6,
      compared: 4,
      scoreSum: 2,
      aiAttempted: 6,
      aiErrors: 1,
      // percentile_cont over the answered latencies 10, 20, 30, 40, 100 (the error's 5000 is left out):
      // p50 is the middle value; p95 sits at 0.95 × 4 = 3.8, so 40 + 0.8 × (100 − 40) = 88.
      latencyP50Ms: 30,
      inputTokensSum: 2000,
      outputTokensSum: 200,
      humanDecisions: 5,
      pendingHuman: 1,
      pendingAi: 0,
      firstDecisionAt: new Date(JAN),
      lastDecisionAt: new Date(FEB),
    });
    expect(m1.latencyP95Ms).toBeCloseTo(88, 9);
    expect(m1.aiCostSum).toBeCloseTo(0.015, 12);
    expect([...m1.segments].sort(bySegment)).toEqual([
      // The failed call was on a decided request in eu: a failure of that value, not a comparison.
      { segment: 'region', value: 'eu', compared: 3, scoreSum: 2, failed: 1 },
      { segment: 'region', value: 'us', compared: 1, scoreSum: 0, failed: 0 },
      { segment: 'riskTier', value: 'high', compared: 1, scoreSum: 0, failed: 0 },
      { segment: 'riskTier', value: 'low', compared: 1, scoreSum: 1, failed: 0 },
    ]);
    expect(m1.aiFailedWithHuman).toBe(1);
    expect(m1.labelFailures.reduce((n, f) => n + f.count, 0)).toBe(1);
    expect([...m1.confusion].sort(byPair)).toEqual([
      { human: 'approve', ai: 'approve', count: 2 },
      { human: 'escalate', ai: 'reject', count: 1 },
      { human: 'reject', ai: 'approve', count: 1 },
    ]);
  });

  it('when another model version answered, then its decisions are counted apart', async () => {
    const m2 = (await cohortsById(metrics, {}))['shadow/m2']!;
    expect(m2).toMatchObject({
      decisions: 2,
      compared: 2,
      scoreSum: 2,
      aiAttempted: 2,
      aiErrors: 0,
      latencyP50Ms: 8,
    });
    // Two values 7 and 9: 7 + 0.95 × (9 − 7) = 8.9.
    expect(m2.latencyP95Ms).toBeCloseTo(8.9, 9);
    expect(m2.aiCostSum).toBeCloseTo(0.02, 12);
    expect(m2.segments).toEqual([]);
    expect([...m2.confusion].sort(byPair)).toEqual([
      { human: 'approve', ai: 'approve', count: 1 },
      { human: 'reject', ai: 'reject', count: 1 },
    ]);
  });

  it('when AI calls are still owed, then they count as pending in the cohort without a model version', async () => {
    const pending = (await cohortsById(metrics, {}))['shadow/-']!;
    expect(pending).toMatchObject({
      decisions: 2,
      compared: 0,
      scoreSum: 0,
      aiAttempted: 0,
      aiErrors: 0,
      latencyP50Ms: null,
      latencyP95Ms: null,
      aiCostSum: 0,
      humanDecisions: 1,
      pendingHuman: 1,
      pendingAi: 2,
      segments: [],
      confusion: [],
    });
  });

  it('when filtered by stage, then only that stage is aggregated', async () => {
    const reviewed = await cohortsById(metrics, { stage: 'human-reviewed' });
    expect(Object.keys(reviewed).sort()).toEqual(['human-reviewed/-', 'human-reviewed/m1']);
    expect(reviewed['human-reviewed/m1']).toMatchObject({
      decisions: 1,
      compared: 1,
      scoreSum: 1,
      latencyP50Ms: 50,
      latencyP95Ms: 50,
      segments: [{ segment: 'region', value: 'eu', compared: 1, scoreSum: 1, failed: 0 }],
    });
    expect(reviewed['human-reviewed/-']).toMatchObject({
      decisions: 1,
      aiAttempted: 0,
      pendingAi: 0,
      pendingHuman: 0,
      humanDecisions: 1,
    });
    expect(await metrics.cohorts({ useCase: UC, stage: 'limited-autonomous' }, [], true)).toEqual([]);
  });

  it('when filtered by time, then from is inclusive and to is exclusive', async () => {
    const january = await cohortsById(metrics, { from: new Date('2024-01-01T00:00:00Z'), to: new Date(FEB) });
    expect(Object.keys(january)).toEqual(['shadow/m1']);
    expect(january['shadow/m1']).toMatchObject({
      decisions: 4,
      compared: 4,
      scoreSum: 2,
      aiErrors: 0,
      latencyP50Ms: 25,
    });
    // 10, 20, 30, 40: 0.95 × 3 = 2.85, so 30 + 0.85 × 10 = 38.5.
    expect(january['shadow/m1']!.latencyP95Ms).toBeCloseTo(38.5, 9);

    const february = await cohortsById(metrics, { from: new Date(FEB) });
    expect(february['shadow/m1']).toMatchObject({
      decisions: 2,
      compared: 0,
      aiErrors: 1,
      pendingHuman: 1,
      latencyP50Ms: 100,
    });
    expect(Object.keys(february)).toHaveLength(5);
  });

  it('when filtered by a segment value, then only decisions with that context value count', async () => {
    const eu = await cohortsById(metrics, { segment: { name: 'region', value: 'eu' } });
    expect(Object.keys(eu).sort()).toEqual(['human-reviewed/m1', 'shadow/m1']);
    expect(eu['shadow/m1']).toMatchObject({
      decisions: 4,
      compared: 3,
      scoreSum: 2,
      aiErrors: 1,
      humanDecisions: 4,
      latencyP50Ms: 20,
    });
    expect(
      await metrics.cohorts({ useCase: UC, segment: { name: 'region', value: 'apac' } }, [], true),
    ).toEqual([]);
  });

  it('when labels are not asked for, then no confusion pairs are read', async () => {
    const plain = await cohortsById(metrics, {}, false);
    expect(plain['shadow/m1']!.confusion).toEqual([]);
    expect(plain['shadow/m1']!.compared).toBe(4);
  });

  it('when a use case has no decisions, then there are no cohorts', async () => {
    expect(await metrics.cohorts({ useCase: 'nothing-here' }, ['region'], true)).toEqual([]);
  });
});
