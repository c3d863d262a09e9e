import type { AiSpec, DecisionSpec } from '../plans/plan-schema.js';
import type { AiClientOptions, AiSystemClient } from './ai-system-client.js';
import { HttpAiClient } from './http-ai-client.js';
import { OpenAiChatAiClient } from './openai-chat-ai-client.js';

/** The adapter a plan's `ai.adapter` names. */
export function createAiSystemClient(
  ai: AiSpec,
  decision: DecisionSpec,
  opts: AiClientOptions = {},
): AiSystemClient {
  switch (ai.adapter) {
    case 'http':
      return new HttpAiClient(ai, decision, opts);
    case 'openai-chat':
      return new OpenAiChatAiClient(ai, decision, opts);
  }
}
