/**
 * Drift simulation (issue 16): how often the drift measures of src/statistics/drift.ts call stable
 * traffic drifted (the false-alarm rate), and how soon they see the issue's shifts (the detection
 * delay). Per seed, 50,000 simulated decisions: a region mix 60/30/10, AI labels
 * approve/reject/escalate 80/15/5, a supplier among 50 (Zipf, a field at the category cap), AI
 * confidence (depending on the label) and AI latency (log-normal, median 400 ms). The reference is
 * the first 2,000 decisions; the current window is the trailing 1,000, kept as a store would keep
 * it: counts per block of `step` decisions, the window moved by adding the newest block and
 * subtracting the one that left, and checked after every block once it lies wholly after the
 * reference. Shifted runs draw the same traffic until decision 25,000, then region 10/30/60 or
 * `escalate` four times as often (approve and reject scaled down in proportion).
 *
 *   tsx scripts/simulate-drift.ts [--seeds 20] [--seed 1] [--decisions 50000] [--window 1000]
 *     [--reference 2000] [--step 50] [--shift-at 25000] [--json FILE]
 *
 * Deterministic: seed s draws from seededRandom(s) (scripts/faults/seeded-random.ts), the same
 * stream for the stable and the shifted runs, so they differ only after the shift. Exits 1 when
 * the stable region or AI-label field ever goes above PSI 0.25, or the region shift is not seen
 * within one window, in a full run.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  addBucketCounts,
  addCategoryCounts,
  type BucketScheme,
  CONFIDENCE_BUCKETS,
  categoricalDrift,
  histogramOf,
  LATENCY_MS_BUCKETS,
  numericDrift,
  subtractBucketCounts,
  subtractCategoryCounts,
} from '../src/statistics/drift.js';
import { type SeededRandom, seededRandom } from './faults/seeded-random.js';

/** PSI thresholds reported: the conventional 0.1 and 0.25 lines, and 0.2 between them. */
const THRESHOLDS = [0.1, 0.2, 0.25] as const;

const REGIONS = { weights: [60, 30, 10], values: ['north', 'south', 'east'] };
const REGIONS_SHIFTED = { weights: [10, 30, 60], values: REGIONS.values };
const LABELS = { weights: [80, 15, 5], values: ['approve', 'reject', 'escalate'] };
/** `escalate` four times as often; the other two keep their ratio: 80·16/19, 15·16/19, 20. */
const LABELS_SHIFTED = { weights: [(80 * 16) / 19, (15 * 16) / 19, 20], values: LABELS.values };
const SUPPLIERS = {
  weights: Array.from({ length: 50 }, (_, i) => 1 / (i + 1)),
  values: Array.from({ length: 50 }, (_, i) => `supplier-${String(i + 1).padStart(2, '0')}`),
};
/** Logit of the AI's confidence ~ N(mean, 1), by label: sure when it approves, unsure when it escalates. */
const CONFIDENCE_LOGIT: Record<string, number> = { approve: 2.5, reject: 1.5, escalate: 0.3 };

type Mix = { weights: number[]; values: string[] };
type ShiftId = 'stable' | 'region' | 'escalate';
const CATEGORICAL = ['region', 'aiLabel', 'supplier'] as const;
const NUMERIC: { field: 'confidence' | 'latencyMs'; scheme: BucketScheme }[] = [
  { field: 'confidence', scheme: CONFIDENCE_BUCKETS },
  { field: 'latencyMs', scheme: LATENCY_MS_BUCKETS },
];
const FIELDS = [...CATEGORICAL, ...NUMERIC.map((n) => n.field)];
type Field = (typeof FIELDS)[number];

interface Options {
  seeds: number;
  seed: number;
  decisions: number;
  window: number;
  reference: number;
  step: number;
  shiftAt: number;
}

interface Decision {
  region: string;
  aiLabel: string;
  supplier: string;
  confidence: number;
  latencyMs: number;
}

/** Cumulative weights per mix, computed once: a draw is one uniform and a scan. */
const cumulative = new WeakMap<Mix, number[]>();

