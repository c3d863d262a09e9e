import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 13, item 4: a model version limited-autonomous was not earned with never decides alone.
 * The simulated AI changes its reported model version under an unchanged plan, as a provider
 * shipping a new model under the same name does.
 */

const STAGES = (onModelChange: string) => `  human-reviewed:
    promoteWhen: { minSamples: 20, agreementLowerBound: 0.5 }
  limited-autonomous:
    onModelChange: ${onModelChange}
    auditRate: 0
`;

describe('a model version the stage was not earned with', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let now = new Date();
  const clock = () => now;
  const tick = () => {
    now = new Date(now.getTime() + 60_000);
    return tc.controller.engine.tick(now);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem({ agreement: 1, confidence: 0.95, modelVersion: 'sim-1' });
    tc = await startTestController({ database: tdb.database, queue: 'in-process', clock });
  });
  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  async function limitedAutonomous(useCase: string, onModelChange: string) {
    const plan = labelPlan(useCase, `${sim.url}/decide`).replace(
      /stages:[\s\S]*$/,
      `stages:\n  shadow: {}\n${STAGES(onModelChange)}`,
    );
    await tc.http.put(`/v1/use-cases/${useCase}/plan`).set(tc.admin).send(plan).expect(201);
    for (let i = 0; i < 2; i++) {
      await tc.http
        .post(`/v1/use-cases/${useCase}/promote`)
        .set(tc.admin)
        .send({ reason: 'test set-up', force: true })
        .expect(200);
    }
  }

  const input = (i: number) => ({ amount: 100 + i, supplier: `s-${i % 7}` });
  async function suggest(useCase: string, requestId: string, i: number) {
    const res = await tc.http
      .post(`/v1/use-cases/${useCase}/suggest`)
      .set(tc.admin)
      .send({ requestId, input: input(i), context: {} })
      .expect(200);
    return res.body as { decision: string; modelVersion: string | null; autonomous: boolean; stage: string };
  }

  async function auditActions(useCase: string, action: string) {
    const rows = await tdb.database.rows<{ details: Record<string, unknown> }>(
      sql`select details from audit_events where use_case = ${useCase} and action = ${action} order by id`,
    );
    return rows.map((r) => r.details);
  }

  it('when the provider ships a new version, then its answers never decide alone and the next tick demotes to human-reviewed', async () => {
    sim.setOptions({ modelVersion: 'sim-1' });
    await limitedAutonomous('demoted', 'demote');
    // Forced without evidence: nothing is pinned until the stage has answered.
    expect((await suggest('demoted', 'd-0', 0)).autonomous).toBe(true);
    await tick();
    expect(await auditActions('demoted', 'model.pinned')).toEqual([
      expect.objectContaining({ modelVersion: 'sim-1' }),
    ]);
    expect((await suggest('demoted', 'd-1', 1)).autonomous).toBe(true);

    sim.setOptions({ modelVersion: 'sim-2' });
    for (let i = 2; i < 12; i++) {
      const answer = await suggest('demoted', `d-${i}`, i);
      expect(answer).toMatchObject({ modelVersion: 'sim-2', stage: 'limited-autonomous', autonomous: false });
    }
    const report = await tick();
    expect(report.modelChanges).toEqual(['demoted']);
    const detail = (await tc.http.get('/v1/use-cases/demoted').set(tc.admin).expect(200)).body;
    expect(detail.stage).toBe('human-reviewed');
    const transitions = (await tc.http.get('/v1/use-cases/demoted/transitions').set(tc.admin).expect(200))
      .body.transitions as Array<{ toStage: string; actor: string; reason: string }>;
    const last = transitions.at(-1)!;
    expect(last).toMatchObject({ toStage: 'human-reviewed', actor: 'system' });
    expect(last.reason).toContain('sim-1');
    expect(last.reason).toContain('sim-2');
    expect(await auditActions('demoted', 'model.changed')).toEqual([
      expect.objectContaining({ from: 'sim-1', to: 'sim-2', stage: 'limited-autonomous' }),
    ]);
    expect(await auditActions('demoted', 'stage.model-change')).toHaveLength(1);
    // Once in human-reviewed on the new version's evidence, the next ticks record nothing more.
    await tick();
    expect(await auditActions('demoted', 'model.changed')).toHaveLength(1);
  });

  it('with onModelChange: keep, the stage stays, the new version is told once and decides alone only once human-reviewed’s gate holds for it', async () => {
    sim.setOptions({ modelVersion: 'sim-1' });
    await limitedAutonomous('kept', 'keep');
    await suggest('kept', 'k-0', 0);
    await tick();
    expect((await suggest('kept', 'k-1', 1)).autonomous).toBe(true);

    sim.setOptions({ modelVersion: 'sim-3' });
    const answers: Array<{ requestId: string; i: number; decision: string }> = [];
    for (let i = 2; i < 32; i++) {
      const answer = await suggest('kept', `k-${i}`, i);
      expect(answer.autonomous).toBe(false);
      answers.push({ requestId: `k-${i}`, i, decision: answer.decision });
    }
    expect((await tick()).modelChanges).toEqual(['kept']);
    await tick();
    expect(await auditActions('kept', 'model.changed')).toHaveLength(1);
    expect(await auditActions('kept', 'model.earned')).toHaveLength(0);
    expect((await tc.http.get('/v1/use-cases/kept').set(tc.admin).expect(200)).body.stage).toBe(
      'limited-autonomous',
    );

    // People decide the same way as the new version on 30 requests: human-reviewed's gate
    // (20 samples, agreement lower bound 0.5) holds for its cohort, and it earns the stage.
    for (const a of answers) {
      await tc.http
        .post(`/v1/decisions/kept/${a.requestId}/human`)
        .set(tc.admin)
        .send({ decision: a.decision })
        .expect(200);
    }
    let earned: Record<string, unknown>[] = [];
    for (let attempt = 0; attempt < 50 && earned.length === 0; attempt++) {
      await tick();
      earned = await auditActions('kept', 'model.earned');
      if (earned.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(earned).toEqual([expect.objectContaining({ modelVersion: 'sim-3', from: 'sim-1' })]);
    expect((await suggest('kept', 'k-99', 99)).autonomous).toBe(true);
    const detail = (await tc.http.get('/v1/use-cases/kept').set(tc.admin).expect(200)).body;
    expect(detail).toMatchObject({ stage: 'limited-autonomous', earnedModelVersion: 'sim-3' });
  });
});
