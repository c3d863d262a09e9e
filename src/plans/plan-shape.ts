import { MODES, type Mode, type Stage as PromotableStage, STAGES } from '@shadowgate/sdk/wire';
import { z } from 'zod';
import { MAX_COST_USD, MAX_TEXT_LENGTH } from '../contracts/ai-answer-bounds.js';
import { refuseControls } from '../contracts/safe-text.js';
import { STORE_INPUT_MODES } from '../privacy/input-policy.js';
import { checkBucketScheme } from '../statistics/drift.js';
import { parseDurationMs } from './duration.js';
import { redactPathProblem } from '../privacy/redact.js';
import { PATTERN_NAMES } from '../privacy/redaction-patterns.js';

/**
 * The rollout plan's shape: each field's type, bounds and defaults (see README "Rollout plan").
 * Objects are strict: a misspelt field is an error, never silently ignored. Rules that span
 * fields are in plan-rules.ts; plan-schema.ts composes both.
 */

/** The stages and modes are declared in the SDK's wire, which the flags carry. */
export { MODES, type Mode, type PromotableStage, STAGES };

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a slug of lowercase letters, digits and single dashes');

const durationText = z
  .string()
  .regex(/^\d{1,9}(?:\.\d{1,6})?(ms|s|m|h|d|w)$/, 'a duration such as 30m, 12h, 7d or 2w');

/** "7d", "12h", "30m", "45s", "500ms", or a number of seconds (see duration.ts). */
export const durationSchema = z.union([z.number().nonnegative(), durationText]);

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http or https URL' });

/** A list used as a set: a repeated entry is a mistake worth naming. */
const uniqueStrings = (item: z.ZodString) =>
  z.array(item).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((entry, i) => {
      if (seen.has(entry))
        ctx.addIssue({ code: 'custom', path: [i], message: `"${entry}" is already listed` });
      seen.add(entry);
    });
  });

const fraction = z.number().min(0).max(1);
/** Any amount of money in a plan: bounded so that no product or sum of them leaves a float8. */
const usd = z.number().nonnegative().max(1e9);
/** Labels, field names and other short names a plan lists (shown in reports and the CLI). */
const NAME_CHARS = 200;
/** Entries of a plan's lists of names: labels, fields, redaction paths, constraints. */
const MAX_LISTED = 100;
/** A placeholder of an `openai-chat` prompt template, replaced by the request's value as JSON. */
export const PLACEHOLDER = /\{\{\s*(input|context|labels)\s*\}\}/g;
/** Each placeholder is a copy of the whole input (up to the body limit): a prompt holds a few. */
const MAX_PLACEHOLDERS = 10;

/** The longest free text a plan allows: `maxLength` of a text decision or a JSON text field. */
const maxLength = z.number().int().min(1).max(MAX_TEXT_LENGTH);
/** A judge's rubric: in every judge call and prompt. */
export const MAX_RUBRIC_CHARS = 10_000;

export const decisionSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('label'),
    labels: uniqueStrings(z.string().min(1).max(NAME_CHARS).superRefine(refuseControls('line')))
      .min(2)
      .max(MAX_LISTED),
  }),
  z.strictObject({
    type: z.literal('json'),
    /** Fields every decision object must have (a minimal schema; values are free). */
    requiredFields: z.array(z.string().min(1).max(NAME_CHARS)).max(MAX_LISTED).optional(),
    /** Free-text fields (dot paths): when present, text of at most `maxLength` characters. */
    textFields: z
      .record(z.string().min(1).max(NAME_CHARS), z.strictObject({ maxLength }))
      .refine((o) => Object.keys(o).length <= MAX_LISTED, `at most ${MAX_LISTED} fields`)
      .optional(),
  }),
  /** Free text (a draft, a summary): a JSON string of at most `maxLength` characters (code points). */
  z.strictObject({ type: z.literal('text'), maxLength }),
]);
export type DecisionSpec = z.infer<typeof decisionSpecSchema>;

export const TEXT_SIMILARITY_METHODS = ['token-f1', 'char-ratio', 'rouge-l'] as const;
export type TextSimilarityMethod = (typeof TEXT_SIMILARITY_METHODS)[number];

/** Similarity of two texts (src/comparison/text-similarity.ts), made pass/fail at `threshold` if given. */
const textSimilaritySchema = z.strictObject({
  type: z.literal('text-similarity'),
  method: z.enum(TEXT_SIMILARITY_METHODS),
  /** The score becomes 1 at or above it, else 0: gates then count acceptable texts. */
  threshold: z.number().min(0).max(1).optional(),
});

