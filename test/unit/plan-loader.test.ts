import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_LISTED_PROBLEMS } from '../../src/contracts/validation-problems.js';
import {
  checkUseCaseId,
  jsonErrorOffset,
  MAX_PLAN_BYTES,
  parsePlanText,
} from '../../src/plans/plan-loader.js';

// Line numbers in the expectations below refer to this text.
const BASE = [
  'useCase: invoice-triage', //                                                   1
  'owner: ap@example.com', //                                                     2
  'decision:', //                                                                 3
  '  type: label', //                                                             4
  '  labels: [approve, reject, escalate]', //                                     5
  'comparator: { type: exact }', //                                               6
  'ai:', //                                                                       7
  '  adapter: http', //                                                           8
  '  url: http://127.0.0.1:9000/decide', //                                       9
  '  timeoutMs: 3000', //                                                         10
  'segments: [region]', //                                                        11
  'stages:', //                                                                   12
  '  shadow:', //                                                                 13
  '    promoteWhen:', //                                                          14
  '      minSamples: 500', //                                                     15
  '      minDuration: 7d', //                                                     16
  '      agreementLowerBound: 0.9', //                                            17
  '      segmentAgreementLowerBound: 0.85', //                                    18
  '  human-reviewed:', //                                                         19
  '    promoteWhen: { minSamples: 1000, minDuration: 14d }', //                   20
  '    rollbackWhen: { window: 200, agreementBelow: 0.85 }', //                   21
  '  limited-autonomous:', //                                                     22
  '    boundary:', //                                                             23
  '      constraints: [{ contextName: riskTier, operator: IN, values: [low] }]', // 24
  '    rollbackTo: human-reviewed', //                                            25
  '',
].join('\n');

/** BASE with each `[from, to]` replaced; each `from` must occur exactly once. */
function broken(...edits: Array<[string, string]>): string {
  let text = BASE;
  for (const [from, to] of edits) {
    expect(text.split(from).length - 1, `"${from}" occurs once`).toBe(1);
    text = text.replace(from, to);
  }
  return text;
}

function problemsOf(text: string, format?: 'yaml' | 'json') {
  const result = parsePlanText(text, format);
  if (result.ok) throw new Error('expected the plan to be refused');
  return result.problems;
}

