import { afterEach, describe, expect, it } from 'vitest';
import type { SendOutcome } from '../../src/sdk/controller-client.js';
import { Outbox, type OutboxOptions } from '../../src/sdk/outbox.js';
import type { MirrorItem, RatingItem } from '../../src/sdk/outbox-items.js';
import type { ShadowgateEvent } from '../../src/sdk/sdk-types.js';

interface Call {
  kind: 'batch' | 'human' | 'rating';
  requestIds: string[];
  body: string;
}

/** A controller double: answers each call with the next scripted outcome (then 202/200). */
function fakeController(script: Array<(call: Call) => SendOutcome> = []) {
  const calls: Call[] = [];
  const answer = (call: Call): SendOutcome => {
    calls.push(call);
    const next = script.shift();
    return next ? next(call) : { kind: 'ok', status: 202, body: {} };
  };
  return {
    calls,
    client: {
      postBatch: async (body: string) => {
        const ids = (JSON.parse(body) as { decisions: Array<{ requestId: string }> }).decisions.map(
          (d) => d.requestId,
        );
        return answer({ kind: 'batch', requestIds: ids, body });
      },
      postLateHuman: async (_useCase: string, requestId: string, body: string) =>
        answer({ kind: 'human', requestIds: [requestId], body }),
      postRating: async (_useCase: string, requestId: string, body: string) =>
        answer({ kind: 'rating', requestIds: [requestId], body }),
    },
  };
}

const mirror = (i: number): MirrorItem => ({
  kind: 'mirror',
  useCase: 'invoices',
  requestId: `r${i}`,
  input: { i },
  human: { decision: 'approve' },
});
const rating = (i: number, acceptable = true): RatingItem => ({
  kind: 'rating',
  useCase: 'drafts',
  requestId: `r${i}`,
  rating: { acceptable, by: 'agent-7' },
});
const refused =
  (status: number, details: Array<{ path: string; problem: string }> = []) =>
  () =>
    ({ kind: 'refused', status, message: `refused ${status}`, details }) as SendOutcome;
const unreachable = () =>
  ({ kind: 'transient', status: null, message: 'ECONNREFUSED', unreachable: true }) as SendOutcome;
const serverError = () =>
  ({ kind: 'transient', status: 500, message: 'boom', unreachable: false }) as SendOutcome;

const outboxes: Outbox[] = [];
function makeOutbox(
  fake: ReturnType<typeof fakeController>,
  events: ShadowgateEvent[],
  o: Partial<OutboxOptions> = {},
) {
  const outbox = new Outbox({
    client: fake.client,
    maxItems: 10_000,
    batchSize: 500,
    flushIntervalMs: 60_000,
    retry: { baseMs: 1, maxMs: 4, maxAttempts: 3 },
    emit: (e) => events.push(e),
    random: () => 0.5,
    ...o,
  });
  outboxes.push(outbox);
  return outbox;
}

afterEach(() => {
  for (const o of outboxes.splice(0)) o.stop();
});

