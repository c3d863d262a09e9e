/**
 * The one error family: every refusal carries an HTTP status, a stable code, a
 * message for people and, where useful, the problems found with their paths.
 */
import type { ProblemDetail } from '@shadowgate/sdk/wire';
import { z } from 'zod';

export type { ProblemDetail };

/** The body of every refusal (the wire's ErrorBody), as the OpenAPI document shows it. */
export const errorBodySchema = z.strictObject({
  error: z.string().describe('a stable code: bad_request, unauthorized, forbidden, not_found, conflict, …'),
  message: z.string(),
  details: z.array(z.strictObject({ path: z.string(), problem: z.string() })),
});

export class ShadowgateError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ProblemDetail[] = [],
  ) {
    super(message);
    this.name = 'ShadowgateError';
  }
}

export const badRequest = (message: string, details: ProblemDetail[] = []) =>
  new ShadowgateError(400, 'bad_request', message, details);
export const unauthorized = (message: string) => new ShadowgateError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ShadowgateError(403, 'forbidden', message);
export const notFound = (message: string, details: ProblemDetail[] = []) =>
  new ShadowgateError(404, 'not_found', message, details);
export const conflict = (message: string, details: ProblemDetail[] = []) =>
  new ShadowgateError(409, 'conflict', message, details);
export const unavailable = (message: string) => new ShadowgateError(503, 'unavailable', message);
