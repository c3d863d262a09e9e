import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSimOptions, pointPlanAt } from '../../scripts/demo/demo-ai-system.js';
import type { StageSummary } from '../../src/metrics/stage-summary.js';
import type { EvidenceReport } from '../../src/report/report-types.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import { simulateOutcome } from '../../scripts/simulation/simulated-answer.js';
import {
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../../scripts/simulation/simulated-ai-system.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { waitForProgress } from '../support/progress.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The demo's use case (its plan file, the simulated AI, synthetic invoices decided by the
 * reference policy) through the API, then its evidence report checked against
 * `GET /v1/use-cases/:id`, `GET /v1/use-cases/:id/transitions` and `GET /v1/changes`.
 */

const PLAN_FILE = resolve(import.meta.dirname, '../../rollout-plans/invoice-triage.yaml');
const LABELS = ['approve', 'reject', 'escalate'];
const USE_CASE = 'invoice-triage';
const MIRRORED = 600;
const SIM = { agreement: 0.9, errorRate: 0.03, latencyMs: 4 };
const RELEASE = 'key:governance release';
const REJECTED = 'a wider boundary waits for the audit of the first month';

/** What the simulation does with the first n invoices, from its pure outcome function. */
function expectedOutcomes(n: number) {
  const options = demoSimOptions(SIM, LABELS);
  let answered = 0;
  let agreed = 0;
  for (let i = 0; i < n; i++) {
    const invoice = makeInvoice(i);
    const outcome = simulateOutcome(options, invoice.requestId, invoice.input, 1);
    if (outcome.kind !== 'answer') continue;
    answered++;
    if (outcome.agreed) agreed++;
  }
  return { answered, agreed };
}

function invoices(from: number, count: number, withHuman: boolean) {
  return Array.from({ length: count }, (_, k) => {
    const invoice = makeInvoice(from + k);
    return {
      useCase: USE_CASE,
      requestId: invoice.requestId,
      input: invoice.input,
      context: invoice.context,
      ...(withHuman
        ? { human: { decision: referenceLabel(invoice.input, LABELS), decidedBy: 'clerk' } }
        : {}),
    };
  });
}

describe('the evidence report of the demo use case', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let sim: SimulatedAiSystem;
  let readAt: { before: number; after: number };
  const viewer = { Authorization: '' };
  let detail: {
    planVersion: number;
    planHash: string;
    metrics: { stages: StageSummary[] };
    gate: {
      verdict: string;
      criteria: Array<{ name: string; required: unknown; actual: unknown }>;
      majorityBaseline: { label: string; agreement: number } | null;
      warnings: Array<{ code: string; message: string }>;
    };
  };
  let transitions: Array<{ actor: string; reason: string; forced: boolean; approvedBy: string[] | null }>;
  let changes: Array<{ id: number; kind: string; state: string; requestedBy: string }>;
  let report: EvidenceReport;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    sim = await startSimulatedAiSystem(demoSimOptions(SIM, LABELS));
    tc = await startTestController({ database: tdb.database, queue: 'in-process' });
    const plan = pointPlanAt(readFileSync(PLAN_FILE, 'utf8'), PLAN_FILE, sim.url);
    await tc.http.put(`/v1/use-cases/${USE_CASE}/plan`).set(tc.admin).send(plan.text).expect(201);
    const key = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name: 'governance', role: 'viewer' })
      .expect(201);
    viewer.Authorization = `Bearer ${key.body.key}`;
    const releaseKey = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name: 'governance release', role: 'release' })
      .expect(201);
    const release = { Authorization: `Bearer ${releaseKey.body.key}` };

    for (let start = 0; start < MIRRORED; start += 200) {
      await tc.http
        .post('/v1/decisions')
        .set(tc.admin)
        .send({ decisions: invoices(start, 200, true) })
        .expect(202);
    }
    await waitForProgress({
      what: 'every AI call answered or failed',
      read: async () => {
        const body = (await tc.http.get(`/v1/use-cases/${USE_CASE}`).set(tc.admin)).body;
        const shadow = body.metrics.stages[0];
        return shadow?.decisions === MIRRORED ? shadow.pendingAi : -1;
      },
      done: (pending) => pending === 0,
    });

    // A release manager forces the promotion (minDuration 7d does not hold yet), five invoices
    // arrive in human-reviewed without their clerk's decision, and the promotion is rolled back.
    await tc.http
      .post(`/v1/use-cases/${USE_CASE}/promote`)
      .set(tc.admin)
      .send({ reason: 'pilot week agreed with AP operations', force: true })
      .expect(200);
    // Four eyes from now on (tightening: applied at once, plan version 2).
    const fourEyes = `${plan.text}\nchangeControl: { approvals: 1 }\n`;
    await tc.http.put(`/v1/use-cases/${USE_CASE}/plan`).set(tc.admin).send(fourEyes).expect(200);
    await tc.http
      .post('/v1/decisions')
      .set(tc.admin)
      .send({ decisions: invoices(MIRRORED, 5, false) })
      .expect(202);
    // The rollback waits for a second key, which approves it.
    const rollback = await tc.http
      .post(`/v1/use-cases/${USE_CASE}/rollback`)
      .set(tc.admin)
      .send({ reason: 'clerks report slow suggestions' })
      .expect(202);
    await approve(rollback.body.change.id, 'the clerks asked for it');
    // A wider boundary: approved (plan version 3); wider still: rejected; another: left pending.
    const boundary = (percent: number) =>
      fourEyes.replace(/rolloutPercent: 10\b/, `rolloutPercent: ${percent}`);
    const wider = await putPlan(boundary(20));
    await approve(wider, 'one in five low-risk invoices, once autonomous');
    const widest = await putPlan(boundary(50));
    await tc.http.post(`/v1/changes/${widest}/reject`).set(release).send({ reason: REJECTED }).expect(200);
    await putPlan(boundary(30));

    async function putPlan(text: string): Promise<number> {
      const held = await tc.http.put(`/v1/use-cases/${USE_CASE}/plan`).set(tc.admin).send(text).expect(202);
      return held.body.change.id;
    }
    async function approve(id: number, reason: string): Promise<void> {
      const approved = await tc.http
        .post(`/v1/changes/${id}/approve`)
        .set(release)
        .send({ reason })
        .expect(200);
      expect(approved.body.change.state).toBe('applied');
    }

    detail = (await tc.http.get(`/v1/use-cases/${USE_CASE}`).set(viewer).expect(200)).body;
    transitions = (await tc.http.get(`/v1/use-cases/${USE_CASE}/transitions`).set(viewer).expect(200)).body
      .transitions;
    changes = (await tc.http.get(`/v1/changes?useCase=${USE_CASE}`).set(viewer).expect(200)).body.changes;
    const before = Date.now();
    report = (await tc.http.get(`/v1/use-cases/${USE_CASE}/report?format=json`).set(viewer).expect(200)).body;
    readAt = { before, after: Date.now() };
  });

  afterAll(async () => {
    await tc?.stop();
    await sim?.close();
    await tdb?.drop();
  });

  it('when the report is read as JSON, then it has every section a governance review asks for', () => {
    expect(Object.keys(report)).toEqual([
      'kind',
      'generatedAt',
      'useCase',
      'plan',
      'humanBaseline',
      'evaluation',
      'guards',
      'transitions',
      'journey',
      'costs',
      'gate',
      'challengers',
      'changes',
      'drift',
      'judgeCalibration',
      'risks',
    ]);
    // The demo's comparator is exact: there is no judge to calibrate.
    expect(report.judgeCalibration).toBeNull();
    expect(report.useCase).toMatchObject({
      id: USE_CASE,
      owner: 'ap-operations@example.com',
      description: 'Route incoming invoices to approval, rejection or a person who looks closer',
      stage: 'shadow',
      segments: ['region', 'riskTier'],
    });
    expect(Date.parse(report.generatedAt)).toBeGreaterThanOrEqual(readAt.before);
    expect(Date.parse(report.generatedAt)).toBeLessThanOrEqual(readAt.after);
  });

  it("when the shadow evidence is reported, then samples, agreement and bounds are the API's and what the simulation produced", () => {
    const { answered, agreed } = expectedOutcomes(MIRRORED);
    const apiShadow = detail.metrics.stages.find((s) => s.stage === 'shadow')!;
    const shadow = report.evaluation.stages.find((s) => s.stage === 'shadow')!;
    expect(shadow.samples).toBe(answered);
    expect(shadow.samples).toBe(apiShadow.samples);
    expect(shadow.decisions).toBe(apiShadow.decisions);
    expect(shadow.cohorts).toHaveLength(1);
    const cohort = shadow.cohorts[0]!;
    const api = apiShadow.cohorts[0]!;
    expect(cohort.agreement).toBe(agreed / answered);
    for (const field of [
      'samples',
      'agreement',
      'agreementLowerBound',
      'kappa',
      'aiCalls',
      'aiErrors',
      'aiErrorRate',
      'latencyP50Ms',
      'latencyP95Ms',
      'confusion',
      'perLabel',
      'kappaInterval',
      'aiFailedWithHuman',
      'agreementWithFailures',
      'coverage',
      'majorityBaseline',
      'errorCost',
    ] as const) {
      expect(cohort[field], field).toEqual(api[field]);
    }
    expect(cohort.segments.map(({ underMinSamples: _, ...s }) => s)).toEqual(api.segments);
    expect(cohort.modelVersion).toBe('simulated-v1');
    expect(cohort.current).toBe(true);
    expect(report.evaluation.currentCohort).toEqual({
      stage: 'shadow',
      aiConfig: api.aiConfig,
      modelVersion: 'simulated-v1',
    });
  });

  it("when costs are reported, then every cohort's costs and monthly projection are the API's", () => {
    const apiCohorts = detail.metrics.stages.flatMap((s) => s.cohorts);
    expect(report.costs).toHaveLength(apiCohorts.length);
    report.costs.forEach((c, i) => {
      const api = apiCohorts[i]!;
      expect(c).toMatchObject({
        stage: api.stage,
        modelVersion: api.modelVersion,
        aiCostPerDecision: api.aiCostPerDecision,
        humanCostPerDecision: api.humanCostPerDecision,
        errorCostPerDecision: api.errorCost?.perDecision ?? null,
        expectedErrorCostPerDecision: api.expectedErrorCostPerDecision,
        costPerDecision: api.costPerDecision,
        monthlyVolume: api.monthlyVolume,
        monthlyCost: api.monthlyCost,
        monthlySavings: api.monthlySavings,
      });
      expect(c.allHumanMonthlyCost).toBeCloseTo((api.monthlyVolume ?? 0) * 1.8, 9);
    });
    expect(report.humanBaseline.humanCostPerDecision).toBe(1.8);
    expect(report.humanBaseline.stages.map((s) => [s.stage, s.decisions])).toEqual(
      detail.metrics.stages.map((s) => [s.stage, s.decisions]),
    );
  });

  it('when the plan, gate and transitions are reported, then they are those the API shows, with kinds and evidence', () => {
    expect(report.plan).toMatchObject({
      version: detail.planVersion,
      textHash: detail.planHash,
      appliedBy: 'bootstrap-admin',
      format: 'yaml',
    });
    expect(report.gate?.verdict).toBe(detail.gate.verdict);
    // minDuration's actual is the time in the stage, a few milliseconds more at the report's reading.
    const figures = (c: { name: string; required: unknown; actual: unknown }) =>
      c.name === 'minDuration' ? [c.name, c.required] : [c.name, c.required, c.actual];
    expect(report.gate?.criteria.map(figures)).toEqual(detail.gate.criteria.map(figures));
    expect(report.gate?.majorityBaseline).toEqual(detail.gate.majorityBaseline);
    expect(report.gate?.warnings).toEqual(detail.gate.warnings);
    // Rolled back, shadow is a new visit with no evidence yet: nothing to compare a bar with.
    expect(report.gate?.majorityBaseline).toBeNull();
    // The shadow cohort (all time) has one: the invoices are mostly approvals.
    const shadow = report.evaluation.stages.find((s) => s.stage === 'shadow')!.cohorts[0]!;
    const approve = shadow.perLabel!.find((l) => l.label === 'approve')!;
    const supports = shadow.perLabel!.reduce((sum, l) => sum + l.support, 0);
    expect(shadow.majorityBaseline).toEqual({ label: 'approve', agreement: approve.support / supports });
    expect(report.transitions).toHaveLength(transitions.length);
    expect(report.transitions.map((t) => [t.kind, t.actor, t.reason, t.forced])).toEqual([
      ['create', 'bootstrap-admin', 'use case created by its first plan', false],
      ['promote', 'bootstrap-admin', 'pilot week agreed with AP operations', true],
      ['rollback', 'bootstrap-admin', 'clerks report slow suggestions', false],
    ]);
    // Who asked (the actor) and who approved, as GET …/transitions answers.
    expect(report.transitions.map((t) => t.approvedBy)).toEqual(transitions.map((t) => t.approvedBy));
    expect(report.transitions.map((t) => t.approvedBy)).toEqual([null, null, [RELEASE]]);
    const { answered } = expectedOutcomes(MIRRORED);
    expect(report.transitions[1]!.evidence).toMatchObject({
      verdict: 'inconclusive',
      targetStage: 'human-reviewed',
      samples: answered,
      modelVersion: 'simulated-v1',
    });
    expect(report.transitions[1]!.evidence?.notHolding.map((c) => c.name)).toContain('minDuration');
    // In shadow a new configuration has nothing to earn: no challenger, ever.
    expect(report.challengers).toMatchObject({
      champion: { planVersion: detail.planVersion, aiConfig: report.plan.aiConfig },
      active: null,
      history: [],
    });
  });

  it('when plans and stage changes went through change control, then every plan version names who asked and who approved, and the changes are those GET /v1/changes lists, with their approvals, rejection and reasons', () => {
    expect(report.plan).toMatchObject({ version: 3, appliedBy: 'bootstrap-admin', approvedBy: [RELEASE] });
    expect(report.plan.history.map((v) => [v.version, v.appliedBy, v.approvedBy])).toEqual([
      [3, 'bootstrap-admin', [RELEASE]],
      [2, 'bootstrap-admin', null],
      [1, 'bootstrap-admin', null],
    ]);
    expect(report.changes.truncated).toBe(false);
    expect(report.changes.entries.map((c) => [c.id, c.kind, c.state, c.requestedBy])).toEqual(
      changes.map((c) => [c.id, c.kind, c.state, c.requestedBy]),
    );
    expect(report.changes.entries.map((c) => [c.kind, c.state])).toEqual([
      ['plan', 'pending'],
      ['plan', 'rejected'],
      ['plan', 'applied'],
      ['rollback', 'applied'],
    ]);
    const [pending, rejected, wider, rollback] = report.changes.entries;
    expect(pending!.rules).toEqual(
      expect.arrayContaining([
        { rule: 'change-control', approvals: 1 },
        expect.objectContaining({ rule: 'boundary-widened' }),
      ]),
    );
    expect(rejected).toMatchObject({ decidedBy: RELEASE, decisionReason: REJECTED, approvals: [] });
    expect(wider).toMatchObject({
      approvals: [{ by: RELEASE, reason: 'one in five low-risk invoices, once autonomous' }],
      result: { planVersion: 3 },
    });
    expect(rollback).toMatchObject({
      stage: { reason: 'clerks report slow suggestions' },
      approvals: [{ by: RELEASE, reason: 'the clerks asked for it' }],
      result: { from: 'human-reviewed', to: 'shadow' },
    });
  });

  it('when guards and risks are reported, then the plan guards are listed untripped and the forced promotion and pending decisions are open risks', () => {
    expect(report.guards.stages.map((g) => [g.stage, g.rollbackWhen?.window ?? null, g.trips.count])).toEqual(
      [
        ['shadow', null, 0],
        ['human-reviewed', 200, 0],
        ['limited-autonomous', 200, 0],
      ],
    );
    expect(report.guards.budget).toEqual({
      maxDailyCost: 200,
      exhaustedDays: { count: 0, first: null, last: null },
    });
    const kinds = report.risks.map((r) => r.kind);
    expect(kinds).toContain('forced-promotion');
    expect(kinds).toContain('criterion');
    // The gate's warnings are risks, and so is a coverage under 95%, each only when it is so.
    expect(report.risks.filter((r) => r.kind === 'majority-baseline').map((r) => r.message)).toEqual(
      detail.gate.warnings.map((w) => w.message),
    );
    const coverage = report.evaluation.stages[0]!.cohorts[0]!.coverage!;
    expect(coverage).toBeGreaterThan(0.9);
    expect(kinds.includes('low-coverage')).toBe(coverage < 0.95);
    expect(report.risks.find((r) => r.kind === 'pending')?.message).toBe(
      'human-reviewed: 0 AI calls still owed, 5 decisions waiting for a human (not counted either way)',
    );
  });

  it('when the report is read without a format, then it is Markdown with every section and the figures of the JSON', async () => {
    const res = await tc.http.get(`/v1/use-cases/${USE_CASE}/report`).set(viewer).expect(200);
    expect(res.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const md = res.text;
    for (const heading of [
      '# Evidence report: invoice-triage',
      '## Use case',
      '## Rollout plan',
      '## Human baseline',
      '## Evaluation results',
      '### Stage shadow',
      '#### Evidence (model simulated-v1, current)',
      '#### Segments (model simulated-v1, current)',
      '#### Confusion matrix (model simulated-v1, current)',
      '#### Precision and recall (model simulated-v1, current)',
      '## Guards',
      '## Transitions',
      '## Changes held for approval',
      '## Costs',
      '## Current gate',
      '## Champion and challenger',
      '## Open risks',
    ]) {
      expect(md).toContain(`${heading}\n`);
    }
    const cohort = report.evaluation.stages[0]!.cohorts[0]!;
    expect(md).toContain(`| ${cohort.samples} | ${((cohort.agreement ?? 0) * 100).toFixed(2)}% |`);
    expect(md).toContain(
      `- Coverage ${((cohort.coverage ?? 0) * 100).toFixed(2)}%: decisions with an AI answer of those owed one`,
    );
    expect(md).toContain(detail.planHash);
    expect(md).toContain('pilot week agreed with AP operations');
    expect(md).toContain(`| 3 | \`${detail.planHash}\` |`);
    expect(md).toMatch(
      new RegExp(`\\| 3 \\| \`${detail.planHash}\` \\| .* \\| bootstrap-admin \\| ${RELEASE} \\|`),
    );
    expect(md).toContain(`${RELEASE}: ${REJECTED}`);
  });

  it('when the use case is unknown, the format is not one offered, or the key may only ingest, then 404, 400 and 403', async () => {
    await tc.http.get('/v1/use-cases/no-such-thing/report').set(viewer).expect(404);
    const bad = await tc.http.get(`/v1/use-cases/${USE_CASE}/report?format=pdf`).set(viewer).expect(400);
    expect(bad.body.details[0].path).toBe('format');
    const ingest = await tc.http
      .post('/v1/keys')
      .set(tc.admin)
      .send({ name: 'wf', role: 'ingest' })
      .expect(201);
    await tc.http
      .get(`/v1/use-cases/${USE_CASE}/report`)
      .set({ Authorization: `Bearer ${ingest.body.key}` })
      .expect(403);
  });
});