const exactSchema = z.strictObject({ type: z.literal('exact') });
const normalizedTextSchema = z.strictObject({ type: z.literal('normalized-text') });
const numericSchema = z.strictObject({
  type: z.literal('numeric'),
  tolerance: z.number().nonnegative().default(0),
});

/** What one field of a JSON decision is compared with: any comparator but `fields`. */
export const fieldComparatorSchema = z.discriminatedUnion('type', [
  exactSchema,
  normalizedTextSchema,
  numericSchema,
  textSimilaritySchema,
]);
export type FieldComparatorSpec = z.infer<typeof fieldComparatorSchema>;

/**
 * A field of `fields`: its dot path, or the path with its own comparator (else the list's
 * `tolerance` rule) and its weight in the decision's score.
 */
const fieldEntrySchema = z.union([
  z.string().min(1).max(NAME_CHARS),
  z.strictObject({
    field: z.string().min(1).max(NAME_CHARS),
    comparator: fieldComparatorSchema.optional(),
    weight: z.number().positive().max(1000).default(1),
  }),
]);
export type FieldEntry = z.infer<typeof fieldEntrySchema>;

/**
 * An AI judge scores each pair (README "Judge comparator"): an HTTP endpoint speaking the judge
 * contract (`http`) or an OpenAI-compatible chat model asked with a rubric prompt (`openai-chat`,
 * which needs `model`; plan-rules.ts). Its url and apiKeyEnv pass the egress rules of `ai`.
 */
export const judgeComparatorSchema = z.strictObject({
  type: z.literal('judge'),
  adapter: z.enum(['http', 'openai-chat']).default('http'),
  url: httpUrl,
  timeoutMs: z.number().int().positive().max(120_000).default(10_000),
  pricing: z
    .strictObject({
      perCall: usd.max(MAX_COST_USD).default(0),
      inputPerMTok: usd.max(100_000).default(0),
      outputPerMTok: usd.max(100_000).default(0),
    })
    .default({ perCall: 0, inputPerMTok: 0, outputPerMTok: 0 }),
  /** What the judge is told a good answer is; sent with every call (bounded: it is in every prompt). */
  rubric: z.string().min(1).max(MAX_RUBRIC_CHARS).superRefine(refuseControls('text')).optional(),
  /** The share of judged decisions offered to people for a rating (the judge's calibration). */
  calibrationRate: fraction.default(0.05),
  /** Judge calls in flight at once for this use case, per controller process. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** openai-chat only: the model asked. */
  model: z.string().min(1).max(NAME_CHARS).optional(),
  /** openai-chat only: the bearer token's variable, one the operator allows (SHADOWGATE_AI_SECRETS). */
  apiKeyEnv: z
    .string()
    .max(128)
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    .optional(),
  /** openai-chat only. */
  temperature: z.number().min(0).max(2).optional(),
});
export type JudgeSpec = z.infer<typeof judgeComparatorSchema>;

export const comparatorSchema = z.discriminatedUnion('type', [
  exactSchema,
  normalizedTextSchema,
  numericSchema,
  textSimilaritySchema,
  z.strictObject({
    type: z.literal('fields'),
    fields: z.array(fieldEntrySchema).min(1).max(MAX_LISTED),
    tolerance: z.number().nonnegative().optional(),
  }),
  judgeComparatorSchema,
]);
export type ComparatorSpec = z.infer<typeof comparatorSchema>;

export const pricingSchema = z.strictObject({
  /** A call dearer than an AI answer may cost would make every call an out-of-range error. */
  perCall: usd.max(MAX_COST_USD).default(0),
  inputPerMTok: usd.max(100_000).default(0),
  outputPerMTok: usd.max(100_000).default(0),
});
export type Pricing = z.infer<typeof pricingSchema>;

