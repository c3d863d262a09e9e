import { describe, expect, it } from 'vitest';
import { transportProblem } from '../../src/client/controller-api.js';
import { resolveTarget } from '../../src/cli/command-context.js';
import { CliError, EXIT, exitCodeForStatus } from '../../src/cli/exit-codes.js';
import { formatTable, timestamp } from '../../src/cli/format-table.js';
import { formatPlanProblem } from '../../src/cli/plan-files.js';
import { describeCriterion, heldBackBy, lowerBound, statusRow } from '../../src/cli/status-view.js';
import type { CohortMetrics } from '../../src/metrics/metrics-types.js';
import type { Criterion, GateAssessment } from '../../src/promotion/gate-types.js';

const gate = (criteria: Criterion[]): GateAssessment => ({
  fromStage: 'shadow',
  targetStage: 'human-reviewed',
  verdict: criteria.every((c) => c.holds) ? 'eligible' : 'inconclusive',
  criteria,
  approval: 'manual',
  statistics: 'sequential',
  confidence: 0.95,
  majorityBaseline: null,
  warnings: [],
});
const cohort = (values: Partial<CohortMetrics>) => values as CohortMetrics;

describe('formatTable', () => {
  it('when cells differ in width, then columns are padded, right-aligned ones on the left, with no trailing blanks', () => {
    const table = formatTable(
      [{ header: 'A' }, { header: 'N', align: 'right' }, { header: 'NOTE' }],
      [
        ['x', '1', ''],
        ['long', '100', '≥ 5'],
      ],
    );
    expect(table.split('\n')).toEqual(['A       N  NOTE', 'x       1', 'long  100  ≥ 5']);
  });
});

describe('timestamp', () => {
  it('when a time is shown, then it reads date, time and Z, without milliseconds', () => {
    expect(timestamp('2025-01-31T10:00:00.123Z')).toBe('2025-01-31 10:00:00Z');
  });
});

describe('status view', () => {
  const failing: Criterion[] = [
    { name: 'minSamples', required: 500, actual: 12, status: 'inconclusive', holds: false },
    { name: 'maxAiErrorRate', required: 0.02, actual: 0.05, status: 'blocked', holds: false },
    { name: 'agreementLowerBound', required: 0.9, actual: null, status: 'inconclusive', holds: false },
    { name: 'segment:region=EU', required: 0.85, actual: 0.8123456, status: 'blocked', holds: false },
  ];

  it('when criteria do not hold, then each is named with its figure and requirement, the rest counted', () => {
    expect(describeCriterion(failing[1]!)).toBe('maxAiErrorRate 5.00% (≤ 2.00%)');
    expect(heldBackBy(gate(failing), 3)).toBe(
      'minSamples 12 (≥ 500), maxAiErrorRate 5.00% (≤ 2.00%), agreementLowerBound — (≥ 90.00%) (+1 more)',
    );
    expect(describeCriterion(failing[3]!)).toBe('segment:region=EU 81.23% (≥ 85.00%)');
    expect(
      heldBackBy(gate([{ name: 'minSamples', required: 1, actual: 2, status: 'holds', holds: true }])),
    ).toBe('—');
  });

  it("when the gate has an agreement criterion, then the lower bound is the gate's, else the cohort's Wilson bound", () => {
    const withBound = gate([
      { name: 'agreementLowerBound', required: 0.9, actual: 0.31, status: 'blocked', holds: false },
    ]);
    expect(lowerBound(withBound, cohort({ agreementLowerBound: 0.4 }))).toBe(0.31);
    expect(lowerBound(gate([]), cohort({ agreementLowerBound: 0.4 }))).toBe(0.4);
    expect(lowerBound(gate(failing), cohort({ agreementLowerBound: 0.4 }))).toBeNull();
  });

  it('when a use case has evidence, then its row writes counts, rates and cost as every other view does', () => {
    const detail = {
      id: 'x',
      stage: 'shadow',
      owner: 'o',
      description: null,
      planVersion: 1,
      stageEnteredAt: '2025-01-01T00:00:00.000Z',
      stageVersion: 1,
      aiConfig: 'k',
      earnedModelVersion: null,
      metrics: { stages: [] },
      gate: gate([]),
    };
    const evidence = cohort({
      samples: 1234,
      agreement: 2 / 3,
      agreementLowerBound: 0.6,
      costPerDecision: 1.800157,
    });
    expect(statusRow({ detail, cohort: evidence })).toEqual([
      'x',
      'shadow',
      '1,234',
      '66.67%',
      '60.00%',
      'eligible',
      '—',
      '$1.80',
    ]);
  });

  it('when a use case has no evidence yet, then its row shows zero samples and dashes', () => {
    const detail = {
      id: 'x',
      stage: 'shadow',
      owner: 'o',
      description: null,
      planVersion: 1,
      stageEnteredAt: '2025-01-01T00:00:00.000Z',
      stageVersion: 1,
      aiConfig: 'k',
      earnedModelVersion: null,
      metrics: { stages: [] },
      gate: gate([failing[0]!]),
    };
    expect(statusRow({ detail, cohort: null })).toEqual([
      'x',
      'shadow',
      '0',
      '—',
      '—',
      'inconclusive',
      'minSamples 12 (≥ 500)',
      '—',
    ]);
  });
});

describe('exit codes and errors', () => {
  it('when the controller answers an error status, then the exit code is the documented one', () => {
    const codes = [400, 401, 403, 404, 409, 413, 429, 500, 503].map(exitCodeForStatus);
    expect(codes).toEqual([2, 3, 3, 4, 5, 2, 6, 6, 6]);
  });

  it('when fetch fails, then the reason is named from its cause', () => {
    expect(transportProblem(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toBe(
      'connection refused',
    );
    const several = { errors: [{ code: 'ECONNREFUSED' }, { code: 'ECONNREFUSED' }] };
    expect(transportProblem(new TypeError('fetch failed', { cause: several }))).toBe('connection refused');
    expect(transportProblem(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe(
      'no answer within 60 s',
    );
  });

  it('when the target is resolved, then flags win over the environment and a missing key is a usage error', () => {
    const env = { SHADOWGATE_URL: 'http://env:1/', SHADOWGATE_KEY: 'env-key' };
    expect(resolveTarget({}, env)).toEqual({ url: 'http://env:1', key: 'env-key' });
    expect(resolveTarget({ url: 'https://flag', key: 'flag-key' }, env)).toEqual({
      url: 'https://flag',
      key: 'flag-key',
    });
    expect(resolveTarget({ key: 'k' }, {}).url).toBe('http://127.0.0.1:8080');
    const missing = (() => {
      try {
        resolveTarget({}, {});
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(CliError);
    expect((missing as CliError).exitCode).toBe(EXIT.usage);
    expect(() => resolveTarget({ url: 'ftp://x', key: 'k' }, {})).toThrow('expected http:// or https://');
  });

  it('when a plan problem is formatted, then it reads file:line path: problem, leaving out what is unknown', () => {
    expect(formatPlanProblem('p.yaml', { path: 'a.b', problem: 'required', line: 12, column: 3 })).toBe(
      'p.yaml:12 a.b: required',
    );
    expect(formatPlanProblem('p.json', { path: '', problem: 'the plan is empty' })).toBe(
      'p.json the plan is empty',
    );
  });
});
