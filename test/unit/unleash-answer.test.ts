import { describe, expect, it } from 'vitest';
import { hasControls } from '../../src/contracts/safe-text.js';
import { flagLines, statusOverview, type UseCaseDetail } from '../../src/cli/status-view.js';
import { afterCheck, type FlagSyncStatus, UNCHECKED } from '../../src/flags/flag-sync-status.js';
import { classifyAnswer, messageOf, waitingChangeRequest } from '../../src/flags/unleash-answer.js';

/** Unleash's PermissionError body (403), as unleash-server writes it. */
const permissionError = (permission: string) => ({
  id: 'b3e17835-966e-4ad8-8d0b-fe18e8466f6f',
  name: 'PermissionError',
  message: `You don't have the required permissions to perform this operation. To perform this action, you need the "${permission}" permission.`,
  details: [{ message: `… the "${permission}" permission.` }],
  permissions: [permission],
});

/** A change request as Unleash Enterprise's change request schema has it. */
const changeRequest = (state: string) => ({
  id: 42,
  title: 'Change request #42',
  environment: 'production',
  project: 'payments',
  state,
  features: [{ name: 'shadowgate.invoices', changes: [{ action: 'updateStrategy', payload: {} }] }],
  segments: [],
  approvals: [],
});

describe('what an Unleash Admin API answer means for a flag write', () => {
  const cases: Array<[string, string, number, unknown, string]> = [
    ['a read', 'GET', 200, { name: 'shadowgate.invoices' }, 'done'],
    ['a write that was made', 'PUT', 200, { id: 's-1', name: 'flexibleRollout' }, 'done'],
    ['an empty 2xx', 'POST', 200, undefined, 'done'],
    [
      'a write answered with a change request in review',
      'PUT',
      200,
      changeRequest('In review'),
      'pending-approval',
    ],
    ['a write answered with a draft', 'POST', 201, changeRequest('Draft'), 'pending-approval'],
    [
      'a write answered with an approved one not yet applied',
      'POST',
      200,
      changeRequest('Approved'),
      'pending-approval',
    ],
    ['a write answered with a scheduled one', 'POST', 200, changeRequest('Scheduled'), 'pending-approval'],
    ['a write answered with an applied change request', 'POST', 200, changeRequest('Applied'), 'done'],
    ['a read that looks like a change request', 'GET', 200, changeRequest('In review'), 'done'],
    ['a state without changes', 'PUT', 200, { state: 'Draft' }, 'done'],
    ['403 for SKIP_CHANGE_REQUEST', 'PUT', 403, permissionError('SKIP_CHANGE_REQUEST'), 'pending-approval'],
    [
      'a 400 naming change requests',
      'POST',
      400,
      { message: 'Change requests are enabled in production' },
      'pending-approval',
    ],
    ['403 for another permission', 'POST', 403, permissionError('CREATE_FEATURE_STRATEGY'), 'refused'],
    [
      '403 for a client token',
      'GET',
      403,
      { message: 'invalid token: expected a different token type for this endpoint' },
      'refused',
    ],
    ['401', 'GET', 401, { name: 'UnauthorizedError', message: 'You must log in to use Unleash.' }, 'refused'],
    ['400', 'POST', 400, { name: 'BadDataError', message: 'operator BOGUS' }, 'failed'],
    ['404', 'GET', 404, { name: 'NotFoundError', message: 'no such environment' }, 'failed'],
    ['500', 'PUT', 500, { message: 'database down' }, 'unreachable'],
    ['503 with a text body', 'PUT', 503, 'Service Unavailable', 'unreachable'],
  ];
  it.each(cases)('%s (%s %i) → %s', (_what, method, status, body, kind) => {
    expect(classifyAnswer(method, status, body).kind).toBe(kind);
  });

  it('says what happened in words: a change request by its id and state, a refusal with the permission Unleash named', () => {
    expect(classifyAnswer('PUT', 200, changeRequest('In review'))).toEqual({
      kind: 'pending-approval',
      problem: 'the change became change request 42 (In review) in Unleash and waits for approval',
    });
    const pending = classifyAnswer('PUT', 403, permissionError('SKIP_CHANGE_REQUEST'));
    expect(pending.kind === 'done' ? '' : pending.problem).toMatch(
      /^the change needs approval in Unleash: change requests are required there and the token may not skip them \(403\): .*"SKIP_CHANGE_REQUEST" permission\.$/,
    );
    const refused = classifyAnswer('POST', 403, permissionError('CREATE_FEATURE'));
    expect(refused.kind === 'done' ? '' : refused.problem).toBe(
      `the admin token was refused (403): ${permissionError('CREATE_FEATURE').message}`,
    );
    expect(classifyAnswer('POST', 400, 'bad request')).toEqual({
      kind: 'failed',
      problem: 'answered 400: bad request',
    });
  });

  it("keeps Unleash's message on one line and bounded, whatever it sent", () => {
    const hostile = `line one\n\u001b]52;c;cGF5bG9hZA==\u0007line two ${'x'.repeat(5_000)}`;
    const shown = messageOf({ message: hostile }, '');
    expect(hasControls(shown)).toBe(false);
    expect(shown.startsWith('line one ]52;c;cGF5bG9hZA==line two x')).toBe(true);
    expect(shown.length).toBe(301);
    expect(shown.endsWith('…')).toBe(true);
    expect(messageOf(undefined, '')).toBe('(empty body)');
    expect(messageOf({ message: 42 }, '{"message":42}')).toBe('{"message":42}');
    // A hostile id is cut too.
    expect(waitingChangeRequest({ ...changeRequest('Draft'), id: 'y'.repeat(500) })?.id).toHaveLength(40);
    expect(waitingChangeRequest([changeRequest('Draft')])).toBeNull();
  });
});

