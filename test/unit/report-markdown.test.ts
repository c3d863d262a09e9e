import { describe, expect, it } from 'vitest';
import { renderReportMarkdown } from '../../src/report/report-markdown.js';
import type {
  ChangeEntry,
  CohortEvidence,
  DriftSection,
  EvidenceReport,
} from '../../src/report/report-types.js';
import { APPROVE_REJECT_CONFUSION } from '../support/gate-fixtures.js';
import { markdownShape } from '../support/markdown-shape.js';

const COHORT: CohortEvidence = {
  stage: 'shadow',
  aiConfig: 'cfg-1',
  modelVersion: 'm2',
  current: true,
  decisions: 130,
  samples: 120,
  agreement: 0.95,
  agreementLowerBound: 0.90123,
  kappa: 0.8766,
  kappaInterval: { lower: 0.7512, upper: 1 },
  aiFailedWithHuman: 3,
  agreementWithFailures: 114 / 123,
  coverage: 123 / 130,
  majorityBaseline: { label: 'approve', agreement: 104 / 120 },
  errorCost: { perDecision: 8.5, upperBound: 21.25, lowerBound: 2.1, samples: 120, maxCost: 450 },
  aiCalls: 1250,
  aiErrors: 5,
  aiErrorRate: 0.004,
  latencyP50Ms: 40.4,
  latencyP95Ms: 89.6,
  firstDecisionAt: '2026-04-01T00:00:00.000Z',
  lastDecisionAt: '2026-04-29T00:00:00.000Z',
  ...APPROVE_REJECT_CONFUSION,
  segments: [
    {
      segment: 'region',
      value: 'APAC',
      samples: 12,
      agreement: 0.75,
      agreementLowerBound: 0.5,
      aiFailures: 0,
      underMinSamples: true,
    },
  ],
};

const APPLIED_CHANGE: ChangeEntry = {
  id: 7,
  kind: 'plan',
  state: 'applied',
  requestedBy: 'key:po',
  createdAt: '2026-04-17T12:00:00.000Z',
  expiresAt: '2026-04-24T12:00:00.000Z',
  basePlanVersion: 1,
  baseStageVersion: 1,
  approvalsRequired: 1,
  approvals: [{ by: 'key:rm', at: '2026-04-18T12:00:00.000Z', reason: 'CAB 12 | ok' }],
  rules: [
    {
      path: 'stages.limited-autonomous.boundary.rolloutPercent',
      rule: 'boundary-widened',
      before: 10,
      after: 20,
    },
  ],
  stage: null,
  planTextHash: 'abc123',
  decidedAt: '2026-04-18T12:00:00.000Z',
  decidedBy: 'key:rm',
  decisionReason: 'CAB 12 | ok',
  result: { planVersion: 2, created: false },
};

const PENDING_CHANGE: ChangeEntry = {
  ...APPLIED_CHANGE,
  id: 8,
  kind: 'promote',
  state: 'pending',
  createdAt: '2026-04-29T12:00:00.000Z',
  expiresAt: '2026-05-06T12:00:00.000Z',
  basePlanVersion: 2,
  baseStageVersion: 3,
  approvalsRequired: 2,
  approvals: [],
  rules: [{ rule: 'change-control', approvals: 2 }],
  stage: { reason: 'go live\n## Approved', force: true },
  planTextHash: null,
  decidedAt: null,
  decidedBy: null,
  decisionReason: null,
  result: null,
};

