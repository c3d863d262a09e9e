/**
 * Gate simulation harness (issue 8): runs the real assessGate over many simulated use cases,
 * checking the gate after every decision, and reports how often a gate promotes an AI whose true
 * agreement is at or below the threshold, and how many decisions a good AI needs to be promoted,
 * for the sequential (anytime-valid) bound and the fixed-sample Wilson bound side by side; and how
 * often a challenger's paired non-inferiority criterion (lower bound on challenger − champion
 * agreement ≥ −margin, src/statistics/paired-difference.ts) holds for a challenger exactly the
 * margin worse than its champion, and how soon for one as good as its champion. Label rows
 * (issue 14, scripts/simulate-gates/label-traffic.ts): per-label recall exactly at its bar and a mean
 * error cost exactly at its maximum on 90/7/3 invoice traffic, and how soon an AI right 97% of the
 * time on every label passes each, the cohort's metrics computed by computeCohortMetrics from its
 * confusion counts after every decision.
 *
 *   tsx scripts/simulate-gates.ts [--use-cases 2000] [--segment-use-cases N] [--label-use-cases N]
 *     [--decisions 20000] [--segment-decisions 2500] [--seed 1] [--workers N] [--only below,at,…]
 *     [--json FILE] [--quick]
 *
 * Deterministic: each use case draws from its own seeded stream, the same for both bounds, so the
 * figures do not depend on the number of workers. Exits 1 when a full run misses a target.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { emptyCohortMetrics } from '../src/metrics/cohort-metrics.js';
import type { CohortMetrics, SegmentMetrics } from '../src/metrics/metrics-types.js';
import { type Plan, planSchema } from '../src/plans/plan-schema.js';
import { assessChallenger } from '../src/promotion/challenger-assessment.js';
import { assessGate } from '../src/promotion/gate-assessment.js';
import {
  addPairedDifference,
  emptyPairedDifference,
  pairedDifferenceBounds,
} from '../src/statistics/paired-difference.js';
import {
  falseCriteria,
  type LabelTraffic,
  labelPlan,
  labelScenarios,
  simulateLabelUseCase,
} from './simulate-gates/label-traffic.js';

const THRESHOLD = 0.9;
const CONFIDENCE = 0.95;
/** A challenger's plan default: it may be at most this much worse than its champion. */
const MARGIN = 0.02;
type Method = Plan['statistics'];
const METHODS: Method[] = ['sequential', 'fixed'];

interface Scenario {
  id: string;
  label: string;
  useCases: number;
  /** True agreement of each segment value; one entry: no segments. */
  truth: number[];
  /** Decisions per segment value (per use case without segments). */
  horizon: number;
  /** Set when the truth is above the threshold: promotion within this many decisions per value counts. */
  budget?: number;
  /**
   * A challenger row: `truth` is the challenger's agreement, this the champion's on the same
   * requests (independent errors, the hardest case: correlated errors make pairs agree more).
   */
  champion?: number;
  /**
   * A label row: invoices drawn from this (human, AI) distribution and judged by its plan's label
   * or error-cost criteria (`truth` is empty; `bound` names the deciding bound).
   */
  traffic?: LabelTraffic;
  bound?: string;
}

interface Options {
  useCases: number;
  segmentUseCases: number;
  labelUseCases: number;
  decisions: number;
  segmentDecisions: number;
  seed: number;
}

function scenarios(o: Options): Scenario[] {
  const eight = (x: number) => Array<number>(8).fill(x);
  const plain = { useCases: o.useCases, horizon: o.decisions };
  const segmented = { useCases: o.segmentUseCases, horizon: o.segmentDecisions };
  return [
    { id: 'below', label: 'no segments, true 0.88', truth: [0.88], ...plain },
    { id: 'at', label: 'no segments, true 0.90', truth: [0.9], ...plain },
    { id: 'above', label: 'no segments, true 0.95', truth: [0.95], ...plain, budget: 2500 },
    { id: 'seg-below', label: '8 segments, all 0.88', truth: eight(0.88), ...segmented },
    { id: 'seg-at', label: '8 segments, all 0.90', truth: eight(0.9), ...segmented },
    {
      id: 'seg-one-at',
      label: '8 segments, one 0.90, seven 0.97',
      truth: [0.9, ...Array<number>(7).fill(0.97)],
      ...segmented,
    },
    {
      id: 'seg-above',
      label: '8 segments, all 0.95',
      truth: eight(0.95),
      ...segmented,
      horizon: Math.max(o.segmentDecisions, 3000),
      budget: 3000,
    },
    {
      id: 'challenger-at-margin',
      label: 'challenger 0.93 vs champion 0.95',
      truth: [0.93],
      champion: 0.95,
      ...plain,
    },
    {
      id: 'challenger-equal',
      label: 'challenger 0.95 vs champion 0.95',
      truth: [0.95],
      champion: 0.95,
      useCases: o.useCases,
      horizon: 5000,
      budget: 5000,
    },
    ...labelScenarios(o.decisions).map((s) => ({ ...s, truth: [], useCases: o.labelUseCases })),
  ];
}

