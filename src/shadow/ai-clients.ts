import type { Plan } from '../plans/plan-schema.js';
import type { AiSystemClient } from './ai-system-client.js';
import { createAiSystemClient } from './create-ai-system-client.js';

export type AiClientFactory = (plan: Plan) => AiSystemClient;

/** One AI client per plan version (a plan version never changes, so neither does its client). */
export class AiClients {
  private readonly clients = new Map<string, AiSystemClient>();
  private readonly factory: AiClientFactory;

  constructor(options: { maxResponseBytes?: number; factory?: AiClientFactory } = {}) {
    this.factory =
      options.factory ??
      ((plan) =>
        createAiSystemClient(plan.ai, plan.decision, {
          comparator: plan.comparator,
          ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
        }));
  }

  for(useCase: string, planVersion: number, plan: Plan): AiSystemClient {
    const key = `${useCase}@${planVersion}`;
    let client = this.clients.get(key);
    if (!client) {
      client = this.factory(plan);
      this.clients.set(key, client);
    }
    return client;
  }
}