function report(over: Partial<EvidenceReport> = {}): EvidenceReport {
  return {
    kind: 'shadowgate.evidence-report',
    generatedAt: '2026-04-30T12:00:00.000Z',
    useCase: {
      id: 'invoice-triage',
      owner: 'ap@example.com',
      description: 'Route invoices',
      stage: 'shadow',
      stageEnteredAt: '2026-04-20T12:00:00.000Z',
      stageVersion: 3,
      decision: { type: 'label', labels: ['approve', 'reject'] },
      segments: ['region'],
    },
    plan: {
      version: 2,
      textHash: 'abc123',
      format: 'yaml',
      aiConfig: 'cfg-1',
      appliedBy: 'key:po',
      appliedAt: '2026-04-18T12:00:00.000Z',
      approvedBy: ['key:rm'],
      adapter: 'http',
      statistics: 'sequential',
      confidence: 0.95,
      aiFailures: 'disagree',
      errorCosts: { approve: { reject: 450 }, reject: { approve: 25 } },
      defaultErrorCost: 0,
      history: [
        {
          version: 2,
          textHash: 'abc123',
          format: 'yaml',
          aiConfig: 'cfg-1',
          appliedBy: 'key:po',
          appliedAt: '2026-04-18T12:00:00.000Z',
          approvedBy: ['key:rm'],
        },
        {
          version: 1,
          textHash: 'abc000',
          format: 'yaml',
          aiConfig: 'cfg-1',
          appliedBy: 'key:po',
          appliedAt: '2026-04-01T12:00:00.000Z',
          approvedBy: null,
        },
      ],
    },
    humanBaseline: {
      humanCostPerDecision: 1.8,
      stages: [{ stage: 'shadow', decisions: 180, monthlyVolume: 31234.4, allHumanMonthlyCost: 56221.92 }],
    },
    evaluation: {
      currentCohort: { stage: 'shadow', aiConfig: 'cfg-1', modelVersion: 'm2' },
      stages: [
        { stage: 'shadow', decisions: 180, samples: 160, pendingHuman: 3, pendingAi: 7, cohorts: [COHORT] },
      ],
    },
    guards: {
      stages: [
        {
          stage: 'human-reviewed',
          rollbackWhen: {
            window: 200,
            labelWindow: 50,
            agreementBelow: 0.85,
            labelRecallBelow: { reject: 0.8 },
            action: 'rollback',
          },
          rollbackTo: 'shadow',
          trips: { count: 1, first: '2026-04-20T12:00:00.000Z', last: '2026-04-20T12:00:00.000Z' },
        },
      ],
      recentTrips: [],
      budget: { maxDailyCost: 200, exhaustedDays: { count: 0, first: null, last: null } },
    },
    transitions: [
      {
        at: '2026-04-15T12:00:00.000Z',
        from: 'shadow',
        to: 'human-reviewed',
        kind: 'promote',
        actor: 'key:rm',
        reason: 'approved by CAB | ticket 42\nsecond line',
        forced: true,
        planVersion: 1,
        modelVersion: 'm1',
        stageVersion: 2,
        approvedBy: ['key:rm2', 'key:rm3'],
        evidence: {
          verdict: 'blocked',
          targetStage: 'human-reviewed',
          samples: 40,
          agreement: 0.75,
          agreementLowerBound: 0.6,
          aiErrorRate: null,
          latencyP95Ms: null,
          aiCostPerDecision: null,
          modelVersion: 'm1',
          notHolding: [{ name: 'agreementLowerBound', required: 0.9, actual: 0.6, status: 'blocked' }],
          guard: null,
        },
      },
    ],
    journey: { visits: [], truncated: false },
    costs: [
      {
        stage: 'shadow',
        aiConfig: 'cfg-1',
        modelVersion: 'm2',
        current: true,
        aiCostPerDecision: 0.000123456,
        humanCostPerDecision: 1.8,
        errorCostPerDecision: 8.5,
        expectedErrorCostPerDecision: null,
        costPerDecision: 1.800123456,
        monthlyVolume: 31234.4,
        monthlyCost: 56225.78,
        allHumanMonthlyCost: 56221.92,
        monthlySavings: -3.86,
      },
    ],
    gate: {
      fromStage: 'shadow',
      targetStage: 'human-reviewed',
      verdict: 'inconclusive',
      approval: 'manual',
      statistics: 'sequential',
      confidence: 0.95,
      criteria: [
        {
          name: 'agreementLowerBound',
          required: 0.9,
          actual: 0.881234,
          status: 'inconclusive',
          detail: 'below 0.9 so far',
          observed: 0.95,
          samples: 120,
        },
        {
          name: 'minDuration',
          required: '7d',
          actual: '10d',
          status: 'holds',
          detail: null,
          observed: null,
          samples: null,
        },
        {
          name: 'labelRecallLowerBound:reject',
          required: 0.7,
          actual: 0.62,
          status: 'inconclusive',
          detail: '16 of the 50 samples a label needs',
          observed: 14 / 16,
          samples: 16,
        },
        {
          name: 'maxErrorCostPerDecision',
          required: 5,
          actual: 21.25,
          status: 'inconclusive',
          detail: null,
          observed: 8.5,
          samples: 120,
        },
      ],
      majorityBaseline: { label: 'approve', agreement: 104 / 120 },
      warnings: [],
    },
    challengers: {
      champion: { planVersion: 2, aiConfig: 'cfg-1', earnedModelVersion: null },
      active: null,
      history: [],
    },
    changes: { entries: [APPLIED_CHANGE, PENDING_CHANGE], truncated: false },
    drift: null,
    judgeCalibration: null,
    risks: [
      { kind: 'criterion', message: 'agreementLowerBound inconclusive: required 0.9, actual 0.881234' },
    ],
    ...over,
  };
}

