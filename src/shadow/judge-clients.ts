import type { JudgeSpec } from '../plans/plan-schema.js';
import { HttpJudgeClient } from './http-judge-client.js';
import type { JudgeClient, JudgeClientOptions } from './judge-client.js';
import { OpenAiChatJudgeClient } from './openai-chat-judge-client.js';

/** The adapter a judge comparator's `adapter` names. */
export function createJudgeClient(spec: JudgeSpec, opts: JudgeClientOptions = {}): JudgeClient {
  return spec.adapter === 'openai-chat'
    ? new OpenAiChatJudgeClient(spec, opts)
    : new HttpJudgeClient(spec, opts);
}

export type JudgeClientFactory = (spec: JudgeSpec) => JudgeClient;

/** Plan versions whose judge clients are kept; past it the least recently used is dropped. */
const MAX_CLIENTS = 500;

/**
 * One judge client per plan version (a plan version never changes, so neither does its judge), in
 * a bounded cache: plans applied without end cannot grow it. Clients hold no connection of their
 * own (the pool is the egress's).
 */
export class JudgeClients {
  private readonly clients = new Map<string, JudgeClient>();
  private readonly factory: JudgeClientFactory;

  constructor(options: JudgeClientOptions & { factory?: JudgeClientFactory } = {}) {
    const { factory, ...opts } = options;
    this.factory = factory ?? ((spec) => createJudgeClient(spec, opts));
  }

  for(useCase: string, planVersion: number, spec: JudgeSpec): JudgeClient {
    const key = `${useCase}@${planVersion}`;
    let client = this.clients.get(key);
    if (client) this.clients.delete(key);
    else {
      client = this.factory(spec);
      if (this.clients.size >= MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value as string);
    }
    this.clients.set(key, client); // re-inserted: the Map keeps the least recently used first
    return client;
  }
}
