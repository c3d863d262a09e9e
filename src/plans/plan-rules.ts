import { BUILT_IN_DRIFT_FIELDS, type PlanShape, type PromotableStage, STAGES } from './plan-shape.js';

export type RuleProblem = { path: (string | number)[]; message: string };

const LIST_OPERATORS = new Set(['IN', 'NOT_IN', 'STR_CONTAINS', 'STR_STARTS_WITH', 'STR_ENDS_WITH']);

/**
 * Rules that span fields. They run once the plan's shape is right (zod skips them while a field
 * has the wrong type) and are reported like any other problem, with the path to fix.
 */
export function planRuleProblems(plan: PlanShape): RuleProblem[] {
  return [
    ...comparatorFit(plan),
    ...stageRules(plan),
    ...boundaryRules(plan),
    ...dataRules(plan),
    ...labelRules(plan),
    ...driftRules(plan),
  ];
}

/** The fields a drift guard may name in this plan: segments, the built-in ones, `drift.numeric`. */
export function driftFields(plan: Pick<PlanShape, 'segments' | 'drift' | 'decision'>): string[] {
  const builtIn = BUILT_IN_DRIFT_FIELDS.filter(
    (f) => plan.decision.type === 'label' || (f !== 'humanLabel' && f !== 'aiLabel'),
  );
  return [...plan.segments, ...builtIn, ...plan.drift.numeric];
}

/**
 * A drift field is named once (a segment, a built-in field or a numeric context field); a guard
 * names only fields the plan measures; each rate guard watches the stage where its rate exists.
 */
function driftRules(plan: PlanShape): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const builtIn = new Set<string>(BUILT_IN_DRIFT_FIELDS);
  plan.drift.numeric.forEach((field, i) => {
    if (builtIn.has(field) || plan.segments.includes(field)) {
      problems.push({
        path: ['drift', 'numeric', i],
        message: `"${field}" is already a ${builtIn.has(field) ? 'built-in drift field' : 'segment'}: name another context field`,
      });
    }
  });
  for (const field of Object.keys(plan.drift.buckets ?? {})) {
    if (!plan.drift.numeric.includes(field)) {
      problems.push({ path: ['drift', 'buckets', field], message: `"${field}" is not in drift.numeric` });
    }
  }
  const known = new Set(driftFields(plan));
  for (const name of STAGES) {
    const guard = plan.stages[name]?.rollbackWhen;
    if (!guard) continue;
    const at = ['stages', name, 'rollbackWhen'];
    guard.driftAbove?.fields.forEach((field, i) => {
      if (known.has(field)) return;
      const labelField = field === 'humanLabel' || field === 'aiLabel';
      problems.push({
        path: [...at, 'driftAbove', 'fields', i],
        message: labelField
          ? `${field} is measured for label decisions only: it needs decision.type label`
          : `"${field}" is not a drift field: expected a segment, ${BUILT_IN_DRIFT_FIELDS.join(', ')} or a drift.numeric field`,
      });
    });
    if (guard.overrideRateAbove !== undefined && name !== 'human-reviewed') {
      problems.push({
        path: [...at, 'overrideRateAbove'],
        message: 'people override suggestions in human-reviewed only: move it there',
      });
    }
    if (guard.escalationRateAbove !== undefined && name !== 'limited-autonomous') {
      problems.push({
        path: [...at, 'escalationRateAbove'],
        message: 'requests are escalated to a person in limited-autonomous only: move it there',
      });
    }
  }
  return problems;
}

/**
 * Per-label criteria, guards and error costs name the plan's labels, so they need label
 * decisions; a label the plan does not have would be a criterion that never gets evidence.
 */
function labelRules(plan: PlanShape): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const labels = plan.decision.type === 'label' ? new Set(plan.decision.labels) : null;
  const check = (path: (string | number)[], record: Record<string, unknown> | undefined) => {
    if (record === undefined) return;
    if (labels === null) {
      problems.push({ path, message: 'names labels: it needs decision.type label' });
      return;
    }
    for (const label of Object.keys(record)) {
      if (!labels.has(label)) {
        problems.push({ path: [...path, label], message: `"${label}" is not one of decision.labels` });
      }
    }
  };
  for (const name of STAGES) {
    const stage = plan.stages[name];
    if (!stage) continue;
    const promoteWhen = 'promoteWhen' in stage ? stage.promoteWhen : undefined;
    const at = ['stages', name, 'promoteWhen'];
    check([...at, 'labelRecallLowerBound'], promoteWhen?.labelRecallLowerBound);
    check([...at, 'labelPrecisionLowerBound'], promoteWhen?.labelPrecisionLowerBound);
    check(['stages', name, 'rollbackWhen', 'labelRecallBelow'], stage.rollbackWhen?.labelRecallBelow);
    if (promoteWhen?.maxErrorCostPerDecision !== undefined && maxErrorCost(plan) === 0) {
      problems.push({
        path: [...at, 'maxErrorCostPerDecision'],
        message: 'needs errorCosts (or defaultErrorCost above 0): with every error costing 0 it always holds',
      });
    }
  }
  check(['errorCosts'], plan.errorCosts);
  for (const [ai, row] of labels === null ? [] : Object.entries(plan.errorCosts ?? {})) {
    check(['errorCosts', ai], row);
    if ((row[ai] ?? 0) !== 0) {
      problems.push({
        path: ['errorCosts', ai, ai],
        message: 'agreeing costs nothing: expected 0 or no entry',
      });
    }
  }
  if (plan.defaultErrorCost > 0 && labels === null) {
    problems.push({
      path: ['defaultErrorCost'],
      message: 'prices label errors: it needs decision.type label',
    });
  }
  return problems;
}

