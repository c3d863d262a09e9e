import { describe, expect, it } from 'vitest';
import { aiConfigKey } from '../../src/plans/ai-config-key.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';

/** A plan with the given decision and comparator (YAML flow mappings). */
function plan(decision: string, comparator: string): string {
  return [
    'useCase: support-reply',
    'owner: support@example.com',
    `decision: ${decision}`,
    `comparator: ${comparator}`,
    'ai: { adapter: http, url: "http://127.0.0.1:9000/decide" }',
    '',
  ].join('\n');
}

function problemsOf(text: string) {
  const result = parsePlanText(text);
  if (result.ok) throw new Error('expected the plan to be refused');
  return result.problems.map(({ path, problem }) => ({ path, problem }));
}

function parsed(text: string) {
  const result = parsePlanText(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

describe('text decisions and text-similarity in a plan', () => {
  it('when a text decision is compared with text-similarity, then the plan is valid', () => {
    const p = parsed(
      plan('{ type: text, maxLength: 4000 }', '{ type: text-similarity, method: rouge-l, threshold: 0.6 }'),
    );
    expect(p.decision).toEqual({ type: 'text', maxLength: 4000 });
    expect(p.comparator).toEqual({ type: 'text-similarity', method: 'rouge-l', threshold: 0.6 });
  });

  it('when maxLength is over the bound, missing or under 1, then it is refused with the bound', () => {
    expect(problemsOf(plan('{ type: text, maxLength: 20001 }', '{ type: exact }'))).toEqual([
      { path: 'decision.maxLength', problem: 'expected at most 20000, got 20001' },
    ]);
    expect(problemsOf(plan('{ type: text }', '{ type: exact }'))[0]?.path).toBe('decision.maxLength');
    expect(problemsOf(plan('{ type: text, maxLength: 0 }', '{ type: exact }'))[0]?.path).toBe(
      'decision.maxLength',
    );
  });

  it('when the method is unknown or missing, then the methods are listed', () => {
    expect(
      problemsOf(plan('{ type: text, maxLength: 100 }', '{ type: text-similarity, method: bleu }')),
    ).toEqual([
      {
        path: 'comparator.method',
        problem: 'expected one of token-f1, char-ratio, rouge-l, got "bleu"',
      },
    ]);
    expect(problemsOf(plan('{ type: text, maxLength: 100 }', '{ type: text-similarity }'))).toEqual([
      { path: 'comparator.method', problem: 'required (one of token-f1, char-ratio, rouge-l)' },
    ]);
  });

  it('when the threshold is outside [0, 1], then the bound it crosses is named', () => {
    for (const threshold of ['1.5', '-0.1']) {
      expect(
        problemsOf(
          plan(
            '{ type: text, maxLength: 100 }',
            `{ type: text-similarity, method: token-f1, threshold: ${threshold} }`,
          ),
        ),
      ).toEqual([
        {
          path: 'comparator.threshold',
          problem: threshold === '1.5' ? 'expected at most 1, got 1.5' : 'expected at least 0, got -0.1',
        },
      ]);
    }
  });

  it('when text-similarity is set on label or JSON decisions, then comparator.type is refused', () => {
    expect(
      problemsOf(plan('{ type: label, labels: [a, b] }', '{ type: text-similarity, method: token-f1 }')),
    ).toEqual([
      {
        path: 'comparator.type',
        problem:
          'text-similarity compares free text: it needs decision.type text, not label (a text field of a JSON decision takes it in fields)',
      },
    ]);
    expect(problemsOf(plan('{ type: json }', '{ type: text-similarity, method: token-f1 }'))[0]?.path).toBe(
      'comparator.type',
    );
  });

  it('when fields or numeric are set on text decisions, then comparator.type is refused', () => {
    expect(problemsOf(plan('{ type: text, maxLength: 100 }', '{ type: fields, fields: [a] }'))).toEqual([
      {
        path: 'comparator.type',
        problem: 'fields compares fields of JSON objects: it needs decision.type json',
      },
    ]);
    expect(problemsOf(plan('{ type: text, maxLength: 100 }', '{ type: numeric }'))[0]?.path).toBe(
      'comparator.type',
    );
  });
});

describe('fields with a comparator per field', () => {
  const decision = '{ type: json, requiredFields: [category], textFields: { reply: { maxLength: 2000 } } }';

  it('when each field names its comparator and weight, then the plan is valid and defaults fill in', () => {
    const p = parsed(
      plan(
        decision,
        '{ type: fields, fields: [category, { field: amount, comparator: { type: numeric, tolerance: 1 } }, { field: reply, comparator: { type: text-similarity, method: token-f1 }, weight: 3 }] }',
      ),
    );
    expect(p.comparator).toEqual({
      type: 'fields',
      fields: [
        'category',
        { field: 'amount', comparator: { type: 'numeric', tolerance: 1 }, weight: 1 },
        { field: 'reply', comparator: { type: 'text-similarity', method: 'token-f1' }, weight: 3 },
      ],
    });
  });

  it('when a field uses text-similarity but is not a declared text field, then it is asked for in textFields', () => {
    expect(
      problemsOf(
        plan(
          decision,
          '{ type: fields, fields: [{ field: note, comparator: { type: text-similarity, method: rouge-l } }] }',
        ),
      ),
    ).toEqual([
      {
        path: 'comparator.fields[0].comparator.type',
        problem:
          'text-similarity compares free text: declare "note" in decision.textFields with its maxLength',
      },
    ]);
  });

  it('when a field with settings of its own is listed twice, then the repeat is pointed at', () => {
    expect(
      problemsOf(plan(decision, '{ type: fields, fields: [category, { field: category, weight: 2 }] }')),
    ).toEqual([
      {
        path: 'comparator.fields[1]',
        problem: '"category" is already listed at comparator.fields[0]: list each field once',
      },
    ]);
  });

  it('when a weight is not positive or a field comparator is fields, then it is refused', () => {
    expect(
      problemsOf(plan(decision, '{ type: fields, fields: [{ field: category, weight: 0 }] }'))[0]?.path,
    ).toBe('comparator.fields[0].weight');
    expect(
      problemsOf(
        plan(
          decision,
          '{ type: fields, fields: [{ field: category, comparator: { type: fields, fields: [x] } }] }',
        ),
      )[0]?.path,
    ).toBe('comparator.fields[0].comparator.type');
  });

  it('when a plain path is written as {field} with weight 1, then the AI configuration key is the same', () => {
    const a = parsed(plan('{ type: json }', '{ type: fields, fields: [b, a] }'));
    const b = parsed(plan('{ type: json }', '{ type: fields, fields: [{ field: a }, b] }'));
    const c = parsed(plan('{ type: json }', '{ type: fields, fields: [{ field: a, weight: 2 }, b] }'));
    expect(aiConfigKey(b)).toBe(aiConfigKey(a));
    expect(aiConfigKey(c)).not.toBe(aiConfigKey(a));
  });
});
