import { z } from 'zod';
import { MAX_COST_USD } from '../contracts/ai-answer-bounds.js';
import { refuseControls } from '../contracts/safe-text.js';
import { STORE_INPUT_MODES } from '../privacy/input-policy.js';
import { redactPathProblem } from '../privacy/redact.js';
import { PATTERN_NAMES } from '../privacy/redaction-patterns.js';

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

/** "7d", "12h", "30m", "45s", "500ms", or a number of seconds (see duration.ts). */
export const durationSchema = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\d{1,9}(?:\.\d{1,6})?(ms|s|m|h|d|w)$/, 'a duration such as 30m, 12h, 7d or 2w'),
]);

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
  }),
]);
export type DecisionSpec = z.infer<typeof decisionSpecSchema>;

export const comparatorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('exact') }),
  z.strictObject({ type: z.literal('normalized-text') }),
  z.strictObject({ type: z.literal('numeric'), tolerance: z.number().nonnegative().default(0) }),
  z.strictObject({
    type: z.literal('fields'),
    fields: z.array(z.string().min(1).max(NAME_CHARS)).min(1).max(MAX_LISTED),
    tolerance: z.number().nonnegative().optional(),
  }),
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
});

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

const planObject = z.strictObject({
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
  confidence: z.number().min(0.5).max(0.999).default(0.95),
  /** Absent: the use case stays in shadow (evidence is gathered, nothing is promoted). */
  stages: z
    .strictObject({
      shadow: shadowStageSchema.default({ approval: 'manual', sampleRate: 1 }),
      'human-reviewed': humanReviewedStageSchema.optional(),
      'limited-autonomous': limitedAutonomousStageSchema.optional(),
    })
    .prefault({}),
  notify: z.strictObject({ webhook: httpUrl }).optional(),
  redact: redactSchema.optional(),
  /** What the `input` column keeps; the raw input is kept apart only while its AI call is owed. */
  storeInput: z.enum(STORE_INPUT_MODES).default('full'),
  /** Days after which stored inputs are purged (metrics are unaffected). */
  retentionDays: z.number().int().min(1).max(36_500).optional(),
});

type PlanShape = z.output<typeof planObject>;
type RuleProblem = { path: (string | number)[]; message: string };

const LIST_OPERATORS = new Set(['IN', 'NOT_IN', 'STR_CONTAINS', 'STR_STARTS_WITH', 'STR_ENDS_WITH']);

/**
 * Rules that span fields. They run once the plan's shape is right (zod skips them while a field
 * has the wrong type) and are reported like any other problem, with the path to fix.
 */
export function planRuleProblems(plan: PlanShape): RuleProblem[] {
  return [...comparatorFit(plan), ...stageRules(plan), ...boundaryRules(plan), ...dataRules(plan)];
}

/**
 * `full` stores the input as sent, so rules for the input would silently do nothing; a context
 * field that is a segment cannot be redacted without emptying the segment's breakdown.
 */
function dataRules({ redact, storeInput, segments }: PlanShape): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const fields = redact?.fields ?? [];
  const inputRules = fields.some((f) => f.startsWith('input.')) || (redact?.patterns?.length ?? 0) > 0;
  if (storeInput === 'full' && inputRules) {
    problems.push({
      path: ['storeInput'],
      message:
        'full (the default) stores the input as sent, so the redact rules for the input would be ignored: set storeInput to redacted, hash or none',
    });
  }
  if (storeInput === 'redacted' && !inputRules) {
    problems.push({
      path: ['storeInput'],
      message:
        'redacted needs redact.patterns or redact.fields under input.; without them the input is stored as sent',
    });
  }
  fields.forEach((field, i) => {
    const [root, first] = field.split('.');
    if (root !== 'context' || first === undefined) return;
    const hit = first === '*' ? segments[0] : segments.find((s) => s === first);
    if (hit !== undefined) {
      problems.push({
        path: ['redact', 'fields', i],
        message: `redacts the segment ${hit} (agreement is broken down by it): remove it from segments or from redact.fields`,
      });
    }
  });
  return problems;
}

