import { parseArgs } from 'node:util';

/** What `npm run demo -- [options]` accepts; every value is checked before anything starts. */
export interface DemoOptions {
  decisions: number;
  /** The simulated AI system's agreement with the clerk's label, 0..1. */
  agreement: number;
  latencyMs: number;
  errorRate: number;
  /** The example service's SDK: decisions per POST /v1/decisions at most (its `buffer.batchSize`). */
  batch: number;
  /** Invoices the simulated workflow has in flight to the example service at once. */
  concurrency: number;
  keep: boolean;
  dataDir: string;
  /** Port tried first for the simulated AI system; null: the port of the plan's `ai.url`; 0: any free port. */
  aiPort: number | null;
  /** The champion-and-challenger act instead of the shadow loop (README "Champion and challenger"). */
  challenger: boolean;
  /** The drift act instead of the journey (README "Drift"): a region shift trips a drift guard. */
  drift: boolean;
  /** `journey`: shadow to limited-autonomous, a guard's rollback and the kill switch; `shadow`: the shadow loop alone. */
  stage: DemoStageOption;
  /** The example use case: invoice-triage (labels) or support-reply-draft (drafts scored by a judge). */
  useCase: DemoUseCase;
  help: boolean;
}

export const STAGE_OPTIONS = ['journey', 'shadow'] as const;
export type DemoStageOption = (typeof STAGE_OPTIONS)[number];
export const USE_CASE_OPTIONS = ['invoice-triage', 'support-reply-draft'] as const;
export type DemoUseCase = (typeof USE_CASE_OPTIONS)[number];

/**
 * The simulated AI's agreement unless --agreement says otherwise: the champion's is higher with
 * --challenger, and the journey's AI must pass human-reviewed's gate (a 95% lower bound) on about a
 * thousand invoices, so it agrees more often and fails less.
 */
export const DEFAULT_AGREEMENT = 0.93;
export const DEFAULT_JOURNEY_AGREEMENT = 0.99;
export const DEFAULT_JOURNEY_ERROR_RATE = 0.005;
export const DEFAULT_CHAMPION_AGREEMENT = 0.96;
/** With --use-case support-reply-draft: the share of the simulated AI's drafts that are acceptable. */
export const DEFAULT_DRAFTING_AGREEMENT = 0.96;
/** With --drift the clerks override about one suggestion in twenty, so the override rate shows. */
export const DEFAULT_DRIFT_AGREEMENT = 0.95;
/**
 * The simulated AIs' failures unless --error-rate says otherwise: none with --challenger, whose
 * bursts of invoices make the failures retried last land together in the limited-autonomous
 * guard's window of the last 200 AI calls (`aiErrorRateAbove: 0.05`).
 */
export const DEFAULT_ERROR_RATE = 0.01;
export const DEFAULT_CHALLENGER_ERROR_RATE = 0;

