import { createHash } from 'node:crypto';
import { canonicalJson } from '../contracts/canonical-json.js';
import type { Plan } from './plan-schema.js';

/**
 * A short, stable name for what a plan measures: which AI system is asked (adapter, url, model,
 * prompt, temperature, the variable of its API key) and how its answers are judged (comparator, decision schema). Evidence is
 * only ever pooled under one key, so a gate restarts when this changes, and only then: thresholds,
 * guards, costs, timeouts, sampling and the boundary are left out on purpose, so changing them
 * re-judges the evidence already gathered.
 *
 * Key order in the plan's text does not matter (objects are serialised with sorted keys), and
 * lists that are sets (labels, required fields, compared fields) are sorted too.
 */
export function aiConfigKey(plan: Plan): string {
  const { ai, comparator, decision } = plan;
  const measured = {
    ai: {
      adapter: ai.adapter,
      url: ai.url,
      ...(ai.adapter === 'openai-chat'
        ? // apiKeyEnv is left out when unset (canonical JSON drops undefined): older keys hold.
          { model: ai.model, prompt: ai.prompt, temperature: ai.temperature, apiKeyEnv: ai.apiKeyEnv }
        : {}),
    },
    comparator:
      comparator.type === 'fields' ? { ...comparator, fields: sortedSet(comparator.fields) } : comparator,
    decision:
      decision.type === 'label'
        ? { ...decision, labels: sortedSet(decision.labels) }
        : {
            ...decision,
            requiredFields: decision.requiredFields?.length ? sortedSet(decision.requiredFields) : undefined,
          },
  };
  return createHash('sha256').update(canonicalJson(measured, 'code-units')).digest('hex').slice(0, 16);
}

function sortedSet(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}
