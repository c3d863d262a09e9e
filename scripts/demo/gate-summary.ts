import { textTable } from './text-table.js';

/**
 * The `gate` of `GET /v1/use-cases/:id`, in words. Read defensively: the
 * demo only relies on `verdict` and, when present, `targetStage`,
 * `approval` and `criteria: [{name, required, actual, status, detail?}]`.
 */

interface CriterionLike {
  name?: unknown;
  required?: unknown;
  actual?: unknown;
  status?: unknown;
  detail?: unknown;
}

const MEANING: Record<string, string> = {
  eligible: 'every criterion holds; a release manager may promote',
  inconclusive: 'not enough evidence yet: more samples or more time are needed, never a pass',
  blocked: 'a criterion fails on enough evidence',
  none: 'this stage has nothing to promote to',
};

export function gateLines(gate: unknown): string[] {
  if (gate === null || gate === undefined || typeof gate !== 'object') {
    return ['  This controller build reports no gate verdict yet (gate: null).'];
  }
  const g = gate as {
    verdict?: unknown;
    targetStage?: unknown;
    fromStage?: unknown;
    approval?: unknown;
    statistics?: unknown;
    confidence?: unknown;
  };
  const verdict = String(g.verdict ?? 'unknown');
  const target = typeof g.targetStage === 'string' ? ` → ${g.targetStage}` : '';
  const approval = typeof g.approval === 'string' ? ` (approval: ${g.approval})` : '';
  const lines = [
    `  ${String(g.fromStage ?? 'current stage')}${target}: ${verdict.toUpperCase()}${approval}`,
    ...(MEANING[verdict] ? [`  ${MEANING[verdict]}`] : []),
  ];
  const criteria = (gate as { criteria?: unknown }).criteria;
  if (Array.isArray(criteria) && verdict === 'inconclusive') {
    const waiting = (criteria as CriterionLike[]).filter((c) => c.status === 'inconclusive');
    if (waiting.length > 0) lines.push(`  waiting on: ${waiting.map((c) => String(c.name)).join(', ')}`);
  }
  if (Array.isArray(criteria) && criteria.length > 0) {
    lines.push(
      '',
      ...textTable(
        ['criterion', 'required', 'actual', 'status'],
        (criteria as CriterionLike[]).map((c) => [
          String(c.name ?? '?'),
          show(c.required),
          show(c.actual),
          String(c.status ?? '?'),
        ]),
      ),
    );
    const details = (criteria as CriterionLike[]).filter((c) => typeof c.detail === 'string' && c.detail);
    for (const c of details) lines.push(`  ${String(c.name)}: ${String(c.detail)}`);
  }
  if (g.statistics === 'sequential') {
    lines.push(
      `  The gate's agreement bounds are sequential (${confidenceText(g.confidence)}): they stay valid however often`,
      '  the gate is checked, so they sit a little below the Wilson bounds of the tables above.',
    );
  }
  return lines;
}

function confidenceText(confidence: unknown): string {
  return typeof confidence === 'number' ? `${Math.round(confidence * 1000) / 10}% confidence` : 'the plan';
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    return String(Math.abs(value) < 0.01 ? +value.toPrecision(2) : +value.toFixed(4));
  }
  return String(value);
}
