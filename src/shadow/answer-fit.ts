import type { z } from 'zod';
import { findUnstorable } from '../contracts/storable-json.js';
import { renderPath } from '../contracts/validation-problems.js';
import { checkDecision } from '../plans/decision-fit.js';
import type { ComparatorSpec, DecisionSpec } from '../plans/plan-schema.js';
import { AiCallError } from './ai-errors.js';
import { elapsedMs } from './bounded-json.js';

/** Validation of untrusted AI answers; every misfit is a permanent `bad-output` error. */

export function parseAnswer<S extends z.ZodType>(
  schema: S,
  json: unknown,
  what: string,
  startedAt: number,
): z.output<S> {
  // What PostgreSQL could not store (or zod not walk) would fail the call's bookkeeping, retried forever.
  const unstorable = findUnstorable(json);
  if (unstorable) {
    const where = renderPath(unstorable.segments) || '(root)';
    throw new AiCallError(
      'bad-output',
      `${what} cannot be stored: ${where}: ${unstorable.problem}`,
      elapsedMs(startedAt),
    );
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  throw new AiCallError('bad-output', `${what} does not fit: ${problems}`, elapsedMs(startedAt));
}

export function fitDecision(
  spec: DecisionSpec,
  comparator: ComparatorSpec | undefined,
  decision: unknown,
  startedAt: number,
): void {
  if (decision === undefined)
    throw new AiCallError('bad-output', 'answer has no decision', elapsedMs(startedAt));
  const problem = checkDecision(spec, decision, comparator);
  if (problem !== null) {
    throw new AiCallError('bad-output', `decision does not fit the plan: ${problem}`, elapsedMs(startedAt));
  }
}
