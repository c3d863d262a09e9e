import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeCohortMetrics } from '../../src/metrics/cohort-metrics.js';
import type { CohortAggregate, CohortMetrics } from '../../src/metrics/metrics-types.js';
import { cohortMetricsOptions } from '../../src/metrics/stage-summary.js';
import {
  type GateReading,
  GateScrape,
  type GateSeries,
  gateReadings,
  gateSeries,
  registerGateGauges,
} from '../../src/observability/gate-metrics.js';
import { type Plan, type PlanInput, planSchema } from '../../src/plans/plan-schema.js';
import type { UseCase } from '../../src/plans/use-case-store.js';
import { assessGate } from '../../src/promotion/gate-assessment.js';

const ENTERED = new Date('2026-03-01T00:00:00Z');
const NOW = new Date('2026-04-01T00:00:00Z');
const LABELS = ['approve', 'reject', 'escalate'];

type PromoteWhenInput = NonNullable<NonNullable<PlanInput['stages']>['shadow']>['promoteWhen'];

function plan(promoteWhen: PromoteWhenInput, extra: Partial<PlanInput> = {}): Plan {
  return planSchema.parse({
    useCase: 'invoices',
    owner: 'ap@example.com',
    decision: { type: 'label', labels: LABELS },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
    stages: { shadow: { promoteWhen }, 'human-reviewed': {} },
    ...extra,
  });
}

/**
 * 200 compared shadow decisions: approve 150 (140 right, 10 said reject), reject 40 (30 right,
 * 10 approved), escalate 10 (5 right, 5 approved), and an AI answer outside the plan ("maybe")
 * on 0 of them; 8 failed calls on rejections.
 */
const CELLS: Array<[string, string, number]> = [
  ['approve', 'approve', 140],
  ['approve', 'reject', 10],
  ['reject', 'reject', 30],
  ['reject', 'approve', 10],
  ['escalate', 'escalate', 5],
  ['escalate', 'approve', 4],
  ['escalate', 'maybe', 1],
];
const FAILED_REJECTIONS = 8;

function aggregate(): CohortAggregate {
  const compared = CELLS.reduce((n, [, , c]) => n + c, 0);
  const agreeing = CELLS.reduce((n, [h, a, c]) => n + (h === a ? c : 0), 0);
  return {
    stage: 'shadow',
    aiConfig: 'cfg',
    modelVersion: 'm1',
    decisions: compared + FAILED_REJECTIONS,
    compared,
    scoreSum: agreeing,
    aiAttempted: compared + FAILED_REJECTIONS,
    aiErrors: FAILED_REJECTIONS,
    latencyP50Ms: null,
    latencyP95Ms: null,
    aiCostSum: 0.2,
    inputTokensSum: 0,
    outputTokensSum: 0,
    humanDecisions: compared + FAILED_REJECTIONS,
    pendingHuman: 0,
    pendingAi: 0,
    aiFailedWithHuman: FAILED_REJECTIONS,
    firstDecisionAt: ENTERED,
    lastDecisionAt: NOW,
    confusion: CELLS.map(([human, ai, count]) => ({ human, ai, count })),
    segments: [],
    labelFailures: [{ human: 'reject', count: FAILED_REJECTIONS }],
  };
}

function reading(p: Plan, cohort: CohortMetrics | null = cohortOf(p)): GateReading {
  const gate = assessGate({ plan: p, stage: 'shadow', metrics: cohort, stageEnteredAt: ENTERED, now: NOW });
  return { useCase: 'invoices', stage: 'shadow', plan: p, cohort, gate };
}

function cohortOf(p: Plan): CohortMetrics {
  return computeCohortMetrics(aggregate(), cohortMetricsOptions(p, 'shadow'));
}

