import { describe, expect, it } from 'vitest';
import type { CohortMetrics } from '../../src/metrics/metrics-types.js';
import type { StageSummary } from '../../src/metrics/stage-summary.js';
import { type Plan, planSchema } from '../../src/plans/plan-schema.js';
import type { GateAssessment } from '../../src/promotion/gate-types.js';
import type { ChangeView } from '../../src/promotion/change-types.js';
import type { TransitionRecord } from '../../src/promotion/transition-store.js';
import { buildEvidenceReport, type ReportInput } from '../../src/report/evidence-report.js';
import { renderReportMarkdown } from '../../src/report/report-markdown.js';
import { snapshotEvidence } from '../../src/report/report-transitions.js';
import type { UseCaseDetail } from '../../src/report/report-types.js';
import { APPROVE_REJECT_CONFUSION, cohortMetrics } from '../support/gate-fixtures.js';
import { markdownShape } from '../support/markdown-shape.js';

const DAY = 86_400_000;
const NOW = new Date('2026-04-30T12:00:00Z');
const at = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * DAY);

const PLAN: Plan = planSchema.parse({
  useCase: 'invoice-triage',
  owner: 'ap@example.com',
  description: 'Route invoices',
  decision: { type: 'label', labels: ['approve', 'reject'] },
  ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide', maxDailyCost: 200 },
  humanCostPerDecision: 1.8,
  segments: ['region'],
  stages: {
    shadow: { promoteWhen: { minSamples: 100, agreementLowerBound: 0.9, minSegmentSamples: 50 } },
    'human-reviewed': { rollbackWhen: { window: 200, agreementBelow: 0.85 } },
  },
});

const cohort = (over: Partial<CohortMetrics>) => cohortMetrics({ humanCostPerDecision: 1.8, ...over });

const OLD_MODEL = cohort({
  modelVersion: 'm1',
  decisions: 40,
  samples: 40,
  agreement: 0.75,
  agreementLowerBound: 0.6,
  lastDecisionAt: at(20).toISOString(),
  monthlyVolume: 1000,
  segments: [
    { segment: 'region', value: 'EU', samples: 40, agreement: 0.75, agreementLowerBound: 0.6, aiFailures: 0 },
  ],
});
const NEW_MODEL = cohort({
  modelVersion: 'm2',
  decisions: 130,
  samples: 120,
  agreement: 0.95,
  agreementLowerBound: 0.9,
  kappa: 0.88,
  aiCalls: 125,
  aiErrors: 5,
  aiErrorRate: 0.04,
  latencyP50Ms: 40,
  latencyP95Ms: 90,
  aiCostPerDecision: 0.002,
  costPerDecision: 1.802,
  monthlyVolume: 3000,
  monthlyCost: 5406,
  monthlySavings: -6,
  lastDecisionAt: at(1).toISOString(),
  ...APPROVE_REJECT_CONFUSION,
  segments: [
    {
      segment: 'region',
      value: 'EU',
      samples: 108,
      agreement: 0.96,
      agreementLowerBound: 0.9,
      aiFailures: 0,
    },
    {
      segment: 'region',
      value: 'APAC',
      samples: 12,
      agreement: 0.85,
      agreementLowerBound: 0.6,
      aiFailures: 0,
    },
  ],
});

const SHADOW: StageSummary = {
  stage: 'shadow',
  decisions: 180,
  samples: 160,
  pendingHuman: 3,
  pendingAi: 7,
  cohorts: [OLD_MODEL, NEW_MODEL],
};

const GATE: GateAssessment = {
  fromStage: 'shadow',
  targetStage: 'human-reviewed',
  verdict: 'inconclusive',
  approval: 'manual',
  statistics: 'sequential',
  confidence: 0.95,
  majorityBaseline: null,
  warnings: [],
  criteria: [
    { name: 'minSamples', required: 100, actual: 120, status: 'holds', holds: true },
    {
      name: 'agreementLowerBound',
      required: 0.9,
      actual: 0.88,
      status: 'inconclusive',
      holds: false,
      observed: 0.95,
      samples: 120,
      detail: 'below 0.9 so far',
    },
  ],
};

