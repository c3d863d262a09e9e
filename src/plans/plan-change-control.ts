import { canonicalJson } from '../contracts/canonical-json.js';
import { parseDurationMs } from './duration.js';
import { judgeAgreementBar, judgeOf } from './judge-comparator.js';
import type { Plan, PromotableStage, PromoteWhen, RollbackWhen } from './plan-schema.js';
import { STAGES } from './plan-shape.js';

/**
 * Which changes of a plan widen the AI's authority, so that a release key other than the author
 * must approve them (README "Change control"), and the evidence floor of an automatic gate. Pure
 * functions of parsed plans (defaults applied), so an explicit default and an omitted field
 * compare equal.
 *
 * Not widening: a new AI configuration (`ai`, `comparator`, `decision`: it runs as a challenger and
 * earns its authority; a judge's calibrationRate lowered is the exception), a judge's timeout,
 * prices and concurrency, descriptive fields (`owner`, `description`, `notify`, `redact`,
 * `storeInput`, `retentionDays`, `humanCostPerDecision`, the sample rates, added `segments`,
 * `drift.numeric` and `drift.buckets`) and every change that only tightens.
 */

export type WideningRule =
  /** A gate criterion made easier to meet. */
  | 'threshold-lowered'
  /** A promoteWhen criterion, a per-label entry, a judged segment or a whole promoteWhen removed. */
  | 'criterion-removed'
  /** A rollbackWhen threshold loosened, rollbackTo moved later, the action weakened to notify. */
  | 'guard-loosened'
  /** A rollbackWhen or one of its guards removed. */
  | 'guard-removed'
  /** A stage's (or the challenger swap's) approval made automatic. */
  | 'automatic-approval'
  /** limited-autonomous: rolloutPercent raised, minConfidence lowered, a constraint removed or changed. */
  | 'boundary-widened'
  | 'audit-rate-lowered'
  | 'model-change-kept'
  | 'challenger-margin-loosened'
  /** A judge's calibrationRate lowered: fewer of its verdicts are checked by people. */
  | 'calibration-lowered'
  | 'change-control-lowered';

/** One widening change; an absent value (a removed criterion, the stage of a first plan) is null. */
export interface WideningChange {
  path: string;
  rule: WideningRule;
  before: unknown;
  after: unknown;
}

/** Stages whose approval promotes: limited-autonomous is the last stage, its approval moves nothing. */
const PROMOTING = ['shadow', 'human-reviewed'] as const;
const promotes = (stage: PromotableStage) => stage !== 'limited-autonomous';

type LimitedAutonomous = NonNullable<Plan['stages']['limited-autonomous']>;
type StageView = {
  approval: 'manual' | 'automatic';
  promoteWhen?: PromoteWhen;
  rollbackWhen?: RollbackWhen;
  rollbackTo?: PromotableStage;
};

/**
 * What the controller does in a stage the plan no longer has — a use case may be in it when a plan
 * drops it: no gate, no guard, and in limited-autonomous the flag serves everyone autonomously
 * with no audits (flag-store and suggestion-service fall back to these). So dropping a stage is
 * judged as changing it to this. `onModelChange` stays `demote`: without the stage a new model
 * version never decides alone.
 */
const DROPPED_STAGE: StageView = { approval: 'manual' };
const DROPPED_AUTONOMOUS: LimitedAutonomous = {
  approval: 'manual',
  boundary: { constraints: [], minConfidence: 0, rolloutPercent: 100 },
  auditRate: 0,
  onModelChange: 'demote',
};

/**
 * The changes of `after` against the version in force (`before`, null for the first plan of a
 * new use case) that widen the AI's authority, in plan order. A first plan widens only where it
 * allows an automatic promotion or swap.
 */
