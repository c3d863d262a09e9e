import type {
  DecisionBatchWire,
  DecisionContext,
  ErrorBody,
  HumanSideWire,
  IngestResult,
  LateHumanAnswer,
  Mode,
  MirroredDecisionWire,
  RatingAnswer,
  RatingWire,
  SuggestionAnswer,
  SuggestRequestWire,
} from '@shadowgate/sdk/wire';
import type { z } from 'zod';
import type { IngestService } from '../ingest/ingest-service.js';
import type { RatingService } from '../ingest/rating-service.js';
import type { SuggestionService } from '../suggestions/suggestion-service.js';
import type { UseCase } from '../plans/use-case-store.js';
import type {
  contextSchema,
  decisionBatchSchema,
  humanSideSchema,
  ingestResultSchema,
  lateHumanAnswerSchema,
  lateHumanSchema,
  mirroredDecisionSchema,
} from './decision-contracts.js';
import type { errorBodySchema, ShadowgateError } from './errors.js';
import type { ratingAnswerSchema, ratingSchema } from './rating-contracts.js';
import type { suggestRequestSchema } from './suggestion-contracts.js';

/**
 * Compile-time only: the controller's schemas and answers are the SDK's wire types, exactly.
 * A field added, dropped or retyped on either side fails `npm run typecheck` here.
 * (The schemas also say what types cannot: lengths, patterns, limits.)
 */

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
/**
 * Each assignable to the other, with the same fields (optional ones included, which assignability
 * alone would let one side add). Zod spells JSON and refined values its own way, so identity is too strict.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? Equals<keyof A, keyof B> : false) : false;
/** A valid request gives the controller the wire type, and what the SDK sends is what the schema checks. */
type Both<S extends z.ZodType, W> = [W] extends [z.input<S>] ? Same<z.output<S>, W> : false;

export type WireChecks = [
  Assert<Both<typeof contextSchema, DecisionContext>>,
  Assert<Both<typeof humanSideSchema, HumanSideWire>>,
  Assert<Both<typeof lateHumanSchema, HumanSideWire>>,
  Assert<Both<typeof mirroredDecisionSchema, MirroredDecisionWire>>,
  Assert<Both<typeof decisionBatchSchema, DecisionBatchWire>>,
  Assert<Both<typeof suggestRequestSchema, SuggestRequestWire>>,
  Assert<Both<typeof ingestResultSchema, IngestResult>>,
  Assert<Both<typeof lateHumanAnswerSchema, LateHumanAnswer>>,
  Assert<Both<typeof errorBodySchema, ErrorBody>>,
  Assert<Both<typeof ratingSchema, RatingWire>>,
  Assert<Both<typeof ratingAnswerSchema, RatingAnswer>>,
  Assert<Equals<Awaited<ReturnType<RatingService['rate']>>, RatingAnswer>>,
  Assert<Equals<Awaited<ReturnType<IngestService['ingest']>>, IngestResult>>,
  Assert<
    Equals<Awaited<ReturnType<IngestService['recordLateHuman']>>, Pick<LateHumanAnswer, 'status' | 'score'>>
  >,
  Assert<Equals<Awaited<ReturnType<SuggestionService['suggest']>>, SuggestionAnswer>>,
  Assert<Equals<UseCase['stage'], Mode>>,
  Assert<
    Equals<
      { error: ShadowgateError['code']; message: string; details: ShadowgateError['details'] },
      ErrorBody
    >
  >,
];