const lines = (md: string) => md.split('\n');

describe("the report's judge against people", () => {
  const calibration = {
    planVersion: 4,
    currentJudgeVersion: 'judge-v2',
    versions: [
      {
        judgeVersion: 'judge-v2',
        rated: 100,
        agreed: 95,
        bothAcceptable: 80,
        judgeOnly: 3,
        peopleOnly: 2,
        neither: 15,
        agreement: 0.95,
        agreementLowerBound: 0.8441,
        kappa: 0.8312,
        kappaInterval: { lower: 0.7, upper: 0.96 },
      },
    ],
  };

  it('when a judge scores the AI, then its agreement with people follows the gate, per judge version', () => {
    const md = lines(renderReportMarkdown(report({ judgeCalibration: calibration })));
    const gate = md.indexOf('## Current gate');
    const at = md.findIndex((l) => l.startsWith('**The judge against people** (plan version 4)'));
    expect(at).toBeGreaterThan(gate);
    expect(at).toBeLessThan(md.indexOf('## Champion and challenger'));
    expect(md).toContain(
      '| judge-v2 (now) | 100 | 95.00% | 84.41% | 0.831 (0.700 to 0.960) | 80 / 3 / 2 / 15 |',
    );
  });

  it('when the plan has no judge, then the report says nothing of one', () => {
    expect(renderReportMarkdown(report())).not.toContain('The judge against people');
  });
});