function detail(over: Partial<UseCaseDetail> = {}): UseCaseDetail {
  return {
    id: 'invoice-triage',
    stage: 'shadow',
    owner: 'ap@example.com',
    description: 'Route invoices',
    planVersion: 2,
    stageEnteredAt: at(10).toISOString(),
    stageVersion: 3,
    planHash: 'hash-2',
    aiConfig: 'cfg-1',
    earnedModelVersion: null,
    segments: ['region'],
    metrics: { stages: [SHADOW] },
    gate: GATE,
    ...over,
  };
}

function transition(over: Partial<TransitionRecord>): TransitionRecord {
  return {
    id: 1,
    useCase: 'invoice-triage',
    fromStage: null,
    toStage: 'shadow',
    stageVersion: 1,
    actor: 'key:po',
    reason: 'use case created by its first plan',
    forced: false,
    planVersion: 1,
    modelVersion: null,
    snapshot: {},
    at: at(40),
    ...over,
  };
}

const TRANSITIONS: TransitionRecord[] = [
  transition({}),
  transition({
    id: 2,
    fromStage: 'shadow',
    toStage: 'human-reviewed',
    stageVersion: 2,
    actor: 'key:rm',
    reason: 'the business needs it',
    forced: true,
    modelVersion: 'm1',
    approvedBy: ['key:rm2'],
    snapshot: {
      gate: { verdict: 'blocked', targetStage: 'human-reviewed', criteria: GATE.criteria },
      metrics: { samples: 40, agreement: 0.75, agreementLowerBound: 0.6, aiErrorRate: 0, modelVersion: 'm1' },
    },
    at: at(15),
  }),
  transition({
    id: 3,
    fromStage: 'human-reviewed',
    toStage: 'shadow',
    stageVersion: 3,
    actor: 'system',
    reason: 'guard tripped',
    planVersion: 2,
    snapshot: {
      gate: null,
      metrics: null,
      guard: {
        checks: [{ name: 'agreementBelow', threshold: 0.85, actual: 0.7, samples: 200, trips: true }],
      },
    },
    at: at(10),
  }),
];

/** Changes as GET /v1/changes shows them, newest first: one pending, one applied, one rejected. */
const CHANGES: ChangeView[] = [
  {
    id: 9,
    useCase: 'invoice-triage',
    kind: 'promote',
    state: 'pending',
    requestedBy: 'key:rm',
    createdAt: at(1).toISOString(),
    expiresAt: at(-6).toISOString(),
    basePlanVersion: 2,
    baseStageVersion: 3,
    approvalsRequired: 1,
    approvals: [],
    rules: [{ rule: 'change-control', approvals: 1 }],
    plan: null,
    stage: { reason: 'the gate holds', force: false },
    decidedAt: null,
    decidedBy: null,
    decisionReason: null,
    result: null,
  },
  {
    id: 8,
    useCase: 'invoice-triage',
    kind: 'plan',
    state: 'applied',
    requestedBy: 'key:po2',
    createdAt: at(13).toISOString(),
    expiresAt: at(6).toISOString(),
    basePlanVersion: 1,
    baseStageVersion: 2,
    approvalsRequired: 1,
    approvals: [{ by: 'key:rm', at: at(12).toISOString(), reason: 'CAB 12' }],
    rules: [
      {
        path: 'stages.shadow.promoteWhen.agreementLowerBound',
        rule: 'threshold-lowered',
        before: 0.95,
        after: 0.9,
      },
    ],
    plan: { textHash: 'hash-2', format: 'json' },
    stage: null,
    decidedAt: at(12).toISOString(),
    decidedBy: 'key:rm',
    decisionReason: 'CAB 12',
    result: { planVersion: 2, created: false },
  },
  {
    id: 7,
    useCase: 'invoice-triage',
    kind: 'plan',
    state: 'rejected',
    requestedBy: 'key:po2',
    createdAt: at(14).toISOString(),
    expiresAt: at(7).toISOString(),
    basePlanVersion: 1,
    baseStageVersion: 2,
    approvalsRequired: 1,
    approvals: [],
    rules: [
      { path: 'stages.shadow.approval', rule: 'automatic-approval', before: 'manual', after: 'automatic' },
    ],
    plan: { textHash: 'hash-x', format: 'yaml' },
    stage: null,
    decidedAt: at(13).toISOString(),
    decidedBy: 'key:rm',
    decisionReason: 'no automatic promotion without a week of evidence',
    result: null,
  },
];

