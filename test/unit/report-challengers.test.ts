import { describe, expect, it } from 'vitest';
import { type Plan, planSchema } from '../../src/plans/plan-schema.js';
import { buildEvidenceReport, type ReportInput } from '../../src/report/evidence-report.js';
import type { ChallengerViewInput, PromotionEvent } from '../../src/report/report-challengers.js';
import { renderReportMarkdown } from '../../src/report/report-markdown.js';
import type { UseCaseDetail } from '../../src/report/report-types.js';
import { cohortMetrics } from '../support/gate-fixtures.js';
import { markdownShape } from '../support/markdown-shape.js';

const NOW = new Date('2026-04-30T12:00:00Z');
const iso = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * 86_400_000).toISOString();

const PLAN: Plan = planSchema.parse({
  useCase: 'invoice-triage',
  owner: 'ap@example.com',
  decision: { type: 'label', labels: ['approve', 'reject'] },
  ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
  humanCostPerDecision: 1.8,
  stages: {
    shadow: { promoteWhen: { minSamples: 100, agreementLowerBound: 0.9 } },
    'human-reviewed': { promoteWhen: { minSamples: 100, agreementLowerBound: 0.9 } },
    'limited-autonomous': { auditRate: 0.1 },
  },
});

const DETAIL: UseCaseDetail = {
  id: 'invoice-triage',
  stage: 'limited-autonomous',
  owner: 'ap@example.com',
  description: null,
  planVersion: 4,
  stageEnteredAt: iso(20),
  stageVersion: 3,
  planHash: 'hash-4',
  aiConfig: 'cfg-champion',
  earnedModelVersion: 'm1',
  segments: [],
  metrics: { stages: [] },
  gate: null,
};

function view(over: Partial<ChallengerViewInput> = {}): ChallengerViewInput {
  return {
    champion: { planVersion: 3, aiConfig: 'cfg-champion' },
    challenger: {
      id: 7,
      planVersion: 4,
      aiConfig: 'cfg-challenger',
      changes: ['ai.model', 'ai.prompt'],
      startedAt: iso(2),
      startedBy: 'key:po',
      approval: 'manual',
      margin: 0.02,
      sampleRate: 0.5,
      verdict: 'blocked',
      criteria: [
        { name: 'shadow.minSamples', required: 100, actual: 240, status: 'holds', holds: true },
        {
          name: 'human-reviewed.agreementLowerBound',
          required: 0.9,
          actual: 0.55,
          status: 'blocked',
          holds: false,
          observed: 0.6,
          samples: 240,
        },
        {
          name: 'championNonInferiority',
          required: -0.02,
          actual: -0.41,
          status: 'blocked',
          holds: false,
          observed: -0.35,
          samples: 230,
          detail: 'worse than the champion by more than 0.02: at most -0.29 on 230 pairs',
        },
      ],
      paired: { n: 230, mean: -0.35, lower: -0.41, upper: -0.29 },
      cohort: cohortMetrics({
        stage: 'human-reviewed',
        aiConfig: 'cfg-challenger',
        modelVersion: 'm2',
        decisions: 250,
        samples: 240,
        agreement: 0.6,
        agreementLowerBound: 0.55,
        aiCalls: 250,
        aiErrors: 10,
        aiErrorRate: 0.04,
        latencyP50Ms: 120,
        latencyP95Ms: 480,
        aiCostPerDecision: 0.0021,
      }),
      owedCalls: 3,
    },
    history: [
      {
        id: 6,
        planVersion: 3,
        aiConfig: 'cfg-champion',
        championPlanVersion: 1,
        state: 'promoted',
        startedAt: iso(12),
        endedAt: iso(5),
        endedBy: 'key:rm',
        endReason: 'vendor deadline',
      },
      {
        id: 5,
        planVersion: 2,
        aiConfig: 'cfg-other',
        championPlanVersion: 1,
        state: 'discarded',
        startedAt: iso(15),
        endedAt: iso(13),
        endedBy: 'key:rm',
        endReason: 'too slow',
      },
    ],
    ...over,
  };
}

