import { type BadInputCase, fixturePlan, invalid, OTHER_UC, UC } from './bad-input-cases.js';

/**
 * Bad requests to the change-control routes (README "Change control"), for
 * test/integration/bad-input.test.ts. Besides the fixture of bad-input-cases.ts, the bootstrap
 * admin key has asked for `HELD_PLAN` on `other-uc` (an automatic promotion: held for a release
 * key), the fixture's first change, `HELD_CHANGE`.
 */

export const HELD_CHANGE = 1;
export const HELD_PLAN = `${fixturePlan(OTHER_UC)}    approval: automatic\n`;

const approve = (id: string | number = HELD_CHANGE) => `/v1/changes/${id}/approve`;
const reason = { reason: 'looked at the diff' };

export const CHANGE_CASES: BadInputCase[] = [
  ...(
    [
      ['zero', '0'],
      ['negative', '-1'],
      ['not a number', 'abc'],
      ['written with a leading zero', '012'],
      ['written as an exponent', '1e3'],
      ['past the largest safe integer', '9007199254740993'],
      ['of twenty digits', '99999999999999999999'],
    ] as const
  ).map(
    ([what, id]): BadInputCase => ({
      name: `a change id ${what}`,
      request: { method: 'GET', path: `/v1/changes/${id}` },
      expect: invalid(400, 'bad_request', { messageIncludes: 'invalid change id', paths: ['changeId'] }),
    }),
  ),
  {
    name: 'an unknown change',
    request: { method: 'GET', path: '/v1/changes/424242' },
    expect: invalid(404, 'not_found', { messageIncludes: 'unknown change 424242' }),
  },
  {
    name: 'a change list of zero changes',
    request: { method: 'GET', path: '/v1/changes?limit=0' },
    expect: invalid(400, 'bad_request', { paths: ['limit'] }),
  },
  {
    name: 'a change list past 200 changes',
    request: { method: 'GET', path: '/v1/changes?limit=201' },
    expect: invalid(400, 'bad_request', { paths: ['limit'] }),
  },
  {
    name: 'a change list in a state that does not exist',
    request: { method: 'GET', path: '/v1/changes?state=approved' },
    expect: invalid(400, 'bad_request', { paths: ['state'] }),
  },
  {
    name: 'a change list of a use case id that is not one',
    request: { method: 'GET', path: '/v1/changes?useCase=Not_A_Slug' },
    expect: invalid(400, 'bad_request', { paths: ['useCase'] }),
  },
  {
    name: 'a change list with an unknown query field',
    request: { method: 'GET', path: '/v1/changes?mine=true' },
    expect: invalid(400, 'bad_request', { paths: ['mine'] }),
  },
  {
    name: 'a change list without a key',
    request: { method: 'GET', path: '/v1/changes', as: 'none' },
    expect: invalid(401, 'unauthorized'),
  },
  {
    name: 'an approval without a reason',
    request: { method: 'POST', path: approve(), body: {} },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid approval', paths: ['reason'] }),
  },
  {
    name: 'an approval whose reason is too short',
    request: { method: 'POST', path: approve(), body: { reason: 'ok' } },
    expect: invalid(400, 'bad_request', { paths: ['reason'] }),
  },
  {
    name: 'an approval with an unknown field',
    request: { method: 'POST', path: approve(), body: { ...reason, skipChecks: true } },
    expect: invalid(400, 'bad_request', { paths: ['skipChecks'] }),
  },
  {
    name: 'an approval whose reason holds a terminal escape',
    request: { method: 'POST', path: approve(), body: { reason: 'fine \u001b[2J by me' } },
    expect: invalid(400, 'bad_request', { paths: ['reason'] }),
  },
  {
    name: 'an approval whose body is not JSON',
    request: { method: 'POST', path: approve(), body: '{"reason": ' },
    expect: invalid(400, 'bad_request', { messageIncludes: 'malformed JSON' }),
  },
  {
    name: 'an approval of a change id that is not one',
    request: { method: 'POST', path: approve('1.5'), body: reason },
    expect: invalid(400, 'bad_request', { paths: ['changeId'] }),
  },
  {
    name: 'an approval of an unknown change',
    request: { method: 'POST', path: approve(424242), body: reason },
    expect: invalid(404, 'not_found'),
  },
  {
    name: 'an approval by a viewer key',
    request: { method: 'POST', path: approve(), body: reason, as: 'viewer' },
    expect: invalid(403, 'forbidden'),
  },
  {
    name: 'an approval by an owner key',
    request: { method: 'POST', path: approve(), body: reason, as: 'owner-other' },
    expect: invalid(403, 'forbidden'),
  },
  {
    name: 'an approval by an ingest key',
    request: { method: 'POST', path: approve(), body: reason, as: 'ingest' },
    expect: invalid(403, 'forbidden'),
  },
  {
    name: 'an approval by the key that asked for the change',
    request: { method: 'POST', path: approve(), body: reason },
    expect: invalid(403, 'self_approval', { messageIncludes: 'another key must approve it' }),
  },
  {
    name: 'a rejection without a reason',
    request: { method: 'POST', path: `/v1/changes/${HELD_CHANGE}/reject`, body: {} },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid rejection', paths: ['reason'] }),
  },
  {
    name: 'a rejection by a viewer key',
    request: { method: 'POST', path: `/v1/changes/${HELD_CHANGE}/reject`, body: reason, as: 'viewer' },
    expect: invalid(403, 'forbidden'),
  },
  {
    name: 'a withdrawal without a reason',
    request: { method: 'POST', path: `/v1/changes/${HELD_CHANGE}/withdraw`, body: {} },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid withdrawal', paths: ['reason'] }),
  },
  {
    name: 'a withdrawal by an owner key that did not request the change',
    request: { method: 'POST', path: `/v1/changes/${HELD_CHANGE}/withdraw`, body: reason, as: 'owner-other' },
    expect: invalid(403, 'not_requester', { messageIncludes: 'only that key may withdraw it' }),
  },
  {
    name: 'a withdrawal by a viewer key',
    request: { method: 'POST', path: `/v1/changes/${HELD_CHANGE}/withdraw`, body: reason, as: 'viewer' },
    expect: invalid(403, 'forbidden'),
  },
  {
    name: 'a plan whose automatic gate has no evidence floor',
    request: {
      method: 'PUT',
      path: `/v1/use-cases/${UC}/plan`,
      body: fixturePlan(UC).replace(
        'promoteWhen: { minSamples: 500, agreementLowerBound: 0.9 }',
        'approval: automatic',
      ),
      contentType: 'application/yaml',
    },
    expect: invalid(400, 'bad_request', { messageIncludes: 'evidence floor' }),
  },
];