/** The paired criterion and the label rows are judged as the plan default (sequential) judges them. */
function methodsFor(scenario: Scenario): Method[] {
  return scenario.champion === undefined && scenario.traffic === undefined ? METHODS : ['sequential'];
}

/** Its truth is at or below what the criterion must exclude: every pass is a false one. */
function falseIfPassed(scenario: Scenario): boolean {
  if (scenario.traffic) return falseCriteria(scenario.traffic).length > 0;
  if (scenario.champion !== undefined) return scenario.truth[0]! - scenario.champion <= -MARGIN + 1e-12;
  return scenario.truth.some((p) => p <= THRESHOLD);
}

// ---------------------------------------------------------------- one simulated use case

function gatePlan(method: Method, segmented: boolean): Plan {
  return planSchema.parse({
    useCase: 'simulated',
    owner: 'simulation@example.com',
    decision: { type: 'label', labels: ['yes', 'no'] },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' },
    statistics: method,
    confidence: CONFIDENCE,
    segments: segmented ? ['region'] : [],
    stages: {
      shadow: {
        promoteWhen: {
          minSamples: 0,
          agreementLowerBound: THRESHOLD,
          ...(segmented ? { segmentAgreementLowerBound: THRESHOLD } : {}),
        },
        approval: 'automatic',
      },
      'human-reviewed': {},
    },
  });
}

function emptyMetrics(segmentCount: number): CohortMetrics {
  const segments: SegmentMetrics[] = [];
  for (let i = 0; i < segmentCount; i++) {
    segments.push({
      segment: 'region',
      value: `r${i}`,
      samples: 0,
      agreement: null,
      agreementLowerBound: null,
      aiFailures: 0,
    });
  }
  return { ...emptyCohortMetrics({ stage: 'shadow', aiConfig: 'simulated', modelVersion: null }), segments };
}

/** A Weyl sequence through the murmur3 finaliser: fast, 32-bit, good enough for coin flips. */
function random32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a: one independent stream per (seed, scenario, use case). */
function streamSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Decisions arrive round-robin over the segment values; the sums are updated in O(1) and the gate
 * is assessed after every decision. Returns the decisions seen when the gate first said eligible,
 * or 0 if it never did within the horizon.
 */
function simulateUseCase(scenario: Scenario, plan: Plan, seed: number): number {
  const k = scenario.truth.length;
  const segmented = k > 1;
  const cutoffs = scenario.truth.map((p) => Math.floor(p * 2 ** 32));
  const next = random32(seed);
  const metrics = emptyMetrics(segmented ? k : 0);
  const hits = new Float64Array(k);
  const counts = new Float64Array(k);
  const input = { plan, stage: 'shadow' as const, metrics, stageEnteredAt: new Date(0), now: new Date(0) };
  let total = 0;
  let totalHits = 0;
  const last = scenario.horizon * k;
  for (let t = 1; t <= last; t++) {
    const s = (t - 1) % k;
    const agree = next() < cutoffs[s]! ? 1 : 0;
    total += 1;
    totalHits += agree;
    counts[s]! += 1;
    hits[s]! += agree;
    metrics.samples = total;
    metrics.agreement = totalHits / total;
    if (segmented) {
      const m = metrics.segments[s]!;
      m.samples = counts[s]!;
      m.agreement = hits[s]! / counts[s]!;
    }
    if (assessGate(input).verdict === 'eligible') return t;
  }
  return 0;
}

