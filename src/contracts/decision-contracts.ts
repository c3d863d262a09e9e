import { z } from 'zod';

/** Wire format of decisions, shared by the SDK and the API. */

export const MAX_BATCH = 1000;

export const useCaseIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a use case id: lowercase letters, digits and single dashes');

export const requestIdSchema = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'printable characters only');

const scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

/** Context fields drive segments and the autonomy boundary: flat scalars only. */
export const contextSchema = z
  .record(z.string().min(1).max(64), scalar)
  .refine((c) => Object.keys(c).length <= 64, 'at most 64 context fields');

const jsonValue = z.json();

export const humanSideSchema = z.strictObject({
  decision: jsonValue.refine((v) => v !== null, 'a decision, not null'),
  decidedBy: z.string().min(1).max(200).optional(),
  handlingMs: z
    .number()
    .int()
    .nonnegative()
    .max(30 * 24 * 3600 * 1000)
    .optional(),
});
export type HumanSide = z.infer<typeof humanSideSchema>;

export const mirroredDecisionSchema = z.strictObject({
  useCase: useCaseIdSchema,
  requestId: requestIdSchema,
  input: jsonValue.refine((v) => v !== undefined, 'required'),
  context: contextSchema.optional(),
  human: humanSideSchema.optional(),
});
export type MirroredDecision = z.infer<typeof mirroredDecisionSchema>;

export const decisionBatchSchema = z.strictObject({
  decisions: z
    .array(mirroredDecisionSchema)
    .min(1, 'at least one decision')
    .max(MAX_BATCH, `at most ${MAX_BATCH} decisions per batch`),
});

export interface IngestResult {
  /** Newly stored decisions. */
  accepted: number;
  /** Decisions already stored with the same payload (retries): nothing changed. */
  duplicates: number;
  /** AI calls newly owed (shadow stage, sampled). */
  aiCallsOwed: number;
}

export const lateHumanSchema = humanSideSchema;
