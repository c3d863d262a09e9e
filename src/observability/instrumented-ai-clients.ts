import type { Plan } from '../plans/plan-schema.js';
import { AiCallError } from '../shadow/ai-errors.js';
import type { AiSystemClient } from '../shadow/ai-system-client.js';
import { type AiClientFactory, AiClients } from '../shadow/ai-clients.js';

/** What the AI clients report; `ControllerMetrics` is one. */
export interface AiCallObserver {
  aiAnswered(useCase: string, latencyMs: number): void;
  aiFailed(useCase: string, kind: string): void;
}

/**
 * AI clients whose every call (shadow call or suggestion, each attempt) is counted, with the
 * latency of the answered ones. The worker and the suggestion service use it as they would
 * the plain `AiClients`.
 */
export class InstrumentedAiClients extends AiClients {
  /** Keyed like the inner cache: a factory may hand the same client to several use cases. */
  private readonly wrapped = new Map<string, AiSystemClient>();

  constructor(
    private readonly observer: AiCallObserver,
    options: { maxResponseBytes?: number; factory?: AiClientFactory } = {},
  ) {
    super(options);
  }

  override for(useCase: string, planVersion: number, plan: Plan): AiSystemClient {
    const key = `${useCase}@${planVersion}`;
    let client = this.wrapped.get(key);
    if (!client) {
      client = observed(super.for(useCase, planVersion, plan), useCase, this.observer);
      this.wrapped.set(key, client);
    }
    return client;
  }
}

function observed(inner: AiSystemClient, useCase: string, observer: AiCallObserver): AiSystemClient {
  return {
    async decide(req, signal) {
      try {
        const answer = await inner.decide(req, signal);
        observer.aiAnswered(useCase, answer.latencyMs);
        return answer;
      } catch (error) {
        observer.aiFailed(useCase, error instanceof AiCallError ? error.kind : 'internal');
        throw error;
      }
    },
  };
}
