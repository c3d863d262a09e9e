import { z } from 'zod';
import { withoutControls } from '../contracts/safe-text.js';
import type { AiSecrets } from '../egress/ai-secrets.js';
import type { GuardedHttp } from '../egress/guarded-http.js';
import type { JudgeSpec } from '../plans/plan-schema.js';
import { AiCallError } from './ai-errors.js';
import { boundedAnswer, modelVersionSchema, parseAnswer } from './answer-fit.js';
import { costFromPricing } from './ai-system-client.js';
import { elapsedMs } from './bounded-json.js';

/**
 * The port through which a judge scores a pair (README "Judge comparator"): the request, what the
 * human and the AI decided, and the plan's rubric. Rejects with an `AiCallError` only, whose
 * `transient` steers the judge worker (retried with backoff, or failed for good).
 */
export interface JudgeRequest {
  useCase: string;
  requestId: string;
  /** As the plan stores it (`storeInput`, `redact`). */
  input: unknown;
  context: Record<string, unknown>;
  human: unknown;
  ai: unknown;
  rubric: string | null;
}

export interface JudgeVerdict {
  /** In [0, 1]: the decision's score. */
  score: number;
  verdict: string | null;
  rationale: string | null;
  /** What the judge says it is, null when it does not say. */
  judgeVersion: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number;
  latencyMs: number;
}

export interface JudgeClientOptions {
  /** Where calls may go: the AI egress policy (SHADOWGATE_AI_DESTINATIONS), checked at each call. */
  egress?: GuardedHttp;
  /** The secrets `apiKeyEnv` may name (SHADOWGATE_AI_SECRETS), checked at each call. */
  secrets?: AiSecrets;
  maxResponseBytes?: number;
}

export interface JudgeClient {
  judge(req: JudgeRequest, signal?: AbortSignal): Promise<JudgeVerdict>;
}

/** A judge's answer is small: past this many bytes it is a `too-large` failure. */
export const MAX_JUDGE_ANSWER_BYTES = 256 * 1024;
/** A rationale longer than this is refused (it is stored and shown). */
export const MAX_RATIONALE_CHARS = 4_000;

const tokens = z.number().int().nonnegative();

/** `verdict` is a label (shown in reports and the CLI): a short name, no control characters. */
const verdictSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9 ._:/-]+$/, 'letters, digits, spaces and ._:/- only');

/** The judge contract's answer (and the content an openai-chat judge is asked for). */
export const judgeAnswerSchema = z.object({
  score: z.number().min(0).max(1),
  verdict: verdictSchema.nullish(),
  rationale: z.string().max(MAX_RATIONALE_CHARS).nullish(),
  usage: z.object({ inputTokens: tokens.nullish(), outputTokens: tokens.nullish() }).nullish(),
  cost: z.number().nonnegative().nullish(),
  judgeVersion: modelVersionSchema.nullish(),
});
export type JudgeAnswer = z.output<typeof judgeAnswerSchema>;

/**
 * An untrusted answer as a verdict: misfits are permanent `bad-output` errors, numbers beyond what
 * the columns and the daily spend hold permanent `out-of-range` ones (the bounds of AI answers).
 * `usage` and `judgeVersion` given apart (an openai-chat judge reports them outside its content).
 */
export function judgeVerdict(
  json: unknown,
  what: string,
  judge: Pick<JudgeSpec, 'pricing'>,
  startedAt: number,
  reported: { inputTokens?: number | null; outputTokens?: number | null; judgeVersion?: string | null } = {},
): JudgeVerdict {
  const answer = parseAnswer(judgeAnswerSchema, json, what, startedAt);
  if (!Number.isFinite(answer.score))
    throw new AiCallError('bad-output', `${what} has no score`, elapsedMs(startedAt));
  const inputTokens = reported.inputTokens ?? answer.usage?.inputTokens ?? null;
  const outputTokens = reported.outputTokens ?? answer.usage?.outputTokens ?? null;
  const bounded = boundedAnswer(
    {
      decision: null,
      confidence: null,
      modelVersion: null,
      inputTokens,
      outputTokens,
      costUsd: answer.cost ?? costFromPricing(judge.pricing, inputTokens, outputTokens),
      latencyMs: elapsedMs(startedAt),
    },
    startedAt,
  );
  const rationale = answer.rationale == null ? null : withoutControls(answer.rationale, 'text').trim();
  return {
    score: answer.score,
    verdict: answer.verdict ?? null,
    rationale: rationale === '' || rationale === null ? null : rationale,
    judgeVersion: reported.judgeVersion ?? answer.judgeVersion ?? null,
    inputTokens,
    outputTokens,
    costUsd: bounded.costUsd,
    latencyMs: bounded.latencyMs,
  };
}