export function wideningChanges(before: Plan | null, after: Plan): WideningChange[] {
  const out = new Collector();
  if (before === null) {
    for (const stage of PROMOTING) {
      if (after.stages[stage]?.approval === 'automatic') out.approval(`stages.${stage}.approval`, null);
    }
    if (after.challenger.approval === 'automatic') out.approval('challenger.approval', null);
    return out.changes;
  }
  if (judgesSegments(before) && before.segments.some((s) => !after.segments.includes(s))) {
    out.push('segments', 'criterion-removed', before.segments, after.segments);
  }
  if (before.statistics === 'sequential' && after.statistics === 'fixed') {
    out.push('statistics', 'threshold-lowered', before.statistics, after.statistics);
  }
  if (before.aiFailures === 'disagree' && after.aiFailures === 'exclude') {
    out.push('aiFailures', 'threshold-lowered', before.aiFailures, after.aiFailures);
  }
  errorCostChanges(before, after, out);
  out.loosened('defaultErrorCost', before.defaultErrorCost, after.defaultErrorCost, 'higher-is-stricter');
  out.loosened('confidence', before.confidence, after.confidence, 'higher-is-stricter');
  for (const stage of STAGES) stageChanges(stage, before, after, out);
  if (watchesDrift(before)) driftChanges(before.drift, after.drift, out);
  if (before.comparator.type === 'judge' && after.comparator.type === 'judge') {
    out.loosened(
      'comparator.calibrationRate',
      before.comparator.calibrationRate,
      after.comparator.calibrationRate,
      'higher-is-stricter',
      { rule: 'calibration-lowered' },
    );
  }
  out.loosened('challenger.margin', before.challenger.margin, after.challenger.margin, 'lower-is-stricter', {
    rule: 'challenger-margin-loosened',
  });
  if (before.challenger.approval === 'manual' && after.challenger.approval === 'automatic') {
    out.approval('challenger.approval', before.challenger.approval);
  }
  out.loosened(
    'changeControl.approvals',
    before.changeControl.approvals,
    after.changeControl.approvals,
    'higher-is-stricter',
    { rule: 'change-control-lowered' },
  );
  return out.changes;
}

/**
 * Each stage gate with approval automatic that lacks the evidence floor: `minSamples` at least
 * `minSamples` and an agreement criterion (`agreementLowerBound` above 0; 0 always holds). The
 * challenger swap's `approval: automatic` needs nothing here: its verdict already pairs it with the
 * champion on the gates of the stages below and on `challenger.margin`.
 */
export function automaticGateProblems(
  plan: Plan,
  minSamples: number,
): Array<{ path: string; problem: string }> {
  const problems: Array<{ path: string; problem: string }> = [];
  const floor = `approval automatic needs the evidence floor: minSamples of at least ${minSamples} and agreementLowerBound`;
  for (const stage of PROMOTING) {
    const config = plan.stages[stage];
    if (config?.approval !== 'automatic') continue;
    const at = `stages.${stage}.promoteWhen`;
    const when = config.promoteWhen;
    if (when === undefined) {
      problems.push({ path: at, problem: `${floor}; this stage has no promoteWhen` });
      continue;
    }
    if (when.minSamples < minSamples) {
      problems.push({ path: `${at}.minSamples`, problem: `${floor}; got ${when.minSamples}` });
    }
    if (when.agreementLowerBound === undefined || when.agreementLowerBound === 0) {
      problems.push({
        path: `${at}.agreementLowerBound`,
        problem: `${floor}; ${when.agreementLowerBound === 0 ? '0 always holds' : 'none is set'}`,
      });
    }
  }
  return problems;
}

/** Collects the changes in the order they are found, with the direction rules the fields share. */
class Collector {
  readonly changes: WideningChange[] = [];

  push(path: string, rule: WideningRule, before: unknown, after: unknown): void {
    this.changes.push({ path, rule, before: before ?? null, after: after ?? null });
  }

  approval(path: string, before: 'manual' | null): void {
    this.push(path, 'automatic-approval', before, 'automatic');
  }

  /**
   * A threshold whose stricter side is `stricter`: moving the other way is `rule`, removing it
   * (when it is optional) is `removed`. Adding one never widens.
   */
  loosened(
    path: string,
    before: number | undefined,
    after: number | undefined,
    stricter: 'higher-is-stricter' | 'lower-is-stricter',
    {
      rule = 'threshold-lowered',
      removed = 'criterion-removed',
    }: { rule?: WideningRule; removed?: WideningRule } = {},
  ): void {
    if (before === undefined) return;
    if (after === undefined) this.push(path, removed, before, null);
    else if (stricter === 'higher-is-stricter' ? after < before : after > before)
      this.push(path, rule, before, after);
  }

