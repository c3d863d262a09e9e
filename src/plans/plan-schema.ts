import { z } from 'zod';

/**
 * The rollout plan: the product owner's contract (see README "Rollout plan").
 * Objects are strict: a misspelt field is an error, never silently ignored.
 */

export const STAGES = ['shadow', 'human-reviewed', 'limited-autonomous'] as const;
export type PromotableStage = (typeof STAGES)[number];
export const MODES = [...STAGES, 'disabled'] as const;
export type Mode = (typeof MODES)[number];

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a slug of lowercase letters, digits and single dashes');

/** "7d", "12h", "30m", "45s", "500ms", or a number of seconds. */
export const durationSchema = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\d+(?:\.\d+)?(ms|s|m|h|d|w)$/, 'a duration such as 30m, 12h, 7d or 2w'),
]);

const fraction = z.number().min(0).max(1);
const usd = z.number().nonnegative();

export const decisionSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('label'),
    labels: z
      .array(z.string().min(1))
      .min(2, 'at least two labels')
      .refine((l) => new Set(l).size === l.length, {
        message: 'labels must be unique',
      }),
  }),
  z.strictObject({
    type: z.literal('json'),
    /** Fields every decision object must have (a minimal schema; values are free). */
    requiredFields: z.array(z.string().min(1)).optional(),
  }),
]);
export type DecisionSpec = z.infer<typeof decisionSpecSchema>;

export const comparatorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('exact') }),
  z.strictObject({ type: z.literal('normalized-text') }),
  z.strictObject({ type: z.literal('numeric'), tolerance: z.number().nonnegative().default(0) }),
  z.strictObject({
    type: z.literal('fields'),
    fields: z.array(z.string().min(1)).min(1),
    tolerance: z.number().nonnegative().optional(),
  }),
]);
export type ComparatorSpec = z.infer<typeof comparatorSchema>;

export const pricingSchema = z.strictObject({
  perCall: usd.default(0),
  inputPerMTok: usd.default(0),
  outputPerMTok: usd.default(0),
});
export type Pricing = z.infer<typeof pricingSchema>;

const aiCommon = {
  url: z.url({ protocol: /^https?$/ }),
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
    model: z.string().min(1),
    /** Mustache-like template: {{input}}, {{context}}, {{labels}} are replaced. */
    prompt: z.string().min(1),
    /** Name of the environment variable holding the bearer token, if any. */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
    temperature: z.number().min(0).max(2).optional(),
  }),
]);
export type AiSpec = z.infer<typeof aiSpecSchema>;

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
  maxP95LatencyMs: z.number().positive().optional(),
  maxAiCostPerDecision: usd.optional(),
});
export type PromoteWhen = z.infer<typeof promoteWhenSchema>;

export const rollbackWhenSchema = z.strictObject({
  window: z.number().int().positive().max(100_000).default(200),
  agreementBelow: fraction.optional(),
  aiErrorRateAbove: fraction.optional(),
  action: z.enum(['rollback', 'disable', 'notify']).default('rollback'),
});
export type RollbackWhen = z.infer<typeof rollbackWhenSchema>;

export const constraintSchema = z.strictObject({
  contextName: z.string().min(1),
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
  constraints: z.array(constraintSchema).default([]),
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
  /** How long the SDK waits for a suggestion before the human decides without it. */
  suggestionDeadlineMs: z.number().int().positive().max(60_000).default(1500),
});

export const limitedAutonomousStageSchema = z.strictObject({
  ...stageCommon,
  boundary: boundarySchema.default({ constraints: [], minConfidence: 0, rolloutPercent: 100 }),
  auditRate: fraction.default(0.05),
});

export const planSchema = z.strictObject({
  useCase: slug,
  owner: z.string().min(1).max(320),
  description: z.string().max(4000).optional(),
  decision: decisionSpecSchema,
  comparator: comparatorSchema.default({ type: 'exact' }),
  ai: aiSpecSchema,
  humanCostPerDecision: usd.default(0),
  segments: z.array(z.string().min(1).max(64)).max(16).default([]),
  statistics: z.enum(['sequential', 'fixed']).default('sequential'),
  confidence: z.number().min(0.5).max(0.999).default(0.95),
  stages: z.strictObject({
    shadow: shadowStageSchema.default({ approval: 'manual', sampleRate: 1 }),
    'human-reviewed': humanReviewedStageSchema.optional(),
    'limited-autonomous': limitedAutonomousStageSchema.optional(),
  }),
  /** How much of a request's input is kept: verbatim, redacted, as a hash, or not at all. */
  storeInput: z.enum(['full', 'redacted', 'hash', 'none']).default('full'),
  /** Field paths (a.b.c) removed from input and context before anything is stored. */
  redact: z.array(z.string().min(1)).default([]),
  retentionDays: z.number().int().positive().optional(),
  notify: z.strictObject({ webhook: z.url({ protocol: /^https?$/ }) }).optional(),
});

/** A plan as written (before defaults). */
export type PlanInput = z.input<typeof planSchema>;
/** A plan after validation, defaults filled in. */
export type Plan = z.output<typeof planSchema>;