describe('renderReportMarkdown', () => {
  it('when a report is rendered, then every section appears once, in review order', () => {
    const headings = lines(renderReportMarkdown(report())).filter((l) => l.startsWith('## '));
    expect(headings).toEqual([
      '## Use case',
      '## Rollout plan',
      '## Human baseline',
      '## Evaluation results',
      '## Guards',
      '## Drift',
      '## Transitions',
      '## Changes held for approval',
      '## Costs',
      '## Current gate',
      '## Champion and challenger',
      '## Open risks',
    ]);
  });

  it('when a cohort is rendered, then its row shows samples, agreement and bound as percentages, kappa, errors and latency', () => {
    const md = renderReportMarkdown(report());
    expect(md).toContain(
      '| m2 | `cfg-1` | yes | 120 | 95.00% | 90.12% | 0.877 | 1,250 | 5 | 0.40% | 40ms | 90ms |',
    );
    expect(md).toContain('180 decisions, 160 compared; pending: 7 AI, 3 human.');
    expect(md).toContain('| region | APAC | 12 | 75.00% | 50.00% | under minSegmentSamples |');
  });

  it('when a label cohort is rendered, then the confusion matrix has the human labels as rows and precision and recall follow', () => {
    const md = renderReportMarkdown(report());
    expect(md).toContain('| human \\\\ AI | approve | reject |');
    expect(md).toContain('| approve | 100 | 4 |');
    expect(md).toContain('| reject | 2 | 14 |');
    // 100/102 and 100/104; 14/18 and 14/16
    expect(md).toContain(
      '| label | person gave it | AI too | recall | AI gave it | precision | AI failures |',
    );
    expect(md).toContain('| approve | 104 | 100 | 96.15% | 102 | 98.04% | 0 |');
    expect(md).toContain('| reject | 16 | 14 | 87.50% | 18 | 77.78% | 0 |');
  });

  it('when a reason holds a pipe and a line break, then the transition row stays one table row', () => {
    const row = lines(renderReportMarkdown(report())).find((l) => l.includes('| shadow → human-reviewed |'));
    expect(row).toBe(
      '| 2026-04-15T12:00:00.000Z | shadow → human-reviewed | promote | key:rm | key:rm2, key:rm3 | **yes** | 1 | m1 | approved by CAB \\| ticket 42 second line | gate blocked; 40 samples; agreement 75.00%; lower bound 60.00%; not holding: agreementLowerBound |',
    );
  });

  it('when plan versions and changes were approved, then the plan says who asked and who approved each version, and the changes section lists each change with its requester, approvers, reasons and outcome', () => {
    const md = lines(renderReportMarkdown(report()));
    expect(md).toContain(
      '- Version 2, text sha256 `abc123` (yaml), applied 2026-04-18T12:00:00.000Z by key:po, approved by key:rm',
    );
    expect(md).toContain('| 2 | `abc123` | `cfg-1` | 2026-04-18T12:00:00.000Z | key:po | key:rm |');
    expect(md).toContain('| 1 | `abc000` | `cfg-1` | 2026-04-01T12:00:00.000Z | key:po | — |');
    const at = md.indexOf('## Changes held for approval');
    expect(md.slice(at + 4, at + 8)).toEqual([
      '| change | kind | state | requested | asked | why held | approvals | decided | outcome |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      '| 7 | plan | applied | 2026-04-17T12:00:00.000Z by key:po | plan text sha256 abc123 | stages.limited-autonomous.boundary.rolloutPercent boundary-widened (10 → 20) | 1 of 1: key:rm (2026-04-18T12:00:00.000Z: CAB 12 \\| ok) | 2026-04-18T12:00:00.000Z by key:rm: CAB 12 \\| ok | plan version 2 |',
      '| 8 | promote | pending | 2026-04-29T12:00:00.000Z by key:po | promote (forced): go live ## Approved | change-control 2 | 0 of 2 | waits for approval until 2026-05-06T12:00:00.000Z | — |',
    ]);
    expect(md.filter((l) => l.startsWith('## Approved'))).toEqual([]);
    const none = renderReportMarkdown(report({ changes: { entries: [], truncated: false } }));
    expect(none).toContain('## Changes held for approval\n\n');
    expect(none).toContain('No change of this use case was held for approval.');
  });

  it('when costs are rendered, then small per-decision costs keep two significant digits, sums under $1,000 cents, larger sums whole dollars with separators', () => {
    const md = renderReportMarkdown(report());
    expect(md).toContain(
      '| shadow | m2 | yes | $0.00012 | $1.80 | $8.50 | — | $1.80 | 31,234 | $56,226 | $56,222 | -$3.86 |',
    );
  });

  it('when the gate is rendered, then each criterion shows required and actual in its unit, and its status', () => {
    const md = renderReportMarkdown(report());
    expect(md).toContain(
      'From **shadow** to **human-reviewed**: **inconclusive** (approval manual; sequential bounds at 95.0% confidence).',
    );
    expect(md).toContain(
      '| agreementLowerBound | ≥ 90.00% | 88.12% | 95.00% of 120 | inconclusive | below 0.9 so far |',
    );
    expect(md).toContain('| minDuration | ≥ 7d | 10d |  | holds |  |');
  });

  it('when the gate judges a label and the error cost, then their rows read in percent and dollars and notes say what bound and observed are', () => {
    const md = renderReportMarkdown(report());
    expect(md).toContain(
      '| labelRecallLowerBound:reject | ≥ 70.00% | 62.00% | 87.50% of 16 | inconclusive | 16 of the 50 samples a label needs |',
    );
    expect(md).toContain('| maxErrorCostPerDecision | ≤ $5.00 | $21.25 | $8.50 of 120 | inconclusive |  |');
    expect(md).toContain(
      '- `labelRecallLowerBound:<label>`: of the requests a person gave the label, the share the AI gave it too; actual is its lower bound, observed the share and the requests.',
    );
    expect(md).toContain(
      "- `maxErrorCostPerDecision`: the mean cost of the AI's errors per compared decision; actual is the upper bound of its confidence sequence, observed the mean and the decisions.",
    );
    expect(md).not.toContain('labelPrecisionLowerBound');
    expect(md).toContain(
      "Majority baseline of the gate's cohort: always answering `approve` would agree 86.67%.",
    );
  });

  it('when the gate carries a warning, then it is a bold Warning line before the criteria, and nothing else says Warning without one', () => {
    const message =
      'agreementLowerBound 0.85 is at or below the 86.7% an AI that always answers "approve" agrees';
    const gate = report().gate!;
    const md = renderReportMarkdown(
      report({ gate: { ...gate, warnings: [{ code: 'majority-baseline', message }] } }),
    );
    const at = lines(md).indexOf(`- **Warning** (\`majority-baseline\`): ${message}`);
    expect(at).toBeGreaterThan(lines(md).indexOf('## Current gate'));
    expect(at).toBeLessThan(
      lines(md).indexOf('| criterion | required | actual | observed | status | detail |'),
    );
    expect(renderReportMarkdown(report())).not.toContain('**Warning**');
  });

  it('when a cohort is rendered, then its evidence lists agreement with failures, coverage, kappa with its interval, the majority baseline and the error cost with its bounds', () => {
    const md = lines(renderReportMarkdown(report()));
    const at = md.indexOf('#### Evidence (model m2, current)');
    expect(md.slice(at + 2, at + 7)).toEqual([
      '- Agreement 95.00% over 120 compared; 92.68% counting the 3 AI call(s) that failed for good on decided requests as disagreements',
      '- Coverage 94.62%: decisions with an AI answer of those owed one',
      '- Kappa with its 95% interval: 0.877 (0.751 to 1.000)',
      '- Majority baseline: always answering `approve` would agree 86.67%',
      '- Error cost $8.50 per compared decision, bounds $2.10 to $21.25 (120 decisions; one error costs at most $450.00)',
    ]);
  });

  it('when the plan prices errors and counts failures, then the plan section lists each priced pair and how failures count', () => {
    const md = renderReportMarkdown(report());
    expect(md).toContain(
      '- AI failures (`aiFailures: disagree`): a request whose AI call failed for good counts as a disagreement in the agreement bounds',
    );
    expect(md).toContain(
      '- Error costs (the AI answered → a person decided, per decision): approve → reject $450.00, reject → approve $25.00; any other disagreement $0.00',
    );
    const plan = report().plan;
    expect(renderReportMarkdown(report({ plan: { ...plan, errorCosts: null } }))).toContain(
      '- Error costs: none priced',
    );
  });

  it('when a label and its prices hold Markdown, then they stay literal text in the cohort, the plan and the gate', () => {
    const label = '*bold* | [x](y)';
    const base = report();
    const hostile = report({
      plan: { ...base.plan, errorCosts: { [label]: { '<b>': 5 } } },
      evaluation: {
        ...base.evaluation,
        stages: [
          {
            ...base.evaluation.stages[0]!,
            cohorts: [{ ...COHORT, majorityBaseline: { label, agreement: 0.9 } }],
          },
        ],
      },
      gate: {
        ...base.gate!,
        majorityBaseline: { label: 'a`b', agreement: 0.9 },
        warnings: [{ code: 'majority-baseline', message: `always "${label}"\n## heading` }],
      },
    });
    const md = renderReportMarkdown(hostile);
    expect(md).toContain('\\*bold\\* \\| \\[x\\](y) → \\<b\\> $5.00');
    expect(md).toContain('always answering `*bold* \\| [x](y)` would agree 90.00%');
    expect(md).toContain("always answering `a'b` would agree");
    expect(md).toContain('always "\\*bold\\* \\| \\[x\\](y)" ## heading');
    expect(lines(md).filter((l) => l.startsWith('## heading'))).toEqual([]);
  });

  it('when there are no risks and no transitions, then the sections say so rather than disappear', () => {
    const md = renderReportMarkdown(report({ risks: [], transitions: [] }));
    expect(md).toContain('## Open risks\n\nNone found.');
    expect(md).toContain('## Transitions\n\n| at |');
  });

  it('when the guard has tripped, then its stage row names the window, threshold, action and last trip', () => {
    const md = renderReportMarkdown(report());
    expect(md).toContain(
      '| human-reviewed | window 200, agreement below 0.85, recall of reject below 0.8 (last 50 with it) | rollback | shadow | 1 | 2026-04-20T12:00:00.000Z |',
    );
    expect(md).toContain('Daily AI budget (`ai.maxDailyCost`): $200.00 per day; exhausted on 0 day(s).');
  });

  it('when drift was read, then the Drift section shows the reference, each field with its measures and verdict, the rates, the guards and the trips, every hostile name and value literal', () => {
    const hostile = '## x | *y* [z](u) <b>';
    const drift: DriftSection = {
      stage: 'shadow',
      stageVersion: 3,
      window: 1000,
      minWindow: 500,
      reference: {
        takenAt: '2026-04-20T12:00:00.000Z',
        takenBy: 'key:rm | `x`',
        reason: `the gate's traffic\n${hostile}`,
        trippedAt: '2026-04-29T12:00:00.000Z',
        window: { from: '2026-04-19T00:00:00.000Z', to: '2026-04-20T12:00:00.000Z', decisions: 1000 },
      },
      current: { from: '2026-04-28T00:00:00.000Z', to: '2026-04-30T12:00:00.000Z', decisions: 1200 },
      fields: [
        {
          field: hostile,
          type: 'categorical',
          referenceTotal: 1000,
          currentTotal: 1200,
          psi: 1.7891,
          jsDistance: 0.4567,
          unseenShare: 0.05,
          ks: null,
          normalisedWasserstein: null,
          watched: true,
          threshold: 0.25,
          verdict: 'drifted',
        },
        {
          field: 'amount',
          type: 'numeric',
          referenceTotal: 1000,
          currentTotal: 1200,
          psi: 0.0123,
          jsDistance: null,
          unseenShare: null,
          ks: 0.031,
          normalisedWasserstein: 0.08,
          watched: false,
          threshold: 0.25,
          verdict: 'stable',
        },
      ],
      overrideRate: { current: 0.1, samples: 1200, reference: 0.05, referenceSamples: 1000 },
      escalationRate: { current: null, samples: 0, reference: null, referenceSamples: 0, byReason: {} },
      guards: [
        {
          stage: 'shadow',
          guard: 'driftAbove',
          threshold: 0.25,
          status: 'drifted',
          actual: 1.7891,
          drifted: [hostile],
        },
        { stage: 'shadow', guard: 'overrideRateAbove', threshold: 0.2, status: 'stable', actual: 0.1 },
      ],
      trips: { count: 1, first: '2026-04-29T12:00:00.000Z', last: '2026-04-29T12:00:00.000Z' },
      recentTrips: [
        {
          at: '2026-04-29T12:00:00.000Z',
          stageVersion: 3,
          guards: [{ guard: 'driftAbove', threshold: 0.25, status: 'drifted', actual: 1.7891 }],
          fields: [{ field: hostile, psi: 1.7891, referenceTotal: 1000, currentTotal: 1200 }],
        },
      ],
    };
    const md = renderReportMarkdown(report({ drift }));
    const section = md.slice(md.indexOf('## Drift'), md.indexOf('## Transitions'));
    // A `#` opens a heading only at the start of a line: escaped there, literal inside one.
    const inner = '## x \\| \\*y\\* \\[z\\](u) \\<b\\>';
    const escaped = `\\${inner}`;
    expect(section).toContain(
      `- Reference: taken 2026-04-20T12:00:00.000Z by key:rm \\| \\\`x\\\` (the gate's traffic ${inner}): 1,000 decisions from 2026-04-19T00:00:00.000Z to 2026-04-20T12:00:00.000Z`,
    );
    expect(section).toContain('- A guard tripped against this reference at 2026-04-29T12:00:00.000Z');
    expect(section).toContain(
      `| ${escaped} | categorical | 1,000 | 1,200 | 1.789 | 0.457 | 5.00% | — | — | 0.250 (guard) | **drifted** |`,
    );
    expect(section).toContain(
      '| amount | numeric | 1,000 | 1,200 | 0.012 | — | — | 0.031 | 0.080 | 0.250 | stable |',
    );
    expect(section).toContain('| override | 10.00% | 1,200 | 5.00% | 1,000 |');
    expect(section).toContain(`| driftAbove | PSI above 0.250 | 1.789 | **drifted** | ${escaped} |`);
    expect(section).toContain('| overrideRateAbove | override rate above 20.00% | 10.00% | stable | — |');
    expect(section).toContain(
      'Drift detected 1 time(s) (`drift.detected`), last at 2026-04-29T12:00:00.000Z.',
    );
    expect(section).toContain(
      `- 2026-04-29T12:00:00.000Z (stage version 3): driftAbove 0.25 (actual 1.789); ${inner} PSI 1.789`,
    );
    // The hostile name opens no heading and no extra cell: the section's shape is the one a plain name gives.
    const plain = renderReportMarkdown(
      report({
        drift: {
          ...drift,
          reference: { ...drift.reference, takenBy: 'key:rm', reason: 'plain' },
          fields: drift.fields.map((f) => ({ ...f, field: 'region' })),
          guards: drift.guards.map((g) => (g.drifted ? { ...g, drifted: ['region'] } : g)),
          recentTrips: drift.recentTrips.map((t) => ({
            ...t,
            fields: t.fields.map((f) => ({ ...f, field: 'region' })),
          })),
        },
      }),
    );
    expect(markdownShape(md)).toEqual(markdownShape(plain));
    expect(lines(md).filter((l) => l.startsWith('## x'))).toEqual([]);
    expect(renderReportMarkdown(report())).toContain('## Drift\n\nNo drift reading.');
  });

  it('when the ticks judged the stage visits, then the Journey section shows each visit with its last judgement against its thresholds, a hostile actor literal', () => {
    const hostile = '## x | *y* [z](u) <b>';
    const point = {
      stageVersion: 1,
      seq: 4,
      at: '2026-04-20T12:00:00.000Z',
      stage: 'shadow' as const,
      planVersion: 1,
      samples: 1234,
      agreement: 0.9612,
      lowerBound: 0.9305,
      required: 0.9,
      targetStage: 'human-reviewed',
      verdict: 'eligible' as const,
      guardSamples: null,
      guardAgreement: null,
      guardThreshold: null,
    };
    const visit = {
      stage: 'shadow',
      stageVersion: 1,
      enteredAt: '2026-04-13T12:00:00.000Z',
      leftAt: '2026-04-20T12:00:00.000Z',
      actor: hostile,
      reason: 'created',
      forced: false,
      planVersion: 1,
      durationMs: 7 * 86_400_000,
    };
    const journey = (actor: string) => ({
      visits: [
        { ...visit, actor, lastJudged: point },
        {
          ...visit,
          stage: 'limited-autonomous',
          stageVersion: 2,
          enteredAt: visit.leftAt,
          leftAt: null,
          forced: true,
          durationMs: 3_600_000,
          lastJudged: {
            ...point,
            stageVersion: 2,
            stage: 'limited-autonomous' as const,
            samples: 210,
            required: null,
            targetStage: null,
            verdict: 'none' as const,
            guardSamples: 200,
            guardAgreement: 0.8312,
            guardThreshold: 0.85,
          },
        },
      ],
      truncated: false,
    });
    const md = renderReportMarkdown(report({ journey: journey(hostile) }));
    const section = md.slice(md.indexOf('## Journey'), md.indexOf('## Transitions'));
    expect(section).toContain('| shadow | 2026-04-13T12:00:00.000Z | 7d |');
    expect(section).toContain('| 1,234 | 96.12% | 93.05% vs ≥ 90.00% | eligible → human-reviewed | — |');
    // `<` is escaped in Markdown text: it renders as itself.
    expect(section).toContain('| none | 83.12% vs \\< 85.00% |');
    expect(section).toContain('limited-autonomous (**forced**)');
    const plain = renderReportMarkdown(report({ journey: journey('key:rm') }));
    expect(markdownShape(md)).toEqual(markdownShape(plain));
    expect(lines(md).filter((l) => l.startsWith('## x'))).toEqual([]);
    expect(renderReportMarkdown(report())).not.toContain('## Journey');
  });
});
