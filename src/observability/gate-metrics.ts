import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { CohortMetrics } from '../metrics/metrics-types.js';
import type { JudgeVersionCalibration } from '../metrics/judge-calibration.js';
import type { Mode, Plan } from '../plans/plan-schema.js';
import type { UseCase } from '../plans/use-case-store.js';
import { judge } from '../promotion/gate-evaluator.js';
import type { GateAssessment, GateVerdict } from '../promotion/gate-types.js';
import { agreementLowerBoundFor } from '../statistics/agreement-bound.js';

/** One use case's gate as a scrape sees it: what `GET /v1/use-cases/:id` shows as its gate. */
export interface GateReading {
  useCase: string;
  stage: Mode;
  plan: Plan;
  /** The cohort the gate judges (current stage, serving AI configuration); null before one. */
  cohort: CohortMetrics | null;
  gate: GateAssessment;
}

/** The figures exported for one use case; null figures are left out of the scrape. */
export interface GateSeries {
  useCase: string;
  stage: Mode;
  samples: number;
  agreement: number | null;
  agreementWithFailures: number | null;
  /** The gate's agreement lower bound (see `gateSeries`). */
  agreementBound: number | null;
  /** The plan's `agreementLowerBound` for this stage; null without one. */
  agreementRequired: number | null;
  coverage: number | null;
  /** The plan's labels only, in plan order (at most 100: the plan schema's limit, kept here too). */
  labels: Array<{ label: string; samples: number; recall: number | null }>;
  errorCostPerDecision: number | null;
  errorCostUpperBound: number | null;
  costPerDecision: number | null;
  verdict: GateVerdict;
  /**
   * A judge's plan: the calibration of the judge version that scores the cohort's newest decisions
   * (README "Is the judge right?"); null without a judge or before it scored anything.
   */
  judge: Pick<JudgeVersionCalibration, 'rated' | 'agreement' | 'agreementLowerBound' | 'kappa'> | null;
}

export const GATE_VERDICTS: readonly GateVerdict[] = ['eligible', 'inconclusive', 'blocked', 'none'];

/** Label series per use case and gauge, at most; the plan schema allows no more labels. */
export const MAX_LABEL_SERIES = 100;

/**
 * Reads the gate cohorts of every use case in one batched read (the tick's, GateEvaluator.cohorts)
 * and judges each as `GET /v1/use-cases/:id` does. Never a read per use case.
 */
export function gateReadings(deps: {
  useCases: { list(): Promise<UseCase[]> };
  gates: { cohorts(useCases: readonly UseCase[]): Promise<Map<string, CohortMetrics | null>> };
  clock: () => Date;
}): () => Promise<GateReading[]> {
  return async () => {
    const useCases = await deps.useCases.list();
    const cohorts = await deps.gates.cohorts(useCases);
    const now = deps.clock();
    return useCases.map((u) => {
      const cohort = cohorts.get(u.id) ?? null;
      return { useCase: u.id, stage: u.stage, plan: u.plan, cohort, gate: judge(u, cohort, now) };
    });
  };
}

/**
 * The figures of one gate. The agreement bound is the `agreementLowerBound` criterion's `actual`
 * when the stage's gate has one; otherwise the same bound computed as the gate would (the plan's
 * `statistics` at its `confidence`, failures counted as its `aiFailures` says), so a stage
 * without that criterion (limited-autonomous, a plan without the bar) still shows it.
 */