const aiCommon = {
  url: httpUrl,
  timeoutMs: z.number().int().positive().max(600_000).default(3000),
  pricing: pricingSchema.default({ perCall: 0, inputPerMTok: 0, outputPerMTok: 0 }),
  maxDailyCost: usd.optional(),
  /** Shadow calls in flight at once for this use case, per controller process. */
  concurrency: z.number().int().min(1).max(1000).default(8),
  /** Shadow calls started per second for this use case, across processes. */
  rateLimitPerSecond: z.number().positive().max(100_000).optional(),
  /** Attempts for transient failures (timeouts, 5xx, transport errors), the first included. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
};

export const aiSpecSchema = z.discriminatedUnion('adapter', [
  z.strictObject({ adapter: z.literal('http'), ...aiCommon }),
  z.strictObject({
    adapter: z.literal('openai-chat'),
    ...aiCommon,
    model: z.string().min(1).max(NAME_CHARS),
    /** Mustache-like template: {{input}}, {{context}}, {{labels}} are replaced. */
    prompt: z
      .string()
      .min(1)
      .max(100_000)
      .refine(
        (prompt) => (prompt.match(PLACEHOLDER) ?? []).length <= MAX_PLACEHOLDERS,
        `at most ${MAX_PLACEHOLDERS} placeholders: each is replaced by the whole input, context or labels`,
      ),
    /** The bearer token's variable: one the operator allows (SHADOWGATE_AI_SECRETS), checked at apply. */
    apiKeyEnv: z
      .string()
      .max(128)
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
    temperature: z.number().min(0).max(2).optional(),
  }),
]);
export type AiSpec = z.infer<typeof aiSpecSchema>;

/** A value per plan label (label decisions only; plan-rules.ts checks the labels). */
const perLabel = <T extends z.ZodType>(value: T) =>
  z
    .record(z.string().min(1).max(NAME_CHARS), value)
    .refine((o) => Object.keys(o).length <= MAX_LISTED, `at most ${MAX_LISTED} labels`);

/**
 * What it costs (USD) when the AI answers X and the human said Y: `{X: {Y: cost}}`. Unlisted
 * pairs cost the plan's `defaultErrorCost`; agreeing costs nothing.
 */
export const errorCostsSchema = perLabel(perLabel(usd));
export type ErrorCosts = z.infer<typeof errorCostsSchema>;

const agreementCriteria = {
  agreementLowerBound: fraction.optional(),
  segmentAgreementLowerBound: fraction.optional(),
  minSegmentSamples: z.number().int().positive().default(50),
};

export const promoteWhenSchema = z.strictObject({
  minSamples: z.number().int().nonnegative().default(0),
  minDuration: durationSchema.optional(),
  ...agreementCriteria,
  maxAiErrorRate: fraction.optional(),
  maxP95LatencyMs: z.number().positive().max(3_600_000).optional(),
  maxAiCostPerDecision: usd.max(MAX_COST_USD).optional(),
  /** Of the requests the human labelled X, the share the AI also labelled X: its lower bound. */
  labelRecallLowerBound: perLabel(fraction).optional(),
  /** Of the requests the AI labelled X, the share the human also labelled X: its lower bound. */
  labelPrecisionLowerBound: perLabel(fraction).optional(),
  /** A label with fewer compared decisions than this is inconclusive for the two above. */
  minLabelSamples: z.number().int().positive().max(1_000_000).default(50),
  /** The upper bound of the mean error cost per compared decision (USD, `errorCosts`). */
  maxErrorCostPerDecision: usd.optional(),
  /**
   * A judge comparator only: the lower bound of the judge's agreement with people's ratings (the
   * judge version that scores the cohort's newest decisions). 0.8 when a judge's plan omits it.
   */
  judgeAgreementLowerBound: fraction.optional(),
  /** Ratings of that judge version below which `judgeAgreementLowerBound` is inconclusive. */
  minJudgeRatings: z.number().int().positive().max(1_000_000).default(50),
});
export type PromoteWhen = z.infer<typeof promoteWhenSchema>;

/** The fields a drift guard may name besides the segments and `drift.numeric` (see DRIFT_FIELDS). */
export const BUILT_IN_DRIFT_FIELDS = ['humanLabel', 'aiLabel', 'aiConfidence', 'aiLatency'] as const;
/** Numeric context fields a plan may watch for drift: each adds a row per bucket per hour. */
export const MAX_DRIFT_NUMERIC = 10;
/** Buckets a declared scheme may have (its rows per hour; drift.ts allows more). */
export const MAX_DRIFT_BUCKETS = 50;

/** Trips when any named field's PSI (reference against the current window) is above `psi`. */
export const driftAboveSchema = z.strictObject({
  psi: z.number().min(0).max(10),
  /** A segment, humanLabel, aiLabel, aiConfidence, aiLatency or a `drift.numeric` field. */
  fields: uniqueStrings(z.string().min(1).max(64))
    .min(1)
    .max(16 + BUILT_IN_DRIFT_FIELDS.length + MAX_DRIFT_NUMERIC),
});
export type DriftAbove = z.infer<typeof driftAboveSchema>;

