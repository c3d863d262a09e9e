/**
 * Label use cases for the gate simulation (issue 14): invoices arrive 90/7/3 approve/reject/
 * escalate, an AI answers each with a known (human, AI) joint distribution, and the gate judges
 * per-label recall bars or a maximum mean error cost. The cohort is built as the controller builds
 * it: a CohortAggregate with the confusion counts, turned into metrics by the real
 * computeCohortMetrics with cohortMetricsOptions(plan, 'shadow'), judged by the real assessGate,
 * after every decision.
 */
import { computeCohortMetrics } from '../../src/metrics/cohort-metrics.js';
import type { CohortAggregate } from '../../src/metrics/metrics-types.js';
import { cohortMetricsOptions } from '../../src/metrics/stage-summary.js';
import { type Plan, type PlanInput, planSchema } from '../../src/plans/plan-schema.js';
import { assessGate } from '../../src/promotion/gate-assessment.js';

export const LABELS = ['approve', 'reject', 'escalate'] as const;
export type Label = (typeof LABELS)[number];

/**
 * Probabilities are integers per million, so a distribution "exactly at the bar" is exactly at it:
 * decisions are drawn uniformly from 1,000,000 (by rejection from 32 bits, no modulo bias).
 */
export const PER = 1_000_000;

/** One cell of the joint distribution: the human said `human`, the AI `ai`, in `perMillion` of decisions. */
export interface Cell {
  human: Label;
  ai: Label;
  perMillion: number;
}

type PromoteWhenInput = NonNullable<NonNullable<PlanInput['stages']>['shadow']>['promoteWhen'];

export interface LabelTraffic {
  cells: Cell[];
  promoteWhen: PromoteWhenInput;
  errorCosts?: PlanInput['errorCosts'];
}

/** The price of errors: what it costs when the AI says X and the human said Y (USD). */
export const ERROR_COSTS = { approve: { reject: 500, escalate: 40 }, reject: { approve: 25 } };

/** 90/7/3 traffic; per human label, the AI's answers per million of all decisions. */
const TRAFFIC: Record<Label, number> = { approve: 900_000, reject: 70_000, escalate: 30_000 };

/**
 * The joint distribution from each human label's traffic and the AI's answers to it, given as
 * shares of that label's traffic that are whole per-million counts of all decisions.
 */
export function joint(answers: Record<Label, Partial<Record<Label, number>>>): Cell[] {
  const cells: Cell[] = [];
  for (const human of LABELS) {
    let given = 0;
    for (const ai of LABELS) {
      const perMillion = Math.round((answers[human][ai] ?? 0) * TRAFFIC[human]);
      if (Math.abs(perMillion - (answers[human][ai] ?? 0) * TRAFFIC[human]) > 1e-6) {
        throw new Error(`${human}→${ai}: not a whole number per million`);
      }
      given += perMillion;
      if (perMillion > 0) cells.push({ human, ai, perMillion });
    }
    if (given !== TRAFFIC[human]) throw new Error(`${human}: answers do not add up to 1`);
  }
  return cells;
}

/** True recall of each label and true mean error cost (USD per decision) of a distribution. */
export function truthOf(cells: readonly Cell[]): { recall: Record<string, number>; cost: number } {
  const support: Record<string, number> = {};
  const hits: Record<string, number> = {};
  let cost = 0;
  for (const c of cells) {
    support[c.human] = (support[c.human] ?? 0) + c.perMillion;
    if (c.human === c.ai) hits[c.human] = (hits[c.human] ?? 0) + c.perMillion;
    const row = (ERROR_COSTS as Record<string, Record<string, number>>)[c.ai];
    if (c.human !== c.ai) cost += c.perMillion * (row?.[c.human] ?? 0);
  }
  const recall: Record<string, number> = {};
  for (const label of Object.keys(support)) recall[label] = (hits[label] ?? 0) / support[label]!;
  return { recall, cost: cost / PER };
}

/**
 * Every criterion whose truth is at or below its bar (recall) or at or above its maximum (cost):
 * a promotion while one of them is false in truth is a false one.
 */
export function falseCriteria(traffic: LabelTraffic): string[] {
  const truth = truthOf(traffic.cells);
  const when = traffic.promoteWhen ?? {};
  const out: string[] = [];
  for (const [label, bar] of Object.entries(when.labelRecallLowerBound ?? {})) {
    if ((truth.recall[label] ?? 0) <= bar + 1e-12) out.push(`labelRecallLowerBound:${label}`);
  }
  if (when.maxErrorCostPerDecision !== undefined && truth.cost >= when.maxErrorCostPerDecision - 1e-12) {
    out.push('maxErrorCostPerDecision');
  }
  return out;
}

/** Right 97% of the time on every label, its errors split evenly between the other two labels. */
const GOOD_AI = joint({
  approve: { approve: 0.97, reject: 0.015, escalate: 0.015 },
  reject: { reject: 0.97, approve: 0.015, escalate: 0.015 },
  escalate: { escalate: 0.97, approve: 0.015, reject: 0.015 },
});

/** Reject recall exactly 0.90, approve and escalate 0.99; misses split evenly. */
const REJECT_AT_BAR = joint({
  approve: { approve: 0.99, reject: 0.005, escalate: 0.005 },
  reject: { reject: 0.9, approve: 0.05, escalate: 0.05 },
  escalate: { escalate: 0.99, approve: 0.005, reject: 0.005 },
});

/**
 * A mean error cost of exactly 5 USD per decision under ERROR_COSTS: 10% of rejections approved
 * (0.07 × 0.10 × 500 = 3.50), 6% of approvals rejected (0.90 × 0.06 × 25 = 1.35), 12.5% of
 * escalations approved (0.03 × 0.125 × 40 = 0.15).
 */
