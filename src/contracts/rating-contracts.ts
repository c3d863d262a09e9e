import { MAX_RATED_BY } from '@shadowgate/sdk/wire';
import { z } from 'zod';
import { refuseControls } from './safe-text.js';

/** `POST /v1/decisions/:useCase/:requestId/rating`: a person's rating of the AI's output (the wire's RatingWire). */
export const ratingSchema = z.strictObject({
  acceptable: z.boolean(),
  /** A name shown to people: one line of printable text. */
  by: z.string().min(1).max(MAX_RATED_BY).superRefine(refuseControls('line')),
});
export type Rating = z.infer<typeof ratingSchema>;

/** The answer to a rating (202 recorded, 200 duplicate). */
export const ratingAnswerSchema = z.strictObject({
  useCase: z.string(),
  requestId: z.string(),
  status: z.enum(['recorded', 'duplicate']),
  counted: z.boolean(),
});