/** The largest cost any (AI, human) pair of different labels can have under the plan. */
export function maxErrorCost(plan: Pick<PlanShape, 'errorCosts' | 'defaultErrorCost'>): number {
  let max = plan.defaultErrorCost;
  for (const row of Object.values(plan.errorCosts ?? {})) {
    for (const cost of Object.values(row)) if (cost > max) max = cost;
  }
  return max;
}

/**
 * `full` stores the input as sent, so rules for the input would silently do nothing; a context
 * field that is a segment cannot be redacted without emptying the segment's breakdown.
 */
function dataRules({ redact, storeInput, segments }: PlanShape): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const fields = redact?.fields ?? [];
  const inputRules = fields.some((f) => f.startsWith('input.')) || (redact?.patterns?.length ?? 0) > 0;
  if (storeInput === 'full' && inputRules) {
    problems.push({
      path: ['storeInput'],
      message:
        'full (the default) stores the input as sent, so the redact rules for the input would be ignored: set storeInput to redacted, hash or none',
    });
  }
  if (storeInput === 'redacted' && !inputRules) {
    problems.push({
      path: ['storeInput'],
      message:
        'redacted needs redact.patterns or redact.fields under input.; without them the input is stored as sent',
    });
  }
  fields.forEach((field, i) => {
    const [root, first] = field.split('.');
    if (root !== 'context' || first === undefined) return;
    const hit = first === '*' ? segments[0] : segments.find((s) => s === first);
    if (hit !== undefined) {
      problems.push({
        path: ['redact', 'fields', i],
        message: `redacts the segment ${hit} (agreement is broken down by it): remove it from segments or from redact.fields`,
      });
    }
  });
  return problems;
}

/**
 * Label and text decisions are strings; JSON decisions with `requiredFields` or `textFields` are
 * objects; other JSON decisions may be any value. `text-similarity` reads free text whose length
 * the plan bounds: a text decision, or a field of `decision.textFields`.
 */
function comparatorFit({ decision, comparator }: PlanShape): RuleProblem[] {
  const objects =
    decision.type === 'json' &&
    ((decision.requiredFields?.length ?? 0) > 0 || Object.keys(decision.textFields ?? {}).length > 0);
  const at = ['comparator', 'type'];
  if (comparator.type === 'fields') {
    if (decision.type !== 'json') {
      return [{ path: at, message: 'fields compares fields of JSON objects: it needs decision.type json' }];
    }
    return fieldEntryProblems(comparator.fields, decision.textFields ?? {});
  }
  if (comparator.type === 'numeric' && (decision.type !== 'json' || objects)) {
    return [
      {
        path: at,
        message:
          'numeric compares numbers: it needs decision.type json without requiredFields or textFields (decisions that are numbers)',
      },
    ];
  }
  if (comparator.type === 'normalized-text' && objects) {
    return [
      {
        path: at,
        message: 'normalized-text compares text, but decisions with requiredFields or textFields are objects',
      },
    ];
  }
  if (comparator.type === 'judge') return judgeProblems(comparator);
  if (comparator.type === 'text-similarity' && decision.type !== 'text') {
    return [
      {
        path: at,
        message: `text-similarity compares free text: it needs decision.type text, not ${decision.type} (a text field of a JSON decision takes it in fields)`,
      },
    ];
  }
  return [];
}

/** `model` is what an `openai-chat` judge asks; `model`, `apiKeyEnv` and `temperature` are its alone. */
function judgeProblems(judge: Extract<PlanShape['comparator'], { type: 'judge' }>): RuleProblem[] {
  if (judge.adapter === 'openai-chat') {
    return judge.model === undefined
      ? [{ path: ['comparator', 'model'], message: 'an openai-chat judge needs the model it asks' }]
      : [];
  }
  return (['model', 'apiKeyEnv', 'temperature'] as const)
    .filter((field) => judge[field] !== undefined)
    .map((field) => ({
      path: ['comparator', field],
      message: `${field} is an openai-chat judge's setting: this judge's adapter is http`,
    }));
}

/**
 * A field with settings of its own is listed once (plain paths listed twice count once, as they
 * always have); `text-similarity` reads a field the decision declares as text.
 */
