import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComparisonRecorder } from '../../src/shadow/comparison-recorder.js';
import { ShadowgateError } from '../../src/contracts/errors.js';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { PlanCache } from '../../src/plans/plan-cache.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { eventually } from '../support/test-controller.js';
import { answer, BACKENDS, countWhere, decisionRow, mirrored, planInput } from '../support/store-fixtures.js';
import type { TestDatabase } from '../support/test-database.js';

const LONG_LEASE = 60_000;

describe.each(BACKENDS)('decisions and AI calls on %s', (_backend, create) => {
  let tdb: TestDatabase;
  let decisions: DecisionStore;
  let aiCalls: AiCallStore;
  let useCases: UseCaseStore;

  beforeAll(async () => {
    tdb = await create();
    decisions = new DecisionStore(tdb.database);
    aiCalls = new AiCallStore(tdb.database);
    useCases = new UseCaseStore(tdb.database);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  /** A use case with a plan (the recorder reads comparators from it) and the given rows stored. */
  async function seed(useCase: string, rows: ReturnType<typeof mirrored>[]) {
    await useCases.applyPlan(planInput(useCase));
    await decisions.insertMirrored(rows);
  }

  it('when new decisions are mirrored, then they are inserted; the same rows again are duplicates and change nothing', async () => {
    const rows = ['a', 'b', 'c'].map((id) => mirrored('mirror', id, { human: 'approve' }));
    const first = await decisions.insertMirrored(rows);
    expect(first.inserted.map((r) => r.requestId)).toEqual(['a', 'b', 'c']);
    expect(first.duplicates).toBe(0);
    const before = await decisionRow(tdb.database, 'mirror', 'b');
    expect(before).toMatchObject({ human_decision: 'approve', ai_state: 'owed', payload_hash: 'hash-of-b' });

    const again = await decisions.insertMirrored(rows);
    expect(again).toEqual({ inserted: [], duplicates: 3, completed: [] });
    expect(await countWhere(tdb.database, 'decisions', 'mirror')).toBe(3);
    expect(await decisionRow(tdb.database, 'mirror', 'b')).toEqual(before);

    const mixed = await decisions.insertMirrored([mirrored('mirror', 'c'), mirrored('mirror', 'd')]);
    expect(mixed.inserted.map((r) => r.requestId)).toEqual(['d']);
    expect(mixed.duplicates).toBe(1);
  });

  it('when mirrored rows are stored, then every column holds what was sent: JSON null kept as JSON, human_at only with a human side', async () => {
    const input = {
      invoice: 'x',
      lines: [{ sku: 'a\tb "q"', qty: 2 }],
      note: 'ünïcødé \\ 🚀',
      big: 12345678901234567000,
    };
    await decisions.insertMirrored([
      {
        ...mirrored('columns', 'full', {
          human: { label: 'approve', reasons: [1, null] },
          context: { tier: 'gold', n: 3, ok: true, z: null },
        }),
        input,
        pendingInput: null,
        stage: 'canary',
        stageVersion: 4,
        planVersion: 3,
        aiState: 'owed',
      },
      { ...mirrored('columns', 'bare', { aiState: 'none' }), input: null, pendingInput: undefined },
      {
        ...mirrored('columns', 'no-clerk'),
        input: 'just text',
        pendingInput: { raw: 'x' },
        human: { decision: false, decidedBy: null, handlingMs: null },
      },
    ]);
    expect(await decisionRow(tdb.database, 'columns', 'full')).toMatchObject({
      payload_hash: 'hash-of-full',
      input,
      pending_input: null,
      context: { tier: 'gold', n: 3, ok: true, z: null },
      stage: 'canary',
      stage_version: 4,
      plan_version: 3,
      ai_config: 'cfg-test',
      human_decision: { label: 'approve', reasons: [1, null] },
      human_decided_by: 'clerk-7',
      human_handling_ms: 900,
      ai_state: 'owed',
      ai_attempts: 0,
    });
    // JSON null as a pending input is pending (jsonb null), not SQL NULL.
    const [pending] = await tdb.database.rows<{ kind: string | null }>(
      sql`select jsonb_typeof(pending_input) as kind from decisions where use_case = 'columns' and request_id = 'full'`,
    );
    expect(pending?.kind).toBe('null');
    const full = await decisionRow(tdb.database, 'columns', 'full');
    expect(full?.human_at).not.toBeNull();
    expect(full?.human_at).toBe(full?.received_at);

    expect(await decisionRow(tdb.database, 'columns', 'bare')).toMatchObject({
      input: null,
      pending_input: null,
      human_decision: null,
      human_decided_by: null,
      human_handling_ms: null,
      human_at: null,
      ai_state: 'none',
    });
    const noClerk = await decisionRow(tdb.database, 'columns', 'no-clerk');
    expect(noClerk).toMatchObject({
      input: 'just text',
      pending_input: { raw: 'x' },
      human_decision: false,
      human_decided_by: null,
      human_handling_ms: null,
    });
    expect(noClerk?.human_at).not.toBeNull();
  });

  it('when one row of a batch of 3 repeats a key with another payload, then a 409 names it and none of the 3 is stored', async () => {
    await decisions.insertMirrored([mirrored('conflict', 'old')]);
    const batch = [
      mirrored('conflict', 'new-1'),
      mirrored('conflict', 'old', { payloadHash: 'a-different-hash' }),
      mirrored('conflict', 'new-2'),
    ];
    const error = await decisions.insertMirrored(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShadowgateError);
    expect((error as ShadowgateError).status).toBe(409);
    expect((error as ShadowgateError).details.map((d) => d.path)).toEqual(['conflict/old']);
    expect(await countWhere(tdb.database, 'decisions', 'conflict')).toBe(1);
    expect(await decisionRow(tdb.database, 'conflict', 'new-1')).toBeUndefined();
    expect(await decisionRow(tdb.database, 'conflict', 'old')).toMatchObject({ payload_hash: 'hash-of-old' });
  });

  it('when a decision stored without its human side is mirrored again with one, then the batch completes it, and reports it to be compared', async () => {
    await decisions.insertMirrored([mirrored('complete', 'c1'), mirrored('complete', 'c2')]);
    const decision = { label: 'approve', reasons: { fraud: false } };
    const withHuman = (id: string, human: unknown) => ({
      ...mirrored('complete', id, { human, payloadHash: `full-hash-of-${id}` }),
      bareHash: () => `hash-of-${id}`,
    });
    const first = await decisions.insertMirrored([withHuman('c1', decision), mirrored('complete', 'c3')]);
    expect(first.inserted.map((r) => r.requestId)).toEqual(['c3']);
    expect(first.duplicates).toBe(0);
    expect(first.completed).toHaveLength(1);
    expect(first.completed[0]).toMatchObject({
      useCase: 'complete',
      requestId: 'c1',
      humanDecision: decision,
      score: null,
    });
    expect(await decisionRow(tdb.database, 'complete', 'c1')).toMatchObject({
      human_decided_by: 'clerk-7',
      payload_hash: 'hash-of-c1',
    });
    // Completed once: the same again is a duplicate; another human decision is refused, batch and all.
    const again = await decisions.insertMirrored([withHuman('c1', decision)]);
    expect({ duplicates: again.duplicates, completed: again.completed.length }).toEqual({
      duplicates: 1,
      completed: 0,
    });
    const error = await decisions
      .insertMirrored([withHuman('c2', 'approve'), withHuman('c1', 'reject')])
      .catch((e: unknown) => e);
    expect((error as ShadowgateError).status).toBe(409);
    expect((error as ShadowgateError).details.map((d) => d.path)).toEqual(['complete/c1']);
    expect(await decisionRow(tdb.database, 'complete', 'c2')).toMatchObject({ human_decided_by: null });
  });

  it('when a human decision arrives, then it is recorded once; the same one again is a duplicate, another a conflict', async () => {
    await decisions.insertMirrored([mirrored('human', 'h1'), mirrored('human', 'h2')]);
    const decision = { label: 'approve', reasons: { fraud: false, amountOk: true } };
    const recorded = await decisions.recordHuman(
      { useCase: 'human', requestId: 'h1' },
      { decision, decidedBy: 'clerk-1', handlingMs: 1200 },
    );
    expect(recorded).toMatchObject({
      status: 'recorded',
      row: { useCase: 'human', humanDecision: decision, aiState: 'owed', score: null },
    });
    expect(await decisionRow(tdb.database, 'human', 'h1')).toMatchObject({
      human_decided_by: 'clerk-1',
      human_handling_ms: 1200,
    });

    const reordered = { reasons: { amountOk: true, fraud: false }, label: 'approve' };
    const key = { useCase: 'human', requestId: 'h1' };
    expect(
      await decisions.recordHuman(key, { decision: reordered, decidedBy: 'x', handlingMs: null }),
    ).toEqual({
      status: 'duplicate',
    });
    const other = { label: 'reject', reasons: { fraud: true, amountOk: true } };
    expect(await decisions.recordHuman(key, { decision: other, decidedBy: 'x', handlingMs: null })).toEqual({
      status: 'conflict',
      existing: decision,
    });
    expect(await decisionRow(tdb.database, 'human', 'h1')).toMatchObject({
      human_decision: decision,
      human_decided_by: 'clerk-1',
    });
    expect(
      await decisions.recordHuman(
        { useCase: 'human', requestId: 'missing' },
        { decision: 'approve', decidedBy: null, handlingMs: null },
      ),
    ).toEqual({ status: 'not-found' });
  });

  it('when an owed call is claimed, then a second claim gets nothing until it is released, and attempts count up', async () => {
    await decisions.insertMirrored([mirrored('claim', 'c1', { human: 'reject' })]);
    const key = { useCase: 'claim', requestId: 'c1' };
    const first = await aiCalls.claim(key, LONG_LEASE);
    expect(first).toMatchObject({
      useCase: 'claim',
      requestId: 'c1',
      input: { invoice: 'c1', amount: 120 },
      attempts: 1,
      humanDecision: 'reject',
      planVersion: 1,
      aiConfig: 'cfg-test',
    });
    expect(await aiCalls.claim(key, LONG_LEASE)).toBeNull();
    await aiCalls.release(first!.id);
    expect(await aiCalls.claim(key, LONG_LEASE)).toMatchObject({ id: first!.id, attempts: 2 });
    expect(await aiCalls.claim(key, LONG_LEASE)).toBeNull();
  });

  it('when a lease expires, then the call can be claimed again', async () => {
    await decisions.insertMirrored([mirrored('lease', 'l1')]);
    const key = { useCase: 'lease', requestId: 'l1' };
    expect(await aiCalls.claim(key, 1)).toMatchObject({ attempts: 1 });
    const again = await eventually(
      async () => (await aiCalls.claim(key, LONG_LEASE)) ?? undefined,
      'lease expiry',
    );
    expect(again.attempts).toBe(2);
  });

  it('when a decision owes no AI call or its call is done or failed, then it is never claimed', async () => {
    await decisions.insertMirrored([
      mirrored('unclaimable', 'none', { aiState: 'none' }),
      mirrored('unclaimable', 'done'),
      mirrored('unclaimable', 'failed'),
    ]);
    const done = await aiCalls.claim({ useCase: 'unclaimable', requestId: 'done' }, 1);
    await aiCalls.recordAnswer(done!.id, answer('approve'), null);
    const failed = await aiCalls.claim({ useCase: 'unclaimable', requestId: 'failed' }, 1);
    await aiCalls.recordFailure(failed!.id, { error: 'timeout', latencyMs: 3000, modelVersion: null });
    await new Promise((r) => setTimeout(r, 10));
    for (const requestId of ['none', 'done', 'failed']) {
      expect(await aiCalls.claim({ useCase: 'unclaimable', requestId }, LONG_LEASE)).toBeNull();
    }
    expect(await decisionRow(tdb.database, 'unclaimable', 'none')).toMatchObject({ ai_attempts: 0 });
  });

  it('when an answer is recorded with a score, then score and compared_at are set in the same write', async () => {
    await decisions.insertMirrored([mirrored('answer', 'scored', { human: 'approve' })]);
    const call = await aiCalls.claim({ useCase: 'answer', requestId: 'scored' }, LONG_LEASE);
    const reply = answer('approve', { modelVersion: 'm-7', latencyMs: 41.5, costUsd: 0.0003 });
    const row = await aiCalls.recordAnswer(call!.id, reply, 1);
    expect(row).toMatchObject({ aiState: 'done', aiDecision: 'approve', humanDecision: 'approve', score: 1 });
    const stored = await decisionRow(tdb.database, 'answer', 'scored');
    expect(stored).toMatchObject({
      ai_state: 'done',
      ai_lease_until: null,
      ai_model_version: 'm-7',
      ai_latency_ms: 41.5,
      ai_cost: 0.0003,
      ai_input_tokens: 300,
      ai_output_tokens: 20,
      ai_confidence: 0.9,
      score: 1,
    });
    expect(stored?.compared_at).not.toBeNull();
    expect(stored?.compared_at).toBe(stored?.ai_at);
    expect(await aiCalls.lastModelVersion('answer', 'cfg-test')).toBe('m-7');
  });

  it('when an answer is recorded without a score, then the score stays null; on a row no longer owed it changes nothing', async () => {
    await decisions.insertMirrored([mirrored('answer', 'unscored')]);
    const call = await aiCalls.claim({ useCase: 'answer', requestId: 'unscored' }, LONG_LEASE);
    expect(
      await aiCalls.recordAnswer(call!.id, answer('reject', { modelVersion: 'm-8' }), null),
    ).toMatchObject({
      aiState: 'done',
      score: null,
    });
    const stored = await decisionRow(tdb.database, 'answer', 'unscored');
    expect(stored).toMatchObject({ ai_decision: 'reject', score: null, compared_at: null });

    expect(await aiCalls.recordAnswer(call!.id, answer('approve', { modelVersion: 'm-9' }), 0)).toBeNull();
    expect(await aiCalls.recordFailure(call!.id, { error: 'late', latencyMs: 1, modelVersion: null })).toBe(
      false,
    );
    expect(await decisionRow(tdb.database, 'answer', 'unscored')).toEqual(stored);
    expect(await aiCalls.lastModelVersion('answer', 'cfg-test')).toBe('m-8');
  });

  it('when a call fails, then the row is marked error with the message, latency and model version', async () => {
    await decisions.insertMirrored([mirrored('failure', 'f1', { human: 'approve' })]);
    const call = await aiCalls.claim({ useCase: 'failure', requestId: 'f1' }, LONG_LEASE);
    const failed = await aiCalls.recordFailure(call!.id, {
      error: `answer does not fit the plan: ${'x'.repeat(600)}`,
      latencyMs: 812,
      modelVersion: 'm-3',
    });
    expect(failed).toBe(true);
    const stored = await decisionRow(tdb.database, 'failure', 'f1');
    expect(stored).toMatchObject({
      ai_state: 'error',
      ai_lease_until: null,
      ai_latency_ms: 812,
      ai_model_version: 'm-3',
      ai_decision: null,
      score: null,
    });
    expect(String(stored?.ai_error)).toHaveLength(500);
    expect(await aiCalls.owedUnclaimed(1000)).not.toContainEqual(expect.objectContaining({ id: call!.id }));
  });

  it('when owed calls are listed, then they come in pages by id and claimed ones are skipped', async () => {
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5'];
    await decisions.insertMirrored(ids.map((id) => mirrored('paging', id)));
    await decisions.insertMirrored([mirrored('paging', 'no-call', { aiState: 'none' })]);
    const held = await aiCalls.claim({ useCase: 'paging', requestId: 'p2' }, LONG_LEASE);

    const seen: Array<{ id: number; useCase: string; requestId: string }> = [];
    let after = 0;
    for (;;) {
      const page = await aiCalls.owedUnclaimed(2, after);
      expect(page.length).toBeLessThanOrEqual(2);
      if (page.length === 0) break;
      seen.push(...page);
      after = page.at(-1)!.id;
    }
    const ordered = seen.map((s) => s.id);
    expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
    expect(new Set(ordered).size).toBe(ordered.length);
    expect(seen.filter((s) => s.useCase === 'paging').map((s) => s.requestId)).toEqual([
      'p1',
      'p3',
      'p4',
      'p5',
    ]);
    expect(ordered).not.toContain(held!.id);
  });

  it('when rows have both sides but no score, then uncompared finds them and repair scores each exactly once', async () => {
    const rows = [
      mirrored('repair', 'agree', { human: 'approve' }),
      mirrored('repair', 'disagree', { human: 'approve' }),
      mirrored('repair', 'no-human'),
    ];
    await seed('repair', rows);
    for (const [requestId, label] of [
      ['agree', 'approve'],
      ['disagree', 'escalate'],
      ['no-human', 'approve'],
    ] as const) {
      const call = await aiCalls.claim({ useCase: 'repair', requestId }, LONG_LEASE);
      // As if the process died between the answer and the comparison.
      await aiCalls.recordAnswer(call!.id, answer(label), null);
    }
    const pending = await decisions.uncompared(1000);
    const mine = pending.filter((r) => r.useCase === 'repair');
    expect(mine.map((r) => r.aiDecision).sort()).toEqual(['approve', 'escalate']);

    const recorder = new ComparisonRecorder(new PlanCache(useCases), decisions);
    expect(await recorder.repair()).toBe(pending.length);
    const agree = await decisionRow(tdb.database, 'repair', 'agree');
    expect(agree).toMatchObject({ score: 1 });
    expect(await decisionRow(tdb.database, 'repair', 'disagree')).toMatchObject({ score: 0 });
    expect(await decisionRow(tdb.database, 'repair', 'no-human')).toMatchObject({ score: null });

    expect(await recorder.repair()).toBe(0);
    expect(await decisions.uncompared(1000)).toEqual([]);
    expect(await decisionRow(tdb.database, 'repair', 'agree')).toEqual(agree);
  });

  it('when two repairs run at once, then each row is scored by exactly one of them', async () => {
    const requestIds = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    await seed(
      'repair-race',
      requestIds.map((id) => mirrored('repair-race', id, { human: 'reject' })),
    );
    for (const requestId of requestIds) {
      const call = await aiCalls.claim({ useCase: 'repair-race', requestId }, LONG_LEASE);
      await aiCalls.recordAnswer(call!.id, answer('reject'), null);
    }
    const plans = new PlanCache(useCases);
    const [a, b] = await Promise.all([
      new ComparisonRecorder(plans, decisions).repair(),
      new ComparisonRecorder(plans, decisions).repair(),
    ]);
    expect(a + b).toBe(requestIds.length);
    for (const requestId of requestIds) {
      expect(await decisionRow(tdb.database, 'repair-race', requestId)).toMatchObject({ score: 1 });
    }
    expect(
      await decisions.recordScore((await decisions.get({ useCase: 'repair-race', requestId: 'r1' }))!.id, 0),
    ).toBe(false);
  });
});
