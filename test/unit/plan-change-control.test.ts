import { describe, expect, it } from 'vitest';
import {
  automaticGateProblems,
  type WideningRule,
  wideningChanges,
} from '../../src/plans/plan-change-control.js';
import { type Plan, type PlanInput, planSchema } from '../../src/plans/plan-schema.js';
import { planShapeSchema } from '../../src/plans/plan-shape.js';

const RISK = { contextName: 'riskTier', operator: 'IN' as const, values: ['low', 'medium'] };

/** A plan with every criterion, guard and boundary field set, so each can be moved either way. */
const BASE: PlanInput = {
  useCase: 'invoice-triage',
  owner: 'ap@example.com',
  decision: { type: 'label', labels: ['approve', 'reject', 'escalate'] },
  ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
  segments: ['region', 'tier'],
  errorCosts: { approve: { reject: 50, escalate: 10 } },
  defaultErrorCost: 5,
  stages: {
    shadow: {
      promoteWhen: {
        minSamples: 500,
        minDuration: '7d',
        agreementLowerBound: 0.9,
        segmentAgreementLowerBound: 0.85,
        maxAiErrorRate: 0.02,
        maxP95LatencyMs: 2000,
        maxAiCostPerDecision: 0.01,
        labelRecallLowerBound: { reject: 0.8, escalate: 0.7 },
        labelPrecisionLowerBound: { approve: 0.95 },
        maxErrorCostPerDecision: 2,
      },
      rollbackWhen: { agreementBelow: 0.8, action: 'disable' },
    },
    'human-reviewed': {
      promoteWhen: { minSamples: 1000, agreementLowerBound: 0.92 },
      rollbackWhen: {
        agreementBelow: 0.85,
        aiErrorRateAbove: 0.05,
        labelRecallBelow: { reject: 0.7 },
        driftAbove: { psi: 0.25, fields: ['region', 'aiLabel'] },
        overrideRateAbove: 0.3,
      },
    },
    'limited-autonomous': {
      boundary: {
        constraints: [RISK],
        minConfidence: 0.8,
        rolloutPercent: 20,
      },
      auditRate: 0.1,
      rollbackTo: 'human-reviewed',
      rollbackWhen: { agreementBelow: 0.85, escalationRateAbove: 0.4 },
    },
  },
  drift: { window: 1000, numeric: ['amount'], buckets: { amount: [0, 100, 1000, 10_000] }, minWindow: 500 },
};

/** Sets (or with DROP removes) the field at a dotted path of the plan as written. */
type Edit = readonly [path: string, value: unknown];
const DROP = Symbol('drop');
const SHADOW = 'stages.shadow.promoteWhen';
const HR = 'stages.human-reviewed';
const LA = 'stages.limited-autonomous';
const NO_AUTONOMY: Edit[] = [
  [HR, DROP],
  [LA, DROP],
];

/** The base plan with the edits applied, through the real schema (defaults filled in, rules checked). */
function planWith(edits: readonly Edit[]): Plan {
  const input = structuredClone(BASE) as Record<string, unknown>;
  for (const [path, value] of edits) {
    const keys = path.split('.');
    const last = keys.pop()!;
    let at = input;
    for (const key of keys) {
      at[key] ??= {};
      at = at[key] as Record<string, unknown>;
    }
    if (value === DROP) delete at[last];
    else at[last] = value;
  }
  return planSchema.parse(input);
}

interface Row {
  name: string;
  /** Edits of the base that make the version in force (none: the base). */
  from?: Edit[];
  /** Further edits that make the new version. */
  to: Edit[];
  /** [path, rule] of each widening change, in plan order. */
  widens: Array<[string, WideningRule]>;
  /** The reverse change widens too (an edited constraint); otherwise it must give nothing. */
  reverseWidens?: true;
}

/** A judge comparator on the base plan (label decisions may be judged too). */
const JUDGE: Edit = [
  'comparator',
  {
    type: 'judge',
    url: 'http://127.0.0.1:9100/judge',
    rubric: 'Same label, same reason.',
    calibrationRate: 0.2,
  },
];

