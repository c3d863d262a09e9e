import { describe, expect, it } from 'vitest';
import { mirroredDecisionSchema } from '../../src/contracts/decision-contracts.js';
import { ShadowgateError } from '../../src/contracts/errors.js';
import { parseOrThrow } from '../../src/http/validate.js';
import { parsePlanText } from '../../src/plans/plan-loader.js';

/**
 * Field names that mean something to JavaScript objects, in request bodies: `__proto__` would be
 * dropped by validation (zod copies by assignment), so it is refused with its path; `constructor`
 * and `prototype` are ordinary fields, kept as sent.
 */

const refusal = (body: string) => {
  try {
    parseOrThrow(mirroredDecisionSchema, JSON.parse(body), 'decision');
  } catch (error) {
    if (error instanceof ShadowgateError) return { status: error.status, details: error.details };
    throw error;
  }
  return null;
};

describe('__proto__, constructor and prototype fields in a body', () => {
  it.each([
    ['{"useCase":"inv","requestId":"r","input":{"__proto__":{"x":1}}}', 'input.__proto__'],
    ['{"useCase":"inv","requestId":"r","input":[{"a":{"__proto__":null}}]}', 'input[0].a.__proto__'],
    ['{"useCase":"inv","requestId":"r","input":1,"context":{"__proto__":"EU"}}', 'context.__proto__'],
    [
      '{"useCase":"inv","requestId":"r","input":1,"human":{"decision":{"__proto__":1}}}',
      'human.decision.__proto__',
    ],
  ])('when %s is read, then it is refused at %s', (body, path) => {
    expect(refusal(body)).toEqual({
      status: 400,
      details: [{ path, problem: 'field name "__proto__" is not accepted' }],
    });
  });

  it('when the fields are named constructor and prototype, then they are kept as data, as sent', () => {
    const body =
      '{"useCase":"inv","requestId":"r","input":{"constructor":{"prototype":{"x":1}},"prototype":2},"context":{"constructor":"c"}}';
    const parsed = parseOrThrow(mirroredDecisionSchema, JSON.parse(body), 'decision');
    expect(JSON.stringify(parsed)).toBe(body);
  });

  it('when a YAML plan holds __proto__ where validation reads no further, then the plan is still refused there', () => {
    const parsed = parsePlanText('useCase: x\n__proto__: { owner: a@b.c }\n');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problems).toEqual([
        { path: '__proto__', problem: 'field name "__proto__" is not accepted', line: 2, column: 1 },
      ]);
    }
  });
});