describe('the gate figures of one use case', () => {
  it("when the gate has an agreementLowerBound, then the bound is that criterion's actual and the bar is its required", () => {
    const p = plan({ minSamples: 50, agreementLowerBound: 0.8 });
    const r = reading(p);
    const criterion = r.gate.criteria.find((c) => c.name === 'agreementLowerBound')!;
    const series = gateSeries(r);
    expect(typeof criterion.actual).toBe('number');
    expect(series.agreementBound).toBe(criterion.actual);
    expect(series.agreementRequired).toBe(0.8);
    expect(series.samples).toBe(200);
    expect(series.agreement).toBe(175 / 200);
    expect(series.agreementWithFailures).toBe(175 / 208);
    expect(series.coverage).toBe(200 / 208);
    expect(series.verdict).toBe(r.gate.verdict);
  });

  it('when the gate has no agreement bar, then the bound is the one the gate would compute with it, failures counted as the plan says', () => {
    for (const aiFailures of ['disagree', 'exclude'] as const) {
      const without = gateSeries(reading(plan({ minSamples: 50 }, { aiFailures })));
      const withBar = reading(plan({ minSamples: 50, agreementLowerBound: 0.5 }, { aiFailures }));
      const actual = withBar.gate.criteria.find((c) => c.name === 'agreementLowerBound')!.actual;
      expect(without.agreementBound).toBe(actual);
      expect(without.agreementRequired).toBeNull();
    }
    const counted = gateSeries(reading(plan({ minSamples: 50 }, { aiFailures: 'disagree' })));
    const excluded = gateSeries(reading(plan({ minSamples: 50 }, { aiFailures: 'exclude' })));
    expect(counted.agreementBound!).toBeLessThan(excluded.agreementBound!);
  });

  it("when the AI answered a label outside the plan, then recall is reported for the plan's labels only, in plan order", () => {
    const series = gateSeries(reading(plan({ minSamples: 50 })));
    expect(series.labels).toEqual([
      { label: 'approve', samples: 150, recall: 140 / 150 },
      { label: 'reject', samples: 40, recall: 30 / 40 },
      { label: 'escalate', samples: 10, recall: 5 / 10 },
    ]);
  });

  it('when the plan prices errors, then the error cost and its upper bound are reported; without prices, neither', () => {
    const priced = plan({ minSamples: 50 }, { errorCosts: { approve: { reject: 500 } } });
    const series = gateSeries(reading(priced));
    // 10 rejections approved at 500 over 200 compared decisions.
    expect(series.errorCostPerDecision).toBeCloseTo(25, 12);
    expect(series.errorCostUpperBound!).toBeGreaterThan(25);
    expect(series.errorCostUpperBound).toBe(cohortOf(priced).errorCost!.upperBound);
    const unpriced = gateSeries(reading(plan({ minSamples: 50 })));
    expect(unpriced.errorCostPerDecision).toBeNull();
    expect(unpriced.errorCostUpperBound).toBeNull();
  });

  it('when the stage has no cohort yet, then only the sample count and the verdict are figures', () => {
    const series = gateSeries(reading(plan({ minSamples: 50, agreementLowerBound: 0.8 }), null));
    expect(series).toMatchObject({
      samples: 0,
      agreement: null,
      agreementBound: null,
      coverage: null,
      labels: [],
      costPerDecision: null,
      verdict: 'inconclusive',
    });
  });
});

describe('reading every gate', () => {
  it('when there are many use cases, then their cohorts are read in one batch and each is judged as the API judges it', async () => {
    const p = plan({ minSamples: 50, agreementLowerBound: 0.8 });
    const useCases = ['a', 'b', 'c'].map(
      (id) => ({ id, stage: 'shadow', plan: p, stageEnteredAt: ENTERED }) as unknown as UseCase,
    );
    const list = vi.fn(async () => useCases);
    const cohorts = vi.fn(
      async (all: readonly UseCase[]) => new Map(all.map((u) => [u.id, u.id === 'b' ? null : cohortOf(p)])),
    );
    const readings = await gateReadings({ useCases: { list }, gates: { cohorts }, clock: () => NOW })();
    expect(list).toHaveBeenCalledTimes(1);
    expect(cohorts).toHaveBeenCalledTimes(1);
    expect(cohorts.mock.calls[0]![0]).toEqual(useCases);
    expect(readings.map((r) => [r.useCase, r.gate])).toEqual([
      ['a', reading(p).gate],
      ['b', reading(p, null).gate],
      ['c', reading(p).gate],
    ]);
  });
});