const WIDENING: Row[] = [
  {
    name: "a judge's calibrationRate lowered (fewer of its verdicts checked by people)",
    from: [JUDGE],
    to: [['comparator.calibrationRate', 0.05]],
    widens: [['comparator.calibrationRate', 'calibration-lowered']],
  },
  {
    name: 'judgeAgreementLowerBound lowered',
    from: [JUDGE, [`${SHADOW}.judgeAgreementLowerBound`, 0.9]],
    to: [[`${SHADOW}.judgeAgreementLowerBound`, 0.85]],
    widens: [[`${SHADOW}.judgeAgreementLowerBound`, 'threshold-lowered']],
  },
  {
    name: "judgeAgreementLowerBound removed from a judge's plan (the default 0.8 is lower)",
    from: [JUDGE, [`${SHADOW}.judgeAgreementLowerBound`, 0.9]],
    to: [[`${SHADOW}.judgeAgreementLowerBound`, DROP]],
    widens: [[`${SHADOW}.judgeAgreementLowerBound`, 'threshold-lowered']],
  },
  {
    name: 'minJudgeRatings lowered (fewer ratings calibrate the judge)',
    from: [JUDGE],
    to: [[`${SHADOW}.minJudgeRatings`, 10]],
    widens: [[`${SHADOW}.minJudgeRatings`, 'threshold-lowered']],
  },
  {
    name: 'a drift guard made less sensitive (psi raised)',
    to: [[`${HR}.rollbackWhen.driftAbove.psi`, 0.5]],
    widens: [[`${HR}.rollbackWhen.driftAbove.psi`, 'guard-loosened']],
  },
  {
    name: 'a field no longer watched by the drift guard',
    to: [[`${HR}.rollbackWhen.driftAbove.fields`, ['region']]],
    widens: [[`${HR}.rollbackWhen.driftAbove.fields`, 'guard-removed']],
  },
  {
    name: 'the drift guard removed',
    to: [[`${HR}.rollbackWhen.driftAbove`, DROP]],
    widens: [[`${HR}.rollbackWhen.driftAbove.psi`, 'guard-removed']],
  },
  {
    name: 'overrideRateAbove raised',
    to: [[`${HR}.rollbackWhen.overrideRateAbove`, 0.5]],
    widens: [[`${HR}.rollbackWhen.overrideRateAbove`, 'guard-loosened']],
  },
  {
    name: 'escalationRateAbove removed',
    to: [[`${LA}.rollbackWhen.escalationRateAbove`, DROP]],
    widens: [[`${LA}.rollbackWhen.escalationRateAbove`, 'guard-removed']],
  },
  {
    name: 'the drift window lengthened',
    to: [['drift.window', 5000]],
    widens: [['drift.window', 'guard-loosened']],
  },
  {
    name: 'the drift window changed from decisions to a duration (no order: a person judges)',
    to: [['drift.window', '1d']],
    widens: [['drift.window', 'guard-loosened']],
    reverseWidens: true,
  },
  {
    name: 'drift.minWindow raised',
    to: [['drift.minWindow', 2000]],
    widens: [['drift.minWindow', 'guard-loosened']],
  },
  {
    name: 'statistics sequential → fixed',
    to: [['statistics', 'fixed']],
    widens: [['statistics', 'threshold-lowered']],
  },
  {
    name: 'aiFailures disagree → exclude',
    to: [['aiFailures', 'exclude']],
    widens: [['aiFailures', 'threshold-lowered']],
  },
  { name: 'confidence lowered', to: [['confidence', 0.9]], widens: [['confidence', 'threshold-lowered']] },
  {
    name: 'an error cost lowered',
    to: [['errorCosts.approve.reject', 20]],
    widens: [['errorCosts.approve.reject', 'threshold-lowered']],
  },
  {
    name: 'an error cost removed (its pair now costs the lower default)',
    to: [['errorCosts.approve.reject', DROP]],
    widens: [['errorCosts.approve.reject', 'threshold-lowered']],
  },
  {
    name: 'an error cost added below the default',
    to: [['errorCosts.reject', { approve: 1 }]],
    widens: [['errorCosts.reject.approve', 'threshold-lowered']],
  },
  {
    name: 'defaultErrorCost lowered',
    to: [['defaultErrorCost', 1]],
    widens: [['defaultErrorCost', 'threshold-lowered']],
  },
  {
    name: 'a segment removed while a gate judges segments',
    to: [['segments', ['region']]],
    widens: [['segments', 'criterion-removed']],
  },
  {
    name: 'minSamples lowered',
    to: [[`${SHADOW}.minSamples`, 100]],
    widens: [[`${SHADOW}.minSamples`, 'threshold-lowered']],
  },
  {
    name: 'minDuration shortened',
    to: [[`${SHADOW}.minDuration`, '1d']],
    widens: [[`${SHADOW}.minDuration`, 'threshold-lowered']],
  },
  {
    name: 'minDuration removed',
    to: [[`${SHADOW}.minDuration`, DROP]],
    widens: [[`${SHADOW}.minDuration`, 'criterion-removed']],
  },
  {
    name: 'agreementLowerBound lowered',
    to: [[`${SHADOW}.agreementLowerBound`, 0.8]],
    widens: [[`${SHADOW}.agreementLowerBound`, 'threshold-lowered']],
  },
  {
    name: 'agreementLowerBound removed',
    to: [[`${SHADOW}.agreementLowerBound`, DROP]],
    widens: [[`${SHADOW}.agreementLowerBound`, 'criterion-removed']],
  },
  {
    name: 'segmentAgreementLowerBound lowered',
    to: [[`${SHADOW}.segmentAgreementLowerBound`, 0.5]],
    widens: [[`${SHADOW}.segmentAgreementLowerBound`, 'threshold-lowered']],
  },
  {
    name: 'segmentAgreementLowerBound removed',
    to: [[`${SHADOW}.segmentAgreementLowerBound`, DROP]],
    widens: [[`${SHADOW}.segmentAgreementLowerBound`, 'criterion-removed']],
  },
  {
    name: 'minSegmentSamples lowered (a small segment is no longer inconclusive)',
    to: [[`${SHADOW}.minSegmentSamples`, 10]],
    widens: [[`${SHADOW}.minSegmentSamples`, 'threshold-lowered']],
  },
  {
    name: 'maxAiErrorRate raised',
    to: [[`${SHADOW}.maxAiErrorRate`, 0.1]],
    widens: [[`${SHADOW}.maxAiErrorRate`, 'threshold-lowered']],
  },
  {
    name: 'maxAiErrorRate removed',
    to: [[`${SHADOW}.maxAiErrorRate`, DROP]],
    widens: [[`${SHADOW}.maxAiErrorRate`, 'criterion-removed']],
  },
  {
    name: 'maxP95LatencyMs raised',
    to: [[`${SHADOW}.maxP95LatencyMs`, 5000]],
    widens: [[`${SHADOW}.maxP95LatencyMs`, 'threshold-lowered']],
  },
  {
    name: 'maxP95LatencyMs removed',
    to: [[`${SHADOW}.maxP95LatencyMs`, DROP]],
    widens: [[`${SHADOW}.maxP95LatencyMs`, 'criterion-removed']],
  },
  {
    name: 'maxAiCostPerDecision raised',
    to: [[`${SHADOW}.maxAiCostPerDecision`, 0.5]],
    widens: [[`${SHADOW}.maxAiCostPerDecision`, 'threshold-lowered']],
  },
  {
    name: 'maxAiCostPerDecision removed',
    to: [[`${SHADOW}.maxAiCostPerDecision`, DROP]],
    widens: [[`${SHADOW}.maxAiCostPerDecision`, 'criterion-removed']],
  },
  {
    name: "a label's recall bound lowered",
    to: [[`${SHADOW}.labelRecallLowerBound.reject`, 0.5]],
    widens: [[`${SHADOW}.labelRecallLowerBound.reject`, 'threshold-lowered']],
  },
  {
    name: "a label's recall bound removed",
    to: [[`${SHADOW}.labelRecallLowerBound.escalate`, DROP]],
    widens: [[`${SHADOW}.labelRecallLowerBound.escalate`, 'criterion-removed']],
  },
  {
    name: 'labelRecallLowerBound removed whole: each label is named',
    to: [[`${SHADOW}.labelRecallLowerBound`, DROP]],
    widens: [
      [`${SHADOW}.labelRecallLowerBound.reject`, 'criterion-removed'],
      [`${SHADOW}.labelRecallLowerBound.escalate`, 'criterion-removed'],
    ],
  },
  {
    name: "a label's precision bound lowered",
    to: [[`${SHADOW}.labelPrecisionLowerBound.approve`, 0.5]],
    widens: [[`${SHADOW}.labelPrecisionLowerBound.approve`, 'threshold-lowered']],
  },
  {
    name: "a label's precision bound removed",
    to: [[`${SHADOW}.labelPrecisionLowerBound`, {}]],
    widens: [[`${SHADOW}.labelPrecisionLowerBound.approve`, 'criterion-removed']],
  },
  {
    name: 'minLabelSamples lowered',
    to: [[`${SHADOW}.minLabelSamples`, 5]],
    widens: [[`${SHADOW}.minLabelSamples`, 'threshold-lowered']],
  },
  {
    name: 'maxErrorCostPerDecision raised',
    to: [[`${SHADOW}.maxErrorCostPerDecision`, 20]],
    widens: [[`${SHADOW}.maxErrorCostPerDecision`, 'threshold-lowered']],
  },
  {
    name: 'maxErrorCostPerDecision removed',
    to: [[`${SHADOW}.maxErrorCostPerDecision`, DROP]],
    widens: [[`${SHADOW}.maxErrorCostPerDecision`, 'criterion-removed']],
  },
  {
    name: 'a whole promoteWhen removed',
    to: [[`${HR}.promoteWhen`, DROP]],
    widens: [[`${HR}.promoteWhen`, 'criterion-removed']],
  },
  {
    name: 'rollbackWhen.window raised',
    to: [[`${HR}.rollbackWhen.window`, 1000]],
    widens: [[`${HR}.rollbackWhen.window`, 'guard-loosened']],
  },
  {
    name: 'agreementBelow lowered',
    to: [[`${HR}.rollbackWhen.agreementBelow`, 0.5]],
    widens: [[`${HR}.rollbackWhen.agreementBelow`, 'guard-loosened']],
  },
  {
    name: 'agreementBelow removed',
    to: [[`${HR}.rollbackWhen.agreementBelow`, DROP]],
    widens: [[`${HR}.rollbackWhen.agreementBelow`, 'guard-removed']],
  },
  {
    name: 'aiErrorRateAbove raised',
    to: [[`${HR}.rollbackWhen.aiErrorRateAbove`, 0.5]],
    widens: [[`${HR}.rollbackWhen.aiErrorRateAbove`, 'guard-loosened']],
  },
  {
    name: 'aiErrorRateAbove removed',
    to: [[`${HR}.rollbackWhen.aiErrorRateAbove`, DROP]],
    widens: [[`${HR}.rollbackWhen.aiErrorRateAbove`, 'guard-removed']],
  },
  {
    name: "a label's recall guard lowered",
    to: [[`${HR}.rollbackWhen.labelRecallBelow.reject`, 0.2]],
    widens: [[`${HR}.rollbackWhen.labelRecallBelow.reject`, 'guard-loosened']],
  },
  {
    name: "a label's recall guard removed",
    to: [[`${HR}.rollbackWhen.labelRecallBelow`, DROP]],
    widens: [[`${HR}.rollbackWhen.labelRecallBelow.reject`, 'guard-removed']],
  },
  {
    name: 'labelWindow raised',
    to: [[`${HR}.rollbackWhen.labelWindow`, 500]],
    widens: [[`${HR}.rollbackWhen.labelWindow`, 'guard-loosened']],
  },
  {
    name: 'action rollback → notify',
    to: [[`${HR}.rollbackWhen.action`, 'notify']],
    widens: [[`${HR}.rollbackWhen.action`, 'guard-loosened']],
  },
  {
    name: 'action disable → notify',
    to: [['stages.shadow.rollbackWhen.action', 'notify']],
    widens: [['stages.shadow.rollbackWhen.action', 'guard-loosened']],
  },
  {
    name: 'a whole rollbackWhen removed',
    to: [[`${HR}.rollbackWhen`, DROP]],
    widens: [[`${HR}.rollbackWhen`, 'guard-removed']],
  },
  {
    name: 'rollbackTo moved later (shadow → human-reviewed)',
    from: [[`${LA}.rollbackTo`, 'shadow']],
    to: [[`${LA}.rollbackTo`, 'human-reviewed']],
    widens: [[`${LA}.rollbackTo`, 'guard-loosened']],
  },
  {
    name: 'rollbackTo shadow dropped (the previous stage, human-reviewed, is later)',
    from: [[`${LA}.rollbackTo`, 'shadow']],
    to: [[`${LA}.rollbackTo`, DROP]],
    widens: [[`${LA}.rollbackTo`, 'guard-loosened']],
  },
  {
    name: "shadow's approval made automatic",
    to: [['stages.shadow.approval', 'automatic']],
    widens: [['stages.shadow.approval', 'automatic-approval']],
  },
  {
    name: "human-reviewed's approval made automatic",
    to: [[`${HR}.approval`, 'automatic']],
    widens: [[`${HR}.approval`, 'automatic-approval']],
  },
  {
    name: 'a stage added with approval automatic',
    from: NO_AUTONOMY,
    to: [[HR, { approval: 'automatic' }]],
    widens: [[`${HR}.approval`, 'automatic-approval']],
  },
  {
    name: "the challenger swap's approval made automatic",
    to: [['challenger.approval', 'automatic']],
    widens: [['challenger.approval', 'automatic-approval']],
  },
  {
    name: 'challenger.margin raised',
    to: [['challenger.margin', 0.1]],
    widens: [['challenger.margin', 'challenger-margin-loosened']],
  },
  {
    name: 'changeControl.approvals lowered',
    from: [['changeControl', { approvals: 2 }]],
    to: [['changeControl.approvals', 1]],
    widens: [['changeControl.approvals', 'change-control-lowered']],
  },
  {
    name: 'rolloutPercent raised',
    to: [[`${LA}.boundary.rolloutPercent`, 50]],
    widens: [[`${LA}.boundary.rolloutPercent`, 'boundary-widened']],
  },
  {
    name: 'minConfidence lowered',
    to: [[`${LA}.boundary.minConfidence`, 0.5]],
    widens: [[`${LA}.boundary.minConfidence`, 'boundary-widened']],
  },
  {
    name: 'a boundary constraint removed',
    to: [[`${LA}.boundary.constraints`, []]],
    widens: [[`${LA}.boundary.constraints`, 'boundary-widened']],
  },
  {
    name: 'a boundary constraint edited (either way: only a pure addition narrows)',
    to: [
      [`${LA}.boundary.constraints`, [{ contextName: 'riskTier', operator: 'IN', values: ['low', 'high'] }]],
    ],
    widens: [[`${LA}.boundary.constraints`, 'boundary-widened']],
    reverseWidens: true,
  },
  {
    name: 'auditRate lowered',
    to: [[`${LA}.auditRate`, 0.01]],
    widens: [[`${LA}.auditRate`, 'audit-rate-lowered']],
  },
  {
    name: 'onModelChange demote → keep',
    to: [[`${LA}.onModelChange`, 'keep']],
    widens: [[`${LA}.onModelChange`, 'model-change-kept']],
  },
  {
    // In that stage the flag would serve everyone autonomously, with no audits and no guard.
    name: 'the limited-autonomous stage dropped',
    to: [[LA, DROP]],
    widens: [
      [`${LA}.rollbackWhen`, 'guard-removed'],
      [`${LA}.boundary.rolloutPercent`, 'boundary-widened'],
      [`${LA}.boundary.minConfidence`, 'boundary-widened'],
      [`${LA}.boundary.constraints`, 'boundary-widened'],
      [`${LA}.auditRate`, 'audit-rate-lowered'],
    ],
  },
  {
    name: 'several at once, in plan order',
    to: [
      ['challenger.approval', 'automatic'],
      [`${LA}.auditRate`, 0],
      [`${SHADOW}.minSamples`, 0],
      ['confidence', 0.5],
    ],
    widens: [
      ['confidence', 'threshold-lowered'],
      [`${SHADOW}.minSamples`, 'threshold-lowered'],
      [`${LA}.auditRate`, 'audit-rate-lowered'],
      ['challenger.approval', 'automatic-approval'],
    ],
  },
];

