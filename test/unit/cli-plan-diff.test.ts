import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppliedPlan,
  applyLines,
  comparePlans,
  describeApply,
} from '../../src/cli/commands/plan-commands.js';
import { type CheckedPlan, checkPlanFiles } from '../../src/cli/plan-files.js';

/**
 * Thirteen lines; `model` changes the AI configuration, `minSamples` (or more of `promoteWhen`)
 * only the gate; `top` adds top-level lines (error costs).
 */
function planText(
  options: {
    model?: string;
    minSamples?: number;
    description?: boolean;
    promoteWhen?: string;
    top?: string[];
  } = {},
): string {
  return [
    'useCase: diff-chat',
    'owner: ops@example.com',
    ...(options.description === false ? [] : ['description: invoices, routed']),
    'decision: { type: label, labels: [approve, reject, escalate] }',
    ...(options.top ?? []),
    'ai:',
    '  adapter: openai-chat',
    '  url: http://127.0.0.1:9/v1/chat/completions',
    `  model: ${options.model ?? 'model-1'}`,
    '  prompt: "Route this invoice: {{input}}"',
    'stages:',
    '  shadow:',
    `    promoteWhen: { minSamples: ${options.minSamples ?? 100}${options.promoteWhen ?? ''} }`,
    '  human-reviewed: {}',
    '',
  ].join('\n');
}

let dir: string;

async function checked(name: string, text: string): Promise<CheckedPlan> {
  const file = join(dir, name);
  await writeFile(file, text);
  const check = await checkPlanFiles([file]);
  expect(check.problems).toEqual([]);
  return check.plans[0] as CheckedPlan;
}