const PROMOTED: PromotionEvent = {
  at: new Date(iso(5)),
  actor: 'key:rm',
  details: {
    challenger: 6,
    forced: true,
    verdict: 'inconclusive',
    reason: 'vendor deadline',
    paired: { n: 80, mean: 0.01, lower: -0.08, upper: 0.1 },
    criteria: [
      { name: 'shadow.minSamples', status: 'holds', holds: true },
      { name: 'championNonInferiority', status: 'inconclusive', holds: false },
    ],
  },
};

function input(over: Partial<ReportInput> = {}): ReportInput {
  return {
    generatedAt: NOW,
    detail: DETAIL,
    plan: PLAN,
    planVersions: [],
    transitions: [],
    stageEvents: [],
    guardTripsByStage: [],
    recentGuardTrips: [],
    budgetExhausted: null,
    flagRepairs: null,
    modelChanges: null,
    challengers: view(),
    challengerPromotions: [PROMOTED],
    ...over,
  };
}

describe('the champion and challenger section of the evidence report', () => {
  it('when a challenger is active, then the section carries the champion, what changed, the verdict with criteria, the paired comparison against −margin, its cohort and owed calls', () => {
    const { challengers } = buildEvidenceReport(input());
    expect(challengers.champion).toEqual({
      planVersion: 3,
      aiConfig: 'cfg-champion',
      earnedModelVersion: 'm1',
    });
    expect(challengers.active).toMatchObject({
      id: 7,
      planVersion: 4,
      changes: ['ai.model', 'ai.prompt'],
      startedBy: 'key:po',
      verdict: 'blocked',
      paired: { n: 230, mean: -0.35, lower: -0.41, upper: -0.29, required: -0.02 },
      cohort: { modelVersion: 'm2', samples: 240, agreement: 0.6, aiErrorRate: 0.04, latencyP95Ms: 480 },
      owedCalls: 3,
    });
    expect(challengers.active?.criteria.map((c) => [c.name, c.status])).toEqual([
      ['shadow.minSamples', 'holds'],
      ['human-reviewed.agreementLowerBound', 'blocked'],
      ['championNonInferiority', 'blocked'],
    ]);
  });

  it('when challengers ended, then the promoted one carries the evidence of its audit event and the others none', () => {
    const { challengers } = buildEvidenceReport(input());
    expect(challengers.history.map((h) => [h.id, h.state, h.endedBy, h.endReason])).toEqual([
      [6, 'promoted', 'key:rm', 'vendor deadline'],
      [5, 'discarded', 'key:rm', 'too slow'],
    ]);
    expect(challengers.history[0]!.promotion).toEqual({
      at: iso(5),
      actor: 'key:rm',
      verdict: 'inconclusive',
      forced: true,
      paired: { n: 80, mean: 0.01, lower: -0.08, upper: 0.1 },
      notHolding: [{ name: 'championNonInferiority', status: 'inconclusive' }],
    });
    expect(challengers.history[1]!.promotion).toBeNull();
  });

  it('when a challenger was forced in and the active one is blocked, then both are open risks naming what did not hold', () => {
    const { risks } = buildEvidenceReport(input());
    const forced = risks.find((r) => r.kind === 'forced-challenger-promotion');
    const blocked = risks.find((r) => r.kind === 'challenger-blocked');
    expect(forced?.message).toBe(
      `the challenger of plan version 3 was forced in over the champion of plan version 1 at ${iso(5)} by key:rm: "vendor deadline"; verdict then inconclusive; not holding then: championNonInferiority`,
    );
    expect(blocked?.message).toBe(
      `the challenger of plan version 4 (since ${iso(2)}) is blocked: human-reviewed.agreementLowerBound (required 90.00%, actual 55.00%), championNonInferiority (required -2.0 pp, actual -41.0 pp); the champion keeps serving until it is discarded or replaced`,
    );
  });

  it('when the challenger is only inconclusive and the promotion was not forced, then neither is a risk', () => {
    const base = view();
    const r = buildEvidenceReport(
      input({
        challengers: view({ challenger: { ...base.challenger!, verdict: 'inconclusive' } }),
        challengerPromotions: [
          { ...PROMOTED, details: { challenger: 6, forced: false, verdict: 'eligible' } },
        ],
      }),
    );
    expect(r.risks.map((x) => x.kind)).not.toContain('forced-challenger-promotion');
    expect(r.risks.map((x) => x.kind)).not.toContain('challenger-blocked');
    expect(r.challengers.history[0]!.promotion).toMatchObject({ verdict: 'eligible', forced: false });
  });

  it('when rendered, then the section shows the champion, the paired bounds, the cohort row, the criteria in their units and the history with the forced swap', () => {
    const md = renderReportMarkdown(buildEvidenceReport(input()));
    expect(md).toContain(
      '## Champion and challenger\n\nChampion: plan version 3, AI configuration `cfg-champion`',
    );
    expect(md).toContain('- Verdict: **blocked**');
    expect(md).toContain(
      '230 pairs, mean -35.0 pp, bounds -41.0 pp to -29.0 pp; the lower bound must reach -2.0 pp',
    );
    expect(md).toContain('- Calls still owed to the challenger: 3');
    expect(md).toContain('| m2 | 250 | 240 | 60.00% | 55.00% | 250 | 4.00% | 120ms | 480ms | $0.0021 |');
    expect(md).toContain('| championNonInferiority | -2.0 pp | -41.0 pp | blocked |');
    expect(md).toContain('| shadow.minSamples | 100 | 240 | holds |  |');
    expect(md).toContain(
      `| 3 | 1 | promoted, **forced** | ${iso(12)} | ${iso(5)} | key:rm | vendor deadline | verdict inconclusive; 80 pairs, lower bound -8.0 pp; not holding: championNonInferiority |`,
    );
  });

  it('when there is no challenger, then the section says so rather than disappear', () => {
    const md = renderReportMarkdown(
      buildEvidenceReport(input({ challengers: view({ challenger: null, history: [] }) })),
    );
    expect(md).toContain('No active challenger.');
    expect(md).toContain('### Earlier challengers\n\nNone.');
  });

  it('when plans, keys and the AI wrote Markdown into what the section shows, then it keeps the structure of a benign one', () => {
    const base = view();
    const hostile = view({
      challenger: {
        ...base.challenger!,
        startedBy: '[key](javascript:alert(1))',
        changes: ['ai.model | eligible |', '<img src=x>'],
        cohort: { ...base.challenger!.cohort!, modelVersion: '**m9**\n## Verdict' },
        criteria: base.challenger!.criteria.map((c) => ({ ...c, detail: '| forged | cell |' })),
      },
      history: base.history.map((h) => ({
        ...h,
        endedBy: '`rm`',
        endReason: '# eligible\n| 9 | 9 | promoted |',
      })),
    });
    const promotion = {
      ...PROMOTED,
      actor: '<script>x</script>',
      details: {
        ...(PROMOTED.details as object),
        verdict: '**eligible**',
        criteria: [{ name: '[x](y)', status: 'blocked', holds: false }],
      },
    };
    const benignMd = renderReportMarkdown(buildEvidenceReport(input()));
    const hostileMd = renderReportMarkdown(
      buildEvidenceReport(input({ challengers: hostile, challengerPromotions: [promotion] })),
    );
    expect(markdownShape(hostileMd)).toEqual(markdownShape(benignMd));
    expect(hostileMd).not.toContain('<script>');
    expect(hostileMd).toContain('\\<img src=x\\>');
    expect(hostileMd).toContain('started by \\[key\\](javascript:alert(1))');
    expect(hostileMd).toContain('\\# eligible \\| 9 \\| 9 \\| promoted \\|');
  });
});
