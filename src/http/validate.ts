import type { z } from 'zod';
import { badRequest } from '../contracts/errors.js';
import { parseWithProblems } from '../contracts/validation-problems.js';

/** Parses a request part with zod; every problem is reported with its path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const outcome = parseWithProblems(schema, value);
  if (!outcome.ok) throw badRequest(`invalid ${what}`, outcome.problems);
  return outcome.data;
}
