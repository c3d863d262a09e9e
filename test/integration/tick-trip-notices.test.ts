import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/schema.js';
import { DecisionStore } from '../../src/ingest/decision-store.js';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import { UseCaseStore } from '../../src/plans/use-case-store.js';
import { AiCallStore } from '../../src/shadow/ai-call-store.js';
import { answer, mirrored, planInput } from '../support/store-fixtures.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const USE_CASES = ['notice-a', 'notice-b', 'notice-c'];

/** A plan whose shadow gate holds on a few samples and whose guard only notifies below 90% agreement. */
function noticePlan(useCase: string) {
  const input = planInput(
    useCase,
    '    rollbackWhen: { window: 4, agreementBelow: 0.9, action: notify }\n  human-reviewed: {}\n',
  );
  const text = input.text.replace(
    'promoteWhen: { minSamples: 500, agreementLowerBound: 0.9 }',
    'promoteWhen: { minSamples: 6, agreementLowerBound: 0.001 }',
  );
  const parsed = parsePlanText(text);
  if (!parsed.ok || text === input.text) throw new Error('the test plan did not take the smaller gate');
  return { ...input, plan: parsed.plan, text, textHash: parsed.hash, aiConfig: aiConfigKey(parsed.plan) };
}

describe('guard trips that only notify, recorded together each tick', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let hour = 0;
  const tick = () => tc.controller.engine.tick(new Date(Date.UTC(2030, 0, 1, hour++)));
  const events = (useCase: string) =>
    tdb.database.db
      .select({ action: auditEvents.action, details: auditEvents.details })
      .from(auditEvents)
      .where(eq(auditEvents.useCase, useCase))
      .orderBy(asc(auditEvents.id));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const useCases = new UseCaseStore(tdb.database);
    for (const useCase of USE_CASES) {
      await useCases.applyPlan(noticePlan(useCase));
      // Six agreeing answers, then two disagreeing: the gate holds, the last four agree 50%.
      const rows = Array.from({ length: 8 }, (_, i) =>
        mirrored(useCase, `${useCase}-${i}`, { human: 'approve', aiConfig: noticePlan(useCase).aiConfig }),
      );
      await new DecisionStore(tdb.database).insertMirrored(rows);
      const calls = new AiCallStore(tdb.database);
      for (const [i, row] of rows.entries()) {
        const call = await calls.claim(row, 60_000);
        await calls.recordAnswer(call!.id, answer(i < 6 ? 'approve' : 'reject'), i < 6 ? 1 : 0);
      }
    }
  });
  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  it('when guards of several use cases trip in one tick, then each trip is recorded once per tick, before its use case is judged on (its gate.eligible after it), and the next tick records them again', async () => {
    const first = await tick();
    expect(first.errors).toEqual([]);
    expect([...first.guardTrips].sort()).toEqual(USE_CASES);
    expect([...first.eligible].sort()).toEqual(USE_CASES);
    for (const useCase of USE_CASES) {
      const actions = (await events(useCase)).map((e) => e.action).filter((a) => a !== 'use-case.create');
      expect(actions, useCase).toEqual(['guard.tripped', 'gate.eligible']);
      const [trip] = await events(useCase).then((all) => all.filter((e) => e.action === 'guard.tripped'));
      expect(trip?.details).toMatchObject({
        stageVersion: 1,
        verdict: {
          trips: true,
          action: 'notify',
          checks: [expect.objectContaining({ name: 'agreementBelow', actual: 0.5 })],
        },
      });
    }

    const second = await tick();
    expect([...second.guardTrips].sort()).toEqual(USE_CASES);
    for (const useCase of USE_CASES) {
      const actions = (await events(useCase)).map((e) => e.action).filter((a) => a !== 'use-case.create');
      // Told eligible once per stage version; tripped (a notice) at every tick it holds.
      expect(actions, useCase).toEqual(['guard.tripped', 'gate.eligible', 'guard.tripped']);
    }
  });
});
