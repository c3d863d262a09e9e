import { z } from 'zod';
import type { GuardedHttp } from '../egress/guarded-http.js';
import type { AiSpec, ComparatorSpec, DecisionSpec } from '../plans/plan-schema.js';
import { boundedAnswer, fitDecision, modelVersionSchema, parseAnswer } from './answer-fit.js';
import {
  type AiAnswer,
  type AiClientOptions,
  type AiRequest,
  type AiSystemClient,
  costFromPricing,
} from './ai-system-client.js';
import { DEFAULT_AI_EGRESS, DEFAULT_MAX_RESPONSE_BYTES, elapsedMs, postBoundedJson } from './bounded-json.js';
import { requestIdHeader } from './request-id-header.js';

/**
 * The `http` adapter: Shadowgate's own wire format (README "The AI system").
 * POST {useCase, requestId, input, context} → {decision, confidence?, modelVersion?, usage?, cost?}.
 */

const tokens = z.number().int().nonnegative();

const httpAnswerSchema = z.object({
  decision: z.unknown(),
  confidence: z.number().min(0).max(1).nullish(),
  modelVersion: modelVersionSchema.nullish(),
  usage: z.object({ inputTokens: tokens.nullish(), outputTokens: tokens.nullish() }).nullish(),
  cost: z.number().nonnegative().nullish(),
});

export class HttpAiClient implements AiSystemClient {
  private readonly maxResponseBytes: number;
  private readonly comparator: ComparatorSpec | undefined;
  private readonly egress: GuardedHttp;

  constructor(
    private readonly ai: Extract<AiSpec, { adapter: 'http' }>,
    private readonly decision: DecisionSpec,
    opts: AiClientOptions = {},
  ) {
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.comparator = opts.comparator;
    this.egress = opts.egress ?? DEFAULT_AI_EGRESS;
  }

  async decide(req: AiRequest, signal?: AbortSignal): Promise<AiAnswer> {
    const payload = {
      useCase: req.useCase,
      requestId: req.requestId,
      input: req.input,
      context: req.context,
    };
    const { json, startedAt } = await postBoundedJson(this.ai.url, payload, {
      egress: this.egress,
      headers: { 'x-request-id': requestIdHeader(req.requestId) },
      timeoutMs: this.ai.timeoutMs,
      maxResponseBytes: this.maxResponseBytes,
      signal,
    });
    const answer = parseAnswer(httpAnswerSchema, json, 'answer', startedAt);
    fitDecision(this.decision, this.comparator, answer.decision, startedAt);
    const inputTokens = answer.usage?.inputTokens ?? null;
    const outputTokens = answer.usage?.outputTokens ?? null;
    return boundedAnswer(
      {
        decision: answer.decision,
        confidence: answer.confidence ?? null,
        modelVersion: answer.modelVersion ?? null,
        inputTokens,
        outputTokens,
        costUsd: answer.cost ?? costFromPricing(this.ai.pricing, inputTokens, outputTokens),
        latencyMs: elapsedMs(startedAt),
      },
      startedAt,
    );
  }
}
