import type { PlanInput } from '../../src/plans/plan-schema.js';

export const LABELS = ['approve', 'reject', 'escalate'];

const DRIFT_GUARDS = process.env.BENCH_DRIFT_GUARDS === '1';

/**
 * The plan the benchmarks apply: shaped like rollout-plans/invoice-triage.yaml (labels, two
 * segments, a shadow gate with every criterion, a daily budget, a guard), so a tick and a
 * metrics read do the work a real plan asks for. Manual approval: a tick never moves a use case,
 * so every tick of a run does the same work.
 */
export function benchPlan(
  useCase: string,
  ai: { url: string; concurrency?: number; sampleRate?: number },
): PlanInput {
  return {
    useCase,
    owner: 'bench@example.com',
    description: 'npm run bench',
    decision: { type: 'label', labels: LABELS },
    comparator: { type: 'exact' },
    ai: {
      adapter: 'http',
      url: ai.url,
      timeoutMs: 3000,
      pricing: { perCall: 0, inputPerMTok: 0.15, outputPerMTok: 0.6 },
      maxDailyCost: 10_000,
      ...(ai.concurrency ? { concurrency: ai.concurrency } : {}),
    },
    humanCostPerDecision: 1.8,
    segments: ['region', 'riskTier'],
    ...(DRIFT_GUARDS ? { drift: { window: 1000 } } : {}),
    stages: {
      shadow: {
        promoteWhen: {
          minSamples: 500,
          minDuration: '7d',
          agreementLowerBound: 0.85,
          maxAiErrorRate: 0.02,
          maxP95LatencyMs: 2500,
          maxAiCostPerDecision: 0.05,
          segmentAgreementLowerBound: 0.8,
          minSegmentSamples: 50,
        },
        approval: 'manual',
        rollbackWhen: {
          window: 500,
          agreementBelow: 0.5,
          aiErrorRateAbove: 0.2,
          action: 'notify',
          // BENCH_DRIFT_GUARDS=1: the tick also reads drift for every use case (README "Drift").
          ...(DRIFT_GUARDS
            ? {
                driftAbove: {
                  psi: 0.25,
                  fields: ['region', 'riskTier', 'aiLabel', 'aiConfidence', 'aiLatency'],
                },
              }
            : {}),
        },
        ...(ai.sampleRate === undefined ? {} : { sampleRate: ai.sampleRate }),
      },
      'human-reviewed': {
        promoteWhen: { minSamples: 1000, minDuration: '14d', agreementLowerBound: 0.95 },
        approval: 'manual',
        rollbackWhen: { window: 200, agreementBelow: 0.85, aiErrorRateAbove: 0.05 },
      },
    },
  };
}