const COST_AT_MAX = joint({
  approve: { approve: 0.94, reject: 0.06 },
  reject: { reject: 0.9, approve: 0.1 },
  escalate: { escalate: 0.875, approve: 0.125 },
});

export interface LabelScenarioSpec {
  id: string;
  label: string;
  traffic: LabelTraffic;
  /** The bound the deciding criterion uses, as the table names it. */
  bound: string;
  horizon: number;
  budget?: number;
}

/** Power rows stop at promotion; this long a horizon only bounds the never-promoted ones. */
const POWER_HORIZON = 5000;
/** The power rows report the share promoted within this many decisions (issue 14's scenario tests' figure). */
const POWER_BUDGET = 1500;

export function labelScenarios(horizon: number): LabelScenarioSpec[] {
  const costs = { errorCosts: ERROR_COSTS };
  return [
    {
      id: 'recall-at',
      label: 'reject recall 0.90 (others 0.99), bar reject 0.90',
      traffic: { cells: REJECT_AT_BAR, promoteWhen: { labelRecallLowerBound: { reject: 0.9 } } },
      bound: 'sequential',
      horizon,
    },
    {
      id: 'recall-one-at',
      label: 'reject recall 0.90 (others 0.99), bar 0.90 on all three',
      traffic: {
        cells: REJECT_AT_BAR,
        promoteWhen: { labelRecallLowerBound: { approve: 0.9, reject: 0.9, escalate: 0.9 } },
      },
      bound: 'sequential',
      horizon,
    },
    {
      id: 'cost-at',
      label: 'error cost 5.00 USD, max 5 USD',
      traffic: { cells: COST_AT_MAX, promoteWhen: { maxErrorCostPerDecision: 5 }, ...costs },
      bound: 'bounded mean',
      horizon,
    },
    {
      id: 'recall-good',
      label: '97% on every label, bar reject 0.70',
      traffic: { cells: GOOD_AI, promoteWhen: { labelRecallLowerBound: { reject: 0.7 } } },
      bound: 'sequential',
      horizon: Math.min(horizon, POWER_HORIZON),
      budget: POWER_BUDGET,
    },
    {
      id: 'cost-good',
      label: `97% on every label (${truthOf(GOOD_AI).cost.toFixed(2)} USD), max 5 USD`,
      traffic: { cells: GOOD_AI, promoteWhen: { maxErrorCostPerDecision: 5 }, ...costs },
      bound: 'bounded mean',
      horizon: Math.min(horizon, POWER_HORIZON),
      budget: POWER_BUDGET,
    },
  ];
}

export function labelPlan(traffic: LabelTraffic, confidence: number): Plan {
  return planSchema.parse({
    useCase: 'simulated-invoices',
    owner: 'simulation@example.com',
    decision: { type: 'label', labels: [...LABELS] },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' },
    confidence,
    ...(traffic.errorCosts ? { errorCosts: traffic.errorCosts } : {}),
    stages: {
      shadow: { promoteWhen: { minSamples: 0, ...traffic.promoteWhen }, approval: 'automatic' },
      'human-reviewed': {},
    },
  });
}

function emptyAggregate(cells: readonly Cell[]): CohortAggregate {
  return {
    stage: 'shadow',
    aiConfig: 'simulated',
    modelVersion: 'm1',
    decisions: 0,
    compared: 0,
    scoreSum: 0,
    aiAttempted: 0,
    aiErrors: 0,
    latencyP50Ms: null,
    latencyP95Ms: null,
    aiCostSum: 0,
    inputTokensSum: 0,
    outputTokensSum: 0,
    humanDecisions: 0,
    pendingHuman: 0,
    pendingAi: 0,
    aiFailedWithHuman: 0,
    firstDecisionAt: null,
    lastDecisionAt: null,
    // One entry per cell, counts updated in place: what SQL's GROUP BY (human, ai) returns.
    confusion: cells.map((c) => ({ human: c.human, ai: c.ai, count: 0 })),
    segments: [],
    labelFailures: [],
  };
}

/**
 * One simulated use case: each decision is drawn from the joint distribution, added to the
 * aggregate, and the gate is assessed on the metrics computed from it. Returns the decisions seen
 * when the gate first said eligible, or 0 if it never did within the horizon.
 */
export function simulateLabelUseCase(
  traffic: LabelTraffic,
  plan: Plan,
  horizon: number,
  next: () => number,
): number {
  const cells = traffic.cells;
  const cumulative = new Int32Array(cells.length);
  let total = 0;
  for (let i = 0; i < cells.length; i++) {
    total += cells[i]!.perMillion;
    cumulative[i] = total;
  }
  if (total !== PER) throw new Error('the joint distribution does not add up to one million');
  const agrees = cells.map((c) => (c.human === c.ai ? 1 : 0));
  // The largest multiple of PER below 2^32: draws at or above it are redrawn (no modulo bias).
  const limit = 2 ** 32 - (2 ** 32 % PER);
  const aggregate = emptyAggregate(cells);
  const options = cohortMetricsOptions(plan, 'shadow');
  const at = new Date(0);
  for (let t = 1; t <= horizon; t++) {
    let u = next();
    while (u >= limit) u = next();
    const x = u % PER;
    let i = 0;
    while (x >= cumulative[i]!) i++;
    aggregate.confusion[i]!.count += 1;
    aggregate.decisions = t;
    aggregate.compared = t;
    aggregate.aiAttempted = t;
    aggregate.humanDecisions = t;
    aggregate.scoreSum += agrees[i]!;
    const metrics = computeCohortMetrics(aggregate, options);
    if (assessGate({ plan, stage: 'shadow', metrics, stageEnteredAt: at, now: at }).verdict === 'eligible') {
      return t;
    }
  }
  return 0;
}
