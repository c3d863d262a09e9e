import type { GuardedHttp } from '../egress/guarded-http.js';
import type { JudgeSpec } from '../plans/plan-schema.js';
import { DEFAULT_AI_EGRESS, postBoundedJson } from './bounded-json.js';
import {
  type JudgeClient,
  type JudgeClientOptions,
  type JudgeRequest,
  type JudgeVerdict,
  judgeVerdict,
  MAX_JUDGE_ANSWER_BYTES,
} from './judge-client.js';
import { requestIdHeader } from './request-id-header.js';

/**
 * The `http` judge: Shadowgate's judge contract (README "Judge comparator").
 * POST {useCase, requestId, input, context, human, ai, rubric} →
 * {score, verdict?, rationale?, usage?: {inputTokens, outputTokens}, cost?, judgeVersion?}.
 */
export class HttpJudgeClient implements JudgeClient {
  private readonly egress: GuardedHttp;
  private readonly maxResponseBytes: number;

  constructor(
    private readonly spec: JudgeSpec,
    opts: JudgeClientOptions = {},
  ) {
    this.egress = opts.egress ?? DEFAULT_AI_EGRESS;
    this.maxResponseBytes = Math.min(opts.maxResponseBytes ?? MAX_JUDGE_ANSWER_BYTES, MAX_JUDGE_ANSWER_BYTES);
  }

  async judge(req: JudgeRequest, signal?: AbortSignal): Promise<JudgeVerdict> {
    const payload = {
      useCase: req.useCase,
      requestId: req.requestId,
      input: req.input,
      context: req.context,
      human: req.human,
      ai: req.ai,
      rubric: req.rubric,
    };
    const { json, startedAt } = await postBoundedJson(this.spec.url, payload, {
      egress: this.egress,
      headers: { 'x-request-id': requestIdHeader(req.requestId) },
      timeoutMs: this.spec.timeoutMs,
      maxResponseBytes: this.maxResponseBytes,
      signal,
      peer: 'judge',
    });
    return judgeVerdict(json, 'judge answer', this.spec, startedAt);
  }
}
