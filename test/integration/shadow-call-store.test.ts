import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, BACKENDS, decisionRow, mirrored } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const LONG_LEASE = 60_000;

describe.each(BACKENDS)('AI calls claimed and answered many at a time on %s', (_backend, create) => {
  let tdb: TestDatabase;
  let decisions: DecisionStore;
  let aiCalls: AiCallStore;

  beforeAll(async () => {
    tdb = await create();
    decisions = new DecisionStore(tdb.database);
    aiCalls = new AiCallStore(tdb.database);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('when a batch asks for owed, held, answered, unknown and repeated keys, then only the owed ones are claimed, once each, with their own leases', async () => {
    await decisions.insertMirrored([
      mirrored('batch', 'owed-1', { human: 'approve' }),
      mirrored('batch', 'owed-2'),
      mirrored('batch', 'held'),
      mirrored('batch', 'none', { aiState: 'none' }),
      mirrored('other', 'owed-1'),
    ]);
    expect(await aiCalls.claim({ useCase: 'batch', requestId: 'held' }, LONG_LEASE)).not.toBeNull();

    const claimed = await aiCalls.claimMany([
      { useCase: 'batch', requestId: 'owed-1', leaseMs: LONG_LEASE },
      { useCase: 'batch', requestId: 'held', leaseMs: LONG_LEASE },
      { useCase: 'batch', requestId: 'none', leaseMs: LONG_LEASE },
      { useCase: 'batch', requestId: 'missing', leaseMs: LONG_LEASE },
      { useCase: 'batch', requestId: 'owed-2', leaseMs: 1 },
      { useCase: 'batch', requestId: 'owed-1', leaseMs: LONG_LEASE },
      { useCase: 'other', requestId: 'owed-1', leaseMs: LONG_LEASE },
    ]);
    const byKey = new Map(claimed.map((c) => [`${c.useCase}/${c.requestId}`, c]));
    expect([...byKey.keys()].sort()).toEqual(['batch/owed-1', 'batch/owed-2', 'other/owed-1']);
    expect(claimed).toHaveLength(3);
    expect(byKey.get('batch/owed-1')).toMatchObject({
      attempts: 1,
      humanDecision: 'approve',
      input: { invoice: 'owed-1', amount: 120 },
      planVersion: 1,
      aiConfig: 'cfg-test',
    });
    // owed-2 got a 1 ms lease: it lapses at once; owed-1 holds its minute.
    await new Promise((r) => setTimeout(r, 5));
    const again = await aiCalls.claimMany([
      { useCase: 'batch', requestId: 'owed-1', leaseMs: LONG_LEASE },
      { useCase: 'batch', requestId: 'owed-2', leaseMs: LONG_LEASE },
    ]);
    expect(again.map((c) => [c.requestId, c.attempts])).toEqual([['owed-2', 2]]);
    expect(await aiCalls.claimMany([])).toEqual([]);
  });

  it('when a decision is a string that reads as JSON, then claims and answers return it as the same string', async () => {
    await decisions.insertMirrored([mirrored('json-like', 'j', { human: '42' })]);
    const [claimed] = await aiCalls.claimMany([
      { useCase: 'json-like', requestId: 'j', leaseMs: LONG_LEASE },
    ]);
    expect(claimed?.humanDecision).toBe('42');
    const [row] = await aiCalls.recordAnswers([{ id: claimed!.id, answer: answer('true'), score: 0 }]);
    expect([row?.humanDecision, row?.aiDecision]).toEqual(['42', 'true']);
  });

  it('when answers are recorded in one batch, then each row gets its own answer and score, and one already answered is left alone', async () => {
    await decisions.insertMirrored([
      mirrored('answers', 'a', { human: 'approve' }),
      mirrored('answers', 'b'),
      mirrored('answers', 'c'),
    ]);
    const claimed = await aiCalls.claimMany(
      ['a', 'b', 'c'].map((requestId) => ({ useCase: 'answers', requestId, leaseMs: LONG_LEASE })),
    );
    const id = (requestId: string) => claimed.find((c) => c.requestId === requestId)!.id;
    await aiCalls.recordAnswer(id('c'), answer('first'), null);

    const awkward = { label: 'say "no", then {stop}', list: [1, null, 'a,b'], backslash: 'a\\b' };
    const rows = await aiCalls.recordAnswers([
      { id: id('a'), answer: answer('approve', { modelVersion: 'm-2', latencyMs: 41.5 }), score: 1 },
      {
        id: id('b'),
        answer: answer(awkward, {
          confidence: null,
          modelVersion: null,
          inputTokens: null,
          outputTokens: null,
        }),
        score: null,
      },
      { id: id('c'), answer: answer('second'), score: null },
    ]);
    expect(rows.map((r) => r.id).sort()).toEqual([id('a'), id('b')].sort());
    expect(rows.find((r) => r.id === id('a'))).toMatchObject({
      aiState: 'done',
      score: 1,
      humanDecision: 'approve',
    });
    expect(rows.find((r) => r.id === id('b'))?.aiDecision).toEqual(awkward);

    const a = await decisionRow(tdb.database, 'answers', 'a');
    expect(a).toMatchObject({
      ai_decision: 'approve',
      ai_model_version: 'm-2',
      ai_latency_ms: 41.5,
      score: 1,
    });
    expect(a?.compared_at).not.toBeNull();
    const b = await decisionRow(tdb.database, 'answers', 'b');
    expect(b).toMatchObject({
      ai_state: 'done',
      ai_decision: awkward,
      ai_confidence: null,
      ai_model_version: null,
      ai_input_tokens: null,
      ai_output_tokens: null,
      ai_lease_until: null,
      score: null,
      compared_at: null,
    });
    expect(await decisionRow(tdb.database, 'answers', 'c')).toMatchObject({ ai_decision: 'first' });
    expect(await aiCalls.recordAnswers([])).toEqual([]);
  });
});
