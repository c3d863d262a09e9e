import { describe, expect, it } from 'vitest';
import { criteriaChanges, planBaselineWarnings } from '../../src/cli/plan-changes.js';
import { statusDetail, statusOverview, type UseCaseDetail } from '../../src/cli/status-view.js';
import type { CohortMetrics } from '../../src/metrics/metrics-types.js';
import { planSchema } from '../../src/plans/plan-schema.js';
import type { GateAssessment } from '../../src/promotion/gate-types.js';
import { cohortMetrics } from '../support/gate-fixtures.js';

/** 90/7/3 traffic answered `approve` every time, four AI calls failed, errors priced. */
const COHORT: CohortMetrics = cohortMetrics({
  decisions: 520,
  samples: 512,
  agreement: 0.9,
  agreementLowerBound: 0.87,
  aiFailedWithHuman: 4,
  agreementWithFailures: 461 / 516,
  coverage: 516 / 520,
  kappa: 0.1,
  kappaInterval: { lower: 0.02, upper: 0.18 },
  majorityBaseline: { label: 'approve', agreement: 0.9 },
  errorCost: { perDecision: 31.5, upperBound: 44.2, lowerBound: 22.1, samples: 512, maxCost: 450 },
  costPerDecision: 1.8,
  perLabel: [
    { label: 'approve', precision: 0.9, recall: 1, support: 461, hits: 461, predicted: 512, aiFailures: 3 },
    { label: 'reject', precision: null, recall: 0, support: 36, hits: 0, predicted: 0, aiFailures: 1 },
    { label: 'escalate', precision: null, recall: 0, support: 15, hits: 0, predicted: 0, aiFailures: 0 },
  ],
});

const WARNING = {
  code: 'majority-baseline' as const,
  message:
    'agreementLowerBound 0.85 is at or below the 90% an AI that always answers "approve" agrees on this traffic',
};

const GATE: GateAssessment = {
  fromStage: 'shadow',
  targetStage: 'human-reviewed',
  verdict: 'blocked',
  approval: 'manual',
  statistics: 'sequential',
  confidence: 0.95,
  majorityBaseline: { label: 'approve', agreement: 0.9 },
  warnings: [WARNING],
  criteria: [
    { name: 'minSamples', required: 500, actual: 512, status: 'holds', holds: true },
    {
      name: 'labelRecallLowerBound:reject',
      required: 0.7,
      actual: 0,
      status: 'blocked',
      holds: false,
      observed: 0,
      samples: 37,
      detail: 'even the upper bound 0.1 is below 0.7',
    },
    {
      name: 'maxErrorCostPerDecision',
      required: 5,
      actual: 44.2,
      status: 'blocked',
      holds: false,
      observed: 31.5,
      samples: 512,
    },
  ],
};

function detail(over: Partial<UseCaseDetail> = {}): UseCaseDetail {
  return {
    id: 'invoice-triage',
    stage: 'shadow',
    owner: 'ap@example.com',
    description: null,
    planVersion: 2,
    stageEnteredAt: '2026-04-20T12:00:00.000Z',
    stageVersion: 1,
    aiConfig: 'cfg-1',
    earnedModelVersion: null,
    metrics: {
      stages: [
        { stage: 'shadow', decisions: 520, samples: 512, pendingHuman: 0, pendingAi: 4, cohorts: [COHORT] },
      ],
    },
    gate: GATE,
    ...over,
  };
}

const lines = (text: string) => text.split('\n');
const columns = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

