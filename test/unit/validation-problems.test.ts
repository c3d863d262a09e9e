import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  describeValue,
  listProblems,
  MAX_LISTED_PROBLEMS,
  MAX_SHOWN_KEY,
  parseWithProblems,
  renderPath,
  toLocatedProblems,
  toProblems,
} from '../../src/contracts/validation-problems.js';

function problemsOf(schema: z.ZodType, value: unknown, prefix: (string | number)[] = []) {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) throw new Error('expected the value to be refused');
  return toProblems(result.error, prefix);
}

const decision = z.strictObject({
  useCase: z.string(),
  human: z.strictObject({ decision: z.enum(['approve', 'reject', 'escalate']) }).optional(),
  score: z.number().optional(),
});
const batch = z.strictObject({ decisions: z.array(decision) });

describe('toProblems', () => {
  it('when a nested field has the wrong type, then the path indexes arrays and the problem says what was found', () => {
    const value = { decisions: [{ useCase: 'a' }, { useCase: 'b', score: 'abc' }] };
    expect(problemsOf(batch, value)).toEqual([
      { path: 'decisions[1].score', problem: 'expected a number, got string "abc"' },
    ]);
  });

  it('when an enum value is misspelt, then the allowed values are listed and the found one quoted', () => {
    const value = { decisions: [{ useCase: 'a' }, {}, {}, { useCase: 'b', human: { decision: 'aprove' } }] };
    expect(problemsOf(batch, value)).toContainEqual({
      path: 'decisions[3].human.decision',
      problem: 'expected one of approve, reject, escalate, got "aprove"',
    });
  });

  it('when a field is missing, then it is "required"; a missing enum names its options', () => {
    const schema = z.strictObject({ name: z.string(), approval: z.enum(['manual', 'automatic']) });
    expect(problemsOf(schema, {})).toEqual([
      { path: 'name', problem: 'required' },
      { path: 'approval', problem: 'required (one of manual, automatic)' },
    ]);
  });

  it('when the input was not kept, then a missing field is still "required" and a wrong one says only what was expected', () => {
    const schema = z.strictObject({ name: z.string(), count: z.number() });
    const result = schema.safeParse({ count: 'x' });
    expect(result.success).toBe(false);
    expect(toProblems(result.error!)).toEqual([
      { path: 'name', problem: 'required' },
      { path: 'count', problem: 'expected a number' },
    ]);
  });

  it('when an object has unknown keys, then there is one problem per key with the key in the path', () => {
    const schema = z.strictObject({ promoteWhen: z.strictObject({ minSamples: z.number().optional() }) });
    expect(problemsOf(schema, { promoteWhen: { minSample: 5, maxSample: 9 } })).toEqual([
      { path: 'promoteWhen.minSample', problem: 'unknown field "minSample"' },
      { path: 'promoteWhen.maxSample', problem: 'unknown field "maxSample"' },
    ]);
  });

  it('when numbers are out of range, then the bound is said in words', () => {
    const schema = z.strictObject({
      rate: z.number().min(0).max(1),
      timeout: z.number().positive(),
      window: z.number().int().max(100),
      below: z.number().lt(10),
    });
    expect(problemsOf(schema, { rate: 1.5, timeout: 0, window: 101, below: 10 })).toEqual([
      { path: 'rate', problem: 'expected at most 1, got 1.5' },
      { path: 'timeout', problem: 'expected more than 0, got 0' },
      { path: 'window', problem: 'expected at most 100, got 101' },
      { path: 'below', problem: 'expected less than 10, got 10' },
    ]);
  });

  it('when an integer is expected, then a fraction is refused as such', () => {
    expect(problemsOf(z.strictObject({ n: z.number().int() }), { n: 1.5 })).toEqual([
      { path: 'n', problem: 'expected an integer, got number 1.5' },
    ]);
  });

  it('when lists and texts have the wrong size, then the counts are given', () => {
    const schema = z.strictObject({
      labels: z.array(z.string()).min(2),
      tags: z.array(z.string()).max(1),
      owner: z.string().min(1),
      code: z.string().min(3).max(4),
    });
    expect(problemsOf(schema, { labels: ['a'], tags: ['a', 'b'], owner: '', code: 'abcdef' })).toEqual([
      { path: 'labels', problem: 'expected at least 2 items, got 1' },
      { path: 'tags', problem: 'expected at most 1 item, got 2' },
      { path: 'owner', problem: 'must not be empty' },
      { path: 'code', problem: 'expected at most 4 characters, got 6 characters' },
    ]);
  });

  it('when a discriminated union gets an unknown or no tag, then the problem is on the discriminator', () => {
    const schema = z.strictObject({
      decision: z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('label'), labels: z.array(z.string()) }),
        z.strictObject({ type: z.literal('json') }),
      ]),
    });
    expect(problemsOf(schema, { decision: { type: 'lable', labels: [] } })).toEqual([
      { path: 'decision.type', problem: 'expected one of label, json, got "lable"' },
    ]);
    expect(problemsOf(schema, { decision: { labels: [] } })).toEqual([
      { path: 'decision.type', problem: 'required (one of label, json)' },
    ]);
  });

  it('when the tag is right, then problems inside the chosen alternative keep their own paths', () => {
    const schema = z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('numeric'), tolerance: z.number() }),
      z.strictObject({ type: z.literal('exact') }),
    ]);
    expect(problemsOf(schema, { type: 'numeric', tolerance: 'x' }, ['comparator'])).toEqual([
      { path: 'comparator.tolerance', problem: 'expected a number, got string "x"' },
    ]);
  });

  it('when no alternative of a plain union has the right type, then each is named', () => {
    const schema = z.strictObject({ minDuration: z.union([z.number(), z.string()]) });
    expect(problemsOf(schema, { minDuration: true })).toEqual([
      { path: 'minDuration', problem: 'expected a number or a string, got boolean true' },
    ]);
    expect(problemsOf(schema, {})).toEqual([{ path: 'minDuration', problem: 'required' }]);
  });

  it('when a union value has the shape of one alternative, then the problem inside it is reported with its path', () => {
    const schema = z.union([z.string(), z.strictObject({ amount: z.number() })]);
    expect(problemsOf(schema, { amount: 'ten' }, ['decision'])).toEqual([
      { path: 'decision.amount', problem: 'expected a number, got string "ten"' },
    ]);
  });

  it('when a format check has its own message, then it names what is expected; otherwise a default does', () => {
    const schema = z.strictObject({
      slug: z.string().regex(/^[a-z-]+$/, 'a slug of lowercase letters and dashes'),
      code: z.string().regex(/^\d+$/),
      url: z.url(),
      email: z.email(),
    });
    expect(problemsOf(schema, { slug: 'Bad Slug', code: 'x1', url: 'nope', email: 'nope' })).toEqual([
      { path: 'slug', problem: 'expected a slug of lowercase letters and dashes, got "Bad Slug"' },
      { path: 'code', problem: 'expected text matching /^\\d+$/, got "x1"' },
      { path: 'url', problem: 'expected a URL, got "nope"' },
      { path: 'email', problem: 'expected an email address, got "nope"' },
    ]);
  });

  it('when a refinement fails, then its message is used verbatim at its path', () => {
    const schema = z
      .strictObject({ from: z.number(), to: z.number() })
      .refine((r) => r.from <= r.to, { message: 'must not be before from', path: ['to'] });
    expect(problemsOf(schema, { from: 2, to: 1 })).toEqual([
      { path: 'to', problem: 'must not be before from' },
    ]);
  });

  it('when a literal is expected, then the one value is named without "one of"', () => {
    expect(problemsOf(z.strictObject({ v: z.literal(1) }), { v: 2 })).toEqual([
      { path: 'v', problem: 'expected 1, got 2' },
    ]);
  });

  it('when the whole value is wrong, then the path is empty', () => {
    expect(problemsOf(batch, [1, 2, 3])).toEqual([
      { path: '', problem: 'expected an object, got an array of 3 items' },
    ]);
    expect(problemsOf(batch, null)).toEqual([{ path: '', problem: 'expected an object, got null' }]);
  });

  it('when a record key is invalid, then the key is in the path and the problem says why', () => {
    const schema = z.record(z.string().max(3), z.number());
    expect(problemsOf(schema, { abcd: 1 })).toEqual([
      { path: 'abcd', problem: 'invalid field name: expected at most 3 characters, got 4 characters' },
    ]);
  });

  it('when a prefix is given, then every path starts with it', () => {
    const problems = problemsOf(decision, { useCase: 5 }, ['decisions', 7]);
    expect(problems).toEqual([{ path: 'decisions[7].useCase', problem: 'expected a string, got number 5' }]);
  });

  it('when located problems are asked for, then the raw segments are kept', () => {
    const result = batch.safeParse({ decisions: [{ useCase: 'a', extra: 1 }] });
    expect(toLocatedProblems(result.error!)).toEqual([
      { segments: ['decisions', 0, 'extra'], problem: 'unknown field "extra"' },
    ]);
  });
});