describe('parsePlanText: valid plans', () => {
  it('when given the example plan in rollout-plans/, then it parses with defaults filled in', () => {
    const text = readFileSync(new URL('../../rollout-plans/invoice-triage.yaml', import.meta.url), 'utf8');
    const result = parsePlanText(text);
    if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
    const { plan } = result;
    expect(plan.useCase).toBe('invoice-triage');
    expect(plan.ai).toMatchObject({ adapter: 'http', url: 'http://127.0.0.1:9000/decide', maxAttempts: 3 });
    expect(plan.stages.shadow).toMatchObject({ approval: 'manual', sampleRate: 1 });
    expect(plan.stages.shadow.promoteWhen?.minDuration).toBe('7d');
    expect(plan.stages['limited-autonomous']?.rollbackTo).toBe('human-reviewed');
    expect(plan.stages['human-reviewed']?.rollbackWhen?.action).toBe('rollback');
    expect(plan.notify).toBeUndefined();
    expect(result.hash).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('when given the base plan, then it parses and the hash changes with any byte of the text', () => {
    const a = parsePlanText(BASE);
    const b = parsePlanText(`${BASE}# a comment\n`);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(a.text).toBe(BASE);
      expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(b.hash).not.toBe(a.hash);
    }
  });

  it('when given the same plan as JSON, then it parses to the same plan', () => {
    const yaml = parsePlanText(BASE);
    if (!yaml.ok) throw new Error('base plan refused');
    const json = parsePlanText(JSON.stringify(yaml.plan, null, 2), 'json');
    expect(json.ok && json.plan).toEqual(yaml.plan);
  });

  it('when stages are left out, then the use case stays in shadow with defaults', () => {
    const text = BASE.slice(0, BASE.indexOf('segments:'));
    const result = parsePlanText(text);
    expect(result.ok && result.plan.stages).toEqual({ shadow: { approval: 'manual', sampleRate: 1 } });
  });

  it('when shadow has a guard that disables or notifies, then it is accepted', () => {
    const text = broken([
      '  human-reviewed:',
      '    rollbackWhen: { aiErrorRateAbove: 0.2, action: disable }\n  human-reviewed:',
    ]);
    expect(parsePlanText(text).ok).toBe(true);
  });
});

describe('parsePlanText: schema problems, with path and line', () => {
  it('when a field name is misspelt, then it is an unknown field at its own line', () => {
    expect(problemsOf(broken(['minSamples: 500', 'minSample: 500']))).toEqual([
      {
        path: 'stages.shadow.promoteWhen.minSample',
        problem: 'unknown field "minSample"',
        line: 15,
        column: 7,
      },
    ]);
  });

  it('when a duration has no known unit, then the format is explained', () => {
    expect(problemsOf(broken(['minDuration: 7d', 'minDuration: 7 days']))).toEqual([
      {
        path: 'stages.shadow.promoteWhen.minDuration',
        problem: 'expected a duration such as 30m, 12h, 7d or 2w, got "7 days"',
        line: 16,
        column: 7,
      },
    ]);
  });

  it('when the use case is not a slug, then that is said at line 1', () => {
    expect(problemsOf(broken(['useCase: invoice-triage', 'useCase: Invoice_Triage']))).toEqual([
      {
        path: 'useCase',
        problem: 'expected a slug of lowercase letters, digits and single dashes, got "Invoice_Triage"',
        line: 1,
        column: 1,
      },
    ]);
  });

  it('when the comparator is unknown, then the known ones are listed, pointing into the flow mapping', () => {
    expect(problemsOf(broken(['{ type: exact }', '{ type: exakt }']))).toEqual([
      {
        path: 'comparator.type',
        problem:
          'expected one of exact, normalized-text, numeric, text-similarity, fields, judge, got "exakt"',
        line: 6,
        column: 15,
      },
    ]);
  });

  it('when a label repeats, then the repeated entry is pointed at', () => {
    expect(problemsOf(broken(['[approve, reject, escalate]', '[approve, reject, approve]']))).toEqual([
      { path: 'decision.labels[2]', problem: '"approve" is already listed', line: 5, column: 29 },
    ]);
  });

  it('when a plan has three independent mistakes, then all three are listed in reading order', () => {
    const text = broken(
      ['agreementLowerBound: 0.9', 'agreementLowerBound: 1.5'],
      ['owner: ap@example.com', 'owner: 5'],
      ['timeoutMs: 3000', 'timeoutMs: -5'],
    );
    expect(problemsOf(text)).toEqual([
      { path: 'owner', problem: 'expected a string, got number 5', line: 2, column: 1 },
      { path: 'ai.timeoutMs', problem: 'expected more than 0, got -5', line: 10, column: 3 },
      {
        path: 'stages.shadow.promoteWhen.agreementLowerBound',
        problem: 'expected at most 1, got 1.5',
        line: 17,
        column: 7,
      },
    ]);
  });

  it('when a required field is missing, then the line is that of the nearest field present', () => {
    expect(problemsOf(broken(['  url: http://127.0.0.1:9000/decide\n', '']))).toEqual([
      { path: 'ai.url', problem: 'required', line: 7, column: 1 },
    ]);
  });

  it('when a list holds a value of the wrong type, then the item is pointed at', () => {
    expect(problemsOf(broken(['segments: [region]', 'segments: [region, 7]']))).toEqual([
      { path: 'segments[1]', problem: 'expected a string, got number 7', line: 11, column: 20 },
    ]);
  });

  it('when the decision type is unknown, then the discriminator is named', () => {
    expect(problemsOf(broken(['  type: label', '  type: labels']))).toEqual([
      {
        path: 'decision.type',
        problem: 'expected one of label, json, text, got "labels"',
        line: 4,
        column: 3,
      },
    ]);
  });

  it('when the AI url is not http, then an http or https URL is asked for', () => {
    expect(problemsOf(broken(['url: http://127.0.0.1', 'url: ftp://127.0.0.1']))).toEqual([
      {
        path: 'ai.url',
        problem: 'expected an http or https URL, got "ftp://127.0.0.1:9000/decide"',
        line: 9,
        column: 3,
      },
    ]);
  });
});

describe('parsePlanText: rules across fields', () => {
  it('when the comparator does not suit label decisions, then comparator.type is refused', () => {
    expect(problemsOf(broken(['{ type: exact }', '{ type: numeric, tolerance: 1 }']))).toEqual([
      {
        path: 'comparator.type',
        problem:
          'numeric compares numbers: it needs decision.type json without requiredFields or textFields (decisions that are numbers)',
        line: 6,
        column: 15,
      },
    ]);
    expect(problemsOf(broken(['{ type: exact }', '{ type: fields, fields: [queue] }']))).toEqual([
      {
        path: 'comparator.type',
        problem: 'fields compares fields of JSON objects: it needs decision.type json',
        line: 6,
        column: 15,
      },
    ]);
  });

  it('when segment agreement is asked for without segments, then that criterion is refused', () => {
    expect(problemsOf(broken(['segments: [region]', 'segments: []']))).toEqual([
      {
        path: 'stages.shadow.promoteWhen.segmentAgreementLowerBound',
        problem: 'needs at least one entry in segments (the context fields agreement is broken down by)',
        line: 18,
        column: 7,
      },
    ]);
  });

  it('when rollbackTo names a later stage, then the earlier ones are listed', () => {
    const text = broken([
      '    rollbackWhen: { window: 200, agreementBelow: 0.85 }',
      '    rollbackTo: limited-autonomous',
    ]);
    expect(problemsOf(text)).toEqual([
      {
        path: 'stages.human-reviewed.rollbackTo',
        problem: 'expected a stage before human-reviewed (shadow), got "limited-autonomous"',
        line: 21,
        column: 5,
      },
    ]);
  });

  it('when limited-autonomous comes without human-reviewed, then human-reviewed is required and rollbackTo dangles', () => {
    const text = broken([
      '  human-reviewed:\n    promoteWhen: { minSamples: 1000, minDuration: 14d }\n    rollbackWhen: { window: 200, agreementBelow: 0.85 }\n',
      '',
    ]);
    expect(problemsOf(text)).toEqual([
      {
        path: 'stages.human-reviewed',
        problem: 'required when limited-autonomous is present: a use case reaches it through human-reviewed',
        line: 12,
        column: 1,
      },
      {
        path: 'stages.limited-autonomous.rollbackTo',
        problem: 'the stage human-reviewed is not in this plan',
        line: 22,
        column: 5,
      },
    ]);
  });

  it('when shadow has a guard that would roll back, then its action is refused', () => {
    const text = broken([
      '  human-reviewed:',
      '    rollbackWhen: { agreementBelow: 0.5 }\n  human-reviewed:',
    ]);
    expect(problemsOf(text)).toEqual([
      {
        path: 'stages.shadow.rollbackWhen.action',
        problem:
          'expected disable or notify in shadow (rollback, the default, has no stage below shadow to go to)',
        line: 19,
        column: 5,
      },
    ]);
  });

  it('when shadow names a rollbackTo, then there is nothing before shadow', () => {
    const text = broken(['  human-reviewed:', '    rollbackTo: shadow\n  human-reviewed:']);
    expect(problemsOf(text)).toEqual([
      {
        path: 'stages.shadow.rollbackTo',
        problem: 'shadow is the first stage: there is nothing before it to roll back to',
        line: 19,
        column: 5,
      },
    ]);
  });

  it('when a guard has no criterion, then it is refused as one that never trips', () => {
    expect(problemsOf(broken(['{ window: 200, agreementBelow: 0.85 }', '{ window: 200 }']))).toEqual([
      {
        path: 'stages.human-reviewed.rollbackWhen',
        problem:
          'a guard needs agreementBelow, aiErrorRateAbove, labelRecallBelow, driftAbove, overrideRateAbove or escalationRateAbove, otherwise it never trips',
        line: 21,
        column: 5,
      },
    ]);
  });

  it('when a boundary constraint lacks the field its operator reads, then that field is required', () => {
    expect(problemsOf(broken(['values: [low]', 'value: low']))).toEqual([
      {
        path: 'stages.limited-autonomous.boundary.constraints[0].values',
        problem: 'required for operator IN: a list of at least one value',
        line: 24,
        column: 21,
      },
    ]);
    expect(problemsOf(broken(['operator: IN, values: [low]', 'operator: NUM_GT, value: high']))).toEqual([
      {
        path: 'stages.limited-autonomous.boundary.constraints[0].value',
        problem: 'expected a number as text for NUM_GT, got "high"',
        line: 24,
        column: 64,
      },
    ]);
  });
});

describe('parsePlanText: text that is not a plan', () => {
  it('when the YAML is malformed, then the syntax error has its line', () => {
    expect(
      problemsOf(broken(['  labels: [approve, reject, escalate]', '  labels: [approve, reject, escalate'])),
    ).toEqual([
      {
        path: '',
        problem:
          'not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
        line: 6,
        column: 1,
      },
    ]);
  });

  it('when indentation uses a tab, then that line is named and what follows from it is not', () => {
    expect(problemsOf(broken(['  adapter: http', '\tadapter: http']))).toEqual([
      { path: '', problem: 'not valid YAML: Tabs are not allowed as indentation', line: 8, column: 1 },
    ]);
  });

  it('when a field is written twice, then the second is pointed at and the first named', () => {
    expect(problemsOf(broken(['decision:\n', 'owner: other@example.com\ndecision:\n']))).toEqual([
      { path: 'owner', problem: 'duplicate field "owner" (first at line 2)', line: 3, column: 1 },
    ]);
  });

  it('when the text holds several YAML documents, then it is refused at the separator', () => {
    expect(problemsOf(`${BASE}---\nuseCase: other\n`)).toEqual([
      {
        path: '',
        problem: 'a plan is one YAML document, but this text holds several (---)',
        line: 26,
        column: 1,
      },
    ]);
  });

  it('when aliases expand exponentially, then the plan is refused before it is expanded', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');
    expect(problemsOf(bomb)).toEqual([
      { path: '', problem: 'aliases (*name) expand to too much: use fewer of them' },
    ]);
  });

  it('when a few aliases repeat a guard, then they are accepted', () => {
    const text = broken(
      [
        '    rollbackWhen: { window: 200, agreementBelow: 0.85 }',
        '    rollbackWhen: &guard { window: 200, agreementBelow: 0.85 }',
      ],
      ['    rollbackTo: human-reviewed', '    rollbackWhen: *guard\n    rollbackTo: human-reviewed'],
    );
    const result = parsePlanText(text);
    expect(result.ok && result.plan.stages['limited-autonomous']?.rollbackWhen?.agreementBelow).toBe(0.85);
  });

  it('when the text is larger than 256 KiB, then it is refused unread', () => {
    const text = `${BASE}#${'x'.repeat(MAX_PLAN_BYTES)}\n`;
    expect(problemsOf(text)).toEqual([
      { path: '', problem: `the plan is ${text.length} bytes; at most 262144 are accepted` },
    ]);
  });

  it('when the text is empty or only comments, then the plan is empty', () => {
    expect(problemsOf('')).toEqual([{ path: '', problem: 'the plan is empty' }]);
    expect(problemsOf('# nothing yet\n')).toEqual([{ path: '', problem: 'the plan is empty' }]);
  });

  it('when the document is a list, then an object is asked for', () => {
    expect(problemsOf('- a\n- b\n')).toEqual([
      { path: '', problem: 'expected an object, got an array of 2 items', line: 1, column: 1 },
    ]);
  });

  it('when a YAML tag asks for a type, then it is refused', () => {
    expect(problemsOf(broken(['owner: ap@example.com', 'owner: !!js/function ap']))).toEqual([
      {
        path: '',
        problem: 'not valid YAML: Unresolved tag: tag:yaml.org,2002:js/function',
        line: 2,
        column: 8,
      },
    ]);
  });
});