describe("the outbox's ratings", () => {
  it('when a rating is buffered with the mirror of its decision, then the mirror goes first and the rating after it, once', async () => {
    const fake = fakeController();
    const outbox = makeOutbox(fake, []);
    outbox.add(rating(1, false));
    outbox.add(mirror(1));
    expect(await outbox.flush(5000)).toBe(true);
    expect(fake.calls.map((c) => [c.kind, c.requestIds])).toEqual([
      ['batch', ['r1']],
      ['rating', ['r1']],
    ]);
    expect(JSON.parse(fake.calls[1]!.body)).toEqual({ acceptable: false, by: 'agent-7' });
    expect(outbox.counters).toEqual({ sent: 2, retried: 0, dropped: 0, failed: 0 });
  });

  it('when the controller is away, then the rating is kept and sent once it is back (none lost)', async () => {
    const fake = fakeController([unreachable, unreachable, unreachable]);
    const outbox = makeOutbox(fake, []);
    outbox.add(rating(2));
    expect(await outbox.flush(5000)).toBe(true);
    expect(fake.calls.map((c) => c.kind)).toEqual(['rating', 'rating', 'rating', 'rating']);
    expect(outbox.counters).toMatchObject({ sent: 1, failed: 0, dropped: 0 });
  });

  it('when the decision is not stored yet (404), then the rating is tried again a bounded number of times, then failed', async () => {
    const events: ShadowgateEvent[] = [];
    const fake = fakeController([refused(404), refused(404), refused(404)]);
    const outbox = makeOutbox(fake, events);
    outbox.add(rating(3));
    await outbox.flush(5000);
    expect(fake.calls.map((c) => c.kind)).toEqual(['rating', 'rating', 'rating']);
    expect(outbox.counters).toMatchObject({ sent: 0, failed: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'failed', status: 404, requestIds: ['r3'] });
  });

  it('when the controller refuses the rating for good (409: no judge, or another rating stands), then it fails at once', async () => {
    const events: ShadowgateEvent[] = [];
    const fake = fakeController([refused(409)]);
    const outbox = makeOutbox(fake, events);
    outbox.add(rating(4));
    await outbox.flush(5000);
    expect(fake.calls).toHaveLength(1);
    expect(events).toEqual([
      { type: 'failed', count: 1, status: 409, reason: 'refused 409', requestIds: ['r4'] },
    ]);
  });
});