const NOT_WIDENING: Array<{ name: string; from?: Edit[]; to: Edit[] }> = [
  { name: 'the same plan', to: [] },
  {
    name: 'judgeAgreementLowerBound removed where it was under the default (0.7 → 0.8)',
    from: [JUDGE, [`${SHADOW}.judgeAgreementLowerBound`, 0.7]],
    to: [[`${SHADOW}.judgeAgreementLowerBound`, DROP]],
  },
  {
    name: 'the judge replaced by a comparator with nothing to calibrate',
    from: [JUDGE, [`${SHADOW}.judgeAgreementLowerBound`, 0.95]],
    to: [
      ['comparator', { type: 'exact' }],
      [`${SHADOW}.judgeAgreementLowerBound`, DROP],
    ],
  },
  {
    name: "a judge's minJudgeRatings raised",
    from: [JUDGE],
    to: [[`${HR}.promoteWhen.minJudgeRatings`, 500]],
  },
  { name: 'owner', to: [['owner', 'someone-else@example.com']] },
  { name: 'description', to: [['description', 'new words']] },
  { name: 'notify', to: [['notify.webhook', 'https://hooks.example.com/x']] },
  {
    name: 'redact and storeInput',
    to: [
      ['redact.fields', ['input.iban']],
      ['redact.patterns', ['email']],
      ['storeInput', 'redacted'],
    ],
  },
  { name: 'retentionDays', to: [['retentionDays', 30]] },
  {
    name: 'numeric drift fields and their buckets',
    to: [
      ['drift.numeric', ['amount', 'lines']],
      ['drift.buckets', { amount: [0, 50, 500] }],
    ],
  },
  {
    name: 'drift guards tightened, a field added',
    to: [
      [`${HR}.rollbackWhen.driftAbove`, { psi: 0.1, fields: ['region', 'aiLabel', 'amount'] }],
      [`${HR}.rollbackWhen.overrideRateAbove`, 0.2],
      [`${LA}.rollbackWhen.escalationRateAbove`, 0.3],
      ['drift.window', 500],
      ['drift.minWindow', 200],
    ],
  },
  {
    name: 'a drift window changed while no guard watches drift',
    from: [[`${HR}.rollbackWhen.driftAbove`, DROP]],
    to: [
      ['drift.window', '7d'],
      ['drift.minWindow', 5000],
    ],
  },
  { name: 'humanCostPerDecision', to: [['humanCostPerDecision', 2]] },
  { name: 'a segment added', to: [['segments', ['region', 'tier', 'country']]] },
  {
    name: 'a segment removed while no gate judges segments',
    from: [[`${SHADOW}.segmentAgreementLowerBound`, DROP]],
    to: [['segments', ['region']]],
  },
  { name: 'shadow sampleRate', to: [['stages.shadow.sampleRate', 0.1]] },
  {
    name: "a judge's timeout, prices and concurrency",
    from: [JUDGE],
    to: [
      ['comparator.timeoutMs', 60_000],
      ['comparator.pricing', { perCall: 0.02, inputPerMTok: 3 }],
      ['comparator.concurrency', 16],
    ],
  },
  {
    name: 'a new judge (adapter, url, model, temperature, rubric: a new AI configuration)',
    from: [JUDGE],
    to: [
      [
        'comparator',
        {
          type: 'judge',
          adapter: 'openai-chat',
          url: 'https://judge.example.com/v1/chat/completions',
          model: 'judge-2',
          temperature: 0,
          rubric: 'Stricter.',
          calibrationRate: 0.2,
        },
      ],
    ],
  },
  { name: 'a judge in place of a local comparator', to: [JUDGE] },
  { name: 'challenger.sampleRate', to: [['challenger.sampleRate', 0.1]] },
  {
    name: 'a new AI configuration (adapter, model, prompt, timeout, pricing, labels, comparator)',
    to: [
      [
        'ai',
        {
          adapter: 'openai-chat',
          url: 'https://api.example.com/v1/chat/completions',
          model: 'model-2',
          prompt: 'Classify {{input}}',
          timeoutMs: 9000,
          pricing: { perCall: 0.5 },
          concurrency: 64,
          maxAttempts: 1,
        },
      ],
      ['decision.labels', ['approve', 'reject', 'escalate', 'hold']],
      ['comparator', { type: 'normalized-text' }],
    ],
  },
  {
    name: 'thresholds tightened',
    to: [
      [`${SHADOW}.minSamples`, 5000],
      [`${SHADOW}.minDuration`, '2w'],
      [`${SHADOW}.agreementLowerBound`, 0.95],
      [`${SHADOW}.maxAiErrorRate`, 0.01],
      [`${SHADOW}.labelRecallLowerBound.reject`, 0.9],
      [`${SHADOW}.minLabelSamples`, 200],
      ['statistics', 'sequential'],
      ['confidence', 0.99],
      ['defaultErrorCost', 10],
      ['errorCosts.approve.reject', 100],
      [`${HR}.rollbackWhen.window`, 50],
      [`${HR}.rollbackWhen.agreementBelow`, 0.9],
      [`${HR}.rollbackWhen.action`, 'disable'],
      [`${LA}.rollbackTo`, 'shadow'],
      [`${LA}.auditRate`, 0.5],
      [`${LA}.boundary.rolloutPercent`, 5],
      [`${LA}.boundary.minConfidence`, 0.9],
      ['challenger.margin', 0],
      ['changeControl.approvals', 3],
    ],
  },
  {
    name: 'criteria, guards and a constraint added',
    to: [
      [`${HR}.promoteWhen.maxAiErrorRate`, 0.05],
      [`${HR}.promoteWhen.labelPrecisionLowerBound`, { reject: 0.9 }],
      [`${LA}.rollbackWhen.labelRecallBelow`, { reject: 0.6 }],
      [`${LA}.boundary.constraints`, [RISK, { contextName: 'amount', operator: 'NUM_LT', value: '1000' }]],
    ],
  },
  {
    name: 'defaults written out, a duration in another unit, a constraint rewritten as the same set',
    to: [
      [`${SHADOW}.minSegmentSamples`, 50],
      [`${SHADOW}.minDuration`, 604_800],
      ['stages.shadow.approval', 'manual'],
      [`${HR}.rollbackWhen.window`, 200],
      [`${HR}.rollbackWhen.action`, 'rollback'],
      [`${LA}.rollbackTo`, DROP],
      [`${LA}.onModelChange`, 'demote'],
      [
        `${LA}.boundary.constraints`,
        [{ contextName: 'riskTier', operator: 'IN', values: ['medium', 'low'], inverted: false }],
      ],
      ['changeControl', { approvals: 0 }],
    ],
  },
  {
    name: 'a repeated constraint written once',
    from: [[`${LA}.boundary.constraints`, [RISK, RISK]]],
    to: [[`${LA}.boundary.constraints`, [RISK]]],
  },
  {
    name: "limited-autonomous's approval (it has no stage to promote to)",
    to: [[`${LA}.approval`, 'automatic']],
  },
  {
    name: 'a stage added with manual approval and a gate',
    from: NO_AUTONOMY,
    to: [[HR, { promoteWhen: {} }]],
  },
];