describe('status of a label use case', () => {
  const text = statusDetail({ detail: detail(), cohort: COHORT });

  it("when the gate carries a warning, then it is a line of its own marked 'warning:', before the gate", () => {
    const warning = lines(text).indexOf(`warning: ${WARNING.message}`);
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(lines(text).findIndex((l) => l.startsWith('Gate shadow')));
    // Every use case listed: the warning names its use case.
    expect(lines(statusOverview([{ detail: detail(), cohort: COHORT }])).at(-1)).toBe(
      `warning: invoice-triage: ${WARNING.message}`,
    );
    expect(
      statusOverview([{ detail: detail({ gate: { ...GATE, warnings: [] } }), cohort: COHORT }]),
    ).not.toContain('warning:');
  });

  it('when per-label and error-cost criteria are judged, then each row shows the bar, the bound, what was observed over how many, and what the kind measures', () => {
    const row = (name: string) => columns(lines(text).find((l) => l.startsWith(`${name} `)));
    expect(row('labelRecallLowerBound:reject')).toEqual([
      'labelRecallLowerBound:reject',
      '≥ 70.00%',
      '0.00%',
      '0.00% of 37',
      'blocked',
      'even the upper bound 0.1 is below 0.7',
    ]);
    expect(row('maxErrorCostPerDecision')).toEqual([
      'maxErrorCostPerDecision',
      '≤ $5.00',
      '$44.20',
      '$31.50 of 512',
      'blocked',
    ]);
    expect(row('minSamples')).toEqual(['minSamples', '≥ 500', '512', 'holds']);
    const legend = lines(text).slice(lines(text).indexOf('What the criteria measure:') + 1);
    expect(legend[0]).toMatch(
      /^ {2}labelRecallLowerBound:<label>: of the requests a person gave <label>, the share the AI gave it too \(recall\); ACTUAL is its lower bound/,
    );
    expect(legend[1]).toMatch(
      /^ {2}maxErrorCostPerDecision: .*ACTUAL is the upper bound of its confidence sequence, OBSERVED the mean$/,
    );
    // Only the kinds the gate has are explained.
    expect(text).not.toContain('labelPrecisionLowerBound:<label>');
  });

  it('when the gate cohort has failures, a baseline and priced errors, then each is a labelled line', () => {
    const start = lines(text).findIndex((l) => l.startsWith('Evidence the gate counts'));
    expect(lines(text)[start]).toBe(
      'Evidence the gate counts (shadow since 2026-04-20 12:00:00Z, model m1):',
    );
    expect(lines(text).slice(start + 1, start + 6)).toEqual([
      '  agreement             90.00% of 512 compared; 89.34% counting the 4 AI call(s) that failed for good on decided requests as disagreements',
      '  coverage              99.23% of the decisions owed an AI answer have one',
      '  kappa (95% interval)  0.100 (0.020 to 0.180)',
      '  majority baseline     always answering "approve" would agree 90.00%',
      '  error cost            $31.50 per compared decision, upper bound $44.20, lower bound $22.10 (512 decisions; one error costs at most $450.00)',
    ]);
    // Not limited-autonomous: no expected error cost line.
    expect(text).not.toContain('expected error cost');
  });

  it('when the cohort has labels, then a row per label gives recall with its support, precision with the AI answers, and the AI failures', () => {
    const header = lines(text).findIndex((l) => l.startsWith('LABEL '));
    expect(columns(lines(text)[header])).toEqual([
      'LABEL',
      'PERSON GAVE IT',
      'AI TOO',
      'RECALL',
      'AI GAVE IT',
      'PRECISION',
      'AI FAILURES',
    ]);
    expect(
      lines(text)
        .slice(header + 1, header + 4)
        .map(columns),
    ).toEqual([
      ['approve', '461', '461', '100.00%', '512', '90.00%', '3'],
      ['reject', '36', '0', '0.00%', '0', '—', '1'],
      ['escalate', '15', '0', '0.00%', '0', '—', '0'],
    ]);
  });

  it('when every cohort is listed, then each shows agreement with failures, coverage, kappa with its interval and the error cost', () => {
    const header = lines(text).findIndex((l) => l.startsWith('STAGE '));
    expect(columns(lines(text)[header])).toEqual([
      'STAGE',
      'AI CONFIG',
      'MODEL',
      'SAMPLES',
      'AGREEMENT',
      'WILSON 95%',
      'W/ AI FAILURES',
      'COVERAGE',
      'KAPPA (95%)',
      'AI ERRORS',
      'AI P95',
      'ERROR COST',
      'COST/DECISION',
    ]);
    expect(columns(lines(text)[header + 1])).toEqual([
      'shadow',
      'cfg-1',
      'm1',
      '512',
      '90.00%',
      '87.00%',
      '89.34%',
      '99.23%',
      '0.100 (0.020 to 0.180)',
      '—',
      '—',
      '$31.50',
      '$1.80',
    ]);
  });

  it('when the cohort is limited-autonomous, then the expected error cost of the share the AI decides is shown as part of the cost', () => {
    const autonomous = {
      ...COHORT,
      stage: 'limited-autonomous' as const,
      expectedErrorCostPerDecision: 0.42,
      costPerDecision: 0.61,
    };
    const shown = statusDetail({
      detail: detail({ stage: 'limited-autonomous', gate: null }),
      cohort: autonomous,
    });
    expect(shown).toContain(
      '  expected error cost   $0.42 per decision (the share the AI decides; in cost per decision $0.61 and net of the savings)',
    );
  });

  it('when the decisions are not labels, then no per-label table, baseline or error cost is shown', () => {
    const json = cohortMetrics({ samples: 10, agreement: 0.8, coverage: 1, agreementWithFailures: 0.8 });
    const shown = statusDetail({
      detail: detail({ gate: { ...GATE, warnings: [], criteria: [] } }),
      cohort: json,
    });
    expect(shown).not.toContain('LABEL ');
    expect(shown).not.toContain('majority baseline');
    expect(shown).not.toContain('error cost ');
    expect(shown).toContain('  kappa (95% interval)  —');
  });
});