/** The plan as the controller would answer `GET /v1/use-cases/diff-chat/plan` for it. */
function applied(plan: CheckedPlan, version = 3): AppliedPlan {
  return {
    useCase: plan.plan.useCase,
    version,
    text: plan.text,
    textHash: plan.hash,
    format: plan.format,
    aiConfig: plan.aiConfig,
    appliedBy: 'ops-key',
    appliedAt: '2026-01-01T00:00:00.000Z',
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plan-diff-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('plan diff', () => {
  it('when the file is the applied text, then nothing changes and no diff is shown', async () => {
    const local = await checked('same.yaml', planText());
    const result = comparePlans(local, applied(local));
    expect(result.changed).toBe(false);
    expect(result.diff).toBe('');
    expect(result.summary).toBe(`diff-chat: no change (${local.file} is plan version 3 as applied).`);
  });

  it('when a gate threshold changes, then the diff shows the line with three lines of context and the evidence is kept', async () => {
    const before = await checked('before.yaml', planText());
    const local = await checked('after.yaml', planText({ minSamples: 200 }));
    const result = comparePlans(local, applied(before));
    expect(result.changed).toBe(true);
    expect(result.diff).toBe(
      [
        '--- diff-chat plan version 3 (applied by ops-key)',
        `+++ ${local.file}`,
        '@@ -9,5 +9,5 @@',
        '   prompt: "Route this invoice: {{input}}"',
        ' stages:',
        '   shadow:',
        '-    promoteWhen: { minSamples: 100 }',
        '+    promoteWhen: { minSamples: 200 }',
        '   human-reviewed: {}',
      ].join('\n'),
    );
    expect(result.aiConfig.evidenceRestarts).toBe(false);
    expect(result.criteria).toEqual(['stages.shadow.promoteWhen.minSamples']);
    expect(result.summary).toBe(
      `${result.diff}\n\nApplying ${local.file} makes plan version 4 of diff-chat.\n` +
        `The AI configuration is unchanged (${local.aiConfig}): the evidence is kept and judged again under the new plan.\n` +
        'The criteria that change judge that evidence again: stages.shadow.promoteWhen.minSamples.',
    );
  });

  it('when error costs and per-label criteria change, then each changed price and label bar is named as a criterion that judges the kept evidence again', async () => {
    const before = await checked(
      'costs-before.yaml',
      planText({
        top: ['errorCosts: { approve: { reject: 450, escalate: 40 } }'],
        promoteWhen: ', labelRecallLowerBound: { reject: 0.7 }',
      }),
    );
    const local = await checked(
      'costs-after.yaml',
      planText({
        top: ['errorCosts: { approve: { reject: 500, escalate: 40 }, reject: { approve: 25 } }'],
        promoteWhen:
          ', labelRecallLowerBound: { reject: 0.8, escalate: 0.6 }, maxErrorCostPerDecision: 5, minLabelSamples: 50',
      }),
    );
    const result = comparePlans(local, applied(before));
    expect(result.aiConfig.evidenceRestarts).toBe(false);
    // minLabelSamples: 50 is its default: written out, it changes nothing.
    expect(result.criteria).toEqual([
      'errorCosts.approve.reject',
      'errorCosts.reject',
      'stages.shadow.promoteWhen.labelRecallLowerBound.reject',
      'stages.shadow.promoteWhen.labelRecallLowerBound.escalate',
      'stages.shadow.promoteWhen.maxErrorCostPerDecision',
    ]);
    expect(result.summary.split('\n').at(-1)).toBe(
      `The criteria that change judge that evidence again: ${result.criteria!.join(', ')}.`,
    );
    // A new model restarts the evidence: the changed criteria judge the new evidence.
    const restarted = comparePlans(
      await checked('costs-model.yaml', planText({ model: 'model-2', top: ['defaultErrorCost: 10'] })),
      applied(before),
    );
    expect(restarted.aiConfig.evidenceRestarts).toBe(true);
    expect(restarted.summary.split('\n').at(-1)).toBe(
      'The criteria that change: errorCosts, defaultErrorCost, stages.shadow.promoteWhen.labelRecallLowerBound.',
    );
  });

  it('when changes are more than six unchanged lines apart, then each is a hunk of its own', async () => {
    const before = await checked('before2.yaml', planText());
    const local = await checked('after2.yaml', planText({ description: false, minSamples: 200 }));
    const result = comparePlans(local, applied(before));
    expect(result.diff.split('\n')).toEqual([
      '--- diff-chat plan version 3 (applied by ops-key)',
      `+++ ${local.file}`,
      '@@ -1,6 +1,5 @@',
      ' useCase: diff-chat',
      ' owner: ops@example.com',
      '-description: invoices, routed',
      ' decision: { type: label, labels: [approve, reject, escalate] }',
      ' ai:',
      '   adapter: openai-chat',
      '@@ -9,5 +8,5 @@',
      '   prompt: "Route this invoice: {{input}}"',
      ' stages:',
      '   shadow:',
      '-    promoteWhen: { minSamples: 100 }',
      '+    promoteWhen: { minSamples: 200 }',
      '   human-reviewed: {}',
    ]);
  });

  it('when the model changes, then the diff shows it and the evidence restarts', async () => {
    const before = await checked('before3.yaml', planText());
    const local = await checked('after3.yaml', planText({ model: 'model-2' }));
    const result = comparePlans(local, applied(before));
    expect(result.diff).toContain('@@ -5,7 +5,7 @@\n');
    expect(result.diff).toContain('\n-  model: model-1\n+  model: model-2\n');
    expect(result.aiConfig).toEqual({
      applied: before.aiConfig,
      local: local.aiConfig,
      evidenceRestarts: true,
    });
    expect(result.summary).toContain(
      `The AI configuration changes (${before.aiConfig} → ${local.aiConfig}): the evidence restarts`,
    );
  });

  it('when the use case does not exist yet, then every line is an addition against /dev/null', async () => {
    const local = await checked('new.yaml', planText());
    const result = comparePlans(local, null);
    const lines = result.diff.split('\n');
    expect(lines.slice(0, 3)).toEqual(['--- /dev/null', `+++ ${local.file}`, '@@ -0,0 +1,13 @@']);
    expect(lines.slice(3)).toEqual(
      planText()
        .trimEnd()
        .split('\n')
        .map((line) => `+${line}`),
    );
    expect(result.summary).toBe(
      `diff-chat does not exist yet: applying ${local.file} creates it in shadow.\n${result.diff}`,
    );
  });

  it('when the texts differ only in line endings, then the diff says so instead of showing every line', async () => {
    const before = await checked('lf.yaml', planText());
    const local = await checked('crlf.yaml', planText().replaceAll('\n', '\r\n'));
    const result = comparePlans(local, { ...applied(before), textHash: 'another text' });
    expect(result.diff).toBe(
      [
        '--- diff-chat plan version 3 (applied by ops-key)',
        `+++ ${local.file}`,
        '(the texts differ only in line endings)',
      ].join('\n'),
    );
  });

  it('when the use case holds authority, then a new model is judged as a challenger instead of restarting the evidence', async () => {
    const champion = await checked('champion.yaml', planText());
    const local = await checked('challenger.yaml', planText({ model: 'model-2' }));
    const result = comparePlans(local, applied(champion), {
      stage: 'limited-autonomous',
      champion: { planVersion: 3, aiConfig: champion.aiConfig },
      challenger: null,
    });
    expect(result.challenger).toBe('starts');
    expect(result.aiConfig.evidenceRestarts).toBe(false);
    expect(result.summary).toContain(
      `The AI configuration changes (${champion.aiConfig} → ${local.aiConfig}): in limited-autonomous it is judged as the challenger beside the champion, which keeps answering; the stage and the gate's evidence stay (shadowgate challenger diff-chat).`,
    );
    // In shadow nothing has authority: the evidence restarts, as before.
    const inShadow = comparePlans(local, applied(champion), {
      stage: 'shadow',
      champion: { planVersion: 3, aiConfig: champion.aiConfig },
      challenger: null,
    });
    expect([inShadow.challenger, inShadow.aiConfig.evidenceRestarts]).toEqual([null, true]);
  });

  it("when a challenger is active, then another model replaces it, the champion's discards it, and its own keeps it", async () => {
    const champion = await checked('champion2.yaml', planText());
    const current = await checked('current.yaml', planText({ model: 'model-2' }));
    const context = {
      stage: 'human-reviewed',
      champion: { planVersion: 1, aiConfig: champion.aiConfig },
      challenger: { planVersion: 3, aiConfig: current.aiConfig },
    };
    const other = await checked('other.yaml', planText({ model: 'model-3' }));
    const replaced = comparePlans(other, applied(current), context);
    expect(replaced.challenger).toBe('replaces');
    expect(replaced.summary).toContain('it replaces the challenger of plan version 3 (whose evidence ends)');
    const discarded = comparePlans(champion, applied(current), context);
    expect([discarded.challenger, discarded.aiConfig.evidenceRestarts]).toEqual(['discards', false]);
    expect(discarded.summary).toContain(
      `The AI configuration returns to the champion's (${champion.aiConfig}): the challenger of plan version 3 is discarded.`,
    );
    const kept = comparePlans(
      await checked('stricter.yaml', planText({ model: 'model-2', minSamples: 200 })),
      applied(current),
      context,
    );
    expect([kept.challenger, kept.aiConfig.evidenceRestarts]).toEqual([null, false]);
    expect(kept.summary).toContain('the evidence is kept');
  });
});

describe('plan apply', () => {
  const base = {
    useCase: 'uc',
    planVersion: 2,
    created: false,
    unchanged: false,
    stage: 'human-reviewed',
    aiConfig: 'c',
  };
  it('when a plan version starts or discards a challenger, then the line says so', () => {
    expect(describeApply(base)).toBe('uc updated to plan version 2 (stage human-reviewed)');
    expect(
      describeApply({
        ...base,
        challenger: { action: 'challenger.started', details: { changes: ['ai.model'] } },
      }),
    ).toBe(
      'uc updated to plan version 2 (stage human-reviewed); its AI configuration (ai.model) is judged as a challenger while the champion keeps answering (shadowgate challenger uc)',
    );
    expect(describeApply({ ...base, challenger: { action: 'challenger.discarded', details: {} } })).toBe(
      "uc updated to plan version 2 (stage human-reviewed); the champion's AI configuration again: the challenger is discarded",
    );
  });

  it('when the controller answers warnings, then each follows the line as a warning of the use case', () => {
    const message =
      'agreementLowerBound 0.85 is at or below the 90% an AI that always answers "approve" agrees';
    expect(
      applyLines('p.yaml', {
        ...base,
        majorityBaseline: { label: 'approve', agreement: 0.9 },
        warnings: [{ code: 'majority-baseline', message }],
      }),
    ).toEqual(['p.yaml: uc updated to plan version 2 (stage human-reviewed)', `warning: uc: ${message}`]);
    // A controller before warnings answers none.
    expect(applyLines('p.yaml', base)).toEqual([
      'p.yaml: uc updated to plan version 2 (stage human-reviewed)',
    ]);
  });
});