export function gateSeries(reading: GateReading): GateSeries {
  const { plan, cohort, gate } = reading;
  const criterion = gate.criteria.find((c) => c.name === 'agreementLowerBound');
  const samples = cohort?.samples ?? 0;
  let agreementBound: number | null = null;
  if (criterion !== undefined) {
    agreementBound = typeof criterion.actual === 'number' ? criterion.actual : null;
  } else if (cohort !== null && cohort.agreement !== null) {
    const failures = plan.aiFailures === 'disagree' ? cohort.aiFailedWithHuman : 0;
    const sum = cohort.agreement * samples;
    agreementBound = agreementLowerBoundFor(plan.statistics, sum, samples + failures, plan.confidence);
  }
  const required =
    criterion !== undefined && typeof criterion.required === 'number' ? criterion.required : null;
  const perLabel = new Map((cohort?.perLabel ?? []).map((l) => [l.label, l]));
  const planLabels = plan.decision.type === 'label' ? plan.decision.labels.slice(0, MAX_LABEL_SERIES) : [];
  return {
    useCase: reading.useCase,
    stage: reading.stage,
    samples,
    agreement: cohort?.agreement ?? null,
    agreementWithFailures: cohort?.agreementWithFailures ?? null,
    agreementBound,
    agreementRequired: required,
    coverage: cohort?.coverage ?? null,
    labels:
      cohort === null
        ? []
        : planLabels.map((label) => {
            const l = perLabel.get(label);
            return { label, samples: l?.support ?? 0, recall: l?.recall ?? null };
          }),
    errorCostPerDecision: cohort?.errorCost?.perDecision ?? null,
    errorCostUpperBound: cohort?.errorCost?.upperBound ?? null,
    costPerDecision: cohort?.costPerDecision ?? null,
    verdict: gate.verdict,
    judge: currentJudge(cohort),
  };
}

function currentJudge(cohort: CohortMetrics | null): GateSeries['judge'] {
  const calibration = cohort?.judgeCalibration;
  if (!calibration || calibration.currentJudgeVersion === null) return null;
  const v = calibration.versions.find((x) => x.judgeVersion === calibration.currentJudgeVersion);
  if (!v) return { rated: 0, agreement: null, agreementLowerBound: null, kappa: null };
  return {
    rated: v.rated,
    agreement: v.agreement,
    agreementLowerBound: v.agreementLowerBound,
    kappa: v.kappa,
  };
}

export interface GateScrapeOptions {
  /** A read this recent is reused: scrapes close together (several Prometheus servers) share it. */
  ttlMs: number;
  /** How long a scrape waits for the read; past it the gate gauges are left out of that scrape. */
  waitMs: number;
  logger?: Logger | undefined;
}

/**
 * The gate figures for the scrape: one read at a time (a scrape while one runs waits for that
 * one), reused for `ttlMs`. A read that fails, or has not answered within `waitMs` (a slow
 * database), leaves the gate gauges out of the scrape rather than holding it or showing figures
 * of an earlier read; the late read still finishes and serves the scrapes after it.
 */
export class GateScrape {
  private last: { at: number; value: GateSeries[] | null } | null = null;
  private reading: Promise<GateSeries[] | null> | null = null;
  private waiting: Promise<GateSeries[] | null> | null = null;

  constructor(
    private readonly read: () => Promise<GateReading[]>,
    private readonly options: GateScrapeOptions,
  ) {}

  current(): Promise<GateSeries[] | null> {
    if (this.last !== null && Date.now() - this.last.at < this.options.ttlMs) {
      return Promise.resolve(this.last.value);
    }
    if (this.waiting !== null) return this.waiting;
    this.reading ??= this.start();
    const waiting = within(this.reading, this.options.waitMs).then((value) => {
      if (value === LATE) {
        this.options.logger?.warn(
          { waitMs: this.options.waitMs },
          'metrics scrape left out the gate gauges: the gate cohorts were not read in time',
        );
        return null;
      }
      return value;
    });
    this.waiting = waiting;
    void waiting.finally(() => {
      if (this.waiting === waiting) this.waiting = null;
    });
    return waiting;
  }

  private async start(): Promise<GateSeries[] | null> {
    let value: GateSeries[] | null;
    try {
      value = (await this.read()).map(gateSeries);
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'metrics scrape could not read the gate cohorts');
      value = null;
    }
    this.last = { at: Date.now(), value };
    this.reading = null;
    return value;
  }
}

const LATE = Symbol('late');

