import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { changeIdSchema } from '../contracts/change-contracts.js';
import { requestIdSchema, useCaseIdSchema } from '../contracts/decision-contracts.js';
import type { Budget } from '../keys/key-rate-limiter.js';
import type { Permission } from '../keys/roles.js';
import type { ControllerMetrics } from '../observability/metrics-registry.js';
import type { HttpServices } from './http-services.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/** Who may call a route: a key allowed `permission`, `any` valid key, or anyone (null: no key). */
export type RoutePermission = Permission | 'any' | null;

/** Who may scrape /metrics: anyone (`none`, the default), or a key that may read every use case. */
export type MetricsAuth = 'none' | 'key';

/** What a route's handler may be built from. */
export interface RouteContext {
  services: HttpServices;
  bodyLimit: number;
  /** Without it, /metrics is not served (404). */
  metrics?: ControllerMetrics;
  metricsAuth: MetricsAuth;
  /** The whole table being mounted (the OpenAPI document describes it). */
  routes: readonly RouteSpec[];
}

/** A request body the route accepts, by the name the OpenAPI document gives its schema. */
export interface BodySchema {
  name: string;
  schema: z.ZodType;
}

/**
 * One route of the controller's API: express mounts it, the OpenAPI document describes it, the
 * rate limiter charges its budget, the route × role test calls it and the README lists it.
 * The schemas are the ones the handler validates with.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** As express writes it, from the root: `/v1/use-cases/:id`. Keyed routes live under /v1. */
  path: string;
  permission: RoutePermission;
  /** The per-key budget a request spends; null for the routes that take no key. */
  budget: Budget | null;
  /** One line: the OpenAPI summary. */
  summary: string;
  /** What the answer holds, for the README and the OpenAPI description (defaults to the summary). */
  description?: string;
  /** Path parameters not in PATH_PARAMETERS, or named alike but checked otherwise. */
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  /** One schema, or several the body may be (`oneOf`). */
  body?: BodySchema[];
  /** The body is text (YAML, or JSON with a JSON content type), parsed by the handler. */
  textBody?: boolean;
  /**
   * The JSON answer of a success (any 2xx status with a body), as a zod schema: the OpenAPI
   * document shows it and the route × role test checks every such answer against it.
   */
  response?: z.ZodType;
  /** Status → what it means; error statuses answer with the error body. */
  responses: Record<number, string>;
  /** Media types of the 200 answer when not JSON alone. */
  produces?: string[];
  /** Probes and scrapes call it every few seconds: its access log line is at debug, not info. */
  quiet?: true;
  /** The handlers after authentication, rate limit, permission and body parsing; null: not served. */
  handler(context: RouteContext): RequestHandler | RequestHandler[] | null;
}

/** Path parameters, by name, as `routes/params.ts` checks them. */
export const PATH_PARAMETERS: Record<string, z.ZodType> = {
  id: useCaseIdSchema,
  useCase: useCaseIdSchema,
  requestId: requestIdSchema,
  changeId: changeIdSchema,
};

/**
 * The path prefixes a use case id follows in `routes` (`/v1/use-cases/`): the text before the
 * first path parameter checked as a use case id.
 */
export function useCasePathPrefixes(routes: readonly RouteSpec[]): string[] {
  const prefixes = new Set<string>();
  for (const route of routes) {
    for (const match of route.path.matchAll(/:(\w+)/g)) {
      const name = match[1] ?? '';
      if ((route.params?.[name] ?? PATH_PARAMETERS[name]) !== useCaseIdSchema) continue;
      prefixes.add(route.path.slice(0, match.index));
      break;
    }
  }
  return [...prefixes];
}

/** Answers many routes share. */
export const AUTH = {
  401: 'missing, malformed, unknown or revoked key',
  403: 'the key lacks the role or the scope',
};
export const USE_CASE = { ...AUTH, 400: 'invalid use case id', 404: 'unknown use case' };
/** Reads that can scan many decisions stop at SHADOWGATE_READ_TIMEOUT_MS. */
export const READ_TIMEOUT = { 503: 'read_timeout: the read ran past its time limit and was stopped' };
export const BODY = {
  400: 'invalid body: every problem with its path; nothing is stored',
  413: 'body over the limit',
};
