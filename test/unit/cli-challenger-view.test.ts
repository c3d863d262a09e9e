import { describe, expect, it } from 'vitest';
import {
  type ActiveChallengerView,
  challengerStatusLine,
  challengerText,
  criteriaTable,
  pairedLine,
} from '../../src/cli/challenger-view.js';
import type { CohortMetrics } from '../../src/metrics/metrics-types.js';

const ACTIVE: ActiveChallengerView = {
  id: 3,
  planVersion: 5,
  aiConfig: 'cfg-new',
  changes: ['ai.model', 'ai.prompt'],
  startedAt: '2026-04-15T12:00:00.000Z',
  startedBy: 'key:release-bot',
  approval: 'automatic',
  margin: 0.02,
  sampleRate: 0.25,
  verdict: 'blocked',
  criteria: [
    { name: 'shadow.minSamples', required: 500, actual: 1234, status: 'holds', holds: true },
    { name: 'shadow.minDuration', required: '7d', actual: '2d 3h', status: 'inconclusive', holds: false },
    {
      name: 'human-reviewed.agreementLowerBound',
      required: 0.9,
      actual: 0.91234,
      status: 'holds',
      holds: true,
    },
    { name: 'human-reviewed.maxAiErrorRate', required: 0.02, actual: 0.001, status: 'holds', holds: true },
    {
      name: 'championNonInferiority',
      required: -0.02,
      actual: -0.0612,
      status: 'blocked',
      holds: false,
      detail: 'worse than the champion by more than 0.02',
    },
  ],
  paired: { n: 1200, mean: -0.045, lower: -0.0612, upper: -0.0288 },
  cohort: {
    modelVersion: 'gpt-x-2',
    samples: 1234,
    agreement: 0.93,
    agreementLowerBound: 0.91234,
    aiErrorRate: 0.001,
    latencyP50Ms: 420,
    latencyP95Ms: 1500,
    aiCostPerDecision: 0.0021,
    costPerDecision: 1.8021,
  } as CohortMetrics,
  owedCalls: 12345,
};

describe('challenger view', () => {
  it('when criteria are tabled, then each shows its comparator, requirement, actual, status and detail', () => {
    const rows = criteriaTable(ACTIVE.criteria).split('\n');
    expect(rows[0]).toMatch(/^CRITERION\s+REQUIRED\s+ACTUAL\s+STATUS\s+DETAIL$/);
    expect(rows.slice(1).map((r) => r.split(/\s{2,}/))).toEqual([
      ['shadow.minSamples', '≥ 500', '1,234', 'holds'],
      ['shadow.minDuration', '≥ 7d', '2d 3h', 'inconclusive'],
      ['human-reviewed.agreementLowerBound', '≥ 90.00%', '91.23%', 'holds'],
      ['human-reviewed.maxAiErrorRate', '≤ 2.00%', '0.10%', 'holds'],
      [
        'championNonInferiority',
        '≥ -2.0 pp',
        '-6.1 pp',
        'blocked',
        'worse than the champion by more than 0.02',
      ],
    ]);
  });

  it('when there are pairs or none yet, then the paired line says so with the bound it must reach', () => {
    expect(pairedLine(ACTIVE)).toBe(
      'Paired with the champion (challenger − champion agreement on the same requests): 1,200 pairs, mean -4.5 pp, bounds -6.1 pp to -2.9 pp; the lower bound must reach -2.0 pp',
    );
    expect(pairedLine({ paired: null, margin: 0.05 })).toBe(
      'Paired with the champion (challenger − champion agreement on the same requests): no pairs yet; the lower bound must reach -5.0 pp',
    );
  });

  it('when a use case has an active challenger, then status has one line with what changed and its verdict; without one, none', () => {
    expect(challengerStatusLine('uc', ACTIVE)).toBe(
      'challenger plan version 5 (ai.model, ai.prompt) since 2026-04-15 12:00:00Z: blocked (shadowgate challenger uc)',
    );
    expect(challengerStatusLine('uc', null)).toBeNull();
  });

  it('when challenger is shown, then the champion, the active one with its fields and cohort, and the earlier ones appear', () => {
    const text = challengerText('uc', {
      champion: { planVersion: 4, aiConfig: 'cfg-old' },
      challenger: ACTIVE,
      history: [
        {
          id: 2,
          planVersion: 3,
          aiConfig: 'cfg-mid',
          championPlanVersion: 1,
          state: 'promoted',
          startedAt: '2026-03-01T08:00:00.000Z',
          endedAt: '2026-03-09T08:30:00.000Z',
          endedBy: 'system',
          endReason: 'every criterion of the challenger holds (automatic approval)',
        },
      ],
    });
    const lines = text.split('\n');
    expect(lines.slice(0, 8)).toEqual([
      'uc: champion plan version 4, AI configuration cfg-old',
      'challenger plan version 5, AI configuration cfg-new',
      '  changed     ai.model, ai.prompt',
      '  since       2026-04-15 12:00:00Z, by key:release-bot',
      '  approval    automatic, margin 2.00%, sample rate 25.00% of live requests',
      '  verdict     blocked',
      '  owed calls  12,345',
      '',
    ]);
    expect(text).toMatch(
      /\ngpt-x-2\s+1,234\s+93\.00%\s+91\.23%\s+0\.10%\s+420ms\s+1\.5s\s+\$0\.0021\s+\$1\.80\n/,
    );
    expect(lines.slice(-3)).toEqual([
      'Earlier challengers (newest first):',
      expect.stringMatching(/^ID\s+PLAN\s+STATE\s+STARTED\s+ENDED\s+BY\s+REASON$/),
      ' 2     3  promoted  2026-03-01 08:00:00Z  2026-03-09 08:30:00Z  system  every criterion of the challenger holds (automatic approval)',
    ]);
  });

  it('when there is no challenger and never was, then it says so', () => {
    expect(
      challengerText('uc', { champion: { planVersion: 1, aiConfig: 'cfg' }, challenger: null, history: [] }),
    ).toBe('uc: champion plan version 1, AI configuration cfg\nno challenger\n\nNo earlier challengers.');
  });
});
