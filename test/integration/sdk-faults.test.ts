import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Shadowgate, type ShadowgateEvent, type ShadowgateOptions } from '@shadowgate/sdk';
import { startHoldingGateway } from '../support/holding-gateway.js';
import { waitForProgress } from '../support/progress.js';
import { eventually } from '../support/test-controller.js';
import { type SdkHarness, sleep, startSdkHarness } from './sdk-harness.js';

/** A human path that takes about a millisecond and reports how long it really took. */
function timedClerk(times: number[], decision = 'approve') {
  return async () => {
    const started = performance.now();
    await sleep(1);
    times.push(performance.now() - started);
    return decision;
  };
}

describe('the SDK when what it depends on fails', () => {
  let h: SdkHarness;
  const sdks: Shadowgate[] = [];
  const newSdk = (options: Partial<ShadowgateOptions> = {}) => {
    const sdk = new Shadowgate({
      url: h.url,
      apiKey: h.ingestKey,
      appName: 'sdk-faults-test',
      refreshIntervalMs: 200,
      retry: { baseMs: 50, maxMs: 400 },
      ...options,
    });
    sdks.push(sdk);
    return sdk;
  };

  beforeAll(async () => {
    h = await startSdkHarness();
    for (const useCase of ['outage-shadow', 'outage-reviewed', 'overflow', 'no-flags'])
      await h.applyPlan(useCase);
    await h.promote('outage-reviewed', 'pilot');
    await h.promote('no-flags', 'pilot');
  });

  afterAll(async () => {
    for (const sdk of sdks) await sdk.close();
    await h?.close();
  });

  it('when the controller is stopped, then 1,000 decisions per mode return the human decision, and all arrive exactly once when it is back', async () => {
    const events: ShadowgateEvent[] = [];
    const sg = newSdk({ onEvent: (e) => events.push(e), buffer: { batchSize: 200 } });
    expect(await sg.ready()).toBe(true);
    expect(sg.modeOf('outage-reviewed', { requestId: 'x' })).toBe('human-reviewed');
    await h.stopController();

    const decided = { 'outage-shadow': 0, 'outage-reviewed': 0 };
    const decisions: string[] = [];
    let thrown = 0;
    for (const useCase of ['outage-shadow', 'outage-reviewed'] as const) {
      for (let i = 0; i < 1000; i++) {
        const requestId = `${useCase}-${decided[useCase]++}`;
        try {
          const out = await sg.decide(useCase, { requestId, input: { requestId } }, async () => 'approve');
          decisions.push(out.decidedBy === 'human' ? out.decision : 'not by the human');
        } catch {
          thrown += 1;
        }
      }
    }
    expect(thrown).toBe(0);
    expect(decisions.length).toBe(2000);
    expect(new Set(decisions)).toEqual(new Set(['approve']));
    const total = 2000;
    expect(sg.stats()).toMatchObject({ sent: 0, dropped: 0, failed: 0, buffered: total });
    expect(events.some((e) => e.type === 'retry')).toBe(true);

    await h.startController();
    expect(await sg.flush(20_000)).toBe(true);
    expect(sg.stats()).toMatchObject({ sent: total, dropped: 0, failed: 0, buffered: 0 });
    for (const useCase of ['outage-shadow', 'outage-reviewed'] as const) {
      expect(await h.count(sql`use_case = ${useCase} and human_decision = '"approve"'::jsonb`)).toBe(
        decided[useCase],
      );
      expect(await h.count(sql`use_case = ${useCase}`)).toBe(decided[useCase]);
    }
    // A second flush has nothing left to send.
    expect(await sg.flush(1000)).toBe(true);
    expect(sg.stats().sent).toBe(total);
  });

  it('when the controller accepts connections and never answers, then decide takes the human’s time, plus the suggestion deadline where a suggestion is asked for, and never waits on the network', async () => {
    // A stopped controller refuses a connection in a millisecond; a hung one (or a proxy in
    // front of it) holds it. Only then would a wait on the live path show, as the request
    // timeout (30 s here): the bounds below leave a busy machine 1 s per decide and stay
    // far below that.
    const gateway = await startHoldingGateway(h.url);
    const deadlineMs = 100;
    const requestTimeoutMs = 30_000;
    const sg = newSdk({
      url: gateway.url,
      suggestionDeadlineMs: deadlineMs,
      requestTimeoutMs,
      closeTimeoutMs: 300,
      buffer: { batchSize: 20, flushIntervalMs: 20 },
    });
    try {
      expect(await sg.ready()).toBe(true);
      gateway.hold();
      const overheads = { 'outage-shadow': [] as number[], 'outage-reviewed': [] as number[] };
      const decisions: string[] = [];
      for (const [useCase, count] of [
        ['outage-shadow', 200],
        ['outage-reviewed', 20],
      ] as const) {
        for (let i = 0; i < count; i++) {
          const times: number[] = [];
          const requestId = `held-${useCase}-${i}`;
          const started = performance.now();
          const out = await sg.decide(useCase, { requestId, input: { requestId } }, timedClerk(times));
          overheads[useCase].push(performance.now() - started - times[0]!);
          decisions.push(out.decidedBy === 'human' ? out.decision : 'not by the human');
        }
      }
      expect(new Set(decisions)).toEqual(new Set(['approve']));
      // The mirrors went out behind the live path and are still held, unanswered.
      await waitForProgress({
        what: 'a mirror sent into the held connections',
        read: () => gateway.heldBytes,
        done: (n) => n > 0,
      });
      expect(sg.stats()).toMatchObject({ sent: 0, dropped: 0, failed: 0, suggestionsLate: 20 });
      expect(Math.max(...overheads['outage-shadow'])).toBeLessThan(1_000);
      expect(Math.max(...overheads['outage-reviewed'])).toBeLessThan(deadlineMs + 1_000);
      // Each suggestion was waited for, up to its deadline: the held connection was reached.
      expect(Math.min(...overheads['outage-reviewed'])).toBeGreaterThanOrEqual(deadlineMs - 5);
    } finally {
      await sg.close();
      await gateway.close();
    }
  });

  it('when the buffer overflows during an outage, then the oldest are dropped and counted, and exactly the rest arrives', async () => {
    const dropped: string[] = [];
    const sg = newSdk({
      buffer: { maxItems: 100, batchSize: 10, flushIntervalMs: 50 },
      onEvent: (e) => e.type === 'dropped' && dropped.push(...e.requestIds),
    });
    await sg.ready();
    await h.stopController();
    for (let i = 0; i < 150; i++) {
      await sg.decide(
        'overflow',
        { requestId: `o-${String(i).padStart(3, '0')}`, input: { i } },
        async () => 'reject',
      );
    }
    await sleep(10);
    expect(sg.stats()).toMatchObject({ dropped: 50, buffered: 100 });
    expect(dropped.length).toBe(50);

    await h.startController();
    expect(await sg.flush(20_000)).toBe(true);
    const rows = await h.rows<{ request_id: string }>(
      sql`select request_id from decisions where use_case = 'overflow' order by request_id`,
    );
    const delivered = rows.map((r) => Number(r.request_id.slice(2)));
    expect(delivered.length).toBe(100);
    // The batch in flight when the outage began (the k oldest) is kept; of the rest, the newest.
    const k = delivered.findIndex((n, i) => n !== i);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(k).toBeLessThanOrEqual(10);
    expect(delivered).toEqual([
      ...Array.from({ length: k }, (_, i) => i),
      ...Array.from({ length: 100 - k }, (_, i) => 50 + k + i),
    ]);
    expect(dropped.map((id) => Number(id.slice(2))).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => k + i),
    );
    expect(sg.stats()).toMatchObject({ sent: 100, dropped: 50, failed: 0 });
  });

  it('when the flag source is unreachable at start, then ready() gives up in time and every use case is shadow', async () => {
    const sg = newSdk({
      unleash: { url: 'http://127.0.0.1:1/api', apiKey: 'client-token' },
      readyTimeoutMs: 300,
    });
    const started = performance.now();
    expect(await sg.ready()).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
    const out = await sg.decide('no-flags', { requestId: 'nf-1', input: { a: 1 } }, async () => 'approve');
    expect(out).toEqual({ decision: 'approve', decidedBy: 'human', mode: 'shadow' });
    await sg.flush();
    expect(h.sim.stats().byRequest['nf-1']).toBeUndefined();
    // Mirrored: the controller records it in its own stage (human-reviewed owes no AI call).
    expect(await h.count(sql`use_case = 'no-flags' and request_id = 'nf-1' and ai_state = 'none'`)).toBe(1);
  });

  it('when the key is refused, then the batch fails once, is reported and not retried, and decide is unaffected', async () => {
    const failures: ShadowgateEvent[] = [];
    const sg = newSdk({
      apiKey: 'not-a-key',
      readyTimeoutMs: 300,
      onEvent: (e) => e.type === 'failed' && failures.push(e),
    });
    expect(await sg.ready()).toBe(false); // the flag endpoint refuses the key too
    const out = await sg.decide(
      'outage-shadow',
      { requestId: 'bad-key-1', input: {} },
      async () => 'approve',
    );
    expect(out.decision).toBe('approve');
    await sg.flush();
    expect(failures).toEqual([expect.objectContaining({ status: 401, requestIds: ['bad-key-1'] })]);
    expect(sg.stats()).toMatchObject({ sent: 0, failed: 1, retried: 0, buffered: 0 });
  });

  it('when the SDK is closed with the controller down, then close() returns within its timeout and counts what it could not send', async () => {
    const sg = newSdk({ closeTimeoutMs: 300 });
    await sg.ready();
    await h.stopController();
    try {
      await sg.decide('outage-shadow', { requestId: 'closing-1', input: {} }, async () => 'approve');
      const started = performance.now();
      await sg.close();
      expect(performance.now() - started).toBeLessThan(1000);
      expect(sg.stats()).toMatchObject({ sent: 0, dropped: 1, buffered: 0 });
      // After close the live path still works: the human decides, nothing is kept.
      const out = await sg.decide(
        'outage-shadow',
        { requestId: 'closing-2', input: {} },
        async () => 'reject',
      );
      expect(out.decision).toBe('reject');
      expect(sg.stats().dropped).toBe(2);
    } finally {
      await h.startController();
    }
    await eventually(async () => ((await fetch(`${h.url}/healthz`)).ok ? true : undefined), 'the controller');
  });
});