export const rollbackWhenSchema = z.strictObject({
  window: z.number().int().positive().max(100_000).default(200),
  /** PSI of the named fields over `drift.window` against the stage's reference. */
  driftAbove: driftAboveSchema.optional(),
  /** human-reviewed: share of decisions with a suggestion whose human decision differs from it. */
  overrideRateAbove: fraction.optional(),
  /** limited-autonomous: share of requests sent to a person. */
  escalationRateAbove: fraction.optional(),
  agreementBelow: fraction.optional(),
  aiErrorRateAbove: fraction.optional(),
  /** Recall of a label over the last `labelWindow` compared requests the human gave that label. */
  labelRecallBelow: perLabel(fraction).optional(),
  labelWindow: z.number().int().positive().max(100_000).default(50),
  action: z.enum(['rollback', 'disable', 'notify']).default('rollback'),
});
export type RollbackWhen = z.infer<typeof rollbackWhenSchema>;

/** A context field watched as a number: the same characters as a segment. */
const contextFieldName = z.string().min(1).max(64).superRefine(refuseControls('line'));

/**
 * What the drift measures compare (README "Drift"): the trailing window, and the numeric context
 * fields to bucket besides the built-in ones.
 */
export const driftSchema = z.strictObject({
  /**
   * A number of decisions (100 to 100,000) or a duration from 1h to 30d. Counts are kept per hour,
   * so a window of decisions is the trailing whole hours that hold at least that many.
   */
  window: z
    .union([
      z.number().int().min(100).max(100_000),
      durationText.refine((d) => {
        const ms = parseDurationMs(d);
        return ms >= 3_600_000 && ms <= 30 * 86_400_000;
      }, 'a duration from 1h to 30d'),
    ])
    .default('1d'),
  /** Context fields read as numbers and bucketed (a value that is not a finite number is skipped). */
  numeric: uniqueStrings(contextFieldName).max(MAX_DRIFT_NUMERIC).default([]),
  /** A numeric field's bucket bounds, increasing (default: a 1-2-5 series from 0 to 10^9). */
  buckets: z
    .record(
      contextFieldName,
      z
        .array(z.number())
        .min(2)
        .max(MAX_DRIFT_BUCKETS + 1)
        .superRefine((bounds, ctx) => {
          try {
            checkBucketScheme({ bounds });
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message });
          }
        }),
    )
    .refine((o) => Object.keys(o).length <= MAX_DRIFT_NUMERIC, `at most ${MAX_DRIFT_NUMERIC} fields`)
    .optional(),
  /** A drift guard judges only a window holding at least this many decisions [100]. */
  minWindow: z.number().int().min(1).max(100_000).default(100),
});
export type DriftSpec = z.output<typeof driftSchema>;

export const constraintSchema = z.strictObject({
  contextName: z.string().min(1).max(NAME_CHARS),
  operator: z.enum([
    'IN',
    'NOT_IN',
    'STR_CONTAINS',
    'STR_STARTS_WITH',
    'STR_ENDS_WITH',
    'NUM_EQ',
    'NUM_GT',
    'NUM_GTE',
    'NUM_LT',
    'NUM_LTE',
  ]),
  values: z.array(z.string()).optional(),
  value: z.string().optional(),
  inverted: z.boolean().optional(),
  caseInsensitive: z.boolean().optional(),
});

export const boundarySchema = z.strictObject({
  constraints: z.array(constraintSchema).max(MAX_LISTED).default([]),
  minConfidence: fraction.default(0),
  rolloutPercent: z.number().min(0).max(100).default(100),
});

const stageCommon = {
  approval: z.enum(['manual', 'automatic']).default('manual'),
  rollbackWhen: rollbackWhenSchema.optional(),
  rollbackTo: z.enum(STAGES).optional(),
};

export const shadowStageSchema = z.strictObject({
  ...stageCommon,
  promoteWhen: promoteWhenSchema.optional(),
  /** Fraction of requests mirrored to the AI, by a hash of the request id. */
  sampleRate: fraction.default(1),
});

export const humanReviewedStageSchema = z.strictObject({
  ...stageCommon,
  promoteWhen: promoteWhenSchema.optional(),
});

