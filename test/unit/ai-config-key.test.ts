import { describe, expect, it } from 'vitest';
import { aiConfigChanges, aiConfigKey } from '../../src/plans/ai-config-key.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';
import type { Plan } from '../../src/plans/plan-schema.js';

const BASE = `useCase: invoice-triage
owner: ap@example.com
decision: { type: label, labels: [approve, reject, escalate] }
comparator: { type: exact }
ai:
  adapter: openai-chat
  url: http://127.0.0.1:9000/v1/chat/completions
  model: small-1
  prompt: "Route this invoice: {{input}}"
  timeoutMs: 3000
  pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 }
humanCostPerDecision: 1.8
stages:
  shadow:
    promoteWhen: { minSamples: 500, agreementLowerBound: 0.9 }
`;

function parse(text: string): { plan: Plan; hash: string } {
  const result = parsePlanText(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result;
}

function edited(from: string, to: string): Plan {
  expect(BASE).toContain(from);
  return parse(BASE.replace(from, to)).plan;
}

const baseKey = aiConfigKey(parse(BASE).plan);

describe('aiConfigKey', () => {
  it('when computed, then it is 16 hex characters and the same every time', () => {
    expect(baseKey).toMatch(/^[0-9a-f]{16}$/);
    expect(aiConfigKey(parse(BASE).plan)).toBe(baseKey);
  });

  it('when only the order of keys changes, then the text hash changes but the key does not', () => {
    const reordered = BASE.replace(
      '  model: small-1\n  prompt: "Route this invoice: {{input}}"\n',
      '  prompt: "Route this invoice: {{input}}"\n  model: small-1\n',
    ).replace(
      '{ type: label, labels: [approve, reject, escalate] }',
      '{ labels: [approve, reject, escalate], type: label }',
    );
    expect(reordered).not.toBe(BASE);
    const a = parse(BASE);
    const b = parse(reordered);
    expect(b.hash).not.toBe(a.hash);
    expect(aiConfigKey(b.plan)).toBe(baseKey);
  });

  it.each([
    ['a threshold', 'agreementLowerBound: 0.9', 'agreementLowerBound: 0.95'],
    ['the sample size', 'minSamples: 500', 'minSamples: 50'],
    ['pricing', 'inputPerMTok: 0.15', 'inputPerMTok: 0.3'],
    ['a timeout', 'timeoutMs: 3000', 'timeoutMs: 9000'],
    ['the human cost', 'humanCostPerDecision: 1.8', 'humanCostPerDecision: 2.5'],
    ['the owner', 'owner: ap@example.com', 'owner: finance@example.com'],
    ['the order of labels', '[approve, reject, escalate]', '[escalate, approve, reject]'],
  ])('when %s changes, then the key stays and no AI configuration change is named', (_what, from, to) => {
    expect(aiConfigKey(edited(from, to))).toBe(baseKey);
    expect(aiConfigChanges(parse(BASE).plan, edited(from, to))).toEqual([]);
  });

  it.each([
    ['the model', 'model: small-1', 'model: small-2', 'ai.model'],
    ['the url', '9000/v1/chat', '9001/v1/chat', 'ai.url'],
    ['the prompt', 'Route this invoice', 'Triage this invoice', 'ai.prompt'],
    ['the comparator', 'comparator: { type: exact }', 'comparator: { type: normalized-text }', 'comparator'],
    ['the labels', '[approve, reject, escalate]', '[approve, reject, escalate, hold]', 'decision'],
    ['the temperature', '  timeoutMs: 3000', '  temperature: 0.7\n  timeoutMs: 3000', 'ai.temperature'],
    [
      'the API key variable',
      '  timeoutMs: 3000',
      '  apiKeyEnv: OPENAI_KEY\n  timeoutMs: 3000',
      'ai.apiKeyEnv',
    ],
  ])('when %s changes, then the key changes and the change is named', (_what, from, to, path) => {
    expect(aiConfigKey(edited(from, to))).not.toBe(baseKey);
    expect(aiConfigChanges(parse(BASE).plan, edited(from, to))).toEqual([path]);
  });

  it('when the API key variable changes from one name to another, then the key changes', () => {
    const withKey = (name: string) =>
      aiConfigKey(edited('  timeoutMs: 3000', `  apiKeyEnv: ${name}\n  timeoutMs: 3000`));
    expect(withKey('OPENAI_KEY')).not.toBe(withKey('OPENAI_KEY_EU'));
  });

  it('when a plan names no API key variable, then its key is the one computed before the variable counted', () => {
    // Stored plan versions keep their AI configuration: evidence is not split by the upgrade.
    expect(baseKey).toBe('7a1ab5612be09442');
  });

  it('when the adapter changes, then the key changes', () => {
    const http = parse(
      BASE.replace('adapter: openai-chat', 'adapter: http')
        .replace('  model: small-1\n', '')
        .replace('  prompt: "Route this invoice: {{input}}"\n', ''),
    ).plan;
    expect(aiConfigKey(http)).not.toBe(baseKey);
    expect(aiConfigChanges(parse(BASE).plan, http)).toEqual(['ai.adapter', 'ai.model', 'ai.prompt']);
  });

  it('when a comparator default is written out, then the key is the same as when it is left out', () => {
    const json = BASE.replace('{ type: label, labels: [approve, reject, escalate] }', '{ type: json }');
    const implicit = parse(json.replace('comparator: { type: exact }', 'comparator: { type: numeric }')).plan;
    const explicit = parse(
      json.replace('comparator: { type: exact }', 'comparator: { type: numeric, tolerance: 0 }'),
    ).plan;
    expect(aiConfigKey(explicit)).toBe(aiConfigKey(implicit));
  });
});
