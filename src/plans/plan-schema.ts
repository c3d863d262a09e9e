import type { z } from 'zod';
import { planRuleProblems } from './plan-rules.js';
import { planShapeSchema } from './plan-shape.js';

/**
 * The rollout plan: the product owner's contract (see README "Rollout plan"). Its shape
 * (plan-shape.ts) and the rules that span fields (plan-rules.ts), checked once the shape is right
 * and reported like any other problem, with the path to fix.
 */
export const planSchema = planShapeSchema.superRefine((plan, ctx) => {
  for (const { path, message } of planRuleProblems(plan)) ctx.addIssue({ code: 'custom', path, message });
});

/** A plan as written (before defaults). */
export type PlanInput = z.input<typeof planSchema>;
/** A plan after validation, defaults filled in. */
export type Plan = z.output<typeof planSchema>;

export { maxErrorCost, planRuleProblems } from './plan-rules.js';
export {
  type AiSpec,
  aiSpecSchema,
  boundarySchema,
  type ComparatorSpec,
  comparatorSchema,
  constraintSchema,
  type DecisionSpec,
  decisionSpecSchema,
  durationSchema,
  type ErrorCosts,
  type FieldComparatorSpec,
  type FieldEntry,
  fieldComparatorSchema,
  humanReviewedStageSchema,
  type JudgeSpec,
  judgeComparatorSchema,
  MAX_RUBRIC_CHARS,
  limitedAutonomousStageSchema,
  MODES,
  type Mode,
  PLACEHOLDER,
  type PromotableStage,
  type PromoteWhen,
  type Pricing,
  pricingSchema,
  promoteWhenSchema,
  type RedactSpec,
  type RollbackWhen,
  redactSchema,
  rollbackWhenSchema,
  STAGES,
  shadowStageSchema,
  TEXT_SIMILARITY_METHODS,
  type TextSimilarityMethod,
} from './plan-shape.js';