  /** A value per label: each label's entry compared as `loosened` compares one threshold. */
  perLabel(
    path: string,
    before: Record<string, number> | undefined,
    after: Record<string, number> | undefined,
    stricter: 'higher-is-stricter' | 'lower-is-stricter',
    rules: { rule: WideningRule; removed: WideningRule },
  ): void {
    for (const [label, value] of Object.entries(before ?? {})) {
      this.loosened(`${path}.${label}`, value, after?.[label], stricter, rules);
    }
  }
}

/** `drift.window` and `drift.minWindow` matter only to a plan with a drift guard. */
function watchesDrift(plan: Plan): boolean {
  return STAGES.some((stage) => plan.stages[stage]?.rollbackWhen?.driftAbove !== undefined);
}

/**
 * A longer window dilutes a shift among more decisions, and a larger `minWindow` keeps a guard
 * `insufficient` longer: both trip later. A window changed between decisions and a duration has
 * no order, so it is named as loosened for a person to judge. Numeric fields and bucket schemes
 * are descriptive (a guard naming a field keeps it measured: plan-rules.ts).
 */
function driftChanges(a: Plan['drift'], b: Plan['drift'], out: Collector): void {
  const guard = { rule: 'guard-loosened' } as const;
  if (typeof a.window !== typeof b.window) out.push('drift.window', 'guard-loosened', a.window, b.window);
  else if (typeof a.window === 'number') {
    out.loosened('drift.window', a.window, b.window as number, 'lower-is-stricter', guard);
  } else if (parseDurationMs(b.window) > parseDurationMs(a.window)) {
    out.push('drift.window', 'guard-loosened', a.window, b.window);
  }
  out.loosened('drift.minWindow', a.minWindow, b.minWindow, 'lower-is-stricter', guard);
}

/** Segments are judged only by a stage's segmentAgreementLowerBound; otherwise they only break reports down. */
function judgesSegments(plan: Plan): boolean {
  return PROMOTING.some((stage) => plan.stages[stage]?.promoteWhen?.segmentAgreementLowerBound !== undefined);
}

/**
 * Error costs are compared as the price of each (AI, human) pair listed in either plan, an
 * unlisted pair costing `defaultErrorCost`: a cheaper pair makes `maxErrorCostPerDecision` easier
 * to meet, whether its entry was lowered, removed or added. `before` and `after` are those prices.
 */
function errorCostChanges(before: Plan, after: Plan, out: Collector): void {
  const pairs = new Map<string, [string, string]>();
  for (const costs of [before.errorCosts, after.errorCosts]) {
    for (const [ai, row] of Object.entries(costs ?? {})) {
      for (const human of Object.keys(row)) pairs.set(`${ai}.${human}`, [ai, human]);
    }
  }
  const price = (plan: Plan, ai: string, human: string) =>
    plan.errorCosts?.[ai]?.[human] ?? plan.defaultErrorCost;
  for (const [path, [ai, human]] of pairs) {
    out.loosened(
      `errorCosts.${path}`,
      price(before, ai, human),
      price(after, ai, human),
      'higher-is-stricter',
    );
  }
}

function stageChanges(stage: PromotableStage, before: Plan, after: Plan, out: Collector): void {
  const a: StageView | undefined = before.stages[stage];
  const at = `stages.${stage}`;
  if (a === undefined) {
    // A new stage: its gate and guard only add; an automatic promotion out of it is what widens.
    if (promotes(stage) && after.stages[stage]?.approval === 'automatic')
      out.approval(`${at}.approval`, null);
    return;
  }
  const b: StageView =
    after.stages[stage] ?? (stage === 'limited-autonomous' ? DROPPED_AUTONOMOUS : DROPPED_STAGE);
  if (promotes(stage) && a.approval === 'manual' && b.approval === 'automatic') {
    out.approval(`${at}.approval`, a.approval);
  }
  promoteWhenChanges(`${at}.promoteWhen`, a.promoteWhen, b.promoteWhen, out);
  judgeCalibrationChanges(`${at}.promoteWhen`, before, a.promoteWhen, after, b.promoteWhen, out);
  rollbackWhenChanges(`${at}.rollbackWhen`, a.rollbackWhen, b.rollbackWhen, out);
  // Without rollbackTo a guard (or a rollback) goes to the stage before: a later target keeps more authority.
  const previous = STAGES[STAGES.indexOf(stage) - 1];
  const target = (s: StageView) => STAGES.indexOf(s.rollbackTo ?? previous ?? stage);
  if (target(b) > target(a)) out.push(`${at}.rollbackTo`, 'guard-loosened', a.rollbackTo, b.rollbackTo);
  if (stage === 'limited-autonomous') {
    autonomyChanges(
      at,
      before.stages['limited-autonomous']!,
      after.stages['limited-autonomous'] ?? DROPPED_AUTONOMOUS,
      out,
    );
  }
}

