import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import type { EvidenceReport } from '../../src/report/report-types.js';
import {
  eventually,
  labelPlan,
  startTestController,
  type TestController,
} from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The evidence report of a use case with a challenger (issue 13): a use case holds
 * limited-autonomous with one AI system, a plan version points it at a worse one, which is judged
 * on the same requests and ends blocked. The report's "Champion and challenger" section carries
 * what `GET …/challenger` shows, and the blocked challenger is an open risk; once a release key
 * forces it in, the forced swap is.
 */

const USE_CASE = 'contract-review';
const LABELS = ['approve', 'reject', 'escalate'];
const DECISIONS = 200;

function plan(url: string) {
  return labelPlan(USE_CASE, url).replace(
    /stages:[\s\S]*$/,
    `stages:
  shadow:
    promoteWhen: { minSamples: 100, agreementLowerBound: 0.85 }
  human-reviewed:
    promoteWhen: { minSamples: 100, agreementLowerBound: 0.85 }
  limited-autonomous:
    auditRate: 1
challenger: { approval: manual, margin: 0.02 }
`,
  );
}

describe('the evidence report of a use case with a challenger', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let champion: SimulatedAiSystem;
  let worse: SimulatedAiSystem;
  let now = new Date();
  const clock = () => now;

  const reportJson = async (): Promise<EvidenceReport> =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}/report?format=json`).set(tc.admin).expect(200)).body;
  const reportMarkdown = async (): Promise<string> =>
    (await tc.http.get(`/v1/use-cases/${USE_CASE}/report`).set(tc.admin).expect(200)).text;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    champion = await startSimulatedAiSystem({
      agreement: 0.96,
      confidence: 0.95,
      modelVersion: 'champion-1',
    });
    worse = await startSimulatedAiSystem({ agreement: 0.5, confidence: 0.95, modelVersion: 'worse-1' });
    tc = await startTestController({ database: tdb.database, queue: 'in-process', clock });

    await tc.http
      .put(`/v1/use-cases/${USE_CASE}/plan`)
      .set(tc.admin)
      .send(plan(`${champion.url}/decide`))
      .expect(201);
    for (let i = 0; i < 2; i++) {
      await tc.http
        .post(`/v1/use-cases/${USE_CASE}/promote`)
        .set(tc.admin)
        .send({ reason: 'test set-up', force: true })
        .expect(200);
    }
    await tc.http
      .put(`/v1/use-cases/${USE_CASE}/plan`)
      .set(tc.admin)
      .send(plan(`${worse.url}/decide`))
      .expect(200);

    // Suggestions answered by the champion, then each one's human decision (auditRate 1).
    for (let start = 0; start < DECISIONS; start += 25) {
      const batch = Array.from({ length: 25 }, (_, k) => makeInvoice(start + k));
      await Promise.all(
        batch.map((inv) =>
          tc.http
            .post(`/v1/use-cases/${USE_CASE}/suggest`)
            .set(tc.admin)
            .send({ requestId: inv.requestId, input: inv.input, context: inv.context })
            .expect(200),
        ),
      );
      await Promise.all(
        batch.map((inv) =>
          tc.http
            .post(`/v1/decisions/${USE_CASE}/${inv.requestId}/human`)
            .set(tc.admin)
            .send({ decision: referenceLabel(inv.input, LABELS) })
            .expect(200),
        ),
      );
    }
    await eventually(
      async () => {
        const [row] = await tdb.database.rows<{ n: number }>(
          sql`select count(*)::int as n from challenger_calls where use_case = ${USE_CASE} and state = 'owed'`,
        );
        return Number(row?.n) === 0 ? true : undefined;
      },
      'challenger calls made',
      60_000,
    );
    now = new Date(now.getTime() + 60_000);
    await tc.controller.engine.tick(now);
  });

  afterAll(async () => {
    await tc?.stop();
    await Promise.all([champion?.close(), worse?.close()]);
    await tdb?.drop();
  });

  it('when the challenger is blocked, then the section carries what GET …/challenger shows and the report names it an open risk', async () => {
    const view = (await tc.http.get(`/v1/use-cases/${USE_CASE}/challenger`).set(tc.admin).expect(200)).body;
    const detail = (await tc.http.get(`/v1/use-cases/${USE_CASE}`).set(tc.admin).expect(200)).body;
    const report = await reportJson();
    expect(view.challenger.verdict).toBe('blocked');

    const { champion: c, active, history } = report.challengers;
    expect(c).toEqual({ ...view.champion, earnedModelVersion: detail.earnedModelVersion });
    expect(c.planVersion).toBe(1);
    expect(active).toMatchObject({
      id: view.challenger.id,
      planVersion: 2,
      aiConfig: view.challenger.aiConfig,
      changes: ['ai.url'],
      startedAt: view.challenger.startedAt,
      approval: 'manual',
      margin: 0.02,
      verdict: 'blocked',
      owedCalls: 0,
      paired: { ...view.challenger.paired, required: -0.02 },
    });
    expect(active!.paired!.n).toBe(DECISIONS);
    expect(active!.paired!.upper).toBeLessThan(-0.02);
    expect(active!.cohort).toMatchObject({
      modelVersion: 'worse-1',
      samples: DECISIONS,
      agreement: view.challenger.cohort.agreement,
      aiErrorRate: view.challenger.cohort.aiErrorRate,
      latencyP95Ms: view.challenger.cohort.latencyP95Ms,
      aiCostPerDecision: view.challenger.cohort.aiCostPerDecision,
    });
    expect(active!.criteria.map((x) => [x.name, x.status])).toEqual(
      view.challenger.criteria.map((x: { name: string; status: string }) => [x.name, x.status]),
    );
    expect(history).toEqual([]);

    const blocked = report.risks.filter((r) => r.kind === 'challenger-blocked');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.message).toContain('the challenger of plan version 2');
    expect(blocked[0]!.message).toContain('championNonInferiority (required -2.0 pp');
    expect(report.risks.map((r) => r.kind)).not.toContain('forced-challenger-promotion');

    const md = await reportMarkdown();
    expect(md).toContain('## Champion and challenger\n');
    expect(md).toContain('### Active challenger\n');
    expect(md).toContain('- Verdict: **blocked**');
    expect(md).toContain(
      `- Plan version 2, AI configuration \`${view.challenger.aiConfig}\`; changed: ai.url`,
    );
    expect(md).toContain(`${DECISIONS} pairs, mean `);
    expect(md).toMatch(/^\| championNonInferiority \| -2\.0 pp \| -\d+\.\d pp \| blocked \|/m);
    expect(md).toContain('- **challenger-blocked**: the challenger of plan version 2');
  });

  it('when a release key forces the blocked challenger in, then the history holds the swap with its evidence and the forced swap is an open risk, escaped in the Markdown', async () => {
    const reason = 'vendor | deadline **now** <b>';
    await tc.http
      .post(`/v1/use-cases/${USE_CASE}/challenger/promote`)
      .set(tc.admin)
      .send({ reason, force: true })
      .expect(200);
    const report = await reportJson();
    const { champion: c, active, history } = report.challengers;
    expect(active).toBeNull();
    expect(c).toMatchObject({ planVersion: 2, earnedModelVersion: 'worse-1' });
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      state: 'promoted',
      planVersion: 2,
      championPlanVersion: 1,
      endedBy: 'bootstrap-admin',
      endReason: reason,
      promotion: { actor: 'bootstrap-admin', verdict: 'blocked', forced: true },
    });
    expect(history[0]!.promotion!.paired?.n).toBe(DECISIONS);
    expect(history[0]!.promotion!.notHolding.map((x) => x.name)).toContain('championNonInferiority');
    const [event] = await tdb.database.rows<{ at: Date | string }>(
      sql`select at from audit_events where use_case = ${USE_CASE} and action = 'challenger.promoted'`,
    );
    expect(history[0]!.promotion!.at).toBe(new Date(event!.at).toISOString());

    const kinds = report.risks.map((r) => r.kind);
    expect(kinds).toContain('forced-challenger-promotion');
    expect(kinds).not.toContain('challenger-blocked');
    expect(report.risks.find((r) => r.kind === 'forced-challenger-promotion')!.message).toContain(
      `by bootstrap-admin: "${reason}"; verdict then blocked; not holding then: `,
    );

    const md = await reportMarkdown();
    expect(md).toContain('No active challenger.');
    expect(md).toContain('### Earlier challengers\n');
    const escaped = 'vendor \\| deadline \\*\\*now\\*\\* \\<b\\>';
    const row = md.split('\n').find((l) => l.startsWith('| 2 | 1 | promoted, **forced** |'));
    expect(row).toContain(
      `| bootstrap-admin | ${escaped} | verdict blocked; ${DECISIONS} pairs, lower bound `,
    );
    expect(md).not.toContain('<b>');
    expect(md).toContain(`- **forced-challenger-promotion**: the challenger of plan version 2 was forced in`);
  });
});
