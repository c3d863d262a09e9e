import { type BadInputCase, decision, invalid, UC } from './bad-input-cases.js';
import { PROTO } from './bad-input-cases-hostile.js';

/**
 * Hostile requests to the release, key and read routes, for test/integration/bad-input.test.ts
 * (fixture: see bad-input-cases.ts), and the injection-looking request ids that are accepted as
 * the opaque data they are.
 */

const NUL = 'contains a NUL character (\\u0000), which cannot be stored';

export const HOSTILE_RELEASE_KEY_AND_READ_CASES: BadInputCase[] = [
  // Release actions.
  {
    name: 'a promotion whose reason is too short',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/promote`, body: { reason: 'go' } },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid promotion', paths: ['reason'] }),
  },
  {
    name: 'a promotion without a body',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/promote` },
    expect: invalid(400, 'bad_request', { paths: ['reason'], problems: ['required'] }),
  },
  {
    name: 'a promotion with force given as "yes"',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/promote`,
      body: { reason: 'ship it', force: 'yes' },
    },
    expect: invalid(400, 'bad_request', {
      paths: ['force'],
      problems: ['expected true or false, got string "yes"'],
    }),
  },
  {
    name: 'a promotion with an unknown field',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/promote`,
      body: { reason: 'ship it', skipGate: true },
    },
    expect: invalid(400, 'bad_request', { paths: ['skipGate'] }),
  },
  {
    name: 'a promotion with a script in its reason, of an unknown use case',
    request: {
      method: 'POST',
      path: '/v1/use-cases/ghost/promote',
      body: { reason: '<script>alert(1)</script>' },
    },
    expect: invalid(404, 'not_found', { messageIncludes: 'unknown use case ghost' }),
  },
  {
    name: 'a rollback to a stage that does not exist',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/rollback`, body: { reason: 'bad', to: 'nowhere' } },
    expect: invalid(400, 'bad_request', { paths: ['to'], problems: ['got "nowhere"'] }),
  },
  {
    name: 'a rollback from shadow, the first stage',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/rollback`, body: { reason: 'revert it' } },
    expect: invalid(409, 'conflict', { messageIncludes: 'no earlier stage' }),
  },
  {
    name: 'a kill switch whose reason holds a NUL character',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/disable`, body: { reason: 'stop\u0000now' } },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid disable',
      paths: ['reason'],
      problems: [NUL],
    }),
  },
  {
    name: 'a promotion whose reason holds a clipboard write (OSC 52)',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/promote`,
      body: { reason: 'ship it \u001b]52;c;ZWNobw==\u0007', force: true },
    },
    expect: invalid(400, 'bad_request', {
      paths: ['reason'],
      problems: ['contains the control character U+001B at position 8'],
    }),
  },
  {
    name: 'a rollback whose reason holds a right-to-left override',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/rollback`,
      body: { reason: 'revert \u202edetaler' },
    },
    expect: invalid(400, 'bad_request', {
      paths: ['reason'],
      problems: ['contains the control character U+202E at position 7'],
    }),
  },
  {
    name: 'an enable whose reason holds a C1 control sequence introducer',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/enable`, body: { reason: 'back \u009b2J' } },
    expect: invalid(400, 'bad_request', {
      paths: ['reason'],
      problems: ['contains the control character U+009B at position 5'],
    }),
  },
  // Keys.
  {
    name: 'a key whose name holds a NUL character',
    request: { method: 'POST', path: '/v1/keys', body: { name: 'ci\u0000', role: 'viewer' } },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid key', paths: ['name'], problems: [NUL] }),
  },
  {
    name: 'a key whose name holds a cursor movement (CSI)',
    request: { method: 'POST', path: '/v1/keys', body: { name: 'ci\u001b[1A', role: 'viewer' } },
    expect: invalid(400, 'bad_request', {
      paths: ['name'],
      problems: ['contains the control character U+001B at position 2: only printable text'],
    }),
  },
  {
    name: 'a key whose name holds a line break',
    request: { method: 'POST', path: '/v1/keys', body: { name: 'ci\nadmin', role: 'viewer' } },
    expect: invalid(400, 'bad_request', { paths: ['name'], problems: ['U+000A'] }),
  },
  {
    name: 'a key scoped to a path traversal',
    request: {
      method: 'POST',
      path: '/v1/keys',
      body: { name: 'ci', role: 'viewer', useCases: ['../../etc'] },
    },
    expect: invalid(400, 'bad_request', { paths: ['useCases[0]'] }),
  },
  {
    name: 'a key scoped to an empty list',
    request: { method: 'POST', path: '/v1/keys', body: { name: 'ci', role: 'viewer', useCases: [] } },
    expect: invalid(400, 'bad_request', { paths: ['useCases'], problems: ['at least 1 item, got 0'] }),
  },
  {
    name: 'a key whose role is a number',
    request: { method: 'POST', path: '/v1/keys', body: { name: 'ci', role: 4 } },
    expect: invalid(400, 'bad_request', { paths: ['role'] }),
  },
  {
    name: 'a key name of 1,000 characters',
    request: { method: 'POST', path: '/v1/keys', body: { name: 'n'.repeat(1000), role: 'viewer' } },
    expect: invalid(400, 'bad_request', { paths: ['name'], problems: ['at most 100 characters'] }),
  },
  {
    name: 'revoking a key whose id holds SQL',
    request: { method: 'DELETE', path: "/v1/keys/'%3B%20delete%20from%20api_keys%3B--" },
    expect: invalid(404, 'not_found', { messageIncludes: "no active key '; delete from api_keys;--" }),
  },
  {
    name: 'revoking a key whose id holds %00',
    request: { method: 'DELETE', path: '/v1/keys/ab%00cd' },
    expect: invalid(400, 'bad_request', { messageIncludes: 'cannot be stored' }),
  },
  {
    name: 'a key with a __proto__ field that names a role',
    request: {
      method: 'POST',
      path: '/v1/keys',
      body: '{"name":"ci","role":"viewer","__proto__":{"role":"admin"}}',
    },
    expect: invalid(400, 'bad_request', {
      messageIncludes: 'invalid key',
      paths: ['__proto__'],
      problems: [PROTO],
    }),
  },
  {
    name: 'a revoked key',
    request: { method: 'POST', path: '/v1/decisions', as: 'revoked', body: decision('r-1') },
    expect: invalid(401, 'unauthorized', { messageIncludes: 'unknown or revoked' }),
  },
  {
    name: 'a Bearer key of 10,000 characters',
    request: {
      method: 'GET',
      path: '/v1/use-cases',
      headers: { Authorization: `Bearer ${'k'.repeat(10_000)}` },
    },
    expect: invalid(401, 'unauthorized', { messageIncludes: 'unknown or revoked' }),
  },
  {
    name: 'a Bearer header without a key',
    request: { method: 'GET', path: '/v1/use-cases', headers: { Authorization: 'Bearer ' } },
    expect: invalid(401, 'unauthorized', { messageIncludes: 'malformed Authorization' }),
  },
  // Reads.
  {
    name: 'a use case address that is a path traversal',
    request: { method: 'GET', path: '/v1/use-cases/..%2F..%2Fetc%2Fpasswd' },
    expect: invalid(400, 'bad_request', { messageIncludes: 'invalid use case id', paths: ['id'] }),
  },
  {
    name: 'a use case address holding a script tag',
    request: { method: 'GET', path: '/v1/use-cases/%3Cscript%3Ealert(1)%3C%2Fscript%3E' },
    expect: invalid(400, 'bad_request', { paths: ['id'] }),
  },
  {
    name: 'a metrics segment holding %00',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/metrics?segment=region:E%00U` },
    expect: invalid(400, 'bad_request', { paths: ['segment'], problems: [NUL] }),
  },
  {
    name: 'a metrics query naming the stage twice',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/metrics?stage=shadow&stage=disabled` },
    expect: invalid(400, 'bad_request', { paths: ['stage'], problems: ['got an array of 2 items'] }),
  },
  {
    name: 'a metrics query with an unknown parameter',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/metrics?limit=10` },
    expect: invalid(400, 'bad_request', { paths: ['limit'], problems: ['unknown field "limit"'] }),
  },
  {
    name: 'a timeseries by the minute',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/timeseries?bucket=minute` },
    expect: invalid(400, 'bad_request', { paths: ['bucket'], problems: ['got "minute"'] }),
  },
  {
    name: 'a drift re-baseline without a reason',
    request: { method: 'POST', path: `/v1/use-cases/${UC}/drift/baseline`, body: {} },
    expect: invalid(400, 'bad_request', { paths: ['reason'], problems: ['required'] }),
  },
  {
    name: 'a drift re-baseline whose reason holds a bidi control',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/drift/baseline`,
      body: { reason: 'shift \u202e ok' },
    },
    expect: invalid(400, 'bad_request', { paths: ['reason'] }),
  },
  {
    name: 'a drift re-baseline with an unknown field',
    request: {
      method: 'POST',
      path: `/v1/use-cases/${UC}/drift/baseline`,
      body: { reason: 'new season', window: 10 },
    },
    expect: invalid(400, 'bad_request', { paths: ['window'], problems: ['unknown field "window"'] }),
  },
  {
    name: 'the drift of a use case that does not exist',
    request: { method: 'GET', path: '/v1/use-cases/no-such-case/drift' },
    expect: invalid(404, 'not_found', { messageIncludes: 'unknown use case no-such-case' }),
  },
  {
    name: 'the drift of a use case id holding SQL',
    request: {
      method: 'GET',
      path: `/v1/use-cases/${encodeURIComponent("x'; drop table drift_counts; --")}/drift`,
    },
    expect: invalid(400, 'bad_request'),
  },
  {
    name: 'a report as PDF',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/report?format=pdf` },
    expect: invalid(400, 'bad_request', { paths: ['format'], problems: ['got "pdf"'] }),
  },
  {
    name: 'a plan version of -1',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/plan?version=-1` },
    expect: invalid(400, 'bad_request', { paths: ['version'] }),
  },
  {
    name: 'a plan version that was never applied',
    request: { method: 'GET', path: `/v1/use-cases/${UC}/plan?version=99` },
    expect: invalid(404, 'not_found', { messageIncludes: 'no plan version 99 (the latest is 1)' }),
  },
  {
    name: 'a route that does not exist',
    request: { method: 'DELETE', path: '/v1/decisions' },
    expect: invalid(404, 'not_found', { messageIncludes: 'no route DELETE /v1/decisions' }),
  },
];

/**
 * Injection-looking request ids that are printable text: the API stores them as the opaque
 * ids they are (202) and finds them again by the same text; the SQL never runs, the markup is
 * never rendered.
 */
export const ACCEPTED_AS_DATA: Array<{ name: string; requestId: string }> = [
  { name: 'SQL', requestId: "'; drop table decisions; --" },
  { name: 'a script tag', requestId: '<script>alert(1)</script>' },
  { name: 'a path traversal', requestId: '../../etc/passwd' },
  { name: 'a literal %00', requestId: 'id%00' },
  { name: 'Cyrillic lookalikes', requestId: '\u0440\u0430ypal-1' },
  { name: 'an emoji', requestId: 'invoice-\u{1F4B8}' },
  { name: 'the longest allowed id (200 characters)', requestId: 'x'.repeat(200) },
];