const pairs = (changes: ReturnType<typeof wideningChanges>) => changes.map((c) => [c.path, c.rule]);

describe('wideningChanges: one row per field and direction', () => {
  it.each(WIDENING)('when $name, then it widens; the reverse does not', (row) => {
    const before = planWith(row.from ?? []);
    const after = planWith([...(row.from ?? []), ...row.to]);
    expect(pairs(wideningChanges(before, after))).toEqual(row.widens);
    const reverse = pairs(wideningChanges(after, before));
    if (row.reverseWidens) expect(reverse).toEqual(row.widens);
    else expect(reverse).toEqual([]);
  });

  it.each(NOT_WIDENING)('when only $name changes, then nothing widens', (row) => {
    const before = planWith(row.from ?? []);
    expect(wideningChanges(before, planWith([...(row.from ?? []), ...row.to]))).toEqual([]);
  });

  it('when a threshold moves, then the change carries the values before and after, null for a removed one', () => {
    expect(wideningChanges(planWith([]), planWith([[`${SHADOW}.minSamples`, 100]]))).toEqual([
      { path: `${SHADOW}.minSamples`, rule: 'threshold-lowered', before: 500, after: 100 },
    ]);
    expect(wideningChanges(planWith([]), planWith([[`${SHADOW}.minDuration`, DROP]]))).toEqual([
      { path: `${SHADOW}.minDuration`, rule: 'criterion-removed', before: '7d', after: null },
    ]);
  });

  it('when an error cost entry is removed, then before and after are the prices of the pair (the default after)', () => {
    expect(wideningChanges(planWith([]), planWith([['errorCosts.approve.reject', DROP]]))).toEqual([
      { path: 'errorCosts.approve.reject', rule: 'threshold-lowered', before: 50, after: 5 },
    ]);
  });
});

