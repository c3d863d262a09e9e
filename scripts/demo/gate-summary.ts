import { criterionFigure, percent } from '../../src/format/figures.js';
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
          show(c.name, c.required),
          show(c.name, c.actual),
          String(c.status ?? '?'),
        ]),
      ),
    );
    const details = (criteria as CriterionLike[]).filter((c) => typeof c.detail === 'string' && c.detail);
    for (const c of details) lines.push(`  ${String(c.name)}: ${String(c.detail)}`);
  }
  const warnings = (gate as { warnings?: unknown }).warnings;
  for (const w of Array.isArray(warnings) ? (warnings as Array<{ message?: unknown }>) : []) {
    if (typeof w?.message === 'string') lines.push(`  warning: ${w.message}`);
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
  return typeof confidence === 'number' ? `${percent(confidence, 1)} confidence` : 'the plan';
}

function show(name: unknown, value: unknown): string {
  const figure = typeof value === 'number' || typeof value === 'string' ? value : null;
  return criterionFigure(String(name ?? ''), figure);
}
