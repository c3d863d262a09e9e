import type { AiSecrets } from '../egress/ai-secrets.js';
import type { GuardedHttp } from '../egress/guarded-http.js';
import type { ComparatorSpec, Pricing } from '../plans/plan-schema.js';

/** The port through which shadow calls and suggestions reach an AI system. */

export interface AiRequest {
  useCase: string;
  requestId: string;
  input: unknown;
  context: Record<string, unknown>;
}

/** An answer that fits the plan's decision schema; anything else is an `AiCallError`. */
export interface AiAnswer {
  decision: unknown;
  confidence: number | null;
  modelVersion: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number;
  latencyMs: number;
}

export interface AiSystemClient {
  /**
   * Rejects with an `AiCallError` only. Aborting `signal` ends the call as a
   * transient `transport` error (the caller is shutting down, not the AI failing).
   */
  decide(req: AiRequest, signal?: AbortSignal): Promise<AiAnswer>;
}

export interface AiClientOptions {
  /** Hard cap on an answer's body; past it the call fails as `too-large`. Default 1 MiB. */
  maxResponseBytes?: number;
  /** When given, a decision must also be one this comparator can compare (e.g. a number for `numeric`). */
  comparator?: ComparatorSpec;
  /** Where calls may go (default: the default destination policy, loopback and metadata refused). */
  egress?: GuardedHttp;
  /** The secrets `ai.apiKeyEnv` may name (default: none). */
  secrets?: AiSecrets;
}

/** Price of one call from the plan's price table; unknown token counts cost nothing. */
export function costFromPricing(
  pricing: Pricing,
  inputTokens: number | null,
  outputTokens: number | null,
): number {
  return (
    pricing.perCall +
    ((inputTokens ?? 0) * pricing.inputPerMTok) / 1e6 +
    ((outputTokens ?? 0) * pricing.outputPerMTok) / 1e6
  );
}
