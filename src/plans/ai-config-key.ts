import { createHash } from 'node:crypto';
import { canonicalJson } from '../contracts/canonical-json.js';
import type { ComparatorSpec, FieldEntry, JudgeSpec, Plan } from './plan-schema.js';

/**
 * A short, stable name for what a plan measures: which AI system is asked (adapter, url, model,
 * prompt, temperature, the variable of its API key) and how its answers are judged (comparator,
 * a judge's own adapter, url, model and rubric included; decision schema). Evidence is
 * only ever pooled under one key, so a gate restarts when this changes, and only then: thresholds,
 * guards, costs, timeouts, sampling and the boundary are left out on purpose, so changing them
 * re-judges the evidence already gathered.
 *
 * Key order in the plan's text does not matter (objects are serialised with sorted keys), and
 * lists that are sets (labels, required fields, compared fields) are sorted too.
 */
export function aiConfigKey(plan: Plan): string {
  return createHash('sha256')
    .update(canonicalJson(measuredConfig(plan), 'code-units'))
    .digest('hex')
    .slice(0, 16);
}

/**
 * What differs between the AI configurations of two plans, as field paths (`ai.model`,
 * `ai.prompt`, `comparator`, `decision`, …): empty exactly when their keys are equal. Shown beside
 * a new configuration so a reviewer sees why its evidence starts over.
 */
export function aiConfigChanges(before: Plan, after: Plan): string[] {
  const a = measuredConfig(before);
  const b = measuredConfig(after);
  const changes: string[] = [];
  for (const field of new Set([...Object.keys(a.ai), ...Object.keys(b.ai)])) {
    const key = field as keyof typeof a.ai;
    if (canonicalJson(a.ai[key] ?? null, 'code-units') !== canonicalJson(b.ai[key] ?? null, 'code-units')) {
      changes.push(`ai.${field}`);
    }
  }
  for (const field of ['comparator', 'decision'] as const) {
    if (canonicalJson(a[field], 'code-units') !== canonicalJson(b[field], 'code-units')) changes.push(field);
  }
  return changes;
}

/** The fields of a plan that make its AI configuration, in a form that compares as sets compare. */
function measuredConfig(plan: Plan) {
  const { ai, comparator, decision } = plan;
  return {
    ai: {
      adapter: ai.adapter,
      url: ai.url,
      ...(ai.adapter === 'openai-chat'
        ? // apiKeyEnv is left out when unset (canonical JSON drops undefined): older keys hold.
          { model: ai.model, prompt: ai.prompt, temperature: ai.temperature, apiKeyEnv: ai.apiKeyEnv }
        : {}),
    } as {
      adapter: string;
      url: string;
      model?: string;
      prompt?: string;
      temperature?: number;
      apiKeyEnv?: string;
    },
    comparator: measuredComparator(comparator),
    decision:
      decision.type === 'label'
        ? { ...decision, labels: sortedSet(decision.labels) }
        : decision.type === 'json'
          ? {
              ...decision,
              requiredFields: decision.requiredFields?.length
                ? sortedSet(decision.requiredFields)
                : undefined,
            }
          : decision,
  };
}

/**
 * How answers are judged. A judge is who judges (adapter, url, model, temperature, the key's
 * variable) and by what rubric: its timeout, prices, concurrency and calibration rate are left
 * out, as the AI's are, so changing them re-judges the evidence gathered.
 */
function measuredComparator(comparator: ComparatorSpec) {
  if (comparator.type === 'fields') return { ...comparator, fields: sortedFields(comparator.fields) };
  if (comparator.type === 'judge') return measuredJudge(comparator);
  return comparator;
}

function measuredJudge(judge: JudgeSpec) {
  return {
    type: judge.type,
    adapter: judge.adapter,
    url: judge.url,
    rubric: judge.rubric,
    model: judge.model,
    temperature: judge.temperature,
    apiKeyEnv: judge.apiKeyEnv,
  };
}

/**
 * A short, stable name for a judge's configuration (the part of the AI configuration key it
 * makes): the judge version of the verdicts of a judge that does not name itself.
 */
export function judgeConfigKey(judge: JudgeSpec): string {
  return createHash('sha256')
    .update(canonicalJson(measuredJudge(judge), 'code-units'))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The `fields` list as a set: a field written `{field: x}` (weight 1, no comparator of its own) is
 * the plain path `x`, so plans written before per-field comparators keep their key; the first of
 * a repeated field counts, as the comparator reads it.
 */
function sortedFields(fields: readonly FieldEntry[]): (string | Exclude<FieldEntry, string>)[] {
  const byName = new Map<string, string | Exclude<FieldEntry, string>>();
  for (const entry of fields) {
    const name = typeof entry === 'string' ? entry : entry.field;
    if (byName.has(name)) continue;
    const plain = typeof entry === 'string' || (entry.comparator === undefined && (entry.weight ?? 1) === 1);
    byName.set(name, plain ? name : entry);
  }
  return [...byName.keys()].sort().map((name) => byName.get(name)!);
}

function sortedSet(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}
