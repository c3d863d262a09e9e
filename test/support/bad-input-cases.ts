import { labelPlan } from './test-controller.js';

/**
 * Malformed requests, one entry each, for test/integration/bad-input.test.ts: the case type, the
 * fixture, and the decision cases (plans, keys and reads are in bad-plan-and-key-cases.ts).
 * The fixture they run against: use cases `inv` and `other-uc` (labels approve, reject,
 * escalate; nothing mirrored to the AI), decision `seed-1` without a human decision and
 * `seed-2` with the human decision `approve`, and the keys named in `KeyName` (`revoked` was
 * created and revoked).
 */

export const UC = 'inv';
export const OTHER_UC = 'other-uc';
/** Never called: the fixture's plans mirror nothing (`sampleRate: 0`). */
export const UNUSED_AI_URL = 'http://127.0.0.1:9/decide';
/** The fixture's body limit (64 KiB). */
export const BODY_LIMIT = 64 * 1024;

/** Who sends the request; `none` sends no Authorization header. */
export type KeyName = 'admin' | 'ingest' | 'viewer' | 'ingest-other' | 'owner-other' | 'revoked' | 'none';

export interface BadInputCase {
  name: string;
  request: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    path: string;
    /** Default `admin`. */
    as?: KeyName;
    /** Sent as they are; an Authorization header here replaces the key's. */
    headers?: Record<string, string>;
    /** A string is sent verbatim (content type `application/json` unless `contentType` says else). */
    body?: unknown;
    contentType?: string;
  };
  expect: {
    status: number;
    error: string;
    messageIncludes?: string;
    /** The paths of `details`, exactly, in order. */
    paths?: string[];
    /** Each is part of some detail's `problem`. */
    problems?: string[];
  };
}

export function fixturePlan(useCase: string): string {
  return labelPlan(useCase, UNUSED_AI_URL, '    sampleRate: 0\n');
}

export const decision = (requestId: string, extra: Record<string, unknown> = {}) => ({
  useCase: UC,
  requestId,
  input: { amount: 10 },
  ...extra,
});

const batchOf = (n: number) => ({
  decisions: Array.from({ length: n }, (_, i) => ({ useCase: UC, requestId: `b-${i}`, input: i })),
});

export const invalid = (
  status: number,
  error: string,
  rest: Omit<BadInputCase['expect'], 'status' | 'error'> = {},
) => ({
  status,
  error,
  ...rest,
});