const TRIP_DETAILS = {
  stageVersion: 2,
  verdict: {
    stage: 'human-reviewed',
    action: 'rollback',
    checks: [{ name: 'agreementBelow', threshold: 0.85, actual: 0.7, samples: 200, trips: true }],
  },
};

function input(over: Partial<ReportInput> = {}): ReportInput {
  return {
    generatedAt: NOW,
    detail: detail(),
    plan: PLAN,
    planVersions: [
      {
        version: 1,
        textHash: 'hash-1',
        format: 'yaml',
        aiConfig: 'cfg-0',
        appliedBy: 'key:po',
        appliedAt: at(40),
      },
      {
        version: 2,
        textHash: 'hash-2',
        format: 'json',
        aiConfig: 'cfg-1',
        appliedBy: 'key:po2',
        appliedAt: at(12),
        approvedBy: ['key:rm'],
      },
    ],
    transitions: TRANSITIONS,
    changes: CHANGES,
    stageEvents: [
      { action: 'stage.promote', details: { stageVersion: 2 } },
      { action: 'stage.guard', details: { stageVersion: 3 } },
    ],
    guardTripsByStage: [{ stage: 'human-reviewed', count: 1, first: at(10), last: at(10) }],
    recentGuardTrips: [{ at: at(10), details: TRIP_DETAILS }],
    budgetExhausted: { count: 2, first: at(60), last: at(45) },
    flagRepairs: { count: 1, first: at(3), last: at(3) },
    modelChanges: { count: 2, first: at(5), last: at(2) },
    ...over,
  };
}