function promoteWhenChanges(
  at: string,
  a: PromoteWhen | undefined,
  b: PromoteWhen | undefined,
  out: Collector,
): void {
  if (a === undefined) return;
  if (b === undefined) {
    out.push(at, 'criterion-removed', a, null);
    return;
  }
  out.loosened(`${at}.minSamples`, a.minSamples, b.minSamples, 'higher-is-stricter');
  if (a.minDuration !== undefined) {
    if (b.minDuration === undefined) out.push(`${at}.minDuration`, 'criterion-removed', a.minDuration, null);
    else if (parseDurationMs(b.minDuration) < parseDurationMs(a.minDuration)) {
      out.push(`${at}.minDuration`, 'threshold-lowered', a.minDuration, b.minDuration);
    }
  }
  out.loosened(
    `${at}.agreementLowerBound`,
    a.agreementLowerBound,
    b.agreementLowerBound,
    'higher-is-stricter',
  );
  out.loosened(
    `${at}.segmentAgreementLowerBound`,
    a.segmentAgreementLowerBound,
    b.segmentAgreementLowerBound,
    'higher-is-stricter',
  );
  // Under the minimum a segment or label is inconclusive, never a pass: fewer samples suffice when lowered.
  out.loosened(`${at}.minSegmentSamples`, a.minSegmentSamples, b.minSegmentSamples, 'higher-is-stricter');
  out.loosened(`${at}.maxAiErrorRate`, a.maxAiErrorRate, b.maxAiErrorRate, 'lower-is-stricter');
  out.loosened(`${at}.maxP95LatencyMs`, a.maxP95LatencyMs, b.maxP95LatencyMs, 'lower-is-stricter');
  out.loosened(
    `${at}.maxAiCostPerDecision`,
    a.maxAiCostPerDecision,
    b.maxAiCostPerDecision,
    'lower-is-stricter',
  );
  const criterion = { rule: 'threshold-lowered', removed: 'criterion-removed' } as const;
  out.perLabel(
    `${at}.labelRecallLowerBound`,
    a.labelRecallLowerBound,
    b.labelRecallLowerBound,
    'higher-is-stricter',
    criterion,
  );
  out.perLabel(
    `${at}.labelPrecisionLowerBound`,
    a.labelPrecisionLowerBound,
    b.labelPrecisionLowerBound,
    'higher-is-stricter',
    criterion,
  );
  out.loosened(`${at}.minLabelSamples`, a.minLabelSamples, b.minLabelSamples, 'higher-is-stricter');
  out.loosened(
    `${at}.maxErrorCostPerDecision`,
    a.maxErrorCostPerDecision,
    b.maxErrorCostPerDecision,
    'lower-is-stricter',
  );
}

/**
 * `judgeAgreementLowerBound` as the gate applies it (a judge's plan that omits it gets the default
 * bar, so removing it lowers it to the default), while both plans score with a judge: a comparator
 * that is no longer a judge has nothing to calibrate (it is a new AI configuration, as above).
 */
function judgeCalibrationChanges(
  at: string,
  before: Plan,
  a: PromoteWhen | undefined,
  after: Plan,
  b: PromoteWhen | undefined,
  out: Collector,
): void {
  if (a === undefined || b === undefined || !judgeOf(before) || !judgeOf(after)) return;
  const barBefore = judgeAgreementBar(before, a);
  const barAfter = judgeAgreementBar(after, b);
  out.loosened(`${at}.judgeAgreementLowerBound`, barBefore, barAfter, 'higher-is-stricter');
  if (barBefore !== undefined && barAfter !== undefined) {
    out.loosened(`${at}.minJudgeRatings`, a.minJudgeRatings, b.minJudgeRatings, 'higher-is-stricter');
  }
}