interface Job {
  scenario: Scenario;
  method: Method;
  from: number;
  to: number;
  seed: number;
}

/**
 * A challenger beside its champion on the same requests, judged as the controller judges it
 * (assessChallenger): the shadow gate above on its own cohort against the humans, and the paired
 * sequence of (challenger − champion) score differences, read after every pair. Returns the pairs
 * seen when the verdict first said eligible, or 0 if it never did within the horizon.
 */
function simulateChallenger(scenario: Scenario, plan: Plan, seed: number): number {
  const challengerCutoff = Math.floor(scenario.truth[0]! * 2 ** 32);
  const championCutoff = Math.floor(scenario.champion! * 2 ** 32);
  const next = random32(seed);
  const state = emptyPairedDifference(1 - CONFIDENCE);
  const metrics = emptyMetrics(0);
  const at = new Date(0);
  let hits = 0;
  for (let t = 1; t <= scenario.horizon; t++) {
    const challenger = next() < challengerCutoff ? 1 : 0;
    const champion = next() < championCutoff ? 1 : 0;
    addPairedDifference(state, challenger - champion);
    hits += challenger;
    metrics.samples = t;
    metrics.agreement = hits / t;
    const verdict = assessChallenger({
      plan,
      stage: 'human-reviewed',
      cohort: metrics,
      paired: pairedDifferenceBounds(state),
      margin: MARGIN,
      startedAt: at,
      now: at,
    }).verdict;
    if (verdict === 'eligible') return t;
  }
  return 0;
}

function runJob(job: Job): number[] {
  const { scenario } = job;
  const plan = scenario.traffic
    ? labelPlan(scenario.traffic, CONFIDENCE)
    : gatePlan(job.method, scenario.truth.length > 1);
  const out: number[] = [];
  for (let i = job.from; i < job.to; i++) {
    const seed = streamSeed(`${job.seed}:${scenario.id}:${i}`);
    if (scenario.traffic) {
      out.push(simulateLabelUseCase(scenario.traffic, plan, scenario.horizon, random32(seed)));
    } else if (scenario.champion === undefined) {
      out.push(simulateUseCase(scenario, plan, seed));
    } else {
      out.push(simulateChallenger(scenario, plan, seed));
    }
  }
  return out;
}

if (!isMainThread) {
  parentPort!.on('message', (job: Job) => parentPort!.postMessage(runJob(job)));
} else {
  await main();
}

// ---------------------------------------------------------------- the run and its report

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'use-cases': { type: 'string' },
      'segment-use-cases': { type: 'string' },
      'label-use-cases': { type: 'string' },
      decisions: { type: 'string' },
      'segment-decisions': { type: 'string' },
      seed: { type: 'string', default: '1' },
      workers: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const useCases = Number(values['use-cases'] ?? (quick ? 200 : 2000));
  const decisions = Number(values.decisions ?? (quick ? 5000 : 20_000));
  const options: Options = {
    useCases,
    segmentUseCases: Number(values['segment-use-cases'] ?? useCases),
    labelUseCases: Number(values['label-use-cases'] ?? useCases),
    decisions,
    // By default a segmented use case sees as many decisions in all as an unsegmented one.
    segmentDecisions: Number(values['segment-decisions'] ?? Math.floor(decisions / 8)),
    seed: Number(values.seed),
  };
  const only = values.only?.split(',');
  const chosen = scenarios(options).filter((s) => !only || only.includes(s.id));
  const workers = Math.max(1, Number(values.workers ?? Math.min(availableParallelism(), 8)));

  const started = Date.now();
  const pool = startPool(workers);
  const rows: Row[] = [];
  for (const scenario of chosen) {
    for (const method of methodsFor(scenario)) {
      const rowStarted = Date.now();
      const promotedAt = await pool.run(scenario, method, options.seed);
      const row = summarise(scenario, method, promotedAt, (Date.now() - rowStarted) / 1000);
      const header = rows.length === 0 || (scenario.traffic !== undefined && !rows.some((r) => r.labelRow));
      rows.push(row);
      printRow(row, header);
    }
  }
  await pool.close();
  const seconds = (Date.now() - started) / 1000;
  const checks = targets(rows);
  console.log(`\nseed ${options.seed}, ${workers} workers, ${seconds.toFixed(0)} s in all`);
  for (const c of checks) console.log(`${c.met ? 'met   ' : 'MISSED'} ${c.target}: ${c.measured}`);
  if (values.json) {
    writeFileSync(
      values.json,
      `${JSON.stringify({ threshold: THRESHOLD, confidence: CONFIDENCE, options, seconds, rows, checks }, null, 2)}\n`,
    );
  }
  if (!quick && checks.some((c) => !c.met)) process.exitCode = 1;
}

