import type { Plan } from '../plans/plan-schema.js';
import { AiCallError } from '../shadow/ai-errors.js';
import type { AiSystemClient } from '../shadow/ai-system-client.js';
import { AiClients, type AiClientsOptions } from '../shadow/ai-clients.js';

/** What the AI clients report; `ControllerMetrics` is one. */
export interface AiCallObserver {
  aiAnswered(useCase: string, latencyMs: number): void;
  aiFailed(useCase: string, kind: string): void;
}

/**
 * AI clients whose every call (shadow call or suggestion, each attempt) is counted, with the
 * latency of the answered ones. The worker and the suggestion service use it as they would
 * the plain `AiClients`; the observed client is what the bounded cache keeps.
 */
export class InstrumentedAiClients extends AiClients {
  constructor(
    private readonly observer: AiCallObserver,
    options: AiClientsOptions = {},
  ) {
    super(options);
  }

  protected override create(useCase: string, plan: Plan): AiSystemClient {
    return observed(super.create(useCase, plan), useCase, this.observer);
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
