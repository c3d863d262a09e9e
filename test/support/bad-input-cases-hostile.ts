import { MAX_JSON_DEPTH } from '../../src/contracts/storable-json.js';
import { type BadInputCase, decision, invalid, UC } from './bad-input-cases.js';

/**
 * Hostile decisions for test/integration/bad-input.test.ts (fixture: see bad-input-cases.ts):
 * bodies nested 10,000 levels deep, numbers JSON cannot hold or the API does not allow,
 * injection-looking ids, text PostgreSQL cannot store (NUL, unpaired surrogates), broken
 * percent-encoding. Release, key and read routes: bad-input-cases-hostile-routes.ts.
 *
 * Decided here: nesting past MAX_JSON_DEPTH is a 400 (the body is within the size limit; its
 * shape is what is refused), a 413 stays for bodies over the limit. Printable request ids are
 * opaque data (ACCEPTED_AS_DATA, in bad-input-cases-hostile-routes.ts); use case ids are slugs,
 * so anything else there is a 400.
 */

const LEVELS = 10_000;
const deepArray = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const raw = (json: string) => json;
const human = (requestId: string) => `/v1/decisions/${UC}/${requestId}/human`;
const DEPTH = `nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`;
const NUL = 'contains a NUL character (\\u0000), which cannot be stored';
const SURROGATE = 'contains an unpaired UTF-16 surrogate, which is not valid Unicode';
/** Refused wherever a body is read: validation would drop such a field, not keep it as data. */
export const PROTO = 'field name "__proto__" is not accepted';

