import {
  decisionBatchSchema,
  ingestResultSchema,
  lateHumanAnswerSchema,
  lateHumanSchema,
  mirroredDecisionSchema,
  plainDecision,
  plainDecisionBatch,
} from '../../contracts/decision-contracts.js';
import { badRequest } from '../../contracts/errors.js';
import { ratingAnswerSchema, ratingSchema } from '../../contracts/rating-contracts.js';
import { suggestRequestSchema } from '../../contracts/suggestion-contracts.js';
import { principalOf } from '../auth.js';
import { AUTH, BODY, type RouteSpec, USE_CASE } from '../route-spec.js';
import { parseOrThrow } from '../validate.js';
import { requestIdParam, useCaseIdParam } from './params.js';

/** The SDK-facing writes: they spend the ingest budget (a batch of decisions is one request). */
export const decisionRoutes: RouteSpec[] = [
  {
    method: 'post',
    path: '/v1/decisions',
    permission: 'ingest',
    budget: 'ingest',
    summary: 'mirror one decision or a batch of up to 1000 (all or nothing)',
    description:
      'one decision `{useCase, requestId, input, context?, human?}` or `{decisions: [...]}` (≤ 1000); 202 `{accepted, duplicates, aiCallsOwed}`',
    response: ingestResultSchema,
    body: [
      { name: 'MirroredDecision', schema: mirroredDecisionSchema },
      { name: 'DecisionBatch', schema: decisionBatchSchema },
    ],
    responses: {
      202: '{accepted, duplicates, aiCallsOwed}',
      ...AUTH,
      ...BODY,
      404: 'unknown use case (the items are named)',
      409: 'a requestId stored or repeated with another payload (the items are named)',
      503: 'the database is unreachable (Retry-After)',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const principal = principalOf(req);
        const body: unknown = req.body;
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          throw badRequest('expected a JSON object: one decision or {decisions: [...]}', [
            { path: '', problem: 'expected an object' },
          ]);
        }
        if ('decisions' in body) {
          // Plainly valid batches skip zod; anything else is checked in full, every problem named.
          const batch = plainDecisionBatch(body) ?? parseOrThrow(decisionBatchSchema, body, 'decision batch');
          const paths = batch.decisions.map((_, i) => `decisions[${i}]`);
          res.status(202).json(await services.ingest.ingest(batch.decisions, principal, paths));
          return;
        }
        const decision = plainDecision(body) ?? parseOrThrow(mirroredDecisionSchema, body, 'decision');
        res.status(202).json(await services.ingest.ingest([decision], principal, ['']));
      },
  },
  {
    method: 'post',
    path: '/v1/decisions/:useCase/:requestId/human',
    permission: 'ingest',
    budget: 'ingest',
    summary: 'a late human decision',
    description:
      'a late human decision `{decision, decidedBy?, handlingMs?}`; 200 `{status, compared, score}`',
    body: [{ name: 'LateHumanDecision', schema: lateHumanSchema }],
    response: lateHumanAnswerSchema,
    responses: {
      200: '{status, compared, score}',
      ...AUTH,
      ...BODY,
      404: 'unknown use case or decision',
      409: 'another human decision is recorded for this request',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const useCase = useCaseIdParam(req.params.useCase);
        const requestId = requestIdParam(req.params.requestId);
        const human = parseOrThrow(lateHumanSchema, req.body, 'human decision');
        const outcome = await services.ingest.recordLateHuman(useCase, requestId, human, principalOf(req));
        res.status(200).json({ useCase, requestId, ...outcome, compared: outcome.score !== null });
      },
  },
  {
    method: 'post',
    path: '/v1/decisions/:useCase/:requestId/rating',
    permission: 'ingest',
    budget: 'ingest',
    summary: "people's rating of the AI's output, for the judge's calibration",
    description:
      '`{acceptable, by}` of a decision a judge scores; 202 `{status, counted}` (`counted`: in the calibration sample); the first rating stands',
    body: [{ name: 'Rating', schema: ratingSchema }],
    response: ratingAnswerSchema,
    responses: {
      202: '{useCase, requestId, status: recorded, counted}',
      200: '{useCase, requestId, status: duplicate, counted}: the same rating again',
      ...AUTH,
      ...BODY,
      404: 'unknown use case or decision',
      409: "`not_judged`: the decision's plan version has no judge; `already_rated`: another rating stands",
      503: 'the database is unreachable (Retry-After)',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const useCase = useCaseIdParam(req.params.useCase);
        const requestId = requestIdParam(req.params.requestId);
        const rating = parseOrThrow(ratingSchema, req.body, 'rating');
        const answer = await services.ratings.rate(useCase, requestId, rating, principalOf(req));
        res.status(answer.status === 'recorded' ? 202 : 200).json(answer);
      },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/suggest',
    permission: 'ingest',
    budget: 'ingest',
    summary: 'a synchronous AI suggestion, recorded',
    description:
      '`{requestId, input, context?}` → `{decision, confidence, modelVersion, autonomous, audit, stage, latencyMs}`; recorded (see below)',
    body: [{ name: 'SuggestRequest', schema: suggestRequestSchema }],
    responses: {
      200: '{decision, confidence, modelVersion, autonomous, audit, stage, latencyMs}',
      ...USE_CASE,
      ...BODY,
      409: 'disabled, or the request id was used with another input',
      502: 'the AI system failed',
    },
    handler:
      ({ services }) =>
      async (req, res) => {
        const id = useCaseIdParam(req.params.id);
        const request = parseOrThrow(suggestRequestSchema, req.body, 'suggestion request');
        res.json(await services.suggestions.suggest(id, request, principalOf(req)));
      },
  },
];