/** Label decisions are strings; JSON decisions with `requiredFields` are objects; other JSON decisions may be any value. */
function comparatorFit({ decision, comparator }: PlanShape): RuleProblem[] {
  const objects = decision.type === 'json' && (decision.requiredFields?.length ?? 0) > 0;
  const at = ['comparator', 'type'];
  if (comparator.type === 'fields' && decision.type !== 'json') {
    return [{ path: at, message: 'fields compares fields of JSON objects: it needs decision.type json' }];
  }
  if (comparator.type === 'numeric' && (decision.type !== 'json' || objects)) {
    return [
      {
        path: at,
        message:
          'numeric compares numbers: it needs decision.type json without requiredFields (decisions that are numbers)',
      },
    ];
  }
  if (comparator.type === 'normalized-text' && objects) {
    return [
      { path: at, message: 'normalized-text compares text, but decisions with requiredFields are objects' },
    ];
  }
  return [];
}

function stageRules(plan: PlanShape): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const { stages } = plan;
  if (stages['limited-autonomous'] && !stages['human-reviewed']) {
    problems.push({
      path: ['stages', 'human-reviewed'],
      message: 'required when limited-autonomous is present: a use case reaches it through human-reviewed',
    });
  }
  for (const name of STAGES) {
    const stage = stages[name];
    if (!stage) continue;
    const at = ['stages', name];
    const promoteWhen = 'promoteWhen' in stage ? stage.promoteWhen : undefined;
    if (promoteWhen?.segmentAgreementLowerBound !== undefined && plan.segments.length === 0) {
      problems.push({
        path: [...at, 'promoteWhen', 'segmentAgreementLowerBound'],
        message: 'needs at least one entry in segments (the context fields agreement is broken down by)',
      });
    }
    const guard = stage.rollbackWhen;
    if (guard && guard.agreementBelow === undefined && guard.aiErrorRateAbove === undefined) {
      problems.push({
        path: [...at, 'rollbackWhen'],
        message: 'a guard needs agreementBelow or aiErrorRateAbove, otherwise it never trips',
      });
    }
    if (name === 'shadow' && guard?.action === 'rollback') {
      problems.push({
        path: [...at, 'rollbackWhen', 'action'],
        message:
          'expected disable or notify in shadow (rollback, the default, has no stage below shadow to go to)',
      });
    }
    if (stage.rollbackTo !== undefined)
      problems.push(...rollbackTargetProblems(plan, name, stage.rollbackTo));
  }
  return problems;
}

function rollbackTargetProblems(plan: PlanShape, from: PromotableStage, to: PromotableStage): RuleProblem[] {
  const path = ['stages', from, 'rollbackTo'];
  const earlier = STAGES.slice(0, STAGES.indexOf(from));
  if (earlier.length === 0) {
    return [{ path, message: 'shadow is the first stage: there is nothing before it to roll back to' }];
  }
  if (!earlier.includes(to)) {
    return [{ path, message: `expected a stage before ${from} (${earlier.join(' or ')}), got "${to}"` }];
  }
  if (!plan.stages[to]) return [{ path, message: `the stage ${to} is not in this plan` }];
  return [];
}

/** Unleash reads `values` for list and string operators and `value` for numeric ones. */
function boundaryRules(plan: PlanShape): RuleProblem[] {
  const constraints = plan.stages['limited-autonomous']?.boundary.constraints ?? [];
  return constraints.flatMap((c, i): RuleProblem[] => {
    const at = ['stages', 'limited-autonomous', 'boundary', 'constraints', i];
    if (LIST_OPERATORS.has(c.operator)) {
      return c.values && c.values.length > 0
        ? []
        : [
            {
              path: [...at, 'values'],
              message: `required for operator ${c.operator}: a list of at least one value`,
            },
          ];
    }
    if (c.value === undefined) {
      return [
        {
          path: [...at, 'value'],
          message: `required for operator ${c.operator}: a number as text, e.g. "100"`,
        },
      ];
    }
    return Number.isFinite(Number(c.value)) && c.value.trim() !== ''
      ? []
      : [
          {
            path: [...at, 'value'],
            message: `expected a number as text for ${c.operator}, got "${c.value}"`,
          },
        ];
  });
}

export const planSchema = planObject.superRefine((plan, ctx) => {
  for (const { path, message } of planRuleProblems(plan)) ctx.addIssue({ code: 'custom', path, message });
});

/** A plan as written (before defaults). */
export type PlanInput = z.input<typeof planSchema>;
/** A plan after validation, defaults filled in. */
export type Plan = z.output<typeof planSchema>;