function startPool(size: number) {
  // Workers load this file through tsx's loader (Node 20 workers do not inherit it).
  const loader = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const threads = Array.from({ length: size }, () => new Worker(code, { eval: true }));
  return {
    async run(scenario: Scenario, method: Method, seed: number): Promise<number[]> {
      const total = scenario.useCases;
      const chunk = Math.max(1, Math.ceil(total / (size * 8)));
      const jobs: Job[] = [];
      for (let from = 0; from < total; from += chunk) {
        jobs.push({ scenario, method, from, to: Math.min(total, from + chunk), seed });
      }
      const results: number[][] = new Array(jobs.length);
      let nextJob = 0;
      await Promise.all(
        threads.map(async (thread) => {
          while (nextJob < jobs.length) {
            const index = nextJob++;
            results[index] = await new Promise<number[]>((resolve, reject) => {
              thread.once('message', resolve);
              thread.once('error', reject);
              thread.postMessage(jobs[index]);
            });
            thread.removeAllListeners('error');
          }
        }),
      );
      return results.flat();
    },
    close: () => Promise.all(threads.map((t) => t.terminate())),
  };
}

interface Row {
  scenario: string;
  label: string;
  statistics: Method;
  /** The bound that decides the row, as the table names it. */
  bound: string;
  /** A label row (issue 14), printed under its own header. */
  labelRow: boolean;
  useCases: number;
  /** Per segment value (per use case without segments). */
  horizon: number;
  /** Share of use cases the gate promoted at some check within the horizon. */
  promoted: number;
  /** The truth is at or below the threshold for some criterion: every promotion is a false one. */
  falsePromotion: boolean;
  /** Decisions per segment value at promotion, over all use cases (never promoted counts as ∞). */
  median: number | null;
  p95: number | null;
  budget: number | null;
  promotedWithinBudget: number | null;
  /** Wall-clock time of the row. */
  seconds: number;
}

function summarise(scenario: Scenario, method: Method, promotedAt: number[], seconds: number): Row {
  const k = Math.max(1, scenario.truth.length);
  const perValue = promotedAt.map((t) => (t === 0 ? Number.POSITIVE_INFINITY : t / k)).sort((a, b) => a - b);
  const quantile = (p: number) => {
    const v = perValue[Math.min(perValue.length - 1, Math.ceil(p * perValue.length) - 1)]!;
    return Number.isFinite(v) ? Math.ceil(v) : null;
  };
  const budget = scenario.budget ?? null;
  return {
    scenario: scenario.id,
    label: scenario.label,
    statistics: method,
    bound:
      scenario.bound ??
      (method === 'fixed' ? 'Wilson' : scenario.champion !== undefined ? 'paired' : 'sequential'),
    labelRow: scenario.traffic !== undefined,
    useCases: promotedAt.length,
    horizon: scenario.horizon,
    promoted: promotedAt.filter((t) => t > 0).length / promotedAt.length,
    falsePromotion: falseIfPassed(scenario),
    median: quantile(0.5),
    p95: quantile(0.95),
    budget,
    promotedWithinBudget:
      budget === null ? null : perValue.filter((v) => v <= budget).length / perValue.length,
    seconds,
  };
}

