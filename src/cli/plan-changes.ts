import { canonicalJson } from '../contracts/canonical-json.js';
import { parsePlanText } from '../plans/plan-loader.js';
import type { Plan } from '../plans/plan-schema.js';
import { gateWarnings } from '../promotion/gate-assessment.js';
import type { GateWarning } from '../promotion/gate-types.js';

/**
 * What a new plan version changes in how the evidence is judged, and what the gate would warn of
 * under it: pure functions the plan commands print.
 */

/** Top-level fields the gates and guards judge by (beside each stage's promoteWhen and rollbackWhen). */
const JUDGING_FIELDS = [
  'statistics',
  'confidence',
  'aiFailures',
  'errorCosts',
  'defaultErrorCost',
  'segments',
] as const;
const STAGES_JUDGED = ['shadow', 'human-reviewed', 'limited-autonomous'] as const;

/**
 * The field paths of the gates' and guards' criteria that differ between two plans
 * (`errorCosts.approve.reject`, `stages.shadow.promoteWhen.labelRecallLowerBound.reject`, …), in
 * plan order. They do not change the AI configuration: the evidence is kept and judged again.
 */
export function criteriaChanges(before: Plan, after: Plan): string[] {
  const changes: string[] = [];
  for (const field of JUDGING_FIELDS) changedPaths(before[field], after[field], field, changes);
  for (const stage of STAGES_JUDGED) {
    const a = before.stages[stage] as Record<string, unknown> | undefined;
    const b = after.stages[stage] as Record<string, unknown> | undefined;
    for (const part of ['promoteWhen', 'rollbackWhen']) {
      changedPaths(a?.[part], b?.[part], `stages.${stage}.${part}`, changes);
    }
  }
  return changes;
}

/** The criteria changes against the applied text, or null when this CLI cannot read that text. */
export function criteriaChangesFromText(appliedText: string, format: string, after: Plan): string[] | null {
  const parsed = parsePlanText(appliedText, format === 'json' ? 'json' : 'yaml');
  return parsed.ok ? criteriaChanges(parsed.plan, after) : null;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Plain objects (label maps, cost matrices, criteria) are compared key by key; anything else whole. */
function changedPaths(a: unknown, b: unknown, path: string, into: string[]): void {
  if (isRecord(a) && isRecord(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      changedPaths(a[key], b[key], `${path}.${key}`, into);
    }
    return;
  }
  if (canonicalJson(a ?? null, 'code-units') !== canonicalJson(b ?? null, 'code-units')) into.push(path);
}

/**
 * The warnings the gate of `stage` would carry under `plan`, given the majority baseline the
 * controller measured on the use case's traffic (`gate.majorityBaseline` of GET /v1/use-cases/:id).
 */
export function planBaselineWarnings(
  plan: Plan,
  stage: string,
  baseline: { label: string; agreement: number } | null,
): GateWarning[] {
  const when =
    stage === 'shadow'
      ? plan.stages.shadow.promoteWhen
      : stage === 'human-reviewed'
        ? plan.stages['human-reviewed']?.promoteWhen
        : undefined;
  return when === undefined ? [] : gateWarnings(when, baseline);
}