describe('the outbox', () => {
  it('when 1,200 items are flushed, then they go out in batches of at most 500, each once', async () => {
    const fake = fakeController();
    const outbox = makeOutbox(fake, []);
    for (let i = 0; i < 1200; i++) outbox.add(mirror(i));
    expect(fake.calls).toEqual([]); // nothing is sent on the caller's turn
    expect(await outbox.flush(5000)).toBe(true);
    expect(fake.calls.map((c) => c.requestIds.length)).toEqual([500, 500, 200]);
    expect(fake.calls.flatMap((c) => c.requestIds)).toEqual(Array.from({ length: 1200 }, (_, i) => `r${i}`));
    expect(outbox.counters).toEqual({ sent: 1200, retried: 0, dropped: 0, failed: 0 });
  });

  it('when a batch fills up, then it is sent without waiting for the interval', async () => {
    const fake = fakeController();
    const outbox = makeOutbox(fake, [], { batchSize: 3 });
    for (let i = 0; i < 3; i++) outbox.add(mirror(i));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.calls.map((c) => c.requestIds)).toEqual([['r0', 'r1', 'r2']]);
  });

  it('when the controller is unreachable twice, then the same bytes are resent after a backoff and counted as retried', async () => {
    const fake = fakeController([unreachable, unreachable]);
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events);
    for (let i = 0; i < 3; i++) outbox.add(mirror(i));
    expect(await outbox.flush(5000)).toBe(true);
    expect(fake.calls.length).toBe(3);
    expect(new Set(fake.calls.map((c) => c.body)).size).toBe(1);
    // base 1 ms, jitter 0.5: step 1 → 0.75 → 1; step 2 → 1.5 → 2 (rounded)
    expect(events).toEqual([
      { type: 'retry', count: 3, attempt: 1, delayMs: 1, reason: 'ECONNREFUSED' },
      { type: 'retry', count: 3, attempt: 2, delayMs: 2, reason: 'ECONNREFUSED' },
    ]);
    expect(outbox.counters).toEqual({ sent: 3, retried: 6, dropped: 0, failed: 0 });
  });

  it('when a batch conflicts with a stored decision, then only the named item fails and the rest is resent', async () => {
    const fake = fakeController([refused(409, [{ path: 'decisions[1].requestId', problem: 'conflicts' }])]);
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events);
    for (let i = 0; i < 3; i++) outbox.add(mirror(i));
    await outbox.flush(5000);
    expect(fake.calls.map((c) => c.requestIds)).toEqual([
      ['r0', 'r1', 'r2'],
      ['r0', 'r2'],
    ]);
    expect(events).toEqual([
      {
        type: 'failed',
        count: 1,
        status: 409,
        reason: 'decisions[1].requestId: conflicts',
        requestIds: ['r1'],
      },
    ]);
    expect(outbox.counters).toEqual({ sent: 2, retried: 0, dropped: 0, failed: 1 });
  });

  it('when a batch is refused as bad naming two items, then those two fail and the third is sent', async () => {
    const fake = fakeController([
      refused(400, [
        { path: 'decisions[0].human.decision', problem: 'not a label' },
        { path: 'decisions[2].context.x', problem: 'expected a scalar' },
      ]),
    ]);
    const outbox = makeOutbox(fake, []);
    for (let i = 0; i < 3; i++) outbox.add(mirror(i));
    await outbox.flush(5000);
    expect(fake.calls.at(-1)?.requestIds).toEqual(['r1']);
    expect(outbox.counters).toEqual({ sent: 1, retried: 0, dropped: 0, failed: 2 });
  });

  it('when the key is refused, then the batch fails once, is not retried, and the failure is reported', async () => {
    const fake = fakeController([refused(401)]);
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events);
    for (let i = 0; i < 2; i++) outbox.add(mirror(i));
    await outbox.flush(5000);
    expect(fake.calls.length).toBe(1);
    expect(events).toEqual([
      { type: 'failed', count: 2, status: 401, reason: 'refused 401', requestIds: ['r0', 'r1'] },
    ]);
    expect(outbox.counters.failed).toBe(2);
  });

  it('when the body is too large, then the batch is split in halves until it fits', async () => {
    const fake = fakeController([refused(413), refused(413)]);
    const outbox = makeOutbox(fake, []);
    for (let i = 0; i < 4; i++) outbox.add(mirror(i));
    await outbox.flush(5000);
    expect(fake.calls.map((c) => c.requestIds)).toEqual([
      ['r0', 'r1', 'r2', 'r3'],
      ['r0', 'r1'],
      ['r0'],
      ['r1'],
      ['r2', 'r3'],
    ]);
    expect(outbox.counters).toEqual({ sent: 4, retried: 0, dropped: 0, failed: 0 });
  });

  it('when the controller keeps answering 500, then the item is given up after maxAttempts', async () => {
    const fake = fakeController([serverError, serverError, serverError, serverError]);
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events);
    outbox.add(mirror(0));
    await outbox.flush(5000);
    expect(fake.calls.length).toBe(3);
    expect(events.at(-1)).toEqual({
      type: 'failed',
      count: 1,
      status: 500,
      reason: 'gave up after 3 attempts: boom',
      requestIds: ['r0'],
    });
    expect(outbox.counters).toEqual({ sent: 0, retried: 2, dropped: 0, failed: 1 });
  });

  it('when a late human decision finds no decision, then the request is mirrored with it instead', async () => {
    const fake = fakeController([refused(404), refused(404)]);
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events);
    outbox.add({
      kind: 'human',
      useCase: 'invoices',
      requestId: 'with-request',
      human: { decision: 'reject', handlingMs: 5 },
      fallback: { input: { a: 1 }, context: { riskTier: 'low' } },
    });
    outbox.add({
      kind: 'human',
      useCase: 'invoices',
      requestId: 'audit-only',
      human: { decision: 'approve' },
    });
    await outbox.flush(5000);
    expect(fake.calls.map((c) => [c.kind, c.requestIds])).toEqual([
      ['human', ['with-request']],
      ['human', ['audit-only']],
      ['batch', ['with-request']],
    ]);
    expect(JSON.parse(fake.calls[2]!.body)).toEqual({
      decisions: [
        {
          useCase: 'invoices',
          requestId: 'with-request',
          input: { a: 1 },
          context: { riskTier: 'low' },
          human: { decision: 'reject', handlingMs: 5 },
        },
      ],
    });
    expect(events).toEqual([
      { type: 'failed', count: 1, status: 404, reason: 'refused 404', requestIds: ['audit-only'] },
    ]);
    expect(outbox.counters).toEqual({ sent: 1, retried: 0, dropped: 0, failed: 1 });
  });

  it('when the decision reaches the controller between a late human decision and its stand-in mirror, then the human side is sent to it again, not dropped', async () => {
    // 404: no decision yet; 409: the suggestion that landed late stored it without its human side.
    const conflict = refused(409, [{ path: 'decisions[0].requestId', problem: 'conflicts' }]);
    const fake = fakeController([refused(404), conflict]);
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events);
    outbox.add({
      kind: 'human',
      useCase: 'invoices',
      requestId: 'late-suggestion',
      human: { decision: 'reject' },
      fallback: { input: { a: 1 } },
    });
    await outbox.flush(5000);
    expect(fake.calls.map((c) => [c.kind, c.requestIds])).toEqual([
      ['human', ['late-suggestion']],
      ['batch', ['late-suggestion']],
      ['human', ['late-suggestion']],
    ]);
    expect(events).toEqual([]);
    expect(outbox.counters).toEqual({ sent: 1, retried: 0, dropped: 0, failed: 0 });
  });

  it('when a late human decision and its stand-in mirror keep being refused, then it fails once its attempts are spent', async () => {
    const conflict = refused(409, [{ path: 'decisions[0].requestId', problem: 'conflicts' }]);
    const fake = fakeController([refused(404), conflict, refused(404), conflict, refused(404), conflict]);
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events);
    outbox.add({
      kind: 'human',
      useCase: 'invoices',
      requestId: 'flapping',
      human: { decision: 'reject' },
      fallback: { input: { a: 1 } },
    });
    await outbox.flush(5000);
    // maxAttempts 3: the pair is tried three times, then the item fails (never loops).
    expect(fake.calls).toHaveLength(6);
    expect(events.map((e) => e.type)).toEqual(['failed']);
    expect(outbox.counters).toMatchObject({ sent: 0, failed: 1 });
  });

  it('when items keep coming while a batch is retried, then the oldest waiting ones are dropped, counted and reported', async () => {
    const fake = fakeController(Array.from({ length: 1000 }, () => unreachable));
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox(fake, events, {
      maxItems: 5,
      batchSize: 2,
      retry: { baseMs: 50, maxMs: 50, maxAttempts: 3 },
    });
    outbox.add(mirror(0));
    outbox.add(mirror(1));
    await new Promise((resolve) => setTimeout(resolve, 10)); // r0, r1 in flight, backing off
    for (let i = 2; i < 9; i++) outbox.add(mirror(i));
    await new Promise((resolve) => setImmediate(resolve));
    // room for 5: r0, r1 in flight + 3 waiting; r2..r8 are 7 waiting: the 4 oldest go.
    expect(outbox.buffered).toBe(5);
    expect(outbox.counters.dropped).toBe(4);
    expect(events.filter((e) => e.type === 'dropped')).toEqual([
      { type: 'dropped', count: 4, reason: 'overflow', requestIds: ['r2', 'r3', 'r4', 'r5'] },
    ]);
    outbox.stop();
    expect(outbox.counters.dropped).toBe(9 - (outbox.counters.sent + outbox.counters.failed));
  });
  it('when stopped while a request hangs, then the request is aborted and stop() resolves with its items counted dropped', async () => {
    const seen: AbortSignal[] = [];
    const hanging = {
      // A controller that never answers: only the abort settles the request.
      postBatch: (_body: string, stop?: AbortSignal) =>
        new Promise<SendOutcome>((resolve) => {
          if (stop) seen.push(stop);
          stop?.addEventListener('abort', () => resolve(unreachable()));
        }),
      postLateHuman: async () => unreachable(),
      postRating: async () => unreachable(),
    };
    const events: ShadowgateEvent[] = [];
    const outbox = makeOutbox({ calls: [], client: hanging }, events);
    outbox.add(mirror(0));
    outbox.add(mirror(1));
    expect(await outbox.flush(20)).toBe(false);
    expect(seen).toHaveLength(1);
    expect(outbox.buffered).toBe(2);
    await outbox.stop();
    expect(outbox.buffered).toBe(0);
    expect(outbox.counters).toMatchObject({ sent: 0, dropped: 2, failed: 0 });
    expect(events.filter((e) => e.type === 'dropped')).toEqual([
      { type: 'dropped', count: 2, reason: 'closed', requestIds: ['r0', 'r1'] },
    ]);
  });
});