describe('the flag sync status', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 3, 15, 12, 0, s));

  it('keeps since while the state holds, moves checkedAt at every check, and starts again on a new state', () => {
    const first = afterCheck(undefined, 'pending-approval', 'replacing strategy 1: needs approval', at(0));
    expect(first).toEqual({
      state: 'pending-approval',
      detail: 'pending approval in Unleash',
      reason: 'replacing strategy 1: needs approval',
      since: at(0).toISOString(),
      checkedAt: at(0).toISOString(),
    });
    const again = afterCheck(first, 'pending-approval', 'adding strategy 2: needs approval', at(5));
    expect(again).toMatchObject({ since: at(0).toISOString(), checkedAt: at(5).toISOString() });
    expect(again.reason).toBe('adding strategy 2: needs approval');
    const synced = afterCheck(again, 'in-sync', 'ignored', at(10));
    expect(synced).toEqual({
      state: 'in-sync',
      detail: 'in sync',
      reason: null,
      since: at(10).toISOString(),
      checkedAt: at(10).toISOString(),
    });
    expect(afterCheck(UNCHECKED, 'refused', 'r', at(1)).detail).toBe('refused by Unleash');
    expect(afterCheck(UNCHECKED, 'unreachable', 'r', at(1)).detail).toBe('Unleash unreachable');
    expect(afterCheck(UNCHECKED, 'failed', 'r', at(1)).detail).toBe('write failed in Unleash');
  });

  it('the CLI prints the flag only when it is not in sync, with since, the last check and the reason', () => {
    const pending = afterCheck(
      afterCheck(undefined, 'pending-approval', 'replacing strategy 1 of flag shadowgate.invoices: …', at(0)),
      'pending-approval',
      'replacing strategy 1 of flag shadowgate.invoices: …',
      at(7),
    );
    expect(flagLines(pending)).toEqual([
      'flag: pending approval in Unleash since 2026-04-15 12:00:00Z, last checked 2026-04-15 12:00:07Z (checked again at every flag sync)',
      '  replacing strategy 1 of flag shadowgate.invoices: …',
    ]);
    expect(flagLines(afterCheck(pending, 'in-sync', null, at(9)))).toEqual([]);
    expect(flagLines(UNCHECKED)).toEqual([]);
    expect(flagLines(undefined)).toEqual([]);

    const detail = (id: string, flag?: FlagSyncStatus): UseCaseDetail => ({
      id,
      stage: 'shadow',
      owner: 'po@example.com',
      description: null,
      planVersion: 1,
      stageEnteredAt: at(0).toISOString(),
      stageVersion: 1,
      aiConfig: 'cfg',
      earnedModelVersion: null,
      metrics: { stages: [] },
      gate: null,
      ...(flag ? { flag } : {}),
    });
    const overview = statusOverview([
      { detail: detail('invoices', pending), cohort: null },
      { detail: detail('claims', afterCheck(undefined, 'in-sync', null, at(0))), cohort: null },
      { detail: detail('refunds'), cohort: null },
    ]);
    expect(overview.split('\n').filter((l) => l.includes('flag'))).toEqual([
      'invoices: flag: pending approval in Unleash',
    ]);
  });
});