export const HOSTILE_DECISION_CASES: BadInputCase[] = [
  // Nesting: refused before validation, whose recursion would overflow the stack.
  {
    name: `an input of arrays nested ${LEVELS} levels deep`,
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"deep-1","input":${deepArray(LEVELS)}}`),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: `invalid decision: input[0][0] ${DEPTH}`,
      paths: ['input[0][0]'],
    }),
  },
  {
    name: `an input of objects nested ${LEVELS} levels deep`,
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"deep-2","input":${deepObject(LEVELS)}}`),
    },
    expect: invalid(400, 'bad_request', { paths: ['input.a.a'], problems: [DEPTH] }),
  },
  {
    name: `a batch whose second item nests ${LEVELS} levels deep`,
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(
        `{"decisions":[${JSON.stringify(decision('ok-1'))},{"useCase":"${UC}","requestId":"deep-3","input":${deepArray(LEVELS)}}]}`,
      ),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid decision batch',
      paths: ['decisions[1].input'],
      problems: [DEPTH],
    }),
  },
  {
    name: 'an input nested 100,000 levels deep, over the body limit',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"deep-4","input":${deepArray(100_000)}}`),
    },
    expect: invalid(413, 'payload_too_large'),
  },
  // Numbers.
  {
    name: 'an input of 1e999 (Infinity once parsed)',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"n-1","input":1e999}`),
    },
    expect: invalid(400, 'bad_request', { paths: ['input'], problems: ['got number Infinity'] }),
  },
  {
    name: 'a handlingMs of 1e999',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(
        `{"useCase":"${UC}","requestId":"n-2","input":1,"human":{"decision":"approve","handlingMs":1e999}}`,
      ),
    },
    expect: invalid(400, 'bad_request', { paths: ['human.handlingMs'], problems: ['got number Infinity'] }),
  },
  {
    name: 'a handlingMs of 1e20',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('n-3', { human: { decision: 'approve', handlingMs: 1e20 } }),
    },
    expect: invalid(400, 'bad_request', {
      paths: ['human.handlingMs', 'human.handlingMs'],
      problems: ['expected at most 2147483647, got 100000000000000000000'],
    }),
  },
  {
    name: 'a handlingMs of 2^31, past what a handling time is stored as',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('n-6', { human: { decision: 'approve', handlingMs: 2 ** 31 } }),
    },
    expect: invalid(400, 'bad_request', {
      paths: ['human.handlingMs'],
      problems: ['expected at most 2147483647, got 2147483648'],
    }),
  },
  {
    name: 'a late human decision whose handlingMs is 2^31 + 1',
    request: {
      method: 'POST',
      path: human('seed-1'),
      body: { decision: 'approve', handlingMs: 2 ** 31 + 1 },
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid human decision',
      paths: ['handlingMs'],
      problems: ['expected at most 2147483647, got 2147483649'],
    }),
  },
  {
    name: 'a handlingMs given as a string',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('n-4', { human: { decision: 'approve', handlingMs: '1500' } }),
    },
    expect: invalid(400, 'bad_request', {
      paths: ['human.handlingMs'],
      problems: ['expected a number, got string "1500"'],
    }),
  },
  {
    name: 'a handlingMs with a fraction',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('n-5', { human: { decision: 'approve', handlingMs: 1.5 } }),
    },
    expect: invalid(400, 'bad_request', { paths: ['human.handlingMs'], problems: ['an integer'] }),
  },
  {
    name: 'a NaN literal, which JSON does not have',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"n-6","input":NaN}`),
    },
    expect: invalid(400, 'bad_request', { messageIncludes: 'malformed JSON', paths: [''] }),
  },
  // Ids that look like attacks: a use case id is a slug, so each is refused with its path.
  {
    name: 'a use case id holding SQL',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('r-1', { useCase: "inv'; drop table decisions; --" }),
    },
    expect: invalid(400, 'bad_request', {
      paths: ['useCase'],
      problems: [`got "inv'; drop table decisions; --"`],
    }),
  },
  {
    name: 'a use case id holding a script tag',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { useCase: '<script>' }) },
    expect: invalid(400, 'bad_request', { paths: ['useCase'], problems: ['got "<script>"'] }),
  },
  {
    name: 'a use case id that is a path traversal',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('r-1', { useCase: '../../etc/passwd' }),
    },
    expect: invalid(400, 'bad_request', { paths: ['useCase'] }),
  },
  {
    name: 'a use case id with a Cyrillic lookalike letter (іnv)',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { useCase: '\u0456nv' }) },
    expect: invalid(400, 'bad_request', { paths: ['useCase'], problems: ['got "\u0456nv"'] }),
  },
  {
    name: 'a use case id of 65 characters',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { useCase: 'a'.repeat(65) }) },
    expect: invalid(400, 'bad_request', { paths: ['useCase'], problems: ['at most 64 characters'] }),
  },
  {
    name: 'a requestId of 10,000 characters',
    request: { method: 'POST', path: '/v1/decisions', body: decision('x'.repeat(10_000)) },
    expect: invalid(400, 'bad_request', {
      paths: ['requestId'],
      problems: ['expected at most 200 characters, got 10000 characters'],
    }),
  },
  {
    name: 'a requestId with a NUL character',
    request: { method: 'POST', path: '/v1/decisions', body: decision('abc\u0000def') },
    expect: invalid(400, 'bad_request', { paths: ['requestId'], problems: [NUL] }),
  },
  {
    name: 'a requestId with CRLF',
    request: { method: 'POST', path: '/v1/decisions', body: decision('abc\r\nSet-Cookie: x=1') },
    expect: invalid(400, 'bad_request', { paths: ['requestId'], problems: ['printable characters only'] }),
  },
  {
    name: 'a requestId with an unpaired surrogate',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"sur-\\ud800","input":1}`),
    },
    expect: invalid(400, 'bad_request', { paths: ['requestId'], problems: [SURROGATE] }),
  },
  // Text PostgreSQL cannot store, wherever it hides.
  {
    name: 'an input holding a NUL character',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('t-1', { input: { note: 'a\u0000b' } }),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'input.note',
      paths: ['input.note'],
      problems: [NUL],
    }),
  },
  {
    name: 'an input whose field name holds a NUL character',
    request: { method: 'POST', path: '/v1/decisions', body: decision('t-2', { input: { 'a\u0000': 1 } }) },
    expect: invalid(400, 'bad_request', { paths: ['input["a\\u0000"]'], problems: [`field name ${NUL}`] }),
  },
  {
    name: 'an input holding an unpaired surrogate',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"t-3","input":{"note":"\\udc00x"}}`),
    },
    expect: invalid(400, 'bad_request', { paths: ['input.note'], problems: [SURROGATE] }),
  },
  {
    name: 'a context value holding a NUL character',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('t-4', { context: { region: 'E\u0000U' } }),
    },
    expect: invalid(400, 'bad_request', { paths: ['context.region'], problems: [NUL] }),
  },
  {
    name: 'a decidedBy holding a NUL character',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('t-5', { human: { decision: 'approve', decidedBy: 'clerk\u0000' } }),
    },
    expect: invalid(400, 'bad_request', { paths: ['human.decidedBy'], problems: [NUL] }),
  },
  // Fields and shapes.
  {
    name: 'a __proto__ field beside the decision',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"p-1","input":1,"__proto__":{"polluted":true}}`),
    },
    expect: invalid(400, 'bad_request', { paths: ['__proto__'], problems: [PROTO] }),
  },
  {
    name: 'a __proto__ field in the input',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"p-3","input":{"amount":1,"__proto__":{"polluted":true}}}`),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid decision: input.__proto__ field name "__proto__"',
      paths: ['input.__proto__'],
      problems: [PROTO],
    }),
  },
  {
    name: 'a batch whose second item has a __proto__ field deep in its input',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(
        `{"decisions":[${JSON.stringify(decision('p-4'))},{"useCase":"${UC}","requestId":"p-5","input":{"lines":[{"__proto__":{"qty":1}}]}}]}`,
      ),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid decision batch',
      paths: ['decisions[1].input.lines[0].__proto__'],
      problems: [PROTO],
    }),
  },
  {
    name: 'a __proto__ field in the context',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: raw(`{"useCase":"${UC}","requestId":"p-6","input":1,"context":{"__proto__":"EU"}}`),
    },
    expect: invalid(400, 'bad_request', { paths: ['context.__proto__'], problems: [PROTO] }),
  },
  {
    name: 'a constructor field beside the decision',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('p-2', { constructor: { prototype: 1 } }),
    },
    expect: invalid(400, 'bad_request', { paths: ['constructor'] }),
  },
  {
    name: 'a context of 65 fields',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('c-1', {
        context: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i])),
      }),
    },
    expect: invalid(400, 'bad_request', { paths: ['context'], problems: ['at most 64 context fields'] }),
  },
  {
    name: 'a context value of 1,001 characters',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('c-2', { context: { note: 'x'.repeat(1001) } }),
    },
    expect: invalid(400, 'bad_request', { paths: ['context.note'] }),
  },
  {
    name: 'a useCase given as an array',
    request: { method: 'POST', path: '/v1/decisions', body: decision('c-3', { useCase: [UC] }) },
    expect: invalid(400, 'bad_request', {
      paths: ['useCase'],
      problems: ['expected a string, got an array of 1 item'],
    }),
  },
  {
    name: 'a batch whose decisions is an object',
    request: { method: 'POST', path: '/v1/decisions', body: { decisions: { 0: decision('b-1') } } },
    expect: invalid(400, 'bad_request', {
      paths: ['decisions'],
      problems: ['expected an array, got an object'],
    }),
  },
  {
    name: 'a batch whose item is a string',
    request: { method: 'POST', path: '/v1/decisions', body: { decisions: ['inv/r-1'] } },
    expect: invalid(400, 'bad_request', { paths: ['decisions[0]'], problems: ['expected an object'] }),
  },
  {
    name: 'a decision sent as text/plain',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      contentType: 'text/plain',
      body: JSON.stringify(decision('r-1')),
    },
    expect: invalid(400, 'bad_request', { messageIncludes: 'expected a JSON object', paths: [''] }),
  },
  {
    name: 'a JSON body in a charset the parser does not read',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      contentType: 'application/json; charset=latin1',
      body: JSON.stringify(decision('r-1')),
    },
    expect: invalid(415, 'bad_request', { messageIncludes: 'unsupported charset' }),
  },
  // Late human decisions: the request id comes from the address.
  {
    name: 'a late human decision whose address holds %00',
    request: { method: 'POST', path: human('a%00b'), body: { decision: 'approve' } },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid request id', paths: ['requestId'] }),
  },
  {
    name: 'a late human decision whose address holds %0D%0A',
    request: { method: 'POST', path: human('a%0D%0ASet-Cookie:%20x'), body: { decision: 'approve' } },
    expect: invalid(400, 'bad_request', { paths: ['requestId'], problems: ['printable characters only'] }),
  },
  {
    name: 'a late human decision whose address is broken percent-encoding',
    request: { method: 'POST', path: human('%E0%A4%A'), body: { decision: 'approve' } },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'malformed address',
      paths: [''],
      problems: ['not valid percent-encoded UTF-8'],
    }),
  },
  {
    name: 'a late human decision whose address encodes an unpaired surrogate',
    request: { method: 'POST', path: human('%ED%A0%80'), body: { decision: 'approve' } },
    expect: invalid(400, 'bad_request', { messageIncludes: 'malformed address' }),
  },
  {
    name: 'a late human decision whose request id in the address has 201 characters',
    request: { method: 'POST', path: human('r'.repeat(201)), body: { decision: 'approve' } },
    expect: invalid(400, 'bad_request', { paths: ['requestId'] }),
  },
  {
    name: 'a late human decision that is an object where a label is expected',
    request: { method: 'POST', path: human('seed-1'), body: { decision: { label: 'approve' } } },
    expect: invalid(400, 'bad_request', { paths: ['decision'], problems: ['got an object'] }),
  },
  {
    name: 'a late human decision with an unknown field',
    request: { method: 'POST', path: human('seed-1'), body: { decision: 'approve', approvedBy: 'boss' } },
    expect: invalid(400, 'bad_request', { paths: ['approvedBy'] }),
  },
  {
    name: 'a late human decision whose decidedBy has 201 characters',
    request: {
      method: 'POST',
      path: human('seed-1'),
      body: { decision: 'approve', decidedBy: 'c'.repeat(201) },
    },
    expect: invalid(400, 'bad_request', { paths: ['decidedBy'], problems: ['at most 200 characters'] }),
  },
  {
    name: 'a late human decision with a __proto__ field',
    request: {
      method: 'POST',
      path: human('seed-1'),
      body: raw('{"decision":"approve","__proto__":{"decidedBy":"boss"}}'),
    },
    expect: invalid(400, 'bad_request', { paths: ['__proto__'], problems: [PROTO] }),
  },
  // Suggestions.
  {
    name: 'a suggestion request with a numeric requestId and no input',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/suggest`, body: { requestId: 7 } },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid suggestion request',
      paths: ['requestId', 'input'],
    }),
  },
  {
    name: 'a suggestion request whose input holds a NUL character',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/suggest`,
      body: { requestId: 's-1', input: 'a\u0000' },
    },
    expect: invalid(400, 'bad_request', { paths: ['input'], problems: [NUL] }),
  },
  {
    name: 'a suggestion request whose input holds a __proto__ field',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/suggest`,
      body: raw('{"requestId":"s-2","input":{"__proto__":{"amount":1}}}'),
    },
    expect: invalid(400, 'bad_request', { paths: ['input.__proto__'], problems: [PROTO] }),
  },
];