function printRow(r: Row, header: boolean): void {
  const cols = [r.labelRow ? 56 : 34, 13, 10, 10, 16, 16, 8, 8];
  const line = (cells: string[]) =>
    console.log(
      cells
        .map((c, i) => c.padEnd(cols[i] ?? 0))
        .join(' ')
        .trimEnd(),
    );
  if (header && r.labelRow) {
    console.log(
      "\nLabel rows: 90/7/3 approve/reject/escalate invoices, the cohort's metrics computed from its\n" +
        'confusion counts and the gate assessed after every decision; labelRecallLowerBound (minLabelSamples\n' +
        '50) or maxErrorCostPerDecision with errorCosts {approve: {reject: 500, escalate: 40},\n' +
        'reject: {approve: 25}}. A recall at its bar or a cost at its maximum makes every promotion false.\n',
    );
    line(['scenario', 'bound', 'use cases', 'decisions', 'false promotion', 'promoted', 'median', 'p95']);
  } else if (header) {
    console.log(
      `Gate: agreement lower bound ≥ ${THRESHOLD} (and every segment value's ≥ ${THRESHOLD}), ` +
        `confidence ${CONFIDENCE * 100}%, checked after every decision.`,
    );
    console.log(
      'Decisions are per segment value in segmented rows. Where some true agreement is at or below\n' +
        'the threshold, every promotion is a false one; elsewhere: decisions needed to be promoted.\n' +
        `Challenger rows: the challenger's verdict (the gate above on its own cohort, and the paired lower\n` +
        `bound on challenger − champion agreement ≥ −${MARGIN}) after every pair; a challenger exactly\n` +
        'the margin worse is swapped falsely when it is eligible.\n',
    );
    line(['scenario', 'bound', 'use cases', 'decisions', 'false promotion', 'promoted', 'median', 'p95']);
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const count = (x: number | null) => (x === null ? 'never' : x.toLocaleString('en-US'));
  const within =
    r.budget === null ? '' : `${pct(r.promotedWithinBudget!)} ≤ ${r.budget.toLocaleString('en-US')}`;
  line([
    r.label,
    r.bound,
    r.useCases.toLocaleString('en-US'),
    r.horizon.toLocaleString('en-US'),
    r.falsePromotion ? pct(r.promoted) : '',
    r.falsePromotion ? '' : within,
    r.falsePromotion ? '' : count(r.median),
    r.falsePromotion ? '' : count(r.p95),
  ]);
}

/** Issues 8's and 14's "Done when", for the sequential bound (the default). */
function targets(rows: Row[]) {
  const seq = (id: string) => rows.find((r) => r.scenario === id && r.statistics === 'sequential');
  const checks: Array<{ target: string; measured: string; met: boolean }> = [];
  const add = (id: string, target: string, value: (r: Row) => number, ok: (x: number) => boolean) => {
    const r = seq(id);
    if (r) checks.push({ target, measured: `${(value(r) * 100).toFixed(1)}%`, met: ok(value(r)) });
  };
  add(
    'at',
    'true 0.90: promoted < 5%',
    (r) => r.promoted,
    (x) => x < 0.05,
  );
  add(
    'above',
    'true 0.95: ≥ 95% promoted within 2,500',
    (r) => r.promotedWithinBudget!,
    (x) => x >= 0.95,
  );
  add(
    'seg-at',
    '8 segments at 0.90: gate passes < 5%',
    (r) => r.promoted,
    (x) => x < 0.05,
  );
  add(
    'seg-one-at',
    'one of 8 segments at 0.90: gate passes < 5%',
    (r) => r.promoted,
    (x) => x < 0.05,
  );
  add(
    'seg-above',
    '8 segments at 0.95: ≥ 90% pass within 3,000 per segment',
    (r) => r.promotedWithinBudget!,
    (x) => x >= 0.9,
  );
  add(
    'challenger-at-margin',
    `challenger exactly ${MARGIN} worse than its champion: swapped < 5%`,
    (r) => r.promoted,
    (x) => x < 0.05,
  );
  add(
    'challenger-equal',
    'challenger equal to its champion (0.95): ≥ 90% swapped within 5,000 pairs',
    (r) => r.promotedWithinBudget!,
    (x) => x >= 0.9,
  );
  add(
    'recall-at',
    'reject recall exactly at its 0.90 bar: promoted < 5%',
    (r) => r.promoted,
    (x) => x < 0.05,
  );
  add(
    'recall-one-at',
    'reject recall at its bar, approve and escalate well above theirs: promoted < 5%',
    (r) => r.promoted,
    (x) => x < 0.05,
  );
  add(
    'cost-at',
    'mean error cost exactly at its 5 USD maximum: promoted < 5%',
    (r) => r.promoted,
    (x) => x < 0.05,
  );
  // The label power rows (recall-good, cost-good) are measurements: issue 14 sets no share for them.
  return checks;
}
