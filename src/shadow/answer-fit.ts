import { z } from 'zod';
import { MAX_COST_USD, MAX_TOKENS } from '../contracts/ai-answer-bounds.js';
import { findUnstorable } from '../contracts/storable-json.js';
import { describeTypedValue, describeValue, renderPath } from '../contracts/validation-problems.js';
import { checkDecision } from '../comparison/decision-fit.js';
import type { ComparatorSpec, DecisionSpec } from '../plans/plan-schema.js';
import { AiCallError } from './ai-errors.js';
import type { AiAnswer } from './ai-system-client.js';
import { elapsedMs } from './bounded-json.js';

/**
 * Validation of untrusted AI answers; every misfit is a permanent `bad-output` error, every
 * number beyond what the columns and the rollups' sums hold a permanent `out-of-range` one.
 * Nothing the AI wrote goes into an error's message, only into its `upstreamText`.
 */

/** A model version names a model and nothing else: it is shown in reports, the CLI and the dashboard. */
export const modelVersionSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9._:/@+-]+$/, 'letters, digits and ._:/@+- only');

export function parseAnswer<S extends z.ZodType>(
  schema: S,
  json: unknown,
  what: string,
  startedAt: number,
): z.output<S> {
  // What PostgreSQL could not store (or zod not walk) would fail the call's bookkeeping, retried forever.
  const unstorable = findUnstorable(json);
  if (unstorable) {
    // The path is made of the answer's own field names.
    const where = renderPath(unstorable.segments) || '(root)';
    throw new AiCallError(
      'bad-output',
      `${what} cannot be stored: ${unstorable.problem}`,
      elapsedMs(startedAt),
      null,
      `at ${where}`,
    );
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  // Paths and messages of our own schemas: zod quotes no value of the answer in them.
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
  if (problem === null) return;
  // A problem ends by describing the decision; a text or a number is quoted (`got "…"`) and may
  // echo the input: kept apart.
  const quoted = typeof decision === 'string' || typeof decision === 'number';
  const found = quoted
    ? [describeTypedValue(decision), describeValue(decision)].find((d) => problem.endsWith(`, got ${d}`))
    : undefined;
  throw new AiCallError(
    'bad-output',
    `decision does not fit the plan: ${found === undefined ? problem : problem.slice(0, -`, got ${found}`.length)}`,
    elapsedMs(startedAt),
    null,
    found ?? null,
  );
}

/** The answer, once its numbers are known to fit the columns and the sums they go to. */
export function boundedAnswer(answer: AiAnswer, startedAt: number): AiAnswer {
  const problem = outOfRange(answer);
  if (problem !== null) {
    throw new AiCallError('out-of-range', problem.what, elapsedMs(startedAt), null, String(problem.value));
  }
  return answer;
}

function outOfRange(answer: AiAnswer): { what: string; value: number } | null {
  for (const [name, tokens] of [
    ['input tokens', answer.inputTokens],
    ['output tokens', answer.outputTokens],
  ] as const) {
    if (tokens !== null && !(Number.isInteger(tokens) && tokens >= 0 && tokens <= MAX_TOKENS)) {
      return { what: `${name} not a count up to ${MAX_TOKENS.toLocaleString('en-US')}`, value: tokens };
    }
  }
  const cost = answer.costUsd;
  if (!(Number.isFinite(cost) && cost >= 0 && cost <= MAX_COST_USD)) {
    return { what: `cost of the call not an amount up to ${MAX_COST_USD} USD`, value: cost };
  }
  const confidence = answer.confidence;
  if (confidence !== null && !(confidence >= 0 && confidence <= 1)) {
    return { what: 'confidence outside [0, 1]', value: confidence };
  }
  if (!(Number.isFinite(answer.latencyMs) && answer.latencyMs >= 0)) {
    return { what: 'latency not a duration', value: answer.latencyMs };
  }
  return null;
}