/** Decisions, batches and late human decisions. */
export const DECISION_CASES: BadInputCase[] = [
  // Bodies that are not a decision at all.
  {
    name: 'a malformed JSON body',
    request: { method: 'POST', path: '/v1/decisions', body: '{"useCase": "inv", "requestId":' },
    expect: invalid(400, 'bad_request', { messageIncludes: 'malformed JSON', paths: [''] }),
  },
  {
    name: 'a body that is an array, not an object',
    request: { method: 'POST', path: '/v1/decisions', body: '[1, 2]' },
    expect: invalid(400, 'bad_request', { messageIncludes: 'expected a JSON object', paths: [''] }),
  },
  {
    name: 'a body that is a JSON string',
    request: { method: 'POST', path: '/v1/decisions', body: '"approve"' },
    expect: invalid(400, 'bad_request', { messageIncludes: 'expected a JSON object', paths: [''] }),
  },
  {
    name: 'a body over the limit',
    request: { method: 'POST', path: '/v1/decisions', body: decision('huge', { input: 'x'.repeat(70_000) }) },
    expect: invalid(413, 'payload_too_large', { messageIncludes: `${BODY_LIMIT} bytes` }),
  },
  // One decision, missing or mistyped fields.
  {
    name: 'a decision without useCase',
    request: { method: 'POST', path: '/v1/decisions', body: { requestId: 'r-1', input: {} } },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid decision', paths: ['useCase'] }),
  },
  {
    name: 'a decision without requestId',
    request: { method: 'POST', path: '/v1/decisions', body: { useCase: UC, input: {} } },
    expect: invalid(400, 'bad_request', { paths: ['requestId'], problems: ['required'] }),
  },
  {
    name: 'a decision without input',
    request: { method: 'POST', path: '/v1/decisions', body: { useCase: UC, requestId: 'r-1' } },
    expect: invalid(400, 'bad_request', { paths: ['input'], problems: ['required'] }),
  },
  {
    name: 'a requestId that is a number',
    request: { method: 'POST', path: '/v1/decisions', body: decision('x', { requestId: 42 }) },
    expect: invalid(400, 'bad_request', {
      paths: ['requestId'],
      problems: ['expected a string, got number 42'],
    }),
  },
  {
    name: 'a requestId with a control character',
    request: { method: 'POST', path: '/v1/decisions', body: decision('abc\u0007def') },
    expect: invalid(400, 'bad_request', { paths: ['requestId'], problems: ['printable characters only'] }),
  },
  {
    name: 'a use case id that is not a slug',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { useCase: 'Invoice Triage' }) },
    expect: invalid(400, 'bad_request', { paths: ['useCase'], problems: ['lowercase letters'] }),
  },
  {
    name: 'a context that is a string',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { context: 'EU' }) },
    expect: invalid(400, 'bad_request', { paths: ['context'], problems: ['expected an object'] }),
  },
  {
    name: 'a context holding a nested object',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('r-1', { context: { region: { eu: true } } }),
    },
    expect: invalid(400, 'bad_request', { paths: ['context.region'] }),
  },
  {
    name: 'a negative handlingMs',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('r-1', { human: { decision: 'approve', handlingMs: -5 } }),
    },
    expect: invalid(400, 'bad_request', { paths: ['human.handlingMs'], problems: ['-5'] }),
  },
  {
    name: 'an unknown top-level field in a decision',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { priority: 'high' }) },
    expect: invalid(400, 'bad_request', { paths: ['priority'], problems: ['unknown field "priority"'] }),
  },
  {
    name: 'a null human decision',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { human: { decision: null } }) },
    expect: invalid(400, 'bad_request', { paths: ['human.decision'] }),
  },
  {
    name: 'a human decision with an unknown label',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: decision('r-1', { human: { decision: 'aprove' } }),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'do not fit their plan',
      paths: ['human.decision'],
      problems: ['expected one of approve, reject, escalate, got "aprove"'],
    }),
  },
  // Batches.
  {
    name: 'a batch of 1001 decisions',
    request: { method: 'POST', path: '/v1/decisions', body: batchOf(1001) },
    expect: invalid(400, 'bad_request', { paths: ['decisions'], problems: ['at most 1000 items, got 1001'] }),
  },
  {
    name: 'an empty batch',
    request: { method: 'POST', path: '/v1/decisions', body: { decisions: [] } },
    expect: invalid(400, 'bad_request', { paths: ['decisions'], problems: ['at least 1 item, got 0'] }),
  },
  {
    name: 'a batch of 3 whose second item lacks a requestId',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: { decisions: [decision('ok-1'), { useCase: UC, input: 1 }, decision('ok-3')] },
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid decision batch',
      paths: ['decisions[1].requestId'],
    }),
  },
  {
    name: 'a batch of 3 whose third item has an unknown label',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: {
        decisions: [
          decision('ok-1', { human: { decision: 'approve' } }),
          decision('ok-2'),
          decision('ok-3', { human: { decision: 'maybe' } }),
        ],
      },
    },
    expect: invalid(400, 'bad_request', {
      paths: ['decisions[2].human.decision'],
      problems: ['got "maybe"'],
    }),
  },
  {
    name: 'a batch with an unknown field beside decisions',
    request: { method: 'POST', path: '/v1/decisions', body: { decisions: [decision('ok-1')], dryRun: true } },
    expect: invalid(400, 'bad_request', { paths: ['dryRun'] }),
  },
  {
    name: 'a batch with an unknown use case in its second item',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: { decisions: [decision('ok-1'), decision('ok-2', { useCase: 'ghost' })] },
    },
    expect: invalid(404, 'not_found', {
      paths: ['decisions[1].useCase'],
      problems: ['unknown use case ghost'],
    }),
  },
  {
    name: 'a batch repeating a requestId with another input',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: { decisions: [decision('twice'), decision('twice', { input: { amount: 11 } })] },
    },
    expect: invalid(409, 'conflict', {
      paths: ['decisions[1].requestId'],
      problems: ['repeats decisions[0]'],
    }),
  },
  {
    name: 'a batch whose second item conflicts with a stored decision',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      body: { decisions: [decision('ok-1'), decision('seed-1', { input: { amount: 99 } })] },
    },
    expect: invalid(409, 'conflict', {
      messageIncludes: 'nothing in this request was stored',
      paths: ['decisions[1].requestId'],
    }),
  },
  // Conflicts and unknown targets.
  {
    name: 'a conflicting duplicate: a stored requestId with another input',
    request: { method: 'POST', path: '/v1/decisions', body: decision('seed-1', { input: { amount: 11 } }) },
    expect: invalid(409, 'conflict', { paths: ['requestId'], problems: ['different input'] }),
  },
  {
    name: 'a decision for an unknown use case',
    request: { method: 'POST', path: '/v1/decisions', body: decision('r-1', { useCase: 'ghost' }) },
    expect: invalid(404, 'not_found', { messageIncludes: 'unknown use case', paths: ['useCase'] }),
  },
  {
    name: 'a late human decision for an unknown request',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/never-mirrored/human`,
      body: { decision: 'approve' },
    },
    expect: invalid(404, 'not_found', { messageIncludes: 'no decision never-mirrored' }),
  },
  {
    name: 'a late human decision for an unknown use case',
    request: { method: 'POST', path: '/v1/decisions/ghost/seed-1/human', body: { decision: 'approve' } },
    expect: invalid(404, 'not_found', { messageIncludes: 'unknown use case ghost' }),
  },
  {
    name: 'a conflicting late human decision',
    request: { method: 'POST', path: `/v1/decisions/${UC}/seed-2/human`, body: { decision: 'reject' } },
    expect: invalid(409, 'conflict', { paths: ['decision'], problems: ['already recorded as "approve"'] }),
  },
  {
    name: 'a late human decision with an unknown label',
    request: { method: 'POST', path: `/v1/decisions/${UC}/seed-1/human`, body: { decision: 'Approve' } },
    expect: invalid(400, 'bad_request', { paths: ['decision'], problems: ['got "Approve"'] }),
  },
  {
    name: 'a late human decision without a decision',
    request: { method: 'POST', path: `/v1/decisions/${UC}/seed-1/human`, body: { decidedBy: 'clerk-1' } },
    expect: invalid(400, 'bad_request', { paths: ['decision'], problems: ['required'] }),
  },
  {
    name: 'a late human decision with a control character in the request id',
    request: { method: 'POST', path: `/v1/decisions/${UC}/a%07b/human`, body: { decision: 'approve' } },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid request id', paths: ['requestId'] }),
  },
  {
    name: 'a rating without acceptable',
    request: { method: 'POST', path: `/v1/decisions/${UC}/seed-2/rating`, body: { by: 'agent-1' } },
    expect: invalid(400, 'bad_request', { paths: ['acceptable'] }),
  },
  {
    name: 'a rating whose acceptable is not a boolean',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/seed-2/rating`,
      body: { acceptable: 'yes', by: 'agent-1' },
    },
    expect: invalid(400, 'bad_request', { paths: ['acceptable'] }),
  },
  {
    name: 'a rating by no one',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/seed-2/rating`,
      body: { acceptable: true, by: '' },
    },
    expect: invalid(400, 'bad_request', { paths: ['by'] }),
  },
  {
    name: 'a rating by a name past 200 characters',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/seed-2/rating`,
      body: { acceptable: true, by: 'x'.repeat(201) },
    },
    expect: invalid(400, 'bad_request', { paths: ['by'] }),
  },
  {
    name: 'a rating by a name with a terminal escape',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/seed-2/rating`,
      body: { acceptable: true, by: 'agent\u001b[31m-1' },
    },
    expect: invalid(400, 'bad_request', { paths: ['by'], problems: ['control character U+001B'] }),
  },
  {
    name: 'a rating with a field the wire does not have',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/seed-2/rating`,
      body: { acceptable: true, by: 'agent-1', score: 1 },
    },
    expect: invalid(400, 'bad_request', { problems: ['score'] }),
  },
  {
    name: 'a rating of an unknown request',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/never-mirrored/rating`,
      body: { acceptable: true, by: 'agent-1' },
    },
    expect: invalid(404, 'not_found', { messageIncludes: 'no decision never-mirrored' }),
  },
  {
    name: 'a rating in an unknown use case',
    request: {
      method: 'POST',
      path: '/v1/decisions/ghost/seed-2/rating',
      body: { acceptable: true, by: 'a' },
    },
    expect: invalid(404, 'not_found', { messageIncludes: 'unknown use case ghost' }),
  },
  {
    name: 'a rating of a decision whose plan has no judge',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/seed-2/rating`,
      body: { acceptable: true, by: 'a' },
    },
    expect: invalid(409, 'not_judged', { messageIncludes: 'not a judge' }),
  },
  {
    name: 'a rating by a key of another use case',
    request: {
      method: 'POST',
      path: `/v1/decisions/${UC}/seed-2/rating`,
      as: 'ingest-other',
      body: { acceptable: true, by: 'a' },
    },
    expect: invalid(403, 'forbidden'),
  },
];