describe('wideningChanges: the first plan of a use case', () => {
  it('when no gate is automatic, then nothing widens, however low its thresholds', () => {
    expect(wideningChanges(null, planWith([[`${SHADOW}.minSamples`, 0]]))).toEqual([]);
    expect(wideningChanges(null, planWith([[`${LA}.approval`, 'automatic']]))).toEqual([]);
  });

  it('when a stage or the challenger swap is automatic, then each is named, before null', () => {
    const plan = planWith([
      ['stages.shadow.approval', 'automatic'],
      [`${HR}.approval`, 'automatic'],
      ['challenger.approval', 'automatic'],
    ]);
    expect(wideningChanges(null, plan)).toEqual([
      { path: 'stages.shadow.approval', rule: 'automatic-approval', before: null, after: 'automatic' },
      { path: `${HR}.approval`, rule: 'automatic-approval', before: null, after: 'automatic' },
      { path: 'challenger.approval', rule: 'automatic-approval', before: null, after: 'automatic' },
    ]);
  });
});

describe('automaticGateProblems', () => {
  const problems = (edits: Edit[], floor = 100) => automaticGateProblems(planWith(edits), floor);

  it('when every gate is manual, then there is nothing to say, whatever its evidence', () => {
    expect(problems([[SHADOW, {}]])).toEqual([]);
  });

  it('when an automatic gate has minSamples at the floor and an agreement bound, then it passes', () => {
    expect(problems([['stages.shadow.approval', 'automatic']], 500)).toEqual([]);
  });

  it('when the hostile owner makes an empty gate automatic, then minSamples and the agreement criterion are named', () => {
    const found = problems([
      ['stages.shadow.approval', 'automatic'],
      [SHADOW, {}],
    ]);
    expect(found.map((p) => p.path)).toEqual([`${SHADOW}.minSamples`, `${SHADOW}.agreementLowerBound`]);
    expect(found[0]!.problem).toContain('at least 100');
    expect(found[0]!.problem).toContain('got 0');
  });

  it('when minSamples is one under the floor, then it is named', () => {
    expect(problems([['stages.shadow.approval', 'automatic']], 501)).toEqual([
      { path: `${SHADOW}.minSamples`, problem: expect.stringContaining('got 500') },
    ]);
  });

  it('when the agreement bound is absent or 0 (always holds), then it is named', () => {
    for (const bound of [DROP, 0]) {
      expect(
        problems([
          [`${HR}.approval`, 'automatic'],
          [`${HR}.promoteWhen.agreementLowerBound`, bound],
        ]).map((p) => p.path),
      ).toEqual([`${HR}.promoteWhen.agreementLowerBound`]);
    }
  });

  it('when an automatic stage has no promoteWhen, then the gate itself is named', () => {
    expect(
      problems([
        [`${HR}.approval`, 'automatic'],
        [`${HR}.promoteWhen`, DROP],
      ]).map((p) => p.path),
    ).toEqual([`${HR}.promoteWhen`]);
  });

  it('when limited-autonomous or the challenger swap is automatic, then no stage gate is named', () => {
    expect(
      problems([
        [`${LA}.approval`, 'automatic'],
        ['challenger.approval', 'automatic'],
        [SHADOW, {}],
      ]),
    ).toEqual([]);
  });
});

/** Each field of the plan's shape as a dotted path, the stage written `*` (stages share their fields). */
function shapeFields(schema: unknown, at: string): string[] {
  let def = (schema as { _zod: { def: { type: string; innerType?: unknown; shape?: object } } })._zod.def;
  while (def.innerType) def = (def.innerType as typeof schema as { _zod: { def: typeof def } })._zod.def;
  if (def.type !== 'object' || def.shape === undefined) return [at];
  return Object.entries(def.shape).flatMap(([key, field]) =>
    shapeFields(field, at === 'stages' ? 'stages.*' : at === '' ? key : `${at}.${key}`),
  );
}

describe('every field of the plan has a row', () => {
  it('when a field is added to the plan, then this test asks for its rows (widening or not)', () => {
    const edited = [...WIDENING, ...NOT_WIDENING]
      .flatMap((row) => [...(row.from ?? []), ...row.to])
      .map(([path]) => path.replace(/^stages\.[a-z-]+/, 'stages.*'));
    const missing = shapeFields(planShapeSchema, '').filter(
      (field) =>
        !['useCase'].includes(field) && !edited.some((e) => e === field || e.startsWith(`${field}.`)),
    );
    expect(missing).toEqual([]);
  });
});