function rollbackWhenChanges(
  at: string,
  a: RollbackWhen | undefined,
  b: RollbackWhen | undefined,
  out: Collector,
): void {
  if (a === undefined) return;
  if (b === undefined) {
    out.push(at, 'guard-removed', a, null);
    return;
  }
  const guard = { rule: 'guard-loosened', removed: 'guard-removed' } as const;
  // A longer window dilutes a bad run among more requests, so the guard trips later.
  out.loosened(`${at}.window`, a.window, b.window, 'lower-is-stricter', guard);
  out.loosened(`${at}.agreementBelow`, a.agreementBelow, b.agreementBelow, 'higher-is-stricter', guard);
  out.loosened(`${at}.aiErrorRateAbove`, a.aiErrorRateAbove, b.aiErrorRateAbove, 'lower-is-stricter', guard);
  out.perLabel(`${at}.labelRecallBelow`, a.labelRecallBelow, b.labelRecallBelow, 'higher-is-stricter', guard);
  out.loosened(`${at}.labelWindow`, a.labelWindow, b.labelWindow, 'lower-is-stricter', guard);
  out.loosened(`${at}.driftAbove.psi`, a.driftAbove?.psi, b.driftAbove?.psi, 'lower-is-stricter', guard);
  // A field no longer watched is a guard removed for it; adding one only tightens.
  if (a.driftAbove && b.driftAbove && a.driftAbove.fields.some((f) => !b.driftAbove!.fields.includes(f))) {
    out.push(`${at}.driftAbove.fields`, 'guard-removed', a.driftAbove.fields, b.driftAbove.fields);
  }
  out.loosened(
    `${at}.overrideRateAbove`,
    a.overrideRateAbove,
    b.overrideRateAbove,
    'lower-is-stricter',
    guard,
  );
  out.loosened(
    `${at}.escalationRateAbove`,
    a.escalationRateAbove,
    b.escalationRateAbove,
    'lower-is-stricter',
    guard,
  );
  if (a.action !== 'notify' && b.action === 'notify')
    out.push(`${at}.action`, 'guard-loosened', a.action, b.action);
}

function autonomyChanges(at: string, a: LimitedAutonomous, b: LimitedAutonomous, out: Collector): void {
  const boundary = { rule: 'boundary-widened' } as const;
  out.loosened(
    `${at}.boundary.rolloutPercent`,
    a.boundary.rolloutPercent,
    b.boundary.rolloutPercent,
    'lower-is-stricter',
    boundary,
  );
  out.loosened(
    `${at}.boundary.minConfidence`,
    a.boundary.minConfidence,
    b.boundary.minConfidence,
    'higher-is-stricter',
    boundary,
  );
  // Unleash serves the strategy only when every constraint holds: an added one narrows, any other edit may widen.
  const kept = new Set(b.boundary.constraints.map(constraintKey));
  if (!a.boundary.constraints.every((c) => kept.has(constraintKey(c)))) {
    out.push(
      `${at}.boundary.constraints`,
      'boundary-widened',
      a.boundary.constraints,
      b.boundary.constraints,
    );
  }
  out.loosened(`${at}.auditRate`, a.auditRate, b.auditRate, 'higher-is-stricter', {
    rule: 'audit-rate-lowered',
  });
  if (a.onModelChange === 'demote' && b.onModelChange === 'keep') {
    out.push(`${at}.onModelChange`, 'model-change-kept', a.onModelChange, b.onModelChange);
  }
}

/** A constraint as Unleash reads it: its values are a set, an omitted flag is false. */
function constraintKey(c: LimitedAutonomous['boundary']['constraints'][number]): string {
  return canonicalJson(
    {
      contextName: c.contextName,
      operator: c.operator,
      values: c.values?.length ? [...new Set(c.values)].sort() : undefined,
      value: c.value,
      inverted: c.inverted ?? false,
      caseInsensitive: c.caseInsensitive ?? false,
    },
    'code-units',
  );
}
