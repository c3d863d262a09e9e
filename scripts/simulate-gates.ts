/**
 * Gate simulation harness (issue 8): runs the real assessGate over many simulated use cases,
 * checking the gate after every decision, and reports how often a gate promotes an AI whose true
 * agreement is at or below the threshold, and how many decisions a good AI needs to be promoted,
 * for the sequential (anytime-valid) bound and the fixed-sample Wilson bound side by side.
 *
 *   tsx scripts/simulate-gates.ts [--use-cases 2000] [--segment-use-cases N] [--decisions 20000]
 *     [--segment-decisions 2500] [--seed 1] [--workers N] [--only below,at,…] [--json FILE] [--quick]
 *
 * Deterministic: each use case draws from its own seeded stream, the same for both bounds, so the
 * figures do not depend on the number of workers. Exits 1 when a full run misses a target.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import type { CohortMetrics, SegmentMetrics } from '../src/metrics/metrics-types.js';
import { type Plan, planSchema } from '../src/plans/plan-schema.js';
import { assessGate } from '../src/promotion/gate-assessment.js';

const THRESHOLD = 0.9;
const CONFIDENCE = 0.95;
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
}

interface Options {
  useCases: number;
  segmentUseCases: number;
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
  ];
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
    });
  }
  return {
    stage: 'shadow',
    aiConfig: 'simulated',
    modelVersion: null,
    samples: 0,
    agreement: null,
    agreementLowerBound: null,
    decisions: 0,
    kappa: null,
    aiCalls: 0,
    aiErrors: 0,
    aiErrorRate: null,
    latencyP50Ms: null,
    latencyP95Ms: null,
    inputTokens: 0,
    outputTokens: 0,
    aiCostPerDecision: null,
    humanCostPerDecision: 0,
    costPerDecision: null,
    monthlyVolume: null,
    monthlyCost: null,
    monthlySavings: null,
    pendingHuman: 0,
    pendingAi: 0,
    firstDecisionAt: null,
    lastDecisionAt: null,
    confusion: null,
    perLabel: null,
    segments,
  };
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

function runJob(job: Job): number[] {
  const plan = gatePlan(job.method, job.scenario.truth.length > 1);
  const out: number[] = [];
  for (let i = job.from; i < job.to; i++) {
    out.push(simulateUseCase(job.scenario, plan, streamSeed(`${job.seed}:${job.scenario.id}:${i}`)));
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
    for (const method of METHODS) {
      const rowStarted = Date.now();
      const promotedAt = await pool.run(scenario, method, options.seed);
      const row = summarise(scenario, method, promotedAt, (Date.now() - rowStarted) / 1000);
      rows.push(row);
      printRow(row, rows.length === 1);
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
  const k = scenario.truth.length;
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
    useCases: promotedAt.length,
    horizon: scenario.horizon,
    promoted: promotedAt.filter((t) => t > 0).length / promotedAt.length,
    falsePromotion: scenario.truth.some((p) => p <= THRESHOLD),
    median: quantile(0.5),
    p95: quantile(0.95),
    budget,
    promotedWithinBudget:
      budget === null ? null : perValue.filter((v) => v <= budget).length / perValue.length,
    seconds,
  };
}

function printRow(r: Row, header: boolean): void {
  const cols = [34, 11, 10, 10, 16, 16, 8, 8];
  const line = (cells: string[]) =>
    console.log(
      cells
        .map((c, i) => c.padEnd(cols[i] ?? 0))
        .join(' ')
        .trimEnd(),
    );
  if (header) {
    console.log(
      `Gate: agreement lower bound ≥ ${THRESHOLD} (and every segment value's ≥ ${THRESHOLD}), ` +
        `confidence ${CONFIDENCE * 100}%, checked after every decision.`,
    );
    console.log(
      'Decisions are per segment value in segmented rows. Where some true agreement is at or below\n' +
        'the threshold, every promotion is a false one; elsewhere: decisions needed to be promoted.\n',
    );
    line(['scenario', 'bound', 'use cases', 'decisions', 'false promotion', 'promoted', 'median', 'p95']);
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const count = (x: number | null) => (x === null ? 'never' : x.toLocaleString('en-US'));
  const within =
    r.budget === null ? '' : `${pct(r.promotedWithinBudget!)} ≤ ${r.budget.toLocaleString('en-US')}`;
  line([
    r.label,
    r.statistics === 'fixed' ? 'Wilson' : 'sequential',
    r.useCases.toLocaleString('en-US'),
    r.horizon.toLocaleString('en-US'),
    r.falsePromotion ? pct(r.promoted) : '',
    r.falsePromotion ? '' : within,
    r.falsePromotion ? '' : count(r.median),
    r.falsePromotion ? '' : count(r.p95),
  ]);
}

/** Issue 8's "Done when", for the sequential bound (the default). */
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
  return checks;
}
