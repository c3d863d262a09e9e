import { describe, expect, it } from 'vitest';
import { CallGate } from '../../src/shadow/call-gate.js';
import { Coalescer } from '../../src/shadow/coalescer.js';

/** Lets pending promise callbacks and immediates run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('call gate', () => {
  it('when more enter than the limit, then the rest wait in arrival order and enter as holders leave', async () => {
    const gate = new CallGate();
    const entered: string[] = [];
    const enter = (name: string) => gate.enter(2).then(() => entered.push(name));
    const all = [enter('a'), enter('b'), enter('c'), enter('d')];
    await new Promise((r) => setImmediate(r));
    expect(entered).toEqual(['a', 'b']);
    gate.leave(2);
    await new Promise((r) => setImmediate(r));
    expect(entered).toEqual(['a', 'b', 'c']);
    gate.leave(2);
    gate.leave(2);
    await Promise.all(all);
    expect(entered).toEqual(['a', 'b', 'c', 'd']);
    expect(gate.active).toBe(1);
  });

  it('when the limit is lowered, then nobody enters until the holders are below it, and a raised limit lets waiters in at once', async () => {
    const gate = new CallGate();
    await Promise.all([gate.enter(3), gate.enter(3), gate.enter(3)]);
    let entered = 0;
    const waiting = [gate.enter(1).then(() => entered++), gate.enter(1).then(() => entered++)];
    gate.leave(1);
    gate.leave(1);
    await new Promise((r) => setImmediate(r));
    expect([gate.active, entered]).toEqual([1, 0]);
    gate.leave(5);
    await Promise.all(waiting);
    expect([gate.active, entered]).toEqual([2, 2]);
  });
});

describe('coalescer', () => {
  it('when items arrive while batches are in flight, then they go together in the next batch, each answered with its own result', async () => {
    const batches: number[][] = [];
    const release: Array<() => void> = [];
    const coalescer = new Coalescer<number, string>(
      async (items) => {
        batches.push(items);
        await new Promise<void>((r) => release.push(r));
        return items.map((i) => `r${i}`);
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    const first = coalescer.submit(0);
    await settle();
    const rest = [1, 2, 3, 4].map((i) => coalescer.submit(i));
    await settle();
    expect(batches).toEqual([[0]]);
    release.shift()!();
    expect(await first).toBe('r0');
    await settle();
    expect(batches).toEqual([[0], [1, 2, 3]]);
    release.shift()!();
    await settle();
    release.shift()!();
    expect(await Promise.all(rest)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
  });

  it('when a batch fails and so does each item alone, then each item is rejected and later batches still run', async () => {
    let down = true;
    const coalescer = new Coalescer<number, number>(
      async (items) => {
        if (down) throw new Error('database unreachable');
        return items;
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const failed = [coalescer.submit(1), coalescer.submit(2)];
    for (const f of failed) await expect(f).rejects.toThrow('database unreachable');
    down = false;
    expect(await coalescer.submit(3)).toBe(3);
  });

  it('when one item makes its batch fail, then the batch is run again item by item: the others get their results, only that item is rejected', async () => {
    const batches: number[][] = [];
    const coalescer = new Coalescer<number, string>(
      async (items) => {
        batches.push(items);
        if (items.includes(13)) throw new Error('value out of range');
        return items.map((i) => `r${i}`);
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([11, 12, 13, 14].map((i) => coalescer.submit(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'r11',
      'r12',
      'value out of range',
      'r14',
    ]);
    expect(batches).toEqual([[11, 12, 13, 14], [11], [12], [13], [14]]);
  });
});
