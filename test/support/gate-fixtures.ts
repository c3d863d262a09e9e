import { emptyCohortMetrics } from '../../src/metrics/cohort-metrics.js';
import type { CohortMetrics, LabelMetrics } from '../../src/metrics/metrics-types.js';

/**
 * A cohort with nothing observed yet, overridden by what a test is about. Tests that read
 * the human cost or the cohort's identity set them; the defaults are not asserted on.
 */
export function cohortMetrics(over: Partial<CohortMetrics>): CohortMetrics {
  return { ...emptyCohortMetrics({ stage: 'shadow', aiConfig: 'cfg-1', modelVersion: 'm1' }), ...over };
}

/**
 * 120 compared approve/reject decisions (rows: human, columns: AI): 114 agree, 4 approvals
 * the AI rejected, 2 rejections it approved; precision and recall follow from the matrix.
 */
export const APPROVE_REJECT_CONFUSION: {
  confusion: { labels: string[]; matrix: number[][] };
  perLabel: LabelMetrics[];
} = {
  confusion: {
    labels: ['approve', 'reject'],
    matrix: [
      [100, 4],
      [2, 14],
    ],
  },
  perLabel: [
    {
      label: 'approve',
      precision: 100 / 102,
      recall: 100 / 104,
      support: 104,
      hits: 100,
      predicted: 102,
      aiFailures: 0,
    },
    {
      label: 'reject',
      precision: 14 / 18,
      recall: 14 / 16,
      support: 16,
      hits: 14,
      predicted: 18,
      aiFailures: 0,
    },
  ],
};
