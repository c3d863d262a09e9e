import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppliedPlan, comparePlans } from '../../src/cli/commands/plan-commands.js';
import { type CheckedPlan, checkPlanFiles } from '../../src/cli/plan-files.js';

/** Thirteen lines; `model` changes the AI configuration, `minSamples` only the gate. */
function planText(options: { model?: string; minSamples?: number; description?: boolean } = {}): string {
  return [
    'useCase: diff-chat',
    'owner: ops@example.com',
    ...(options.description === false ? [] : ['description: invoices, routed']),
    'decision: { type: label, labels: [approve, reject, escalate] }',
    'ai:',
    '  adapter: openai-chat',
    '  url: http://127.0.0.1:9/v1/chat/completions',
    `  model: ${options.model ?? 'model-1'}`,
    '  prompt: "Route this invoice: {{input}}"',
    'stages:',
    '  shadow:',
    `    promoteWhen: { minSamples: ${options.minSamples ?? 100} }`,
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
    expect(result.summary).toBe(
      `${result.diff}\n\nApplying ${local.file} makes plan version 4 of diff-chat.\n` +
        `The AI configuration is unchanged (${local.aiConfig}): the evidence is kept and judged again under the new plan.`,
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
});
