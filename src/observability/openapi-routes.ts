import { z } from 'zod';
import {
  decisionBatchSchema,
  lateHumanSchema,
  mirroredDecisionSchema,
  requestIdSchema,
  useCaseIdSchema,
} from '../contracts/decision-contracts.js';
import { suggestRequestSchema } from '../ingest/suggestion-service.js';
import type { Permission } from '../keys/roles.js';
import { planSchema } from '../plans/plan-schema.js';
import { createKeySchema } from '../http/routes/key-routes.js';
import { planQuerySchema } from '../http/routes/plan-routes.js';
import { killSwitchSchema, promoteSchema, rollbackSchema } from '../http/routes/release-routes.js';
import { reportQuerySchema } from '../http/routes/report-routes.js';
import { timeseriesQuerySchema } from '../http/routes/timeseries-routes.js';
import { metricsQuerySchema } from '../http/routes/use-case-routes.js';

/**
 * The routes of the controller's API as the OpenAPI document lists them, each naming the
 * zod schemas its handler validates with. Paths are written as express writes them.
 */

/** Request bodies, by component name: the very schemas the routes parse with. */
export const REQUEST_SCHEMAS = {
  Plan: planSchema,
  MirroredDecision: mirroredDecisionSchema,
  DecisionBatch: decisionBatchSchema,
  LateHumanDecision: lateHumanSchema,
  SuggestRequest: suggestRequestSchema,
  Promote: promoteSchema,
  Rollback: rollbackSchema,
  KillSwitch: killSwitchSchema,
  CreateKey: createKeySchema,
} satisfies Record<string, z.ZodType>;
export type RequestSchemaName = keyof typeof REQUEST_SCHEMAS;

/** Path parameters, by name, as `params.ts` checks them. */
export const PATH_PARAMETERS: Record<string, z.ZodType> = {
  id: useCaseIdSchema,
  useCase: useCaseIdSchema,
  requestId: requestIdSchema,
};

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface RouteDoc {
  method: HttpMethod;
  path: string;
  summary: string;
  /**
   * What the key must be allowed (README "HTTP API", roles); `any` for any valid key; null for
   * the routes that take no key.
   */
  permission: Permission | 'any' | null;
  /** Path parameters not in PATH_PARAMETERS, or named alike but checked otherwise. */
  pathParameters?: Record<string, z.ZodType>;
  /** One schema, or several the body may be (`oneOf`). */
  body?: RequestSchemaName[];
  /** The plan is sent as YAML or JSON. */
  yamlBody?: boolean;
  query?: z.ZodObject;
  /** Status → what it means; error statuses answer with the error body. */
  responses: Record<number, string>;
  /** Media type of the 200 answer when not JSON. */
  produces?: string[];
  /** Not a JSON API answer (probes, metrics). */
  plain?: boolean;
}