const PLAN = {
  useCase: 'u',
  owner: 'o@example.com',
  decision: { type: 'label', labels: ['approve', 'reject', 'escalate'] },
  ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
  stages: { shadow: { promoteWhen: { minSamples: 500, agreementLowerBound: 0.85 } }, 'human-reviewed': {} },
};

describe('plan validate against the traffic', () => {
  const baseline = { label: 'approve', agreement: 0.9 };

  it("when the plan's bar is at or below the majority baseline and nothing judges the rare labels, then it warns as the gate would", () => {
    const warnings = planBaselineWarnings(planSchema.parse(PLAN), 'shadow', baseline);
    expect(warnings.map((w) => w.code)).toEqual(['majority-baseline']);
    expect(warnings[0]!.message).toContain('always answers "approve"');
  });

  it('when the plan judges a label, the bar is above the baseline, there is no baseline or no gate in the stage, then nothing is warned', () => {
    const withRecall = {
      ...PLAN,
      stages: {
        ...PLAN.stages,
        shadow: {
          promoteWhen: { ...PLAN.stages.shadow.promoteWhen, labelRecallLowerBound: { reject: 0.7 } },
        },
      },
    };
    expect(planBaselineWarnings(planSchema.parse(withRecall), 'shadow', baseline)).toEqual([]);
    expect(
      planBaselineWarnings(planSchema.parse(PLAN), 'shadow', { label: 'approve', agreement: 0.8 }),
    ).toEqual([]);
    expect(planBaselineWarnings(planSchema.parse(PLAN), 'shadow', null)).toEqual([]);
    expect(planBaselineWarnings(planSchema.parse(PLAN), 'limited-autonomous', baseline)).toEqual([]);
  });
});

describe('criteria changes', () => {
  it('when only the AI part of the plan or its text changes, then no criterion changes', () => {
    const a = planSchema.parse(PLAN);
    const b = planSchema.parse({ ...PLAN, description: 'new words', ai: { ...PLAN.ai, timeoutMs: 5000 } });
    expect(criteriaChanges(a, b)).toEqual([]);
  });

  it('when aiFailures changes and a stage gains a gate and a guard, then each is named by its path', () => {
    const a = planSchema.parse(PLAN);
    const b = planSchema.parse({
      ...PLAN,
      aiFailures: 'exclude',
      stages: {
        ...PLAN.stages,
        'human-reviewed': {
          promoteWhen: { minSamples: 10 },
          rollbackWhen: { window: 100, labelRecallBelow: { reject: 0.5 } },
        },
      },
    });
    expect(criteriaChanges(a, b)).toEqual([
      'aiFailures',
      'stages.human-reviewed.promoteWhen',
      'stages.human-reviewed.rollbackWhen',
    ]);
  });
});