describe('buildEvidenceReport', () => {
  it('when the plan has two versions, then the applied one is named with its hash, format and who applied it, newest first in the history', () => {
    const r = buildEvidenceReport(input());
    expect(r.plan).toMatchObject({
      version: 2,
      textHash: 'hash-2',
      format: 'json',
      appliedBy: 'key:po2',
      appliedAt: at(12).toISOString(),
      aiConfig: 'cfg-1',
      statistics: 'sequential',
      confidence: 0.95,
    });
    expect(r.plan.history.map((v) => v.version)).toEqual([2, 1]);
    expect(r.useCase).toMatchObject({
      id: 'invoice-triage',
      owner: 'ap@example.com',
      description: 'Route invoices',
    });
    expect(r.useCase.decision).toEqual({ type: 'label', labels: ['approve', 'reject'] });
  });

  it('when plan versions, transitions and changes went through approval, then each names who asked and who approved, and the changes keep their state, approvals and reasons', () => {
    const r = buildEvidenceReport(input());
    expect(r.plan).toMatchObject({ version: 2, appliedBy: 'key:po2', approvedBy: ['key:rm'] });
    expect(r.plan.history.map((v) => [v.version, v.appliedBy, v.approvedBy])).toEqual([
      [2, 'key:po2', ['key:rm']],
      [1, 'key:po', null],
    ]);
    expect(r.transitions.map((t) => [t.actor, t.approvedBy])).toEqual([
      ['key:po', null],
      ['key:rm', ['key:rm2']],
      ['system', null],
    ]);
    expect(r.changes.truncated).toBe(false);
    expect(r.changes.entries.map((c) => [c.id, c.kind, c.state, c.requestedBy])).toEqual([
      [9, 'promote', 'pending', 'key:rm'],
      [8, 'plan', 'applied', 'key:po2'],
      [7, 'plan', 'rejected', 'key:po2'],
    ]);
    expect(r.changes.entries[1]).toMatchObject({
      approvals: [{ by: 'key:rm', reason: 'CAB 12' }],
      planTextHash: 'hash-2',
      result: { planVersion: 2 },
    });
    expect(r.changes.entries[2]).toMatchObject({
      decidedBy: 'key:rm',
      decisionReason: 'no automatic promotion without a week of evidence',
    });
    // A report built without them says no change was held.
    expect(buildEvidenceReport(input({ changes: undefined })).changes).toEqual({
      entries: [],
      truncated: false,
    });
  });

  it('when a stage has two model versions, then the later one is the current cohort and only its segments are held to minSegmentSamples', () => {
    const r = buildEvidenceReport(input());
    expect(r.evaluation.currentCohort).toEqual({ stage: 'shadow', aiConfig: 'cfg-1', modelVersion: 'm2' });
    const [old, current] = r.evaluation.stages[0]!.cohorts;
    expect(old!.current).toBe(false);
    expect(current!.current).toBe(true);
    expect(old!.segments.map((s) => s.underMinSamples)).toEqual([null]);
    // EU has 108 of the 50 needed; APAC 12.
    expect(current!.segments.map((s) => [s.value, s.underMinSamples])).toEqual([
      ['EU', false],
      ['APAC', true],
    ]);
    expect(current).toMatchObject({ samples: 120, agreement: 0.95, agreementLowerBound: 0.9, kappa: 0.88 });
    expect(current!.confusion).toEqual(NEW_MODEL.confusion);
    expect(r.evaluation.stages[0]).toMatchObject({
      decisions: 180,
      samples: 160,
      pendingHuman: 3,
      pendingAi: 7,
    });
  });

  it('when costs are reported, then each cohort keeps its figures and the all-human cost is the plan price times its volume', () => {
    const r = buildEvidenceReport(input());
    expect(r.costs).toEqual([
      {
        stage: 'shadow',
        aiConfig: 'cfg-1',
        modelVersion: 'm1',
        current: false,
        aiCostPerDecision: null,
        humanCostPerDecision: 1.8,
        errorCostPerDecision: null,
        expectedErrorCostPerDecision: null,
        costPerDecision: null,
        monthlyVolume: 1000,
        monthlyCost: null,
        allHumanMonthlyCost: 1800,
        monthlySavings: null,
      },
      {
        stage: 'shadow',
        aiConfig: 'cfg-1',
        modelVersion: 'm2',
        current: true,
        aiCostPerDecision: 0.002,
        humanCostPerDecision: 1.8,
        errorCostPerDecision: null,
        expectedErrorCostPerDecision: null,
        costPerDecision: 1.802,
        monthlyVolume: 3000,
        monthlyCost: 5406,
        allHumanMonthlyCost: 5400,
        monthlySavings: -6,
      },
    ]);
    // The baseline takes the stage's latest cohort: 3000 a month × 1.80.
    expect(r.humanBaseline).toEqual({
      humanCostPerDecision: 1.8,
      stages: [{ stage: 'shadow', decisions: 180, monthlyVolume: 3000, allHumanMonthlyCost: 5400 }],
    });
  });

  it('when transitions carry snapshots, then each has its kind from the audit log and the gate figures or guard checks of its moment', () => {
    const r = buildEvidenceReport(input());
    expect(r.transitions.map((t) => [t.from, t.to, t.kind, t.forced])).toEqual([
      [null, 'shadow', 'create', false],
      ['shadow', 'human-reviewed', 'promote', true],
      ['human-reviewed', 'shadow', 'guard', false],
    ]);
    expect(r.transitions[0]!.evidence).toBeNull();
    expect(r.transitions[1]!.evidence).toMatchObject({
      verdict: 'blocked',
      targetStage: 'human-reviewed',
      samples: 40,
      agreement: 0.75,
      agreementLowerBound: 0.6,
      modelVersion: 'm1',
      notHolding: [{ name: 'agreementLowerBound', required: 0.9, actual: 0.88, status: 'inconclusive' }],
      guard: null,
    });
    expect(r.transitions[2]!.evidence?.guard).toEqual([
      { name: 'agreementBelow', threshold: 0.85, actual: 0.7, samples: 200, trips: true },
    ]);
  });

  it('when a snapshot was stored before criteria had a status, then holds and inconclusive give it', () => {
    const stored = {
      gate: {
        verdict: 'blocked',
        criteria: [
          { name: 'minSamples', required: 100, actual: 120, holds: true },
          { name: 'maxAiErrorRate', required: 0.02, actual: 0.01, holds: false, inconclusive: true },
          { name: 'agreementLowerBound', required: 0.9, actual: 0.7, holds: false },
        ],
      },
    };
    expect(snapshotEvidence(stored)?.notHolding).toEqual([
      { name: 'maxAiErrorRate', required: 0.02, actual: 0.01, status: 'inconclusive' },
      { name: 'agreementLowerBound', required: 0.9, actual: 0.7, status: 'blocked' },
    ]);
  });

  it('when guards tripped, then each plan stage lists its guard and trip tally, and the budget its exhausted days', () => {
    const r = buildEvidenceReport(input());
    expect(
      r.guards.stages.map((g) => [
        g.stage,
        g.rollbackWhen?.agreementBelow ?? null,
        g.rollbackTo,
        g.trips.count,
      ]),
    ).toEqual([
      ['shadow', null, null, 0],
      ['human-reviewed', 0.85, 'shadow', 1],
    ]);
    expect(r.guards.recentTrips).toEqual([
      {
        at: at(10).toISOString(),
        stage: 'human-reviewed',
        action: 'rollback',
        checks: TRIP_DETAILS.verdict.checks,
      },
    ]);
    expect(r.guards.budget).toEqual({
      maxDailyCost: 200,
      exhaustedDays: { count: 2, first: at(60).toISOString(), last: at(45).toISOString() },
    });
  });

  it('when the gate does not hold, then the open risks name the criterion, the thin segment, pending sides, the forced promotion, the recent trip, repair and model change, but not a budget exhausted 45 days ago', () => {
    const r = buildEvidenceReport(input());
    expect(r.risks.map((x) => x.kind)).toEqual([
      'criterion',
      'thin-segment',
      'pending',
      'forced-promotion',
      'guard-tripped',
      'flag-repaired',
      'model-changed',
    ]);
    expect(r.risks.at(-1)!.message).toContain('a model version its stage was not earned with 2 time(s)');
    expect(r.risks[0]!.message).toBe(
      'agreementLowerBound inconclusive: required 90.00%, actual 88.00% (below 0.9 so far)',
    );
    expect(r.risks[1]!.message).toContain('region=APAC (12)');
    expect(r.risks[1]!.message).not.toContain('EU');
    expect(r.risks[2]!.message).toBe(
      'shadow: 7 AI calls still owed, 3 decisions waiting for a human (not counted either way)',
    );
    expect(r.risks[3]!.message).toContain(
      'by key:rm: "the business needs it"; not holding then: agreementLowerBound',
    );
  });

  it('when there is no evidence and nothing happened, then the only risk says so and the gate criteria are carried as they are', () => {
    const empty = buildEvidenceReport(
      input({
        detail: detail({
          metrics: { stages: [] },
          gate: { ...GATE, criteria: [GATE.criteria[0]!], verdict: 'eligible' },
        }),
        transitions: [TRANSITIONS[0]!],
        stageEvents: [],
        guardTripsByStage: [],
        recentGuardTrips: [],
        budgetExhausted: null,
        flagRepairs: null,
        modelChanges: null,
      }),
    );
    expect(empty.risks).toEqual([
      {
        kind: 'no-evidence',
        message: 'no compared decisions yet in shadow under the current AI configuration',
      },
    ]);
    expect(empty.gate?.criteria).toEqual([
      {
        name: 'minSamples',
        required: 100,
        actual: 120,
        status: 'holds',
        detail: null,
        observed: null,
        samples: null,
      },
    ]);
    expect(empty.humanBaseline.stages).toEqual([]);
    expect(empty.guards.budget.exhaustedDays).toEqual({ count: 0, first: null, last: null });
  });

  it('when the gate warns of the majority baseline, then the report carries the warning and the baseline, and the risks name it', () => {
    const message =
      'agreementLowerBound 0.9 is at or below the 93.3% an AI that always answers "approve" agrees on this traffic';
    const r = buildEvidenceReport(
      input({
        detail: detail({
          gate: {
            ...GATE,
            majorityBaseline: { label: 'approve', agreement: 0.9333 },
            warnings: [{ code: 'majority-baseline', message }],
          },
        }),
      }),
    );
    expect(r.gate).toMatchObject({
      majorityBaseline: { label: 'approve', agreement: 0.9333 },
      warnings: [{ code: 'majority-baseline', message }],
    });
    expect(r.risks.filter((x) => x.kind === 'majority-baseline')).toEqual([
      { kind: 'majority-baseline', message },
    ]);
    // Without the warning, no such risk.
    expect(buildEvidenceReport(input()).risks.map((x) => x.kind)).not.toContain('majority-baseline');
  });

  it("when the current cohort's coverage is under 95%, then a risk says so and how the gate counts the failures; an old cohort's does not count", () => {
    const covered = (current: number, old: number, aiFailures: 'disagree' | 'exclude' = 'disagree') =>
      buildEvidenceReport(
        input({
          plan: { ...PLAN, aiFailures },
          detail: detail({
            metrics: {
              stages: [
                {
                  ...SHADOW,
                  cohorts: [
                    { ...OLD_MODEL, coverage: old },
                    { ...NEW_MODEL, coverage: current },
                  ],
                },
              ],
            },
          }),
        }),
      ).risks.filter((x) => x.kind === 'low-coverage');
    expect(covered(0.9412, 0.5)).toEqual([
      {
        kind: 'low-coverage',
        message:
          'coverage of the current cohort is 94.12% (under 95%): the rest of the decisions owed an AI answer have none, failed for good or still owed; the gate counts the requests whose AI call failed for good, once a person decided them, as disagreements',
      },
    ]);
    expect(covered(0.9412, 1, 'exclude')[0]!.message).toContain(
      'the gate leaves out the requests whose AI call failed (aiFailures: exclude)',
    );
    expect(covered(0.95, 0.5)).toEqual([]);
  });

  it('when cohorts carry failures, coverage, kappa interval, baseline and error cost, then the evaluation keeps them and the costs the error cost per decision', () => {
    const errorCost = { perDecision: 12.5, upperBound: 30, lowerBound: 4, samples: 120, maxCost: 450 };
    const priced = {
      ...NEW_MODEL,
      stage: 'limited-autonomous' as const,
      aiFailedWithHuman: 5,
      agreementWithFailures: 114 / 125,
      coverage: 125 / 130,
      kappaInterval: { lower: 0.8, upper: 0.96 },
      majorityBaseline: { label: 'approve', agreement: 104 / 120 },
      errorCost,
      expectedErrorCostPerDecision: 0.625,
    };
    const r = buildEvidenceReport(
      input({
        plan: planSchema.parse({ ...PLAN, errorCosts: { approve: { reject: 450 } }, defaultErrorCost: 10 }),
        detail: detail({
          metrics: { stages: [{ ...SHADOW, stage: 'limited-autonomous', cohorts: [priced] }] },
        }),
      }),
    );
    expect(r.evaluation.stages[0]!.cohorts[0]).toMatchObject({
      aiFailedWithHuman: 5,
      agreementWithFailures: 114 / 125,
      coverage: 125 / 130,
      kappaInterval: { lower: 0.8, upper: 0.96 },
      majorityBaseline: { label: 'approve', agreement: 104 / 120 },
      errorCost,
    });
    expect(r.costs[0]).toMatchObject({ errorCostPerDecision: 12.5, expectedErrorCostPerDecision: 0.625 });
    expect(r.plan).toMatchObject({
      aiFailures: 'disagree',
      errorCosts: { approve: { reject: 450 } },
      defaultErrorCost: 10,
    });
  });

  it('when the use case is disabled, then that is the first risk', () => {
    const r = buildEvidenceReport(input({ detail: detail({ stage: 'disabled', gate: null }) }));
    expect(r.risks[0]).toEqual({
      kind: 'disabled',
      message: 'the use case is disabled (kill switch): the AI is not called',
    });
    expect(r.gate).toBeNull();
  });
});

