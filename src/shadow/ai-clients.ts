import type { AiSecrets } from '../egress/ai-secrets.js';
import type { GuardedHttp } from '../egress/guarded-http.js';
import type { Plan } from '../plans/plan-schema.js';
import type { AiSystemClient } from './ai-system-client.js';
import { createAiSystemClient } from './create-ai-system-client.js';

export type AiClientFactory = (plan: Plan) => AiSystemClient;

export interface AiClientsOptions {
  maxResponseBytes?: number;
  factory?: AiClientFactory;
  /** Where calls may go, and their connection pool. */
  egress?: GuardedHttp;
  secrets?: AiSecrets;
  /** Clients kept; past it the least recently used is dropped (and made again when next asked for). */
  maxClients?: number;
}

/** Plan versions whose clients are kept: every live use case's current one, with room to spare. */
export const DEFAULT_MAX_CLIENTS = 500;

/**
 * One AI client per plan version (a plan version never changes, so neither does its client), in a
 * bounded cache: plans applied without end cannot grow it. A client holds no connection of its
 * own (the pool is the egress's), so dropping one costs only its rebuilding.
 */
export class AiClients {
  private readonly clients = new Map<string, AiSystemClient>();
  private readonly factory: AiClientFactory;
  private readonly maxClients: number;

  constructor(options: AiClientsOptions = {}) {
    this.maxClients = Math.max(1, options.maxClients ?? DEFAULT_MAX_CLIENTS);
    this.factory =
      options.factory ??
      ((plan) =>
        createAiSystemClient(plan.ai, plan.decision, {
          comparator: plan.comparator,
          ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
          ...(options.egress ? { egress: options.egress } : {}),
          ...(options.secrets ? { secrets: options.secrets } : {}),
        }));
  }

  for(useCase: string, planVersion: number, plan: Plan): AiSystemClient {
    const key = `${useCase}@${planVersion}`;
    let client = this.clients.get(key);
    if (client) {
      // A Map iterates in insertion order: re-inserting keeps the oldest-used first.
      this.clients.delete(key);
    } else {
      client = this.create(useCase, plan);
      if (this.clients.size >= this.maxClients) {
        const oldest = this.clients.keys().next().value as string;
        this.clients.delete(oldest);
      }
    }
    this.clients.set(key, client);
    return client;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Makes the client of a plan version that is not cached. */
  protected create(_useCase: string, plan: Plan): AiSystemClient {
    return this.factory(plan);
  }
}