export const limitedAutonomousStageSchema = z.strictObject({
  ...stageCommon,
  boundary: boundarySchema.default({ constraints: [], minConfidence: 0, rolloutPercent: 100 }),
  auditRate: fraction.default(0.05),
  /**
   * When the AI answers with a model version the stage was not earned with (its answers never
   * decide alone either way): `demote` to human-reviewed at the next tick, where the new version
   * earns autonomy through the gate; `keep` records and notifies, and the new version decides
   * alone once human-reviewed's gate holds for its own cohort here.
   */
  onModelChange: z.enum(['demote', 'keep']).default('demote'),
});

/**
 * How a new AI configuration applied while the use case holds authority (human-reviewed or
 * limited-autonomous) earns it: it runs beside the champion as a challenger (README "Champion and
 * challenger").
 */
export const challengerSchema = z.strictObject({
  /** Share of the live requests also sent to the challenger, by a hash of the request id. */
  sampleRate: fraction.refine((r) => r > 0, 'a challenger asked nothing is never judged: above 0').default(1),
  /** How much worse than the champion (agreement with the humans, paired per request) it may be. */
  margin: z.number().min(0).max(0.2).default(0.02),
  /** automatic: swapped in at the first tick its verdict is eligible; manual: a release key swaps it. */
  approval: z.enum(['manual', 'automatic']).default('manual'),
});
export type ChallengerSpec = z.output<typeof challengerSchema>;

/** What is masked before anything is stored, logged or sent (see README "Data protection"). */
export const redactSchema = z.strictObject({
  /** Paths are walked for every decision stored: a few hundred characters, a hundred paths. */
  fields: uniqueStrings(
    z
      .string()
      .max(500)
      .superRefine((path, ctx) => {
        const problem = redactPathProblem(path);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  )
    .max(MAX_LISTED)
    .optional(),
  patterns: z
    .array(
      z.enum(PATTERN_NAMES, {
        error: (issue) =>
          `unknown pattern ${JSON.stringify(issue.input)}: expected one of ${PATTERN_NAMES.join(', ')}`,
      }),
    )
    .optional(),
});
export type RedactSpec = z.infer<typeof redactSchema>;

export const planShapeSchema = z.strictObject({
  useCase: slug,
  /** Owner text is shown in reports, terminals and the dashboard: printable only. */
  owner: z.string().min(1).max(320).superRefine(refuseControls('line')),
  description: z.string().max(4000).superRefine(refuseControls('text')).optional(),
  decision: decisionSpecSchema,
  comparator: comparatorSchema.default({ type: 'exact' }),
  ai: aiSpecSchema,
  humanCostPerDecision: usd.default(0),
  segments: uniqueStrings(z.string().min(1).max(64).superRefine(refuseControls('line')))
    .max(16)
    .default([]),
  statistics: z.enum(['sequential', 'fixed']).default('sequential'),
  /**
   * A request whose AI call failed for good, once a human decided it: a disagreement in every
   * agreement bound of the gates (`disagree`), or left out of them (`exclude`).
   */
  aiFailures: z.enum(['disagree', 'exclude']).default('disagree'),
  errorCosts: errorCostsSchema.optional(),
  /** The cost of an (AI, human) pair of different labels that `errorCosts` does not list. */
  defaultErrorCost: usd.default(0),
  confidence: z.number().min(0.5).max(0.999).default(0.95),
  /** Absent: the use case stays in shadow (evidence is gathered, nothing is promoted). */
  stages: z
    .strictObject({
      shadow: shadowStageSchema.default({ approval: 'manual', sampleRate: 1 }),
      'human-reviewed': humanReviewedStageSchema.optional(),
      'limited-autonomous': limitedAutonomousStageSchema.optional(),
    })
    .prefault({}),
  challenger: challengerSchema.prefault({}),
  /**
   * Four eyes: N further distinct keys with the release role, never the author, must approve every
   * plan change and every manual stage change except `disable` (the kill switch is never held back).
   */
  changeControl: z.strictObject({ approvals: z.number().int().min(0).max(5).default(0) }).prefault({}),
  drift: driftSchema.prefault({}),
  notify: z.strictObject({ webhook: httpUrl }).optional(),
  redact: redactSchema.optional(),
  /** What the `input` column keeps; the raw input is kept apart only while its AI call is owed. */
  storeInput: z.enum(STORE_INPUT_MODES).default('full'),
  /** Days after which stored inputs are purged (metrics are unaffected). */
  retentionDays: z.number().int().min(1).max(36_500).optional(),
});

/** A plan whose every field has the right shape, before the cross-field rules. */
export type PlanShape = z.output<typeof planShapeSchema>;
