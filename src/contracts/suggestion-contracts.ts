import { z } from 'zod';
import { contextSchema, requestIdSchema } from './decision-contracts.js';

/** `POST /v1/use-cases/:id/suggest`: what a workflow sends and what it gets back. */
export const suggestRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  input: z.json().refine((v) => v !== undefined, 'required'),
  context: contextSchema.optional(),
});
export type SuggestRequest = z.infer<typeof suggestRequestSchema>;

export interface Suggestion {
  requestId: string;
  decision: unknown;
  confidence: number | null;
  modelVersion: string | null;
  /**
   * True in limited-autonomous for a request inside the boundary (its constraints on the context,
   * its rollout percentage by request id, as the flag decides in the SDK) whose confidence reaches
   * the boundary's minConfidence.
   */
  autonomous: boolean;
  /** An autonomous decision drawn for human audit (the plan's auditRate, by a hash of the request id). */
  audit: boolean;
  stage: string;
  latencyMs: number;
}