describe('parsePlanText: JSON', () => {
  it('when the JSON is malformed, then the error has its line and column', () => {
    const problems = problemsOf('{\n  "useCase": "x",\n  "owner": abc\n}', 'json');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: '', line: 3, column: 12 });
    expect(problems[0]?.problem).toMatch(/^not valid JSON: /);
  });

  it('when JSON ends early or has a trailing comma, then the place is given', () => {
    expect(problemsOf('{"useCase": "x"', 'json')[0]).toMatchObject({ line: 1, column: 16 });
    expect(problemsOf('{"useCase": "x",\n}', 'json')[0]).toMatchObject({ line: 2, column: 1 });
  });

  it('when a JSON plan has a schema problem, then its line is found too', () => {
    const json =
      '{\n  "useCase": "invoice-triage",\n  "owner": "ap",\n  "decision": {"type": "label", "labels": ["a", "b"]},\n  "ai": {"adapter": "http", "url": "http://x", "timeout": 5}\n}';
    expect(problemsOf(json, 'json')).toEqual([
      { path: 'ai.timeout', problem: 'unknown field "timeout"', line: 5, column: 48 },
    ]);
  });

  it('when a JSON key repeats, then it is refused although JSON.parse would keep the last', () => {
    expect(problemsOf('{"useCase": "a",\n "useCase": "b"}', 'json')).toEqual([
      { path: 'useCase', problem: 'duplicate field "useCase" (first at line 1)', line: 2, column: 2 },
    ]);
  });
});