describe('the gate gauges', () => {
  const series = (over: Partial<GateSeries>): GateSeries => ({
    useCase: 'invoices',
    stage: 'shadow',
    samples: 10,
    agreement: 0.9,
    agreementWithFailures: 0.85,
    agreementBound: null,
    agreementRequired: null,
    coverage: 1,
    labels: [{ label: 'reject', samples: 0, recall: null }],
    errorCostPerDecision: null,
    errorCostUpperBound: null,
    costPerDecision: 0.5,
    verdict: 'blocked',
    judge: null,
    ...over,
  });

  async function scrape(rows: GateSeries[] | null) {
    const registry = new Registry();
    registerGateGauges(registry, async () => rows);
    return (await registry.getMetricsAsJSON()) as unknown as Array<{
      name: string;
      values: Array<{ value: number; labels: Record<string, string> }>;
    }>;
  }

  it('when a use case is judged, then each verdict has a series and only the current one is 1', async () => {
    const metrics = await scrape([
      series({}),
      series({ useCase: 'refunds', stage: 'human-reviewed', verdict: 'none' }),
    ]);
    const verdicts = metrics.find((m) => m.name === 'shadowgate_gate_verdict')!.values;
    expect(verdicts).toHaveLength(8);
    const ones = verdicts.filter((v) => v.value === 1).map((v) => v.labels);
    expect(ones).toEqual([
      { use_case: 'invoices', stage: 'shadow', verdict: 'blocked' },
      { use_case: 'refunds', stage: 'human-reviewed', verdict: 'none' },
    ]);
  });

  it('when a figure is null, then its series is left out rather than shown as 0', async () => {
    const metrics = await scrape([series({})]);
    const values = (name: string) => metrics.find((m) => m.name === name)!.values;
    expect(values('shadowgate_gate_agreement_bound')).toEqual([]);
    expect(values('shadowgate_cohort_label_recall')).toEqual([]);
    expect(values('shadowgate_cohort_label_samples')).toEqual([
      { value: 0, labels: { use_case: 'invoices', stage: 'shadow', label: 'reject' } },
    ]);
    expect(values('shadowgate_cohort_agreement')).toEqual([
      { value: 0.9, labels: { use_case: 'invoices', stage: 'shadow' } },
    ]);
  });

  it("when a judge's plan has ratings, then the judge's calibration has a series per use case; without a judge, none", async () => {
    const metrics = await scrape([
      series({ judge: { rated: 120, agreement: 0.95, agreementLowerBound: 0.86, kappa: 0.89 } }),
      series({ useCase: 'refunds' }),
    ]);
    const values = (name: string) => metrics.find((m) => m.name === name)!.values;
    const labels = { use_case: 'invoices', stage: 'shadow' };
    expect(values('shadowgate_judge_ratings')).toEqual([{ value: 120, labels }]);
    expect(values('shadowgate_judge_agreement')).toEqual([{ value: 0.95, labels }]);
    expect(values('shadowgate_judge_agreement_bound')).toEqual([{ value: 0.86, labels }]);
    expect(values('shadowgate_judge_kappa')).toEqual([{ value: 0.89, labels }]);
  });

  it('when the read failed, then no gate series is exported', async () => {
    const metrics = await scrape(null);
    const gate = metrics.filter((m) => m.name.startsWith('shadowgate_'));
    expect(gate.length).toBeGreaterThan(0);
    expect(gate.flatMap((m) => m.values)).toEqual([]);
  });
});

describe('reading the gates for a scrape', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const one: GateReading = reading(plan({ minSamples: 50 }));

  it('when scrapes come together or within the reuse time, then the gates are read once', async () => {
    vi.useFakeTimers();
    const read = vi.fn(async () => [one]);
    const scrape = new GateScrape(read, { ttlMs: 5_000, waitMs: 3_000 });
    const [a, b] = await Promise.all([scrape.current(), scrape.current()]);
    expect(a).toEqual(b);
    vi.advanceTimersByTime(4_000);
    await scrape.current();
    expect(read).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_500);
    expect((await scrape.current())?.[0]?.useCase).toBe('invoices');
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('when the read is slower than the wait, then the scrape goes on without the gates, and the next scrape waits for the same read', async () => {
    vi.useFakeTimers();
    let answer: (rows: GateReading[]) => void = () => {};
    const read = vi.fn(() => new Promise<GateReading[]>((resolve) => (answer = resolve)));
    const warn = vi.fn();
    const scrape = new GateScrape(read, {
      ttlMs: 5_000,
      waitMs: 3_000,
      logger: { warn } as unknown as GateScrapeLogger,
    });
    const first = scrape.current();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await first).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    const second = scrape.current();
    answer([one]);
    expect((await second)?.map((s) => s.useCase)).toEqual(['invoices']);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('when the read fails, then the scrape has no gates, the failure is logged, and a later scrape reads again', async () => {
    vi.useFakeTimers();
    const read = vi.fn().mockRejectedValueOnce(new Error('connection refused')).mockResolvedValue([one]);
    const warn = vi.fn();
    const scrape = new GateScrape(read, {
      ttlMs: 5_000,
      waitMs: 3_000,
      logger: { warn } as unknown as GateScrapeLogger,
    });
    expect(await scrape.current()).toBeNull();
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.any(Error) }),
      expect.any(String),
    );
    vi.advanceTimersByTime(5_000);
    expect(await scrape.current()).toHaveLength(1);
  });
});

type GateScrapeLogger = NonNullable<ConstructorParameters<typeof GateScrape>[1]['logger']>;
