import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { stableUnit } from '../../scripts/simulation/stable-hash.js';
import { type Auth, applyApproved, createKey } from '../support/change-approval.js';
import { waitForProgress } from '../support/progress.js';
import { labelPlan, startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 16's drift guards through the API, on a simulated workflow: batches of 100 decisions with
 * an hour between them (the decisions already stored are moved an hour back before each batch,
 * through the same triggers that count them, since PostgreSQL's clock stamps `received_at`), so a
 * drift window of 1,000 decisions is the last ten batches. Each input carries the clerk's label as
 * `referenceLabel`, which the simulated AI answers.
 */

const BATCH = 100;
const DRIVE_TIMEOUT_MS = 300_000;

type Mix = Array<[string, number]>;

/** The value of request k under a mix of shares (a seeded draw: the same in every run). */
function draw(salt: string, k: number, mix: Mix): string {
  const u = stableUnit(salt, k);
  let cum = 0;
  for (const [value, share] of mix) {
    cum += share;
    if (u < cum) return value;
  }
  return mix[mix.length - 1]![0];
}

const REGIONS_BEFORE: Mix = [
  ['north', 0.6],
  ['south', 0.3],
  ['east', 0.1],
];
const REGIONS_AFTER: Mix = [
  ['north', 0.1],
  ['south', 0.3],
  ['east', 0.6],
];
const LABELS_BEFORE: Mix = [
  ['approve', 0.8],
  ['reject', 0.15],
  ['escalate', 0.05],
];
/** `escalate` four times as often, approve and reject keeping their ratio. */
const LABELS_AFTER: Mix = [
  ['approve', 0.674],
  ['reject', 0.126],
  ['escalate', 0.2],
];

interface DriftBody {
  stage: string;
  reference: { id: number; trippedAt: string | null; window: { decisions: number } };
  current: { decisions: number };
  fields: Array<{ field: string; psi: number | null; referenceTotal: number; currentTotal: number }>;
  overrideRate: { current: number | null; samples: number; reference: number | null };
  escalationRate: { current: number | null; samples: number; byReason: Record<string, number> };
  guards: Array<{ guard: string; status: string; actual: number | null; drifted?: string[] }>;
}

describe('drift guards on a simulated workflow', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let ai: SimulatedAiSystem;
  let release: Auth;
  let now = new Date();
  const clock = () => now;
  const tick = () => {
    now = new Date(now.getTime() + 60_000);
    return tc.controller.engine.tick(now);
  };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({ database: tdb.database, queue: 'in-process', clock });
    release = await createKey(tc, 'rm-drift', 'release');
    ai = await startSimulatedAiSystem({ agreement: 1, latencyMs: 1, modelVersion: 'drift-sim' });
  });
  afterAll(async () => {
    await tc?.stop();
    await ai?.close();
    await tdb?.drop();
  });

  const apply = (useCase: string, tail: string) =>
    applyApproved(
      tc,
      useCase,
      labelPlan(useCase, `${ai.url}/decide`).replace(/stages:[\s\S]*$/, tail),
      release,
    );

  const drift = async (useCase: string): Promise<DriftBody> =>
    (await tc.http.get(`/v1/use-cases/${useCase}/drift`).set(tc.admin).expect(200)).body;

  /** An hour passes: what is stored moves an hour back. */
  const anHourPasses = (useCase: string) =>
    tdb.database.rows(
      sql`update decisions set received_at = received_at - interval '1 hour' where use_case = ${useCase}`,
    );

  /** Sends decisions [from, from + BATCH) in shadow and waits for their AI answers when they are owed. */
  async function send(useCase: string, from: number, regions: Mix, labels: Mix, answered: boolean) {
    await anHourPasses(useCase);
    const decisions = Array.from({ length: BATCH }, (_, i) => {
      const k = from + i;
      const label = draw(`${useCase}-label`, k, labels);
      return {
        useCase,
        requestId: `${useCase}-${k}`,
        input: { ...makeInvoice(k).input, referenceLabel: label },
        context: { region: draw(`${useCase}-region`, k, regions) },
        human: { decision: label },
      };
    });
    await tc.http.post('/v1/decisions').set(tc.admin).send({ decisions }).expect(202);
    if (!answered) return;
    await waitForProgress({
      what: `the AI answers of ${useCase}'s first ${from + BATCH} decisions`,
      read: async () => {
        const rows = await tdb.database.rows<{ n: number }>(
          sql`select count(*)::int as n from decisions where use_case = ${useCase} and ai_state = 'owed'`,
        );
        return Number(rows[0]!.n);
      },
      done: (owed) => owed === 0,
    });
  }

  const baseline = (useCase: string) =>
    tc.http
      .post(`/v1/use-cases/${useCase}/drift/baseline`)
      .set(release)
      .send({ reason: 'the traffic the gate judged' })
      .expect(200);

  /** Sends shifted batches, a tick after each, until the guard trips; the decisions sent by then, or null. */
  async function driveUntilTripped(
    useCase: string,
    from: number,
    limit: number,
    regions: Mix,
    labels: Mix,
    answered: boolean,
  ): Promise<number | null> {
    for (let sent = 0; sent < limit; sent += BATCH) {
      await send(useCase, from + sent, regions, labels, answered);
      const report = await tick();
      if (report.guardTrips.includes(useCase)) return sent + BATCH;
    }
    return null;
  }

  const REGION_GUARD = `drift: { window: 1000, minWindow: 500 }
stages:
  shadow:
    sampleRate: 0
    rollbackWhen: { driftAbove: { psi: 0.25, fields: [region] }, action: disable }
`;

  it(
    'when the region mix moves from 60/30/10 to 10/30/60, then the region guard trips within one window and disables the use case, once',
    async () => {
      await apply('region-shift', REGION_GUARD);
      for (let k = 0; k < 1000; k += BATCH)
        await send('region-shift', k, REGIONS_BEFORE, LABELS_BEFORE, false);
      // Shadow is the first stage: its reference is set by a release key.
      const set = (await baseline('region-shift')).body as DriftBody;
      expect(set.reference.window.decisions).toBe(1000);
      expect(set.guards).toMatchObject([{ guard: 'driftAbove', status: 'stable' }]);
      expect((await tick()).guardTrips).not.toContain('region-shift');

      const tripped = await driveUntilTripped(
        'region-shift',
        1000,
        2000,
        REGIONS_AFTER,
        LABELS_BEFORE,
        false,
      );
      expect(tripped).not.toBeNull();
      expect(tripped!).toBeLessThanOrEqual(1000);

      const after = await drift('region-shift');
      expect(after.stage).toBe('disabled');
      // The visit that tripped keeps its mark: the reference it tripped against.
      const marked = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from drift_references where use_case = 'region-shift' and tripped_at is not null`,
      );
      expect(Number(marked[0]!.n)).toBe(1);
      const { body } = await tc.http.get('/v1/use-cases/region-shift/transitions').set(tc.admin).expect(200);
      const last = body.transitions.at(-1);
      expect(last).toMatchObject({ fromStage: 'shadow', toStage: 'disabled', actor: 'system' });
      expect(last.reason).toMatch(/driftAbove:region 0\.25/);
      const events = await tdb.database.rows<{ n: number }>(
        sql`select count(*)::int as n from audit_events where use_case = 'region-shift' and action = 'drift.detected'`,
      );
      expect(Number(events[0]!.n)).toBe(1);
    },
    DRIVE_TIMEOUT_MS,
  );

  it(
    'when the traffic stays as it was, then the region guard stays stable over 3,000 decisions',
    async () => {
      await apply('region-stable', REGION_GUARD);
      for (let k = 0; k < 1000; k += BATCH)
        await send('region-stable', k, REGIONS_BEFORE, LABELS_BEFORE, false);
      await baseline('region-stable');
      expect(
        await driveUntilTripped('region-stable', 1000, 3000, REGIONS_BEFORE, LABELS_BEFORE, false),
      ).toBeNull();
      const read = await drift('region-stable');
      expect(read.stage).toBe('shadow');
      expect(read.current.decisions).toBe(1000);
      const region = read.fields.find((f) => f.field === 'region')!;
      expect(region.psi!).toBeLessThan(0.05);
      expect(read.guards).toMatchObject([{ guard: 'driftAbove', status: 'stable' }]);
    },
    DRIVE_TIMEOUT_MS,
  );

  it(
    'when the AI answers escalate four times as often, then an aiLabel guard at psi 0.1 trips within one window',
    async () => {
      await apply(
        'escalations',
        `drift: { window: 1000, minWindow: 500 }
stages:
  shadow:
    rollbackWhen: { driftAbove: { psi: 0.1, fields: [aiLabel] }, action: notify }
`,
      );
      for (let k = 0; k < 1000; k += BATCH) await send('escalations', k, REGIONS_BEFORE, LABELS_BEFORE, true);
      await baseline('escalations');
      const tripped = await driveUntilTripped('escalations', 1000, 2000, REGIONS_BEFORE, LABELS_AFTER, true);
      expect(tripped).not.toBeNull();
      expect(tripped!).toBeLessThanOrEqual(1000);
      const read = await drift('escalations');
      // notify: the stage stays, and the guard does not trip again against the same reference.
      expect(read.stage).toBe('shadow');
      expect(read.guards[0]).toMatchObject({ guard: 'driftAbove', status: 'drifted', drifted: ['aiLabel'] });
      await send('escalations', 3000, REGIONS_BEFORE, LABELS_AFTER, true);
      expect((await tick()).guardTrips).not.toContain('escalations');
      // A re-baseline takes the new mix as the reference: the guard is stable against it.
      const rebased = (await baseline('escalations')).body as DriftBody;
      expect(rebased.reference.trippedAt).toBeNull();
      expect(rebased.guards[0]).toMatchObject({ status: 'stable' });
    },
    DRIVE_TIMEOUT_MS,
  );

  it(
    'when reviewers in human-reviewed start overriding the suggestions, then overrideRateAbove trips and rolls back to shadow',
    async () => {
      await apply(
        'overrides',
        `drift: { window: 400, minWindow: 200 }
stages:
  shadow: {}
  human-reviewed:
    rollbackWhen: { overrideRateAbove: 0.2 }
`,
      );
      for (let k = 0; k < 500; k += BATCH) await send('overrides', k, REGIONS_BEFORE, LABELS_BEFORE, true);
      await tc.http
        .post('/v1/use-cases/overrides/promote')
        .set(release)
        .send({ reason: 'shadow agreement holds', force: true })
        .expect(200);
      // Taken at the move: the last window (400 decisions, four hours) of the shadow visit that earned it.
      const taken = await tdb.database.rows<{ reason: string; decisions: number }>(sql`
        select reason, (source ->> 'decisions')::int as decisions from drift_references
        where use_case = 'overrides' and stage = 'human-reviewed'`);
      expect(taken).toEqual([
        { reason: 'entered human-reviewed: the window of the stage before', decisions: 400 },
      ]);
      let overridden = 0.05;
      let tripped: number | null = null;
      for (let batch = 0; batch < 12 && tripped === null; batch++) {
        if (batch === 4) overridden = 0.4;
        await anHourPasses('overrides');
        for (let i = 0; i < BATCH; i++) {
          const k = 10_000 + batch * BATCH + i;
          const requestId = `overrides-hr-${k}`;
          const label = draw('overrides-label', k, LABELS_BEFORE);
          const invoice = makeInvoice(k);
          const suggestion = await tc.http
            .post('/v1/use-cases/overrides/suggest')
            .set(tc.admin)
            .send({
              requestId,
              input: { ...invoice.input, referenceLabel: label },
              context: { region: 'north' },
            })
            .expect(200);
          expect(suggestion.body.decision).toBe(label);
          const changed = stableUnit('overrides-human', k) < overridden;
          await tc.http
            .post(`/v1/decisions/overrides/${requestId}/human`)
            .set(tc.admin)
            .send({ decision: changed ? (label === 'approve' ? 'reject' : 'approve') : label })
            .expect(200);
        }
        const report = await tick();
        if (batch < 4) expect(report.guardTrips).not.toContain('overrides');
        if (report.guardTrips.includes('overrides')) tripped = batch;
      }
      expect(tripped).not.toBeNull();
      const read = await drift('overrides');
      expect(read.stage).toBe('shadow');
      const { body } = await tc.http.get('/v1/use-cases/overrides/transitions').set(tc.admin).expect(200);
      expect(body.transitions.at(-1)).toMatchObject({ fromStage: 'human-reviewed', toStage: 'shadow' });
      expect(body.transitions.at(-1).reason).toMatch(/overrideRateAbove 0\.2/);
    },
    DRIVE_TIMEOUT_MS,
  );

  it(
    'when more requests fall outside the autonomy boundary in limited-autonomous, then escalationRateAbove trips, with the escalations split by reason',
    async () => {
      await apply(
        'escalation-rate',
        `drift: { window: 300, minWindow: 200 }
stages:
  shadow: {}
  human-reviewed: {}
  limited-autonomous:
    boundary: { constraints: [{ contextName: region, operator: IN, values: [north] }], minConfidence: 0 }
    auditRate: 0.05
    rollbackWhen: { escalationRateAbove: 0.5 }
`,
      );
      for (const to of ['human-reviewed', 'limited-autonomous']) {
        await tc.http
          .post('/v1/use-cases/escalation-rate/promote')
          .set(release)
          .send({ reason: `to ${to} for the drift test`, force: true })
          .expect(200);
      }
      let north = 0.8;
      let tripped: number | null = null;
      for (let batch = 0; batch < 10 && tripped === null; batch++) {
        if (batch === 3) north = 0.2;
        await anHourPasses('escalation-rate');
        for (let i = 0; i < BATCH; i++) {
          const k = batch * BATCH + i;
          const region = stableUnit('escalation-region', k) < north ? 'north' : 'south';
          const res = await tc.http
            .post('/v1/use-cases/escalation-rate/suggest')
            .set(tc.admin)
            .send({
              requestId: `escalation-rate-${k}`,
              input: { ...makeInvoice(k).input, referenceLabel: 'approve' },
              context: { region },
            })
            .expect(200);
          expect(res.body.autonomous).toBe(region === 'north');
        }
        const read = await drift('escalation-rate');
        if (batch === 2) {
          // 80% inside the boundary, 5% of them audited: about 24% go to a person.
          expect(read.guards).toMatchObject([{ guard: 'escalationRateAbove', status: 'stable' }]);
          const { byReason } = read.escalationRate;
          expect(byReason.boundary).toBeGreaterThan(0.1);
          expect(byReason.boundary).toBeLessThan(0.3);
          expect(byReason.audit).toBeGreaterThan(0);
          expect(byReason.confidence).toBe(0);
        }
        const report = await tick();
        if (report.guardTrips.includes('escalation-rate')) tripped = batch;
      }
      expect(tripped).not.toBeNull();
      expect(tripped!).toBeGreaterThanOrEqual(3);
      const { body } = await tc.http
        .get('/v1/use-cases/escalation-rate/transitions')
        .set(tc.admin)
        .expect(200);
      expect(body.transitions.at(-1)).toMatchObject({
        fromStage: 'limited-autonomous',
        toStage: 'human-reviewed',
      });
      expect(body.transitions.at(-1).reason).toMatch(/escalationRateAbove 0\.5/);
    },
    DRIVE_TIMEOUT_MS,
  );
});
