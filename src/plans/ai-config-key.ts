import { createHash } from 'node:crypto';
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
        ? // apiKeyEnv is left out when unset (canonicalJson drops undefined): older keys hold.
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
  return createHash('sha256').update(canonicalJson(measured)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted and `undefined` members left out, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sortedSet(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}