function pick(random: SeededRandom, mix: Mix): string {
  let sums = cumulative.get(mix);
  if (!sums) {
    let total = 0;
    sums = mix.weights.map((w) => (total += w));
    cumulative.set(mix, sums);
  }
  const u = random.next() * sums[sums.length - 1]!;
  for (let i = 0; i < sums.length; i++) if (u < sums[i]!) return mix.values[i]!;
  return mix.values[mix.values.length - 1]!;
}

function normal(random: SeededRandom): number {
  // Box–Muller; 1 − next() is in (0, 1], so the log is finite.
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

function decide(random: SeededRandom, shifted: ShiftId | null): Decision {
  const region = pick(random, shifted === 'region' ? REGIONS_SHIFTED : REGIONS);
  const aiLabel = pick(random, shifted === 'escalate' ? LABELS_SHIFTED : LABELS);
  const supplier = pick(random, SUPPLIERS);
  const confidence = 1 / (1 + Math.exp(-(CONFIDENCE_LOGIT[aiLabel]! + normal(random))));
  const latencyMs = 400 * Math.exp(0.5 * normal(random));
  return { region, aiLabel, supplier, confidence, latencyMs };
}

/** One block of decisions as a store keeps it: counts per category and per bucket. */
interface Block {
  categorical: Record<(typeof CATEGORICAL)[number], Record<string, number>>;
  numeric: number[][];
}

function blockOf(decisions: Decision[]): Block {
  const categorical = {} as Block['categorical'];
  for (const field of CATEGORICAL) {
    const counts = new Map<string, number>();
    for (const d of decisions) counts.set(d[field], (counts.get(d[field]) ?? 0) + 1);
    categorical[field] = Object.fromEntries(counts);
  }
  const numeric = NUMERIC.map(({ field, scheme }) =>
    histogramOf(
      scheme,
      decisions.map((d) => d[field]),
    ),
  );
  return { categorical, numeric };
}

function combine(a: Block, b: Block, sign: 1 | -1): Block {
  const categorical = {} as Block['categorical'];
  for (const field of CATEGORICAL) {
    categorical[field] =
      sign === 1
        ? addCategoryCounts(a.categorical[field], b.categorical[field])
        : subtractCategoryCounts(a.categorical[field], b.categorical[field]);
  }
  const numeric = NUMERIC.map(({ scheme }, i) =>
    sign === 1
      ? addBucketCounts(scheme, a.numeric[i]!, b.numeric[i]!)
      : subtractBucketCounts(scheme, a.numeric[i]!, b.numeric[i]!),
  );
  return { categorical, numeric };
}

interface Check {
  /** Decisions seen when the window was checked. */
  at: number;
  psi: Record<Field, number>;
  ks: Record<'confidence' | 'latencyMs', number>;
  normalisedWasserstein: Record<'confidence' | 'latencyMs', number>;
}

/** One seed's run: the PSI of every field at every check. */
function run(o: Options, seed: number, shift: ShiftId): Check[] {
  const random = seededRandom(seed);
  const blocks: Block[] = [];
  for (let start = 0; start < o.decisions; start += o.step) {
    const decisions: Decision[] = [];
    for (let i = start; i < Math.min(start + o.step, o.decisions); i++) {
      decisions.push(decide(random, shift !== 'stable' && i >= o.shiftAt ? shift : null));
    }
    blocks.push(blockOf(decisions));
  }
  const perWindow = o.window / o.step;
  const referenceBlocks = o.reference / o.step;
  const reference = blocks.slice(0, referenceBlocks).reduce((a, b) => combine(a, b, 1));
  const checks: Check[] = [];
  let window: Block | null = null;
  for (let b = referenceBlocks; b < blocks.length; b++) {
    window = window === null ? blocks[b]! : combine(window, blocks[b]!, 1);
    if (b - referenceBlocks >= perWindow) window = combine(window, blocks[b - perWindow]!, -1);
    if (b - referenceBlocks + 1 < perWindow) continue;
    const psi = {} as Record<Field, number>;
    const ks = {} as Check['ks'];
    const normalisedWasserstein = {} as Check['normalisedWasserstein'];
    for (const field of CATEGORICAL) {
      psi[field] = categoricalDrift(reference.categorical[field], window.categorical[field]).psi!;
    }
    NUMERIC.forEach(({ field, scheme }, i) => {
      const d = numericDrift(scheme, reference.numeric[i]!, window!.numeric[i]!);
      psi[field] = d.psi!;
      ks[field] = d.ks!;
      normalisedWasserstein[field] = d.normalisedWasserstein!;
    });
    checks.push({ at: (b + 1) * o.step, psi, ks, normalisedWasserstein });
  }
  return checks;
}

// ---------------------------------------------------------------- reporting

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 3 : 1)}%`;

interface StableRow {
  field: Field;
  /** Share of all checks (all seeds) above each threshold. */
  checksAbove: Record<string, number>;
  /** Share of seeds with at least one check above each threshold: a guard tripping in that run. */
  runsAbove: Record<string, number>;
  meanPsi: number;
  p99Psi: number;
  maxPsi: number;
  p99Ks?: number;
  p99NormalisedWasserstein?: number;
}

function stableRows(runs: Check[][]): StableRow[] {
  const all = runs.flat();
  return FIELDS.map((field) => {
    const values = all.map((c) => c.psi[field]);
    const checksAbove: Record<string, number> = {};
    const runsAbove: Record<string, number> = {};
    for (const t of THRESHOLDS) {
      checksAbove[t] = values.filter((v) => v > t).length / values.length;
      runsAbove[t] = runs.filter((r) => r.some((c) => c.psi[field] > t)).length / runs.length;
    }
    const row: StableRow = {
      field,
      checksAbove,
      runsAbove,
      meanPsi: values.reduce((t, v) => t + v, 0) / values.length,
      p99Psi: quantile(values, 0.99),
      maxPsi: Math.max(...values),
    };
    if (field === 'confidence' || field === 'latencyMs') {
      row.p99Ks = quantile(
        all.map((c) => c.ks[field]),
        0.99,
      );
      row.p99NormalisedWasserstein = quantile(
        all.map((c) => c.normalisedWasserstein[field]),
        0.99,
      );
    }
    return row;
  });
}

interface ShiftRow {
  shift: ShiftId;
  field: Field;
  threshold: number;
  /** Decisions after the shift until the first check above the threshold, per seed; null: never. */
  delays: (number | null)[];
  /** PSI of windows wholly after the shift, median over seeds of each run's median. */
  shiftedPsi: number;
}

function shiftRows(o: Options, shift: ShiftId, fields: Field[], runs: Check[][]): ShiftRow[] {
  return fields.flatMap((field) =>
    THRESHOLDS.map((threshold) => ({
      shift,
      field,
      threshold,
      delays: runs.map((checks) => {
        const hit = checks.find((c) => c.at > o.shiftAt && c.psi[field] > threshold);
        return hit ? hit.at - o.shiftAt : null;
      }),
      shiftedPsi: quantile(
        runs.map((checks) =>
          quantile(
            checks.filter((c) => c.at - o.window >= o.shiftAt).map((c) => c.psi[field]),
            0.5,
          ),
        ),
        0.5,
      ),
    })),
  );
}

function describeDelays(delays: (number | null)[], horizon: number): string {
  const seen = delays.filter((d): d is number => d !== null);
  const missed = delays.length - seen.length;
  if (seen.length === 0) return `never within ${horizon.toLocaleString('en-US')}`;
  const median = quantile(seen, 0.5);
  const text = `median ${median}, ${Math.min(...seen)}–${Math.max(...seen)}`;
  return missed > 0 ? `${text}; missed in ${missed} of ${delays.length}` : text;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '20' },
      seed: { type: 'string', default: '1' },
      decisions: { type: 'string', default: '50000' },
      window: { type: 'string', default: '1000' },
      reference: { type: 'string', default: '2000' },
      step: { type: 'string', default: '50' },
      'shift-at': { type: 'string', default: '25000' },
      json: { type: 'string' },
    },
  });
  const int = (name: string, text: string, min: number, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`--${name} must be ${min}..${max}`);
    return n;
  };
  const o: Options = {
    seeds: int('seeds', values.seeds, 1, 1000),
    seed: int('seed', values.seed, 0, 0xffff_ffff - 1000),
    decisions: int('decisions', values.decisions, 1000, 1_000_000),
    window: int('window', values.window, 10, 100_000),
    reference: int('reference', values.reference, 10, 100_000),
    step: int('step', values.step, 1, 10_000),
    shiftAt: int('shift-at', values['shift-at'], 0, 1_000_000),
  };
  if (o.window % o.step || o.reference % o.step || o.decisions < o.reference + o.window) {
    throw new RangeError('--window and --reference must be multiples of --step, and fit in --decisions');
  }
  const started = Date.now();
  const seeds = Array.from({ length: o.seeds }, (_, i) => o.seed + i);
  const stable = stableRows(seeds.map((s) => run(o, s, 'stable')));
  const shifts = [
    ...shiftRows(
      o,
      'region',
      ['region'],
      seeds.map((s) => run(o, s, 'region')),
    ),
    ...shiftRows(
      o,
      'escalate',
      ['aiLabel', 'confidence'],
      seeds.map((s) => run(o, s, 'escalate')),
    ),
  ];
  const checksPerRun = (o.decisions - o.reference - o.window) / o.step + 1;

  console.log(
    `Drift simulation: ${o.seeds} seeds from ${o.seed}, ${o.decisions.toLocaleString('en-US')} decisions each, ` +
      `reference the first ${o.reference}, trailing window ${o.window}, checked every ${o.step} (${checksPerRun} checks per run)`,
  );
  console.log(
    '\nStable traffic: share of checks above PSI t, and of runs where some check was (a guard trips)',
  );
  console.log(
    `| field | ${THRESHOLDS.map((t) => `checks > ${t}`).join(' | ')} | ${THRESHOLDS.map((t) => `runs > ${t}`).join(' | ')} ` +
      '| mean PSI | p99 PSI | max PSI | p99 KS | p99 W1/IQR |',
  );
  console.log(`|---|${' ---: |'.repeat(2 * THRESHOLDS.length + 5)}`);
  for (const r of stable) {
    console.log(
      `| ${r.field} | ${THRESHOLDS.map((t) => pct(r.checksAbove[t]!)).join(' | ')} | ` +
        `${THRESHOLDS.map((t) => pct(r.runsAbove[t]!)).join(' | ')} | ${r.meanPsi.toFixed(4)} | ${r.p99Psi.toFixed(4)} | ${r.maxPsi.toFixed(4)} | ` +
        `${r.p99Ks?.toFixed(4) ?? ''} | ${r.p99NormalisedWasserstein?.toFixed(4) ?? ''} |`,
    );
  }
  console.log(
    `\nShifts at decision ${o.shiftAt}: decisions after the shift until PSI > t (at checks every ${o.step})`,
  );
  console.log(
    '| shift | field | t | within one window | detection delay | PSI of a fully shifted window (median) |',
  );
  console.log('| --- | --- | ---: | ---: | --- | ---: |');
  for (const r of shifts) {
    const within = r.delays.filter((d) => d !== null && d <= o.window).length / r.delays.length;
    console.log(
      `| ${r.shift} | ${r.field} | ${r.threshold} | ${pct(within)} | ${describeDelays(r.delays, o.decisions - o.shiftAt)} | ` +
        `${r.shiftedPsi.toFixed(3)} |`,
    );
  }
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ options: o, stable, shifts }, null, 2)}\n`);

  const full = o.seeds >= 20 && o.decisions >= 50_000 && o.window === 1000;
  const misses = [
    ...stable
      .filter((r) => (r.field === 'region' || r.field === 'aiLabel') && r.runsAbove['0.25']! > 0)
      .map((r) => `stable ${r.field} went above PSI 0.25`),
    ...shifts
      .filter((r) => r.shift === 'region' && r.threshold === 0.25)
      .filter((r) => r.delays.some((d) => d === null || d > o.window))
      .map(() => 'the region shift was not seen within one window'),
  ];
  if (full && misses.length > 0) {
    console.error(`missed: ${misses.join('; ')}`);
    process.exitCode = 1;
  }
}

main();