function fieldEntryProblems(
  fields: Extract<PlanShape['comparator'], { type: 'fields' }>['fields'],
  textFields: Record<string, unknown>,
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const first = new Map<string, { index: number; plain: boolean }>();
  fields.forEach((entry, i) => {
    const plain = typeof entry === 'string';
    const field = plain ? entry : entry.field;
    const earlier = first.get(field);
    if (earlier && !(plain && earlier.plain)) {
      problems.push({
        path: ['comparator', 'fields', i],
        message: `"${field}" is already listed at comparator.fields[${earlier.index}]: list each field once`,
      });
    }
    if (!earlier) first.set(field, { index: i, plain });
    if (!plain && entry.comparator?.type === 'text-similarity' && !Object.hasOwn(textFields, field)) {
      problems.push({
        path: ['comparator', 'fields', i, 'comparator', 'type'],
        message: `text-similarity compares free text: declare "${field}" in decision.textFields with its maxLength`,
      });
    }
  });
  return problems;
}

function stageRules(plan: PlanShape): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const { stages } = plan;
  if (stages['limited-autonomous'] && !stages['human-reviewed']) {
    problems.push({
      path: ['stages', 'human-reviewed'],
      message: 'required when limited-autonomous is present: a use case reaches it through human-reviewed',
    });
  }
  for (const name of STAGES) {
    const stage = stages[name];
    if (!stage) continue;
    const at = ['stages', name];
    const promoteWhen = 'promoteWhen' in stage ? stage.promoteWhen : undefined;
    if (promoteWhen?.segmentAgreementLowerBound !== undefined && plan.segments.length === 0) {
      problems.push({
        path: [...at, 'promoteWhen', 'segmentAgreementLowerBound'],
        message: 'needs at least one entry in segments (the context fields agreement is broken down by)',
      });
    }
    if (
      promoteWhen?.judgeAgreementLowerBound !== undefined &&
      (plan.comparator as { type: string }).type !== 'judge'
    ) {
      problems.push({
        path: [...at, 'promoteWhen', 'judgeAgreementLowerBound'],
        message: 'needs a judge comparator (comparator.type: judge): there is no judge to calibrate',
      });
    }
    const guard = stage.rollbackWhen;
    if (
      guard &&
      guard.agreementBelow === undefined &&
      guard.aiErrorRateAbove === undefined &&
      Object.keys(guard.labelRecallBelow ?? {}).length === 0 &&
      guard.driftAbove === undefined &&
      guard.overrideRateAbove === undefined &&
      guard.escalationRateAbove === undefined
    ) {
      problems.push({
        path: [...at, 'rollbackWhen'],
        message:
          'a guard needs agreementBelow, aiErrorRateAbove, labelRecallBelow, driftAbove, overrideRateAbove or escalationRateAbove, otherwise it never trips',
      });
    }
    if (name === 'shadow' && guard?.action === 'rollback') {
      problems.push({
        path: [...at, 'rollbackWhen', 'action'],
        message:
          'expected disable or notify in shadow (rollback, the default, has no stage below shadow to go to)',
      });
    }
    if (stage.rollbackTo !== undefined)
      problems.push(...rollbackTargetProblems(plan, name, stage.rollbackTo));
  }
  return problems;
}

function rollbackTargetProblems(plan: PlanShape, from: PromotableStage, to: PromotableStage): RuleProblem[] {
  const path = ['stages', from, 'rollbackTo'];
  const earlier = STAGES.slice(0, STAGES.indexOf(from));
  if (earlier.length === 0) {
    return [{ path, message: 'shadow is the first stage: there is nothing before it to roll back to' }];
  }
  if (!earlier.includes(to)) {
    return [{ path, message: `expected a stage before ${from} (${earlier.join(' or ')}), got "${to}"` }];
  }
  if (!plan.stages[to]) return [{ path, message: `the stage ${to} is not in this plan` }];
  return [];
}

/** Unleash reads `values` for list and string operators and `value` for numeric ones. */
function boundaryRules(plan: PlanShape): RuleProblem[] {
  const constraints = plan.stages['limited-autonomous']?.boundary.constraints ?? [];
  return constraints.flatMap((c, i): RuleProblem[] => {
    const at = ['stages', 'limited-autonomous', 'boundary', 'constraints', i];
    if (LIST_OPERATORS.has(c.operator)) {
      return c.values && c.values.length > 0
        ? []
        : [
            {
              path: [...at, 'values'],
              message: `required for operator ${c.operator}: a list of at least one value`,
            },
          ];
    }
    if (c.value === undefined) {
      return [
        {
          path: [...at, 'value'],
          message: `required for operator ${c.operator}: a number as text, e.g. "100"`,
        },
      ];
    }
    return Number.isFinite(Number(c.value)) && c.value.trim() !== ''
      ? []
      : [
          {
            path: [...at, 'value'],
            message: `expected a number as text for ${c.operator}, got "${c.value}"`,
          },
        ];
  });
}