async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms).unref();
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The gate gauges, collected from one `GateScrape` read per scrape. Labels: `use_case`, `stage`,
 * and `label` (the plan's labels) or `verdict`; nothing per request, model version or AI configuration.
 */
export function registerGateGauges(registry: Registry, scrape: () => Promise<GateSeries[] | null>): void {
  const registers = [registry];
  const perUseCase = (name: string, help: string, figure: (s: GateSeries) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['use_case', 'stage'],
      registers,
      async collect() {
        this.reset();
        for (const s of (await scrape()) ?? []) {
          const value = figure(s);
          if (value !== null && Number.isFinite(value))
            this.set({ use_case: s.useCase, stage: s.stage }, value);
        }
      },
    });
  const perLabel = (name: string, help: string, figure: (l: GateSeries['labels'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['use_case', 'stage', 'label'],
      registers,
      async collect() {
        this.reset();
        for (const s of (await scrape()) ?? []) {
          for (const l of s.labels) {
            const value = figure(l);
            if (value !== null && Number.isFinite(value)) {
              this.set({ use_case: s.useCase, stage: s.stage, label: l.label }, value);
            }
          }
        }
      },
    });

  perUseCase(
    'shadowgate_cohort_samples',
    "Compared decisions (both sides present) in the gate's cohort: the current stage's visit under the serving AI configuration",
    (s) => s.samples,
  );
  perUseCase(
    'shadowgate_cohort_agreement',
    "Mean agreement of the compared decisions in the gate's cohort (the API's `agreement`)",
    (s) => s.agreement,
  );
  perUseCase(
    'shadowgate_cohort_agreement_with_failures',
    "Agreement in the gate's cohort with AI calls failed for good on human-decided requests counted as disagreements",
    (s) => s.agreementWithFailures,
  );
  perUseCase(
    'shadowgate_gate_agreement_bound',
    "The gate's agreement lower bound: the agreementLowerBound criterion's actual, else the same bound at the plan's statistics and confidence",
    (s) => s.agreementBound,
  );
  perUseCase(
    'shadowgate_gate_agreement_required',
    "The plan's agreementLowerBound for the current stage's gate; absent without one",
    (s) => s.agreementRequired,
  );
  perUseCase(
    'shadowgate_cohort_coverage',
    "Decisions with an AI answer / decisions owed one, in the gate's cohort",
    (s) => s.coverage,
  );
  perLabel(
    'shadowgate_cohort_label_recall',
    "Per plan label: of the compared decisions the human gave that label, the share the AI gave it too (gate's cohort)",
    (l) => l.recall,
  );
  perLabel(
    'shadowgate_cohort_label_samples',
    "Per plan label: compared decisions the human gave that label (the recall's denominator, gate's cohort)",
    (l) => l.samples,
  );
  perUseCase(
    'shadowgate_cohort_error_cost_per_decision_usd',
    "Mean cost of the AI's errors per compared decision under the plan's errorCosts, USD; absent when the plan prices no error",
    (s) => s.errorCostPerDecision,
  );
  perUseCase(
    'shadowgate_cohort_error_cost_upper_bound_usd',
    'Anytime-valid upper bound of that mean at the plan confidence, USD (what maxErrorCostPerDecision is judged on)',
    (s) => s.errorCostUpperBound,
  );
  perUseCase(
    'shadowgate_cohort_cost_per_decision_usd',
    "Cost per decision in the gate's cohort, USD: AI cost + human cost of the share a human decided or audited + expected error cost (limited-autonomous)",
    (s) => s.costPerDecision,
  );
  perUseCase(
    'shadowgate_judge_ratings',
    "A judge's plan: people's ratings of the calibration sample folded for the judge version that scores the gate cohort's newest decisions",
    (s) => s.judge?.rated ?? null,
  );
  perUseCase(
    'shadowgate_judge_agreement',
    "A judge's plan: that judge version's agreement with people's ratings (judge acceptable: score >= 0.5)",
    (s) => s.judge?.agreement ?? null,
  );
  perUseCase(
    'shadowgate_judge_agreement_bound',
    "A judge's plan: the anytime-valid lower bound of that agreement at the plan's statistics and confidence (what judgeAgreementLowerBound is judged on)",
    (s) => s.judge?.agreementLowerBound ?? null,
  );
  perUseCase(
    'shadowgate_judge_kappa',
    "A judge's plan: Cohen's kappa of that judge version against people's ratings",
    (s) => s.judge?.kappa ?? null,
  );
  new Gauge({
    name: 'shadowgate_gate_verdict',
    help: "The gate's verdict on the current stage: one series per verdict (eligible, inconclusive, blocked, none), 1 for the current one, 0 for the others",
    labelNames: ['use_case', 'stage', 'verdict'],
    registers,
    async collect() {
      this.reset();
      for (const s of (await scrape()) ?? []) {
        for (const verdict of GATE_VERDICTS) {
          this.set({ use_case: s.useCase, stage: s.stage, verdict }, s.verdict === verdict ? 1 : 0);
        }
      }
    },
  });
}
