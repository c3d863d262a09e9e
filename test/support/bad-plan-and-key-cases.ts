import { type BadInputCase, decision, fixturePlan, invalid, UC, UNUSED_AI_URL } from './bad-input-cases.js';

/** Plans, keys and reads, for test/integration/bad-input.test.ts (fixture: see bad-input-cases.ts). */

const putPlan = (useCase: string) => `/v1/use-cases/${useCase}/plan`;

const threeMistakes = `useCase: fresh
owner: test@example.com
decision:
  type: label
  labels: [approve]
ai:
  adapter: http
  url: ${UNUSED_AI_URL}
  timeoutMs: soon
stages:
  shadow:
    promoteWhen: { minSamples: -5 }
`;

export const PLAN_KEY_AND_READ_CASES: BadInputCase[] = [
  // Plans.
  {
    name: 'a plan that is not valid YAML',
    request: {
      method: 'PUT',
      path: putPlan('fresh'),
      contentType: 'application/yaml',
      body: 'useCase: fresh\nowner: [unclosed\ndecision: x\n',
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid rollout plan',
      paths: [''],
      problems: ['not valid YAML', '(line 3)'],
    }),
  },
  {
    name: 'a YAML plan with an unknown field',
    request: {
      method: 'PUT',
      path: putPlan('fresh'),
      contentType: 'application/yaml',
      body: `${fixturePlan('fresh')}colour: blue\n`,
    },
    expect: invalid(400, 'bad_request', {
      paths: ['colour'],
      problems: ['unknown field "colour"', `(line ${fixturePlan('fresh').split('\n').length})`],
    }),
  },
  {
    name: 'a JSON plan with a type error',
    request: {
      method: 'PUT',
      path: putPlan('fresh'),
      contentType: 'application/json',
      body: JSON.stringify({
        useCase: 'fresh',
        owner: 'test@example.com',
        humanCostPerDecision: 'cheap',
        decision: { type: 'label', labels: ['approve', 'reject'] },
        ai: { adapter: 'http', url: UNUSED_AI_URL },
      }),
    },
    expect: invalid(400, 'bad_request', {
      paths: ['humanCostPerDecision'],
      problems: ['expected a number, got string "cheap"'],
    }),
  },
  {
    name: 'a plan naming another use case than the URL',
    request: {
      method: 'PUT',
      path: putPlan('fresh'),
      contentType: 'application/yaml',
      body: fixturePlan('stale'),
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'another use case',
      paths: ['useCase'],
      problems: ['"stale"'],
    }),
  },
  {
    name: 'a use case id in the URL that is not a slug',
    request: {
      method: 'PUT',
      path: putPlan('Fresh_Plan'),
      contentType: 'application/yaml',
      body: fixturePlan('fresh'),
    },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid use case id', paths: ['id'] }),
  },
  {
    name: 'an empty plan body',
    request: { method: 'PUT', path: putPlan('fresh'), contentType: 'application/yaml', body: '  \n' },
    expect: invalid(400, 'bad_request', { messageIncludes: 'empty plan', paths: [''] }),
  },
  {
    name: 'a plan with three independent mistakes',
    request: { method: 'PUT', path: putPlan('fresh'), contentType: 'application/yaml', body: threeMistakes },
    expect: invalid(400, 'bad_request', {
      paths: ['decision.labels', 'ai.timeoutMs', 'stages.shadow.promoteWhen.minSamples'],
      problems: [
        'at least 2 items, got 1 (line 5)',
        'got string "soon" (line 9)',
        'at least 0, got -5 (line 12)',
      ],
    }),
  },
  {
    name: 'a plan over the body limit',
    request: {
      method: 'PUT',
      path: putPlan('fresh'),
      contentType: 'application/yaml',
      body: `${fixturePlan('fresh')}# ${'x'.repeat(70_000)}\n`,
    },
    expect: invalid(413, 'payload_too_large'),
  },
  // Keys and roles.
  {
    name: 'no Authorization header',
    request: { method: 'POST', path: '/v1/decisions', as: 'none', body: decision('r-1') },
    expect: invalid(401, 'unauthorized', { messageIncludes: 'missing Authorization' }),
  },
  {
    name: 'a malformed Authorization header',
    request: {
      method: 'POST',
      path: '/v1/decisions',
      headers: { Authorization: 'Basic dXNlcjpwdw==' },
      body: decision('r-1'),
    },
    expect: invalid(401, 'unauthorized', { messageIncludes: 'malformed Authorization' }),
  },
  {
    name: 'an unknown key',
    request: {
      method: 'PUT',
      path: putPlan('fresh'),
      headers: { Authorization: 'Bearer sg_000000000000_notakeyatall' },
      contentType: 'application/yaml',
      body: fixturePlan('fresh'),
    },
    expect: invalid(401, 'unauthorized', { messageIncludes: 'unknown or revoked' }),
  },
  {
    name: 'an ingest key applying a plan',
    request: {
      method: 'PUT',
      path: putPlan('fresh'),
      as: 'ingest',
      contentType: 'application/yaml',
      body: fixturePlan('fresh'),
    },
    expect: invalid(403, 'forbidden', { messageIncludes: 'role ingest may not apply plan' }),
  },
  {
    name: 'a viewer key ingesting',
    request: { method: 'POST', path: '/v1/decisions', as: 'viewer', body: decision('r-1') },
    expect: invalid(403, 'forbidden', { messageIncludes: 'role viewer may not ingest' }),
  },
  {
    name: 'a viewer key creating a key',
    request: { method: 'POST', path: '/v1/keys', as: 'viewer', body: { name: 'sneaky', role: 'admin' } },
    expect: invalid(403, 'forbidden'),
  },
  {
    name: 'an ingest key scoped to another use case',
    request: { method: 'POST', path: '/v1/decisions', as: 'ingest-other', body: decision('r-1') },
    expect: invalid(403, 'forbidden', { messageIncludes: UC }),
  },
  {
    name: 'an owner key scoped to another use case applying a plan',
    request: {
      method: 'PUT',
      path: putPlan(UC),
      as: 'owner-other',
      contentType: 'application/yaml',
      body: `${fixturePlan(UC)}# v2\n`,
    },
    expect: invalid(403, 'forbidden', { messageIncludes: `not scoped to use case ${UC}` }),
  },
  {
    name: 'a key with an unknown role',
    request: { method: 'POST', path: '/v1/keys', body: { name: 'root', role: 'superuser' } },
    expect: invalid(400, 'bad_request', { paths: ['role'], problems: ['got "superuser"'] }),
  },
  // Reads.
  {
    name: 'metrics with a from that is not a date',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/metrics?from=yesterday` },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid metrics query',
      paths: ['from'],
      problems: ['a date and time'],
    }),
  },
  {
    name: 'metrics with an unknown stage',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/metrics?stage=production` },
    expect: invalid(400, 'bad_request', { paths: ['stage'], problems: ['got "production"'] }),
  },
  {
    name: 'metrics with a segment without a value',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/metrics?segment=region` },
    expect: invalid(400, 'bad_request', { paths: ['segment'], problems: ['NAME:VALUE'] }),
  },
  {
    name: 'metrics of an unknown use case',
    request: { method: 'GET', path: '/v1/use-cases/ghost/metrics' },
    expect: invalid(404, 'not_found', { messageIncludes: 'unknown use case ghost' }),
  },
];
