import { z } from 'zod';
import { AiSecrets } from '../egress/ai-secrets.js';
import { EgressRefusedError } from '../egress/egress-refused-error.js';
import type { GuardedHttp } from '../egress/guarded-http.js';
import { type AiSpec, type ComparatorSpec, type DecisionSpec, PLACEHOLDER } from '../plans/plan-schema.js';
import { AiCallError } from './ai-errors.js';
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
 * The `openai-chat` adapter: any server speaking OpenAI chat completions.
 * The plan's prompt template becomes the user message; the model is asked
 * for a JSON object {decision, confidence?}, which is then validated.
 */

type OpenAiChatSpec = Extract<AiSpec, { adapter: 'openai-chat' }>;

const tokens = z.number().int().nonnegative();

const completionSchema = z.object({
  // An empty model is taken as none.
  model: z.preprocess((m) => (m === '' ? null : m), modelVersionSchema.nullish()),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }) })).min(1),
  usage: z.object({ prompt_tokens: tokens.nullish(), completion_tokens: tokens.nullish() }).nullish(),
});

const contentSchema = z.object({
  decision: z.unknown(),
  confidence: z.number().min(0).max(1).nullish(),
});

export class OpenAiChatAiClient implements AiSystemClient {
  private readonly maxResponseBytes: number;
  private readonly comparator: ComparatorSpec | undefined;
  private readonly egress: GuardedHttp;
  private readonly secrets: AiSecrets;

  constructor(
    private readonly ai: OpenAiChatSpec,
    private readonly decision: DecisionSpec,
    opts: AiClientOptions = {},
  ) {
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.comparator = opts.comparator;
    this.egress = opts.egress ?? DEFAULT_AI_EGRESS;
    this.secrets = opts.secrets ?? AiSecrets.none;
  }

  /**
   * The bearer token `ai.apiKeyEnv` names, checked again at every call (the plan was checked when
   * applied, but may be older than the operator's settings): only an allowed secret, only to its hosts.
   */
  private authorization(): Record<string, string> {
    if (!this.ai.apiKeyEnv) return {};
    try {
      return { authorization: `Bearer ${this.secrets.bearer(this.ai.apiKeyEnv, this.ai.url)}` };
    } catch (error) {
      if (error instanceof EgressRefusedError) throw new AiCallError('egress-refused', error.message, 0);
      throw error;
    }
  }

  async decide(req: AiRequest, signal?: AbortSignal): Promise<AiAnswer> {
    const payload = {
      model: this.ai.model,
      messages: [
        { role: 'system', content: systemMessage(this.decision) },
        { role: 'user', content: renderPrompt(this.ai.prompt, req, labelsOf(this.decision)) },
      ],
      ...(this.ai.temperature === undefined ? {} : { temperature: this.ai.temperature }),
      response_format: { type: 'json_object' },
    };
    const { json, startedAt } = await postBoundedJson(this.ai.url, payload, {
      egress: this.egress,
      headers: { 'x-request-id': requestIdHeader(req.requestId), ...this.authorization() },
      timeoutMs: this.ai.timeoutMs,
      maxResponseBytes: this.maxResponseBytes,
      signal,
    });
    const completion = parseAnswer(completionSchema, json, 'chat completion', startedAt);
    const content = completion.choices[0]?.message.content ?? '';
    const answer = parseAnswer(contentSchema, parseContent(content, startedAt), 'answer content', startedAt);
    fitDecision(this.decision, this.comparator, answer.decision, startedAt);
    const inputTokens = completion.usage?.prompt_tokens ?? null;
    const outputTokens = completion.usage?.completion_tokens ?? null;
    return boundedAnswer(
      {
        decision: answer.decision,
        confidence: answer.confidence ?? null,
        modelVersion: completion.model || null,
        inputTokens,
        outputTokens,
        costUsd: costFromPricing(this.ai.pricing, inputTokens, outputTokens),
        latencyMs: elapsedMs(startedAt),
      },
      startedAt,
    );
  }
}

/** Replaces {{input}}, {{context}} and {{labels}}; values that are not strings are JSON, each written once. */
export function renderPrompt(template: string, req: AiRequest, labels: string[]): string {
  const values: Record<string, unknown> = { input: req.input, context: req.context, labels };
  const rendered = new Map<string, string>();
  return template.replace(PLACEHOLDER, (_, name: string) => {
    let text = rendered.get(name);
    if (text === undefined) {
      const value = values[name];
      text = typeof value === 'string' ? value : JSON.stringify(value);
      rendered.set(name, text);
    }
    return text;
  });
}

export function systemMessage(decision: DecisionSpec): string {
  const shape =
    decision.type === 'label'
      ? `"decision" is exactly one of ${JSON.stringify(decision.labels)}`
      : decision.type === 'text'
        ? `"decision" is a JSON string of at most ${decision.maxLength} characters`
        : `"decision" is a JSON object${decision.requiredFields?.length ? ` with the fields ${JSON.stringify(decision.requiredFields)}` : ''}${textFieldsNote(decision.textFields)}`;
  return (
    'You make one decision for a business workflow. Answer with a single JSON object ' +
    `{"decision": ..., "confidence": <number from 0 to 1>} where ${shape}. No other text.`
  );
}

function textFieldsNote(textFields: Record<string, { maxLength: number }> | undefined): string {
  const entries = Object.entries(textFields ?? {});
  if (entries.length === 0) return '';
  return `, whose text fields are strings of at most: ${entries.map(([f, { maxLength }]) => `${JSON.stringify(f)} ${maxLength} characters`).join(', ')}`;
}

function labelsOf(decision: DecisionSpec): string[] {
  return decision.type === 'label' ? decision.labels : [];
}

/**
 * Models often wrap JSON in a ```json fence despite being asked not to; that is tolerated. The
 * pattern has one unbounded part, so it reads the content in linear time (JSON.parse skips the
 * whitespace around the fenced text).
 */
export function parseContent(content: string, startedAt: number): unknown {
  const fenced = /```(?:json)?([\s\S]*?)```/i.exec(content)?.[1];
  for (const text of fenced === undefined ? [content] : [content, fenced]) {
    try {
      return JSON.parse(text);
    } catch {
      // the next reading, if any
    }
  }
  throw new AiCallError(
    'bad-output',
    `answer content is not JSON (${content.length} characters)`,
    elapsedMs(startedAt),
    null,
    content,
  );
}
