import type { z } from 'zod';
import { badRequest } from '../contracts/errors.js';
import { findUnstorable } from '../contracts/storable-json.js';
import { parseWithProblems, renderPath } from '../contracts/validation-problems.js';

/**
 * Parses a request part with zod; the problems are reported with their paths (the first 100, see
 * `listProblems`). What could not be stored, walked or kept (NUL characters, unpaired surrogates,
 * nesting past MAX_JSON_DEPTH, a `__proto__` field) is refused first: zod recurses, and would
 * overflow its stack on a body nested 10,000 levels deep; and its copy would drop a `__proto__`
 * field without a word.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const unstorable = findUnstorable(value, { refuseProtoFields: true });
  if (unstorable) {
    const path = renderPath(unstorable.segments);
    const where = path === '' ? '' : `${path} `;
    throw badRequest(`invalid ${what}: ${where}${unstorable.problem}`, [
      { path, problem: unstorable.problem },
    ]);
  }
  const outcome = parseWithProblems(schema, value);
  if (!outcome.ok) throw badRequest(`invalid ${what}`, outcome.problems);
  return outcome.data;
}
