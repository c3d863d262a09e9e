import { type BadInputCase, invalid, UC } from './bad-input-cases.js';

/**
 * Requests with more problems than an answer lists, for test/integration/bad-input.test.ts
 * (fixture: see bad-input-cases.ts): the first 100 problems are listed and one last entry, with
 * the empty path, counts the others. Every list a batch of 1,000 items can fill is bounded: the
 * schema's problems, decisions that do not fit their plan, unknown use cases, repeated ids, and
 * the use cases a scoped key may not write (named in the message: five, then a count).
 */

const ITEMS = 1000;
const items = (n: number, item: (i: number) => Record<string, unknown>) => ({
  decisions: Array.from({ length: n }, (_, i) => item(i)),
});
const more = (rest: number) => `and ${rest} more problems, not listed (at most 100 are)`;
const itemPaths = (field: string, n = 100) => Array.from({ length: n }, (_, i) => `decisions[${i}].${field}`);

export const PROBLEM_LIMIT_CASES: BadInputCase[] = [
  {
    name: `a batch of ${ITEMS} empty items`,
    request: { method: 'POST', path: '/v1/decisions', body: items(ITEMS, () => ({})) },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid decision batch',
      paths: [
        ...Array.from({ length: 34 }, (_, i) =>
          ['useCase', 'requestId', 'input'].map((f) => `decisions[${i}].${f}`),
        )
          .flat()
          .slice(0, 100),
        '',
      ],
      problems: ['required', more(3 * ITEMS - 100)],
    }),
  },
  {
    name: `a batch of 500 items whose human decision is not a label of the plan`,
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: items(500, (i) => ({ useCase: UC, requestId: `l-${i}`, input: 0, human: { decision: 'x' } })),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'do not fit their plan',
      paths: [...itemPaths('human.decision'), ''],
      problems: [more(400)],
    }),
  },
  {
    name: `a batch of ${ITEMS} items of an unknown use case`,
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: items(ITEMS, (i) => ({ useCase: 'nope', requestId: `u-${i}`, input: 0 })),
    },
    expect: invalid(404, 'not_found', {
      paths: [...itemPaths('useCase'), ''],
      problems: ['unknown use case nope', more(ITEMS - 100)],
    }),
  },
  {
    name: `a batch repeating one request id ${ITEMS} times with different inputs`,
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: items(ITEMS, (i) => ({ useCase: UC, requestId: 'same', input: i })),
    },
    expect: invalid(409, 'conflict', {
      paths: [...Array.from({ length: 100 }, (_, i) => `decisions[${i + 1}].requestId`), ''],
      problems: ['repeats decisions[0] with a different payload', more(ITEMS - 1 - 100)],
    }),
  },
  {
    name: `a batch for ${ITEMS} use cases outside the key's scope`,
    request: {
      method: 'POST',
      path: '/v1/decisions',
      as: 'ingest-other',
      body: items(ITEMS, (i) => ({ useCase: `u-${i}`, requestId: 'r', input: 0 })),
    },
    expect: invalid(403, 'forbidden', {
      messageIncludes: `use case(s) u-0, u-1, u-2, u-3, u-4 and ${ITEMS - 5} more`,
    }),
  },
];