const AUTH = {
  401: 'missing, malformed, unknown or revoked key',
  403: 'the key lacks the role or the scope',
};
const USE_CASE = { ...AUTH, 400: 'invalid use case id', 404: 'unknown use case' };
/** Reads that can scan many decisions stop at SHADOWGATE_READ_TIMEOUT_MS. */
const READ_TIMEOUT = { 503: 'read_timeout: the read ran past its time limit and was stopped' };
const BODY = {
  400: 'invalid body: every problem with its path; nothing is stored',
  413: 'body over the limit',
};

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'liveness',
    permission: null,
    responses: { 200: 'the process answers' },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'readiness: database, queue, flags, each `ok` or `unavailable` (checked at most once a second)',
    permission: null,
    responses: { 200: 'ready', 503: 'a dependency is unavailable (see checks; why is in the log)' },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format)',
    permission: null,
    plain: true,
    produces: ['text/plain'],
    responses: {
      200: 'the metrics',
      401: 'with SHADOWGATE_METRICS_AUTH=key: missing, malformed, unknown or revoked key',
      403: 'with SHADOWGATE_METRICS_AUTH=key: the key may not read, or not every use case',
    },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    summary: 'this document',
    permission: null,
    responses: { 200: 'the OpenAPI document' },
  },
  {
    method: 'put',
    path: '/v1/use-cases/:id/plan',
    summary: 'apply a rollout plan (YAML, or JSON with a JSON content type)',
    permission: 'apply-plan',
    body: ['Plan'],
    yamlBody: true,
    responses: {
      200: 'a new plan version, or `unchanged: true` for the same text',
      201: 'the use case is created, in shadow',
      ...AUTH,
      ...BODY,
      409: 'quota_exceeded: the plan would create a use case past SHADOWGATE_MAX_USE_CASES',
    },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/plan',
    summary: 'the text of the applied plan, or of an older version',
    permission: 'read',
    query: planQuerySchema,
    responses: {
      200: '{useCase, version, current, text, textHash, format, aiConfig, appliedBy, appliedAt}',
      ...USE_CASE,
      404: 'unknown use case or plan version',
    },
  },
  {
    method: 'get',
    path: '/v1/use-cases',
    summary: "use cases in the key's scope, with their stage",
    permission: 'read',
    responses: { 200: 'the use cases', ...AUTH },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id',
    summary: 'stage, plan version, metrics per stage and cohort, and the gate',
    permission: 'read',
    responses: { 200: 'the use case', ...USE_CASE },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/metrics',
    summary: 'the metrics, filtered by stage, time range or segment',
    permission: 'read',
    query: metricsQuerySchema,
    responses: { 200: 'metrics per stage and cohort', ...USE_CASE, ...READ_TIMEOUT },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/report',
    summary: 'the evidence report (Markdown unless format=json)',
    permission: 'read',
    query: reportQuerySchema,
    produces: ['text/markdown', 'application/json'],
    responses: { 200: 'the evidence report', ...USE_CASE, ...READ_TIMEOUT },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/transitions',
    summary: 'every stage change with actor, reason, forced and its evidence snapshot',
    permission: 'read',
    responses: { 200: 'the transitions', ...USE_CASE },
  },
  {
    method: 'get',
    path: '/v1/use-cases/:id/timeseries',
    summary:
      'agreement with its interval, AI error rate, p95 latency and AI cost per hour or day, over the last 30 days unless from/to say otherwise',
    permission: 'read',
    query: timeseriesQuerySchema,
    responses: {
      200: 'the points, with the range covered',
      ...USE_CASE,
      400: 'invalid use case id or query: a range over 744 hour or 366 day buckets, or from not before to',
      ...READ_TIMEOUT,
    },
  },
  {
    method: 'get',
    path: '/v1/whoami',
    summary: 'what the key may do',
    permission: 'any',
    responses: { 200: '{name, role, useCases, permissions}', 401: AUTH[401] },
  },
  {
    method: 'post',
    path: '/v1/decisions',
    summary: 'mirror one decision or a batch of up to 1000 (all or nothing)',
    permission: 'ingest',
    body: ['MirroredDecision', 'DecisionBatch'],
    responses: {
      202: '{accepted, duplicates, aiCallsOwed}',
      ...AUTH,
      ...BODY,
      404: 'unknown use case (the items are named)',
      409: 'a requestId stored or repeated with another payload (the items are named)',
      503: 'the database is unreachable (Retry-After)',
    },
  },
  {
    method: 'post',
    path: '/v1/decisions/:useCase/:requestId/human',
    summary: 'a late human decision',
    permission: 'ingest',
    body: ['LateHumanDecision'],
    responses: {
      200: '{status, compared, score}',
      ...AUTH,
      ...BODY,
      404: 'unknown use case or decision',
      409: 'another human decision is recorded for this request',
    },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/suggest',
    summary: 'a synchronous AI suggestion, recorded',
    permission: 'ingest',
    body: ['SuggestRequest'],
    responses: {
      200: '{decision, confidence, modelVersion, autonomous, audit, stage, latencyMs}',
      ...USE_CASE,
      ...BODY,
      409: 'disabled, or the request id was used with another input',
      502: 'the AI system failed',
    },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/promote',
    summary: 'promote to the next stage',
    permission: 'release',
    body: ['Promote'],
    responses: {
      200: 'the transition recorded',
      ...USE_CASE,
      ...BODY,
      409: 'the gate does not hold (the criteria are listed) unless forced, or the stage changed meanwhile',
    },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/rollback',
    summary: 'roll back to an earlier stage',
    permission: 'release',
    body: ['Rollback'],
    responses: { 200: 'the transition recorded', ...USE_CASE, ...BODY, 409: 'nothing to roll back to' },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/disable',
    summary: 'the kill switch: no AI calls while disabled',
    permission: 'release',
    body: ['KillSwitch'],
    responses: { 200: 'the transition recorded', ...USE_CASE, ...BODY, 409: 'already disabled' },
  },
  {
    method: 'post',
    path: '/v1/use-cases/:id/enable',
    summary: 'back to the stage before disable',
    permission: 'release',
    body: ['KillSwitch'],
    responses: { 200: 'the transition recorded', ...USE_CASE, ...BODY, 409: 'not disabled' },
  },
  {
    method: 'post',
    path: '/v1/keys',
    summary: 'create an API key (its secret is shown once)',
    permission: 'manage-keys',
    body: ['CreateKey'],
    responses: { 201: 'the key, with its secret', ...AUTH, ...BODY },
  },
  {
    method: 'get',
    path: '/v1/keys',
    summary: 'the keys (never their secrets)',
    permission: 'manage-keys',
    responses: { 200: 'the keys', ...AUTH },
  },
  {
    method: 'delete',
    path: '/v1/keys/:id',
    summary: 'revoke a key',
    permission: 'manage-keys',
    // The handler takes the id as given and answers 404 for anything not an active key.
    pathParameters: { id: z.string().min(1) },
    responses: { 204: 'revoked', ...AUTH, 404: 'no active key with this id' },
  },
];