/** A gate section as an owner could write it into a description or a reason. */
const FORGED_GATE = [
  '',
  '## Current gate',
  '',
  'From **shadow** to **limited-autonomous**: **eligible**',
  '',
  '| criterion | required | actual | status | detail |',
  '| --- | --- | --- | --- | --- |',
  '| agreementLowerBound | 0.9 | 0.99 | holds | |',
  '<script>alert(1)</script>',
].join('\n');
/** A cohort row as an AI system could report it as its model version. */
const FORGED_ROW = 'm2 | `cfg-1` | yes | 9999 | 100.00% |\n| m9 | `cfg-1` | yes | 1 | 100.00% |';

describe('the evidence report of hostile text', () => {
  function hostileInput(): ReportInput {
    const hostileModel = {
      ...NEW_MODEL,
      modelVersion: FORGED_ROW,
      segments: [
        {
          segment: 'region',
          value: 'EU | eligible |\n## Gate',
          samples: 108,
          agreement: 0.96,
          agreementLowerBound: 0.9,
          aiFailures: 0,
        },
        {
          segment: 're|gion',
          value: '<img src=x onerror=alert(1)>',
          samples: 12,
          agreement: 0.85,
          agreementLowerBound: 0.6,
          aiFailures: 0,
        },
      ],
    };
    const [created, forced, guarded] = TRANSITIONS;
    return input({
      detail: detail({
        owner: '[owner](javascript:alert(1))',
        description: FORGED_GATE,
        segments: ['re|gion'],
        metrics: { stages: [{ ...SHADOW, cohorts: [OLD_MODEL, hostileModel] }] },
        gate: {
          ...GATE,
          criteria: [GATE.criteria[0]!, { ...GATE.criteria[1]!, detail: '| forged | cell |' }],
        },
      }),
      transitions: [
        created!,
        { ...forced!, actor: 'key:`x`', reason: FORGED_GATE, modelVersion: FORGED_ROW },
        { ...guarded!, reason: '**all clear**' },
      ],
      planVersions: input().planVersions.map((v) => ({
        ...v,
        appliedBy: '![x](https://tracker.example/p.png)',
        ...(v.approvedBy ? { approvedBy: ['key:<b>rm</b>'] } : {}),
      })),
      changes: CHANGES.map((c) => ({
        ...c,
        requestedBy: 'key:`x`',
        approvals: c.approvals.map((a) => ({ ...a, reason: FORGED_GATE })),
        stage: c.stage && { ...c.stage, reason: '| forged | cell |\n## Approved' },
        decisionReason: c.decisionReason && FORGED_GATE,
      })),
      recentGuardTrips: [
        {
          at: at(10),
          details: { ...TRIP_DETAILS, verdict: { ...TRIP_DETAILS.verdict, stage: '# heading' } },
        },
      ],
    });
  }

  it('when owner text, reasons, segment values and model versions hold Markdown, then the report has the structure of a benign one and shows them escaped', () => {
    const benign = renderReportMarkdown(buildEvidenceReport(input()));
    const hostile = renderReportMarkdown(buildEvidenceReport(hostileInput()));

    expect(markdownShape(hostile)).toEqual(markdownShape(benign));
    expect(hostile.split('\n').filter((l) => l.startsWith('## Current gate'))).toHaveLength(1);
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('\\## Current gate');
    expect(hostile).toContain('\\<script\\>alert(1)\\</script\\>');
    expect(hostile).toContain('- Owner: \\[owner\\](javascript:alert(1))');
    expect(hostile).toContain('| region | EU \\| eligible \\| ## Gate |');
    expect(hostile).toContain('key:\\<b\\>rm\\</b\\>');
    expect(hostile).toContain('promote: \\| forged \\| cell \\| ## Approved');
    expect(hostile.split('\n').filter((l) => l.startsWith('## Approved'))).toEqual([]);
  });
});
