import type { ProblemDetail } from '../contracts/errors.js';
import type { Plan } from '../plans/plan-schema.js';
import type { AiSecrets } from './ai-secrets.js';
import { DestinationPolicy, type DestinationRules } from './destination-policy.js';

/** The operator's egress settings: where AI calls and webhooks may go, and which secrets they may carry. */
export interface Egress {
  ai: DestinationPolicy;
  webhooks: DestinationPolicy;
  secrets: AiSecrets;
}

export function createEgress(config: {
  SHADOWGATE_AI_DESTINATIONS: DestinationRules;
  SHADOWGATE_WEBHOOK_DESTINATIONS: DestinationRules;
  aiSecrets: AiSecrets;
}): Egress {
  return {
    ai: new DestinationPolicy('SHADOWGATE_AI_DESTINATIONS', config.SHADOWGATE_AI_DESTINATIONS),
    webhooks: new DestinationPolicy(
      'SHADOWGATE_WEBHOOK_DESTINATIONS',
      config.SHADOWGATE_WEBHOOK_DESTINATIONS,
    ),
    secrets: config.aiSecrets,
  };
}

/**
 * What a plan asks of the egress settings that they refuse, with the field to fix: checked when
 * a plan is applied (by the API and by `serve --plans`). Names are resolved only at call time, so
 * here a name passes unless the rules leave it out; a literal address is judged now.
 */
export function planEgressProblems(plan: Plan, egress: Egress): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  const aiUrl = egress.ai.urlProblem(plan.ai.url);
  if (aiUrl) problems.push({ path: 'ai.url', problem: aiUrl });
  if (plan.ai.adapter === 'openai-chat' && plan.ai.apiKeyEnv) {
    const refused = egress.secrets.refusal(plan.ai.apiKeyEnv, plan.ai.url);
    if (refused) problems.push({ path: `ai.${refused.field}`, problem: refused.problem });
  }
  // A judge is sent what the AI is and more (both answers): the AI's destinations and secrets rules.
  const judge = plan.comparator.type === 'judge' ? plan.comparator : null;
  if (judge) {
    const judgeUrl = egress.ai.urlProblem(judge.url);
    if (judgeUrl) problems.push({ path: 'comparator.url', problem: judgeUrl });
    if (judge.apiKeyEnv) {
      const refused = egress.secrets.refusal(judge.apiKeyEnv, judge.url);
      if (refused) problems.push({ path: `comparator.${refused.field}`, problem: refused.problem });
    }
  }
  const webhook = plan.notify?.webhook;
  const hook = webhook ? egress.webhooks.urlProblem(webhook) : null;
  if (hook) problems.push({ path: 'notify.webhook', problem: hook });
  return problems;
}