/** `a`, `b`, … `Z`, `aa`, `ab`, …: short field names that YAML reads as plain text. */
function fieldName(i: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let name = '';
  for (let n = i; n >= 0; n = Math.floor(n / letters.length) - 1) name = letters[n % letters.length] + name;
  return name;
}
const fieldNames = (n: number) => Array.from({ length: n }, (_, i) => fieldName(i));

function refusalOf(text: string, format: 'yaml' | 'json') {
  const started = performance.now();
  const result = parsePlanText(text, format);
  if (result.ok) throw new Error('expected the plan to be refused');
  return { ...result, ms: performance.now() - started };
}

/** Reading 50,000 problems took 25 s or more (each located by a search of its mapping); now < 1 s. */
const BOUND_MS = 5000;

describe('parsePlanText: plans with many problems', () => {
  it('when a YAML plan has 50,000 unknown fields, then it is refused in < 5 s with the first 100 in reading order and a count of the rest', () => {
    const text = broken([
      'comparator: { type: exact }',
      `comparator: {type: exact,${fieldNames(50_000).join(',')}}`,
    ]);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_PLAN_BYTES);
    const refusal = refusalOf(text, 'yaml');
    expect(refusal.ms).toBeLessThan(BOUND_MS);
    expect(refusal.problemCount).toBe(50_000);
    expect(refusal.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(refusal.problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => p.path)).toEqual(
      fieldNames(MAX_LISTED_PROBLEMS).map((name) => `comparator.${name}`),
    );
    expect(refusal.problems[1]).toEqual({
      path: 'comparator.b',
      problem: 'unknown field "b"',
      line: 6,
      column: 28,
    });
    expect(refusal.problems.at(-1)).toEqual({
      path: '',
      problem: 'and 49900 more problems, not listed (at most 100 are)',
    });
  });

  it('when a JSON plan has as many unknown fields as 256 KiB hold, then it is refused in < 5 s with 100 of them and a count', () => {
    const plan: Record<string, unknown> = {
      useCase: 'invoice-triage',
      owner: 'ap@example.com',
      decision: { type: 'label', labels: ['approve', 'reject'] },
      ai: { adapter: 'http', url: 'http://127.0.0.1:9000/decide' },
    };
    const names = fieldNames(30_100)
      .filter((name) => !Object.hasOwn(plan, name))
      .slice(0, 30_000);
    for (const name of names) plan[name] = 0;
    const text = JSON.stringify(plan);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_PLAN_BYTES);
    const refusal = refusalOf(text, 'json');
    expect(refusal.ms).toBeLessThan(BOUND_MS);
    expect(refusal.problemCount).toBe(30_000);
    expect(refusal.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(refusal.problems[0]).toMatchObject({ path: 'a', problem: 'unknown field "a"', line: 1 });
    expect(refusal.problems.at(-1)?.problem).toBe('and 29900 more problems, not listed (at most 100 are)');
  });

  it('when an alias repeats a mapping of 20,000 unknown fields, then each problem is located through it in < 5 s', () => {
    const text = broken(
      ['comparator: { type: exact }', `comparator: &c {type: exact,${fieldNames(20_000).join(',')}}`],
      ['  timeoutMs: 3000', '  timeoutMs: 3000\n  pricing: *c'],
    );
    const refusal = refusalOf(text, 'yaml');
    expect(refusal.ms).toBeLessThan(BOUND_MS);
    // The comparator's fields, and the pricing's (with its unknown `type`).
    expect(refusal.problemCount).toBe(40_001);
    expect(refusal.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(refusal.problems.slice(0, MAX_LISTED_PROBLEMS).every((p) => p.line === 6)).toBe(true);
  });

  it('when a plan has 200 repeated fields, then 100 are listed and the others counted', () => {
    const text = broken([
      'comparator: { type: exact }',
      `comparator: {type: exact${',type: exact'.repeat(200)}}`,
    ]);
    const refusal = refusalOf(text, 'yaml');
    expect(refusal.problemCount).toBe(200);
    expect(refusal.problems[0]).toMatchObject({
      path: 'comparator.type',
      problem: 'duplicate field "type" (first at line 6)',
    });
    expect(refusal.problems.at(-1)?.problem).toBe('and 100 more problems, not listed (at most 100 are)');
  });
});

describe('jsonErrorOffset', () => {
  it.each([
    ['{"a": 1}', undefined],
    ['{"a": }', 6],
    ['[1, 2,]', 6],
    ['{"a" 1}', 5],
    ['"\\x"', 2],
    ['tru', 0],
    ['[1] x', 4],
    ['', 0],
  ])('when given %j, then the first error is at %s', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});

describe('checkUseCaseId', () => {
  it('when the plan names the use case of the address, then there is no problem; otherwise useCase is refused', () => {
    expect(checkUseCaseId({ useCase: 'invoice-triage' }, 'invoice-triage')).toBeNull();
    expect(checkUseCaseId({ useCase: 'claims' }, 'invoice-triage')).toEqual({
      path: 'useCase',
      problem: 'expected "invoice-triage" (the use case in the address), got "claims"',
    });
  });
});
