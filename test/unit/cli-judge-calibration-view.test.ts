import { describe, expect, it } from 'vitest';
import { judgeCalibrationLines } from '../../src/cli/judge-calibration-view.js';
import { statusDetail, type UseCaseDetail } from '../../src/cli/status-view.js';
import type { JudgeCalibration } from '../../src/metrics/judge-calibration.js';

const CALIBRATION: JudgeCalibration = {
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
    {
      judgeVersion: 'judge\u001b[2Jv1',
      rated: 40,
      agreed: 28,
      bothAcceptable: 20,
      judgeOnly: 10,
      peopleOnly: 2,
      neither: 8,
      agreement: 0.7,
      agreementLowerBound: 0.39,
      kappa: 0.35,
      kappaInterval: null,
    },
  ],
};

describe('the judge against people in `shadowgate status`', () => {
  it('when a judge was rated, then each version has a row, the one scoring now marked, its name on one safe line', () => {
    const text = judgeCalibrationLines(CALIBRATION).join('\n');
    expect(text).toContain('Judge against people (plan version 4');
    expect(text).toMatch(
      /judge-v2 \(now\)\s+100\s+95\.00%\s+84\.41%\s+0\.831 \(0\.700 to 0\.960\)\s+80 \/ 3 \/ 2 \/ 15/,
    );
    expect(text).toMatch(/judge\[2Jv1\s+40\s+70\.00%\s+39\.00%/);
    expect(text).not.toContain('\u001b');
  });

  it('when nothing was rated yet, then it says so; without a judge, nothing is shown', () => {
    expect(judgeCalibrationLines({ ...CALIBRATION, versions: [] })).toEqual([
      expect.stringContaining('Judge against people'),
      '  no ratings yet (judge judge-v2 scores now)',
    ]);
    expect(judgeCalibrationLines(null)).toEqual([]);
  });

  it("when a use case's detail has a judge's calibration, then status shows it right after the AI's agreement", () => {
    const detail: UseCaseDetail = {
      id: 'drafts',
      stage: 'shadow',
      owner: 'support@example.com',
      description: null,
      planVersion: 4,
      stageEnteredAt: '2026-03-01T00:00:00.000Z',
      stageVersion: 1,
      aiConfig: 'cfg',
      earnedModelVersion: null,
      metrics: { stages: [] },
      gate: null,
      judgeCalibration: CALIBRATION,
    };
    const lines = statusDetail({ detail, cohort: null }).split('\n');
    const table = lines.findIndex((l) => l.startsWith('USE CASE'));
    const judge = lines.findIndex((l) => l.startsWith('Judge against people'));
    expect(judge).toBe(table + 3);
  });
});
