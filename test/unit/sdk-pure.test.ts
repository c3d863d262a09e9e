import { describe, expect, it } from 'vitest';
import { backoffDelay, retryAfterMs } from '../../src/sdk/backoff.js';
import { MirrorBuffer } from '../../src/sdk/mirror-buffer.js';
import { modeFromVariant } from '../../src/sdk/mode-source.js';
import { unleashContext } from '../../src/sdk/wire.js';
import { batchBody, type HumanItem, mirrorOf, namedItems, serialise } from '../../src/sdk/outbox-items.js';

describe('the mirror buffer', () => {
  it('when items are taken, then they come out oldest first, in batches', () => {
    const buffer = new MirrorBuffer<number>(10);
    for (let i = 1; i <= 5; i++) expect(buffer.push(i)).toBeUndefined();
    expect(buffer.take(2)).toEqual([1, 2]);
    expect(buffer.take(10)).toEqual([3, 4, 5]);
    expect(buffer.take(1)).toEqual([]);
    expect(buffer.size).toBe(0);
  });

  it('when it is full, then each push drops the oldest item and returns it', () => {
    const buffer = new MirrorBuffer<number>(3);
    const dropped = [1, 2, 3, 4, 5].map((i) => buffer.push(i));
    expect(dropped).toEqual([undefined, undefined, undefined, 1, 2]);
    expect(buffer.take(10)).toEqual([3, 4, 5]);
  });

  it('when part of the room is reserved by items in flight, then fewer wait before the oldest is dropped', () => {
    const buffer = new MirrorBuffer<number>(4);
    expect(buffer.push(1, 2)).toBeUndefined();
    expect(buffer.push(2, 2)).toBeUndefined();
    expect(buffer.push(3, 2)).toBe(1);
    expect(buffer.take(10)).toEqual([2, 3]);
  });

  it('when all the room is reserved, then the new item itself is refused', () => {
    const buffer = new MirrorBuffer<number>(2);
    expect(buffer.push(7, 2)).toBe(7);
    expect(buffer.size).toBe(0);
  });

  it('when far more items pass through than it holds, then order and size stay right', () => {
    const buffer = new MirrorBuffer<number>(1000);
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      buffer.push(i);
      if (i % 3 === 2) out.push(...buffer.take(2));
    }
    out.push(...buffer.take(Number.MAX_SAFE_INTEGER));
    // 1666 takes of 2 leave 5000 - 3332 = 1668 waiting at most 1000: the 668 oldest of them were dropped.
    expect(out.length).toBe(3332 + 1000);
    expect(out.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(out.at(-1)).toBe(4999);
    expect([...out].sort((a, b) => a - b)).toEqual(out);
  });

  it('when the capacity is not a positive integer, then it is refused', () => {
    expect(() => new MirrorBuffer(0)).toThrow(RangeError);
  });
});

describe('backoff', () => {
  it('when attempts grow, then the step doubles from the base up to the cap, half of it jittered', () => {
    expect(backoffDelay(1, 200, 30_000, () => 0)).toBe(100);
    expect(backoffDelay(1, 200, 30_000, () => 1)).toBe(200);
    expect(backoffDelay(3, 200, 30_000, () => 0.5)).toBe(600); // step 800: 400 + 200
    expect(backoffDelay(20, 200, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(20, 200, 30_000, () => 0)).toBe(15_000);
  });

  it('when Retry-After is given in seconds or as a date, then it is read in milliseconds', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      5000,
    );
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('modes from flag variants', () => {
  it('when the flag is enabled and its variant names a mode, then that is the mode', () => {
    for (const mode of ['shadow', 'human-reviewed', 'limited-autonomous', 'disabled'] as const) {
      expect(modeFromVariant({ name: mode, enabled: true, feature_enabled: true })).toBe(mode);
    }
  });

  it('when the flag is missing, off, or its variant is not a mode, then the mode is shadow', () => {
    // unleash-client's answer for a flag it does not know
    expect(modeFromVariant({ name: 'disabled', enabled: false, feature_enabled: false })).toBe('shadow');
    expect(modeFromVariant({ name: 'limited-autonomous', enabled: true, feature_enabled: false })).toBe(
      'shadow',
    );
    expect(modeFromVariant({ name: 'autonomous', enabled: true })).toBe('shadow');
    expect(modeFromVariant({ name: 42, enabled: true })).toBe('shadow');
    expect(modeFromVariant({})).toBe('shadow');
  });

  it('when a request has context, then the request id is the stickiness key and the fields are string properties', () => {
    expect(
      unleashContext('req-1', { riskTier: 'low', amount: 120.5, vip: true, region: null, userId: 'u7' }),
    ).toEqual({
      sessionId: 'req-1',
      properties: { riskTier: 'low', amount: '120.5', vip: 'true', userId: 'u7' },
    });
    expect(unleashContext('req-2', undefined)).toEqual({ sessionId: 'req-2', properties: {} });
  });
});

describe('outbox items', () => {
  it('when a refusal names batch items, then their indexes and first problems are found', () => {
    const named = namedItems(
      [
        { path: 'decisions[1].requestId', problem: 'conflicts' },
        { path: 'decisions[1].human.decision', problem: 'not a label' },
        { path: 'decisions[3].useCase', problem: 'unknown' },
        { path: 'decisions[9].useCase', problem: 'beyond the batch' },
        { path: 'decisions', problem: 'too many' },
      ],
      4,
    );
    expect([...named]).toEqual([
      [1, 'decisions[1].requestId: conflicts'],
      [3, 'decisions[3].useCase: unknown'],
    ]);
  });

  it('when a late human item has the request, then its fallback is a mirror of request and human decision', () => {
    const item: HumanItem = {
      kind: 'human',
      useCase: 'invoices',
      requestId: 'r1',
      human: { decision: 'approve', handlingMs: 12 },
      fallback: { input: { amount: 5 }, context: { riskTier: 'low' } },
    };
    const mirror = mirrorOf(item)!;
    expect(mirror).toEqual({
      kind: 'mirror',
      useCase: 'invoices',
      requestId: 'r1',
      input: { amount: 5 },
      context: { riskTier: 'low' },
      human: { decision: 'approve', handlingMs: 12 },
    });
    expect(mirrorOf({ ...item, fallback: undefined })).toBeUndefined();
    expect(JSON.parse(batchBody([serialise(mirror), serialise(mirror)]))).toEqual({
      decisions: [
        {
          useCase: 'invoices',
          requestId: 'r1',
          input: { amount: 5 },
          context: { riskTier: 'low' },
          human: { decision: 'approve', handlingMs: 12 },
        },
        expect.objectContaining({ requestId: 'r1' }),
      ],
    });
    expect(serialise(item)).toBe('{"decision":"approve","handlingMs":12}');
  });

  it('when an input has no JSON form, then serialising it throws', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => serialise({ kind: 'mirror', useCase: 'u', requestId: 'r', input: circular })).toThrow();
    expect(() =>
      serialise({ kind: 'human', useCase: 'u', requestId: 'r', human: { decision: 10n } }),
    ).toThrow();
  });
});
