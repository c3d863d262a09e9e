import type { Mode, Plan } from '../plans/plan-schema.js';
import { type CohortMetricsOptions, computeCohortMetrics } from './cohort-metrics.js';
import type { CohortAggregate, CohortMetrics } from './metrics-types.js';

/** A stage's totals, with the metrics of each cohort (AI configuration × model version) in it. */
export interface StageSummary {
  stage: Mode;
  decisions: number;
  samples: number;
  pendingHuman: number;
  pendingAi: number;
  cohorts: CohortMetrics[];
}

/**
 * Groups cohort aggregates by stage. Decisions still waiting for the AI carry no
 * model version yet: they count in the stage totals but form no cohort of their own.
 */
export function summarizeStages(aggregates: CohortAggregate[], plan: Plan): StageSummary[] {
  const byStage = new Map<Mode, StageSummary>();
  for (const agg of aggregates) {
    let summary = byStage.get(agg.stage);
    if (!summary) {
      summary = { stage: agg.stage, decisions: 0, samples: 0, pendingHuman: 0, pendingAi: 0, cohorts: [] };
      byStage.set(agg.stage, summary);
    }
    summary.decisions += agg.decisions;
    summary.samples += agg.compared;
    summary.pendingHuman += agg.pendingHuman;
    summary.pendingAi += agg.pendingAi;
    if (agg.aiAttempted > 0 || agg.compared > 0) {
      summary.cohorts.push(computeCohortMetrics(agg, cohortMetricsOptions(plan, agg.stage)));
    }
  }
  const order: Mode[] = ['shadow', 'human-reviewed', 'limited-autonomous', 'disabled'];
  return [...byStage.values()].sort((a, b) => order.indexOf(a.stage) - order.indexOf(b.stage));
}

/** What a cohort's metrics take from the plan, for a cohort of `stage`. */
export function cohortMetricsOptions(plan: Plan, stage: Mode): CohortMetricsOptions {
  const labels = plan.decision.type === 'label';
  const autonomous = stage === 'limited-autonomous' ? plan.stages['limited-autonomous'] : undefined;
  return {
    humanCostPerDecision: plan.humanCostPerDecision,
    ...(plan.decision.type === 'label' ? { labels: plan.decision.labels } : {}),
    ...(labels && (plan.errorCosts !== undefined || plan.defaultErrorCost > 0)
      ? { errorCosts: { costs: plan.errorCosts, defaultCost: plan.defaultErrorCost } }
      : {}),
    gateConfidence: plan.confidence,
    ...(autonomous ? { autonomousAuditRate: autonomous.auditRate } : {}),
  };
}

/** The cohort a gate judges: current stage and AI configuration, the model version seen last. */
export function currentCohort(stages: StageSummary[], stage: Mode, aiConfig: string): CohortMetrics | null {
  const candidates = stages
    .find((s) => s.stage === stage)
    ?.cohorts.filter((c) => c.aiConfig === aiConfig && c.modelVersion !== null);
  if (!candidates || candidates.length === 0) return null;
  return candidates.reduce((latest, c) =>
    (c.lastDecisionAt ?? '') > (latest.lastDecisionAt ?? '') ? c : latest,
  );
}