describe('renderPath', () => {
  it('when keys are names, then they are dotted (dashes allowed); others are quoted; indexes are bracketed', () => {
    expect(renderPath(['stages', 'human-reviewed', 'rollbackTo'])).toBe('stages.human-reviewed.rollbackTo');
    expect(renderPath(['context', 'two words', 0])).toBe('context["two words"][0]');
    expect(renderPath([3, 'a'])).toBe('[3].a');
    expect(renderPath([])).toBe('');
  });
});

describe('describeValue', () => {
  it('when text is long, then it is cut at 40 characters', () => {
    expect(describeValue('x'.repeat(50))).toBe(`"${'x'.repeat(40)}…"`);
  });
});

describe('parseWithProblems', () => {
  it('when the value fits, then the parsed data comes back; else problems that say what was found', () => {
    const schema = z.strictObject({ n: z.number().default(3) });
    expect(parseWithProblems(schema, {})).toEqual({ ok: true, data: { n: 3 } });
    expect(parseWithProblems(schema, { n: 'x' }, ['body'])).toEqual({
      ok: false,
      problems: [{ path: 'body.n', problem: 'expected a number, got string "x"' }],
    });
  });
});

describe('bounded answers', () => {
  it('when there are more problems than the limit, then the first 100 are listed and one last entry counts the rest', () => {
    const problems = Array.from({ length: 250 }, (_, i) => ({ path: `items[${i}]`, problem: 'required' }));
    const listed = listProblems(problems);
    expect(listed).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(listed.slice(0, MAX_LISTED_PROBLEMS)).toEqual(problems.slice(0, MAX_LISTED_PROBLEMS));
    expect(listed.at(-1)).toEqual({
      path: '',
      problem: 'and 150 more problems, not listed (at most 100 are)',
    });
    expect(listProblems(problems.slice(0, 100))).toEqual(problems.slice(0, 100));
    expect(listProblems(problems.slice(0, 101)).at(-1)?.problem).toBe(
      'and 1 more problem, not listed (at most 100 are)',
    );
  });

  it('when a body has 50,000 unknown fields, then the problems are 100 and a count, in a few kilobytes', () => {
    const body: Record<string, unknown> = { useCase: 'a' };
    for (let i = 0; i < 50_000; i++) body[`field${i}`] = i;
    const outcome = parseWithProblems(decision, body);
    if (outcome.ok) throw new Error('expected the body to be refused');
    expect(outcome.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(outcome.problems[0]).toEqual({ path: 'field0', problem: 'unknown field "field0"' });
    expect(outcome.problems.at(-1)?.problem).toBe('and 49900 more problems, not listed (at most 100 are)');
    expect(JSON.stringify(outcome.problems).length).toBeLessThan(10_000);
  });

  it('when a field name is 100,000 characters long, then path and problem show its first 64', () => {
    const name = 'n'.repeat(100_000);
    const [problem] = problemsOf(z.strictObject({ a: z.strictObject({}) }), { a: { [name]: 1 } });
    const shown = `${'n'.repeat(MAX_SHOWN_KEY)}…`;
    expect(problem).toEqual({ path: `a["${shown}"]`, problem: `unknown field "${shown}"` });
    expect(renderPath(['x'.repeat(MAX_SHOWN_KEY)])).toBe('x'.repeat(MAX_SHOWN_KEY));
  });
});