export const DEMO_USAGE = `Usage: npm run demo -- [options]

  --stage S         journey (default): shadow, promotion, human-reviewed, limited-autonomous, the AI
                    degrades, a guard rolls back, the kill switch; shadow: the shadow loop alone
  --decisions N     invoices the simulated workflow sends to the example service at most (default
                    3000; the journey stops early where a gate is not met within its share)
  --agreement R     how often the simulated AI gives the clerk's label, 0..1 (default 0.99 in the
                    journey, 0.93 with --stage shadow, 0.96 with --challenger, where it is the champion)
  --latency MS      the simulated AI's mean answer time in ms; answers take 0.5-1.5x this (default 40)
  --error-rate R    share of invoices the simulated AI answers with HTTP 500, 0..1 (default 0.005 in
                    the journey, 0.01 with --stage shadow, 0 with --challenger)
  --concurrency N   invoices in flight to the example service at once, 1..256 (default 32)
  --batch N         at most this many decisions per POST /v1/decisions from the service's SDK,
                    1..1000 (default 200)
  --keep            leave the controller running after the tables, until Ctrl-C
  --data-dir DIR    the demo's data directory, wiped at start (default ./.shadowgate/demo)
  --ai-port N       port tried first for the simulated AI (default: the plan's, 9000; 0 = any free port)
  --challenger      champion and challenger instead of the shadow loop: the use case is moved to
                    limited-autonomous (forced), a plan version points it at a second simulated AI
                    (agreement 0.99) as challenger with approval automatic, and invoices are sent,
                    at most --decisions, until the controller swaps it in
  --drift           drift instead of the journey: the use case is earned in shadow on a region mix
                    of EU/US/APAC 60/30/10, moved to human-reviewed (forced), then the mix shifts to
                    10/30/60 and its drift guard rolls it back; prints the drift view's figures
                    (about 1,600 invoices; --decisions does not apply; agreement 0.95 by default)
  --use-case U      invoice-triage (default) or support-reply-draft: a drafting use case instead of the
                    invoices (rollout-plans/support-reply-draft.yaml). A simulated drafting AI writes
                    replies to synthetic support tickets (--agreement: the share of acceptable drafts,
                    default 0.96), a simulated judge scores them (right 95% of the time), the simulated
                    agents send their replies and rate the 5% of drafts offered to them; the gate waits
                    on the judge's calibration, then the use case is promoted to human-reviewed (about
                    2,000 tickets; --decisions caps them; not with --stage, --drift or --challenger)
  --help            this text`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseDemoOptions(args: string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        decisions: { type: 'string', default: '3000' },
        agreement: { type: 'string' },
        latency: { type: 'string', default: '40' },
        'error-rate': { type: 'string' },
        batch: { type: 'string', default: '200' },
        concurrency: { type: 'string', default: '32' },
        keep: { type: 'boolean', default: false },
        'data-dir': { type: 'string', default: './.shadowgate/demo' },
        'ai-port': { type: 'string' },
        challenger: { type: 'boolean', default: false },
        drift: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'journey' },
        'use-case': { type: 'string', default: 'invoice-triage' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const text = (name: string) => String(values[name]);
  const dataDir = text('data-dir');
  const challenger = values.challenger === true;
  const drift = values.drift === true;
  if (challenger && drift) throw new UsageError('--challenger and --drift are two demos: pick one');
  if (dataDir.trim() === '') throw new UsageError('--data-dir must not be empty');
  const stage = text('stage');
  if (!(STAGE_OPTIONS as readonly string[]).includes(stage)) {
    throw new UsageError(`--stage must be one of ${STAGE_OPTIONS.join(', ')}, got ${JSON.stringify(stage)}`);
  }
  if (drift && stage !== 'journey') throw new UsageError('--drift tells its own story: leave out --stage');
  const useCase = text('use-case');
  if (!(USE_CASE_OPTIONS as readonly string[]).includes(useCase)) {
    throw new UsageError(
      `--use-case must be one of ${USE_CASE_OPTIONS.join(', ')}, got ${JSON.stringify(useCase)}`,
    );
  }
  const drafting = useCase === 'support-reply-draft';
  if (drafting && (challenger || drift || values.stage !== 'journey')) {
    throw new UsageError(
      '--use-case support-reply-draft tells its own story: leave out --stage, --drift and --challenger',
    );
  }
  const journey = stage === 'journey' && !challenger && !drift;
  return {
    decisions: integer('decisions', text('decisions'), 1, 1_000_000),
    agreement:
      values.agreement === undefined
        ? challenger
          ? DEFAULT_CHAMPION_AGREEMENT
          : drafting
            ? DEFAULT_DRAFTING_AGREEMENT
            : drift
              ? DEFAULT_DRIFT_AGREEMENT
              : journey
                ? DEFAULT_JOURNEY_AGREEMENT
                : DEFAULT_AGREEMENT
        : fraction('agreement', text('agreement')),
    latencyMs: integer('latency', text('latency'), 0, 60_000),
    errorRate:
      values['error-rate'] === undefined
        ? challenger
          ? DEFAULT_CHALLENGER_ERROR_RATE
          : journey || drift
            ? DEFAULT_JOURNEY_ERROR_RATE
            : DEFAULT_ERROR_RATE
        : fraction('error-rate', text('error-rate')),
    batch: integer('batch', text('batch'), 1, 1000),
    concurrency: integer('concurrency', text('concurrency'), 1, 256),
    keep: values.keep === true,
    dataDir,
    aiPort: values['ai-port'] === undefined ? null : integer('ai-port', text('ai-port'), 0, 65_535),
    challenger,
    drift,
    stage: stage as DemoStageOption,
    useCase: useCase as DemoUseCase,
    help: values.help === true,
  };
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

function fraction(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`--${name} must be a number from 0 to 1, got ${JSON.stringify(text)}`);
  }
  return value;
}
