import { z } from 'zod';
import { contextSchema, requestIdSchema } from './decision-contracts.js';

/** `POST /v1/use-cases/:id/suggest`: what a workflow sends (its answer is the wire's SuggestionAnswer). */
export const suggestRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  input: z.json().refine((v) => v !== undefined, 'required'),
  context: contextSchema.optional(),
});
export type SuggestRequest = z.infer<typeof suggestRequestSchema>;
