import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HumanContext, Shadowgate, type ShadowgateOptions } from '@shadowgate/sdk';
import { eventually } from '../support/test-controller.js';
import { startUnleashServer, type TestUnleash } from '../support/unleash-server.js';
import { laterStages, type SdkHarness, startSdkHarness } from './sdk-harness.js';

const USE_CASE = 'claims';
const inside = (requestId: string) => ({ requestId, context: { riskTier: 'low', region: 'EU' } });
const outside = (requestId: string) => ({ requestId, context: { riskTier: 'high', region: 'EU' } });

/** The controller writes the flags to a real Unleash 7.5.1; the SDK reads them from there. */
describe('the SDK reading its modes from a real Unleash', () => {
  let unleash: TestUnleash;
  let h: SdkHarness;
  let sg: Shadowgate;
  const sdks: Shadowgate[] = [];
  const newSdk = (options: Partial<ShadowgateOptions> = {}) => {
    const sdk = new Shadowgate({
      url: h.url,
      apiKey: h.ingestKey,
      appName: 'sdk-unleash-test',
      unleash: { url: `${unleash.url}/api`, apiKey: unleash.clientToken },
      refreshIntervalMs: 250,
      ...options,
    });
    sdks.push(sdk);
    return sdk;
  };
  /** The share of `ids` the flag sends to the AI alone. */
  const share = (ids: string[], request: (id: string) => ReturnType<typeof inside>) =>
    ids.filter((id) => sg.modeOf(USE_CASE, request(id)) === 'limited-autonomous').length / ids.length;

  beforeAll(async () => {
    unleash = await startUnleashServer();
    h = await startSdkHarness(
      { confidence: 0.95 },
      { UNLEASH_URL: unleash.url, UNLEASH_ADMIN_TOKEN: unleash.adminToken },
    );
    await h.applyPlan(USE_CASE, laterStages({ minConfidence: 0.8, rolloutPercent: 50, auditRate: 0 }));
    sg = newSdk();
  });

  afterAll(async () => {
    for (const sdk of sdks) await sdk.close();
    await h?.close();
    await unleash?.close();
  });

  it('when the use case is new, then the SDK is ready with its flag and decides in shadow', async () => {
    expect(await sg.ready()).toBe(true);
    await eventually(
      async () => (sg.modeOf(USE_CASE, inside('a')) === 'shadow' ? true : undefined),
      'the flag',
    );
    const out = await sg.decide(USE_CASE, { ...inside('s-1'), input: { amount: 10 } }, async () => 'approve');
    expect(out).toEqual({ decision: 'approve', decidedBy: 'human', mode: 'shadow' });
  });

  it('when the use case is promoted twice, then the running SDK follows, and the boundary and the rollout decide who gets the AI', async () => {
    await h.promote(USE_CASE, 'pilot approved');
    await eventually(
      async () => (sg.modeOf(USE_CASE, outside('a')) === 'human-reviewed' ? true : undefined),
      'human-reviewed to reach the SDK',
      10_000,
    );
    await h.promote(USE_CASE, 'low-risk claims, half of them');
    const ids = Array.from({ length: 1000 }, (_, i) => `claim-${i}`);
    await eventually(
      async () => (share(ids, inside) > 0 ? true : undefined),
      'the boundary to reach the SDK',
      10_000,
    );

    // Inside the boundary, the rollout's 50% by a hash of the request id; outside, nobody.
    const autonomous = share(ids, inside);
    expect(autonomous).toBeGreaterThan(0.45);
    expect(autonomous).toBeLessThan(0.55);
    expect(share(ids, inside)).toBe(autonomous);
    expect(share(ids, outside)).toBe(0);

    const chosen = ids.find((id) => sg.modeOf(USE_CASE, inside(id)) === 'limited-autonomous')!;
    const notChosen = ids.find((id) => sg.modeOf(USE_CASE, inside(id)) === 'human-reviewed')!;
    const seen: HumanContext<string>[] = [];
    const clerk = async (ctx: HumanContext<string>) => {
      seen.push(ctx);
      return 'escalate';
    };
    const byAi = await sg.decide(USE_CASE, { ...inside(chosen), input: { amount: 10 } }, clerk);
    expect(byAi).toMatchObject({ decidedBy: 'ai', mode: 'limited-autonomous' });
    expect(seen).toEqual([]);
    const ai = (id: string) => h.sim.stats().byRequest[id]?.decision;
    expect(byAi.decision).toBe(ai(chosen));

    const outOfRollout = await sg.decide(USE_CASE, { ...inside(notChosen), input: { amount: 10 } }, clerk);
    const outOfBoundary = await sg.decide(USE_CASE, { ...outside('high-1'), input: { amount: 10 } }, clerk);
    expect(outOfRollout).toEqual({
      decision: 'escalate',
      decidedBy: 'human',
      mode: 'human-reviewed',
      suggestion: ai(notChosen),
    });
    expect(outOfBoundary).toMatchObject({
      decidedBy: 'human',
      mode: 'human-reviewed',
      suggestion: ai('high-1'),
    });
    expect(seen.map((s) => s.suggestion)).toEqual([ai(notChosen), ai('high-1')]);
  });

  it('when Unleash goes down, then a running SDK keeps its last modes and a new one starts in shadow', async () => {
    const chosen = Array.from({ length: 100 }, (_, i) => `claim-${i}`).find(
      (id) => sg.modeOf(USE_CASE, inside(id)) === 'limited-autonomous',
    )!;
    await unleash.stop();
    try {
      const out = await sg.decide(
        USE_CASE,
        { ...inside(chosen), input: { amount: 10 } },
        async () => 'escalate',
      );
      expect(out.decidedBy).toBe('ai');

      const late = newSdk({ readyTimeoutMs: 500 });
      expect(await late.ready()).toBe(false);
      expect(late.modeOf(USE_CASE, inside(chosen))).toBe('shadow');
      const shadowed = await late.decide(
        USE_CASE,
        { ...inside('down-1'), input: { amount: 10 } },
        async () => 'approve',
      );
      expect(shadowed).toEqual({ decision: 'approve', decidedBy: 'human', mode: 'shadow' });
      expect(h.sim.stats().byRequest['down-1']).toBeUndefined();
    } finally {
      await unleash.restart();
    }
  });
});
