import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSampled } from '../../src/contracts/sampling.js';
import { type HumanContext, Shadowgate, type ShadowgateEvent } from '@shadowgate/sdk';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import { waitForProgress } from '../support/progress.js';
import { eventually } from '../support/test-controller.js';
import { LABELS, laterStages, type SdkHarness, sleep, startSdkHarness } from './sdk-harness.js';

interface Row {
  stage: string;
  human_decision: string | null;
  human_decided_by: string | null;
  human_handling_ms: number | null;
  ai_state: string;
  ai_decision: string | null;
  ai_latency_ms: number | null;
  score: number | null;
}

describe('the SDK in each mode, against a running controller serving its own flags', () => {
  let h: SdkHarness;
  let sg: Shadowgate;
  const events: ShadowgateEvent[] = [];
  const sdks: Shadowgate[] = [];

  const newSdk = (options: Partial<ConstructorParameters<typeof Shadowgate>[0]> = {}) => {
    const sdk = new Shadowgate({
      url: h.url,
      apiKey: h.ingestKey,
      appName: 'sdk-modes-test',
      refreshIntervalMs: 200,
      buffer: { flushIntervalMs: 100 },
      ...options,
    });
    sdks.push(sdk);
    return sdk;
  };
  const row = async (useCase: string, requestId: string) => {
    const [found] = await h.rows<Row>(
      sql`select stage, human_decision, human_decided_by, human_handling_ms, ai_state, ai_decision, ai_latency_ms, score
          from decisions where use_case = ${useCase} and request_id = ${requestId}`,
    );
    return found;
  };
  const aiDecision = (requestId: string) => h.sim.stats().byRequest[requestId]?.decision;
  /** A clerk who takes `ms` and decides by the reference policy, remembering what it was shown. */
  const clerk = (input: unknown, seen: HumanContext<string>[], ms = 5, decision?: string) => {
    return async (ctx: HumanContext<string>) => {
      seen.push(ctx);
      await sleep(ms);
      return decision ?? referenceLabel(input, LABELS);
    };
  };

  beforeAll(async () => {
    h = await startSdkHarness();
    const stages = laterStages({ minConfidence: 0.8, auditRate: 0.2 });
    for (const useCase of ['shadowed', 'reviewed', 'promoted', 'bounded', 'killed']) {
      await h.applyPlan(useCase, stages);
    }
    await h.promote('reviewed', 'pilot with the AP team');
    await h.promote('bounded', 'pilot with the AP team');
    await h.promote('bounded', 'low-risk invoices only');
    await h.tc.http
      .post('/v1/use-cases/killed/disable')
      .set(h.tc.admin)
      .send({ reason: 'kill switch drill' });
    sg = newSdk({ onEvent: (e) => events.push(e) });
    expect(await sg.ready()).toBe(true);
  });

  afterAll(async () => {
    for (const sdk of sdks) await sdk.close();
    await h?.close();
  });

  it('when a use case is in shadow, then the human decides, nothing is sent on the live path, and the mirror arrives with the handling time', async () => {
    const invoice = makeInvoice(1);
    const seen: HumanContext<string>[] = [];
    const out = await sg.decide('shadowed', invoice, clerk(invoice.input, seen, 30), {
      decidedBy: 'clerk-3',
    });
    const expected = referenceLabel(invoice.input, LABELS);
    expect(out).toEqual({ decision: expected, decidedBy: 'human', mode: 'shadow' });
    expect(seen).toEqual([{ suggestion: undefined, mode: 'shadow' }]);
    expect(sg.stats().buffered).toBe(1);
    expect(aiDecision(invoice.requestId)).toBeUndefined();

    expect(await sg.flush()).toBe(true);
    const stored = await row('shadowed', invoice.requestId);
    expect(stored).toMatchObject({ stage: 'shadow', human_decision: expected, human_decided_by: 'clerk-3' });
    expect(stored!.human_handling_ms).toBeGreaterThanOrEqual(29);
    expect(stored!.human_handling_ms).toBeLessThan(500);
    // The shadow AI call is the controller's business, after the fact.
    await eventually(
      async () => ((await row('shadowed', invoice.requestId))?.score !== null ? true : undefined),
      'the shadow comparison',
    );
    expect(sg.stats()).toMatchObject({ sent: 1, failed: 0, dropped: 0, buffered: 0 });
  });

  it('when a use case is human-reviewed, then the human gets the suggestion, decides, and the decision, override and time are recorded', async () => {
    const invoice = makeInvoice(2);
    const seen: HumanContext<string>[] = [];
    const overruled = 'escalate';
    const out = await sg.decide('reviewed', invoice, clerk(invoice.input, seen, 20, overruled));
    const ai = aiDecision(invoice.requestId);
    expect(ai).toBeDefined();
    expect(seen).toEqual([{ suggestion: ai, confidence: expect.any(Number), mode: 'human-reviewed' }]);
    expect(out).toEqual({ decision: overruled, decidedBy: 'human', mode: 'human-reviewed', suggestion: ai });

    await sg.flush();
    const stored = await row('reviewed', invoice.requestId);
    expect(stored).toMatchObject({
      stage: 'human-reviewed',
      human_decision: overruled,
      ai_state: 'done',
      ai_decision: ai,
      score: ai === overruled ? 1 : 0,
    });
    expect(stored!.human_handling_ms).toBeGreaterThanOrEqual(19);
  });

  it('when a use case is promoted, then the running SDK follows the new mode without a restart', async () => {
    const request = { requestId: 'promo-1', context: { riskTier: 'low' } };
    expect(sg.modeOf('promoted', request)).toBe('shadow');
    await h.promote('promoted', 'evidence reviewed by the release manager');
    await eventually(
      async () => (sg.modeOf('promoted', request) === 'human-reviewed' ? true : undefined),
      'the promotion',
      5_000,
    );
    const invoice = makeInvoice(3);
    const seen: HumanContext<string>[] = [];
    const out = await sg.decide('promoted', invoice, clerk(invoice.input, seen));
    expect(out.mode).toBe('human-reviewed');
    expect(seen[0]?.suggestion).toBe(aiDecision(invoice.requestId));
  });

  it('when a request is inside the boundary and the AI is confident, then the AI decides and the human path is not called', async () => {
    h.sim.setOptions({ confidence: 0.95 });
    const invoice = { ...makeInvoice(4), context: { region: 'EU', riskTier: 'low' } };
    const seen: HumanContext<string>[] = [];
    const out = await sg.decide('bounded', invoice, clerk(invoice.input, seen));
    const ai = aiDecision(invoice.requestId);
    expect(out).toEqual({ decision: ai, decidedBy: 'ai', mode: 'limited-autonomous', suggestion: ai });
    expect(seen).toEqual([]);
    expect(await row('bounded', invoice.requestId)).toMatchObject({
      stage: 'limited-autonomous',
      ai_decision: ai,
      human_decision: null,
    });
  });

  it('when a request is outside the boundary, then a human decides with the suggestion', async () => {
    h.sim.setOptions({ confidence: 0.95 });
    const invoice = { ...makeInvoice(5), context: { region: 'EU', riskTier: 'high' } };
    const seen: HumanContext<string>[] = [];
    const out = await sg.decide('bounded', invoice, clerk(invoice.input, seen));
    const ai = aiDecision(invoice.requestId);
    expect(seen).toEqual([{ suggestion: ai, confidence: 0.95, mode: 'human-reviewed' }]);
    expect(out).toMatchObject({ decidedBy: 'human', mode: 'human-reviewed', suggestion: ai });
  });

  it('when the AI is below the minimum confidence inside the boundary, then it escalates to a human with the suggestion', async () => {
    h.sim.setOptions({ confidence: 0.5 });
    const invoice = { ...makeInvoice(6), context: { region: 'US', riskTier: 'low' } };
    const seen: HumanContext<string>[] = [];
    const out = await sg.decide('bounded', invoice, clerk(invoice.input, seen));
    const expected = referenceLabel(invoice.input, LABELS);
    expect(seen).toEqual([
      { suggestion: aiDecision(invoice.requestId), confidence: 0.5, mode: 'limited-autonomous' },
    ]);
    expect(out).toMatchObject({ decision: expected, decidedBy: 'human', mode: 'limited-autonomous' });
    await sg.flush();
    expect(await row('bounded', invoice.requestId)).toMatchObject({
      human_decision: expected,
      ai_state: 'done',
    });
  });

  it('when autonomous decisions are drawn for audit, then the hook gets exactly the hash-sampled share and the verdicts arrive', async () => {
    h.sim.setOptions({ confidence: 0.95 });
    // This is about which decisions are audited, not about the suggestion deadline (the test
    // further down is): 300 suggestions on a busy machine must not miss the default 1.5 s.
    const patient = newSdk({ suggestionDeadlineMs: 60_000 });
    expect(await patient.ready()).toBe(true);
    const ids = Array.from({ length: 300 }, (_, i) => `audit-${i}`);
    const audited: string[] = [];
    const returned = new Set<string>();
    const handedAfterReturn: boolean[] = [];
    for (let start = 0; start < ids.length; start += 50) {
      await Promise.all(
        ids.slice(start, start + 50).map(async (requestId, k) => {
          const invoice = makeInvoice(1000 + start + k);
          const out = await patient.decide(
            'bounded',
            { requestId, input: invoice.input, context: { riskTier: 'low' } },
            async () => 'escalate',
            {
              onAudit: (audit) => {
                handedAfterReturn.push(returned.has(audit.requestId));
                audited.push(audit.requestId);
                patient.recordHuman('bounded', audit.requestId, {
                  decision: referenceLabel(audit.input, LABELS),
                  decidedBy: 'auditor-1',
                });
              },
            },
          );
          returned.add(requestId);
          expect(out.decidedBy).toBe('ai');
        }),
      );
    }
    const expected = ids.filter((id) => isSampled(id, 0.2, 'audit'));
    await waitForProgress({
      what: 'the audit hooks',
      read: () => audited.length,
      done: (n) => n >= expected.length,
    });
    expect([...audited].sort()).toEqual([...expected].sort());
    // never on the live path's turn: each hook ran after its decide had returned
    expect(handedAfterReturn.every(Boolean)).toBe(true);
    expect(Math.abs(audited.length / ids.length - 0.2)).toBeLessThan(0.05);
    expect(await patient.flush()).toBe(true);
    expect(
      await h.count(
        sql`use_case = 'bounded' and request_id like 'audit-%' and human_decided_by = 'auditor-1'`,
      ),
    ).toBe(expected.length);
    expect(await h.count(sql`use_case = 'bounded' and request_id like 'audit-%'`)).toBe(300);
  });

  it('when an audit hook throws or rejects, then the decision is unaffected and the failure is reported', async () => {
    h.sim.setOptions({ confidence: 0.95 });
    const sampled = Array.from({ length: 100 }, (_, i) => `audit-x-${i}`).filter((id) =>
      isSampled(id, 0.2, 'audit'),
    );
    const [first, second] = sampled;
    const before = sg.stats().auditErrors;
    const throwing = await sg.decide(
      'bounded',
      { requestId: first!, input: { a: 1 }, context: { riskTier: 'low' } },
      async () => 'x',
      {
        onAudit: () => {
          throw new Error('audit queue full');
        },
      },
    );
    const rejecting = await sg.decide(
      'bounded',
      { requestId: second!, input: { a: 2 }, context: { riskTier: 'low' } },
      async () => 'x',
      {
        onAudit: async () => {
          throw new Error('audit service down');
        },
      },
    );
    expect([throwing.decidedBy, rejecting.decidedBy]).toEqual(['ai', 'ai']);
    await waitForProgress({
      what: 'both audit failures',
      read: () => sg.stats().auditErrors - before,
      done: (n) => n >= 2,
    });
    expect(sg.stats().auditErrors - before).toBe(2);
    expect(
      events.filter((e) => e.type === 'warn' && /audit hook failed/.test(e.message)).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('when a use case is disabled, then no suggestion is asked for and the human decision is still mirrored', async () => {
    const invoice = makeInvoice(7);
    const seen: HumanContext<string>[] = [];
    const out = await sg.decide('killed', invoice, clerk(invoice.input, seen));
    expect(out).toMatchObject({ decidedBy: 'human', mode: 'disabled' });
    expect(seen).toEqual([{ suggestion: undefined, mode: 'disabled' }]);
    await sg.flush();
    expect(await row('killed', invoice.requestId)).toMatchObject({ stage: 'disabled', ai_state: 'none' });
    expect(aiDecision(invoice.requestId)).toBeUndefined();
  });

  it('when the human path throws, then decide rejects with that very error and nothing is recorded', async () => {
    const failure = new Error('the clerk system is down');
    const before = sg.stats();
    for (const useCase of ['shadowed', 'reviewed']) {
      await expect(
        sg.decide(useCase, { requestId: `throws-${useCase}`, input: { a: 1 } }, async () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
    }
    expect(sg.stats().buffered).toBe(before.buffered);
    await sg.flush();
    expect(await h.count(sql`request_id = 'throws-shadowed'`)).toBe(0);
    // human-reviewed: the suggestion created the decision; no human side is recorded for it
    expect(await h.count(sql`request_id = 'throws-reviewed' and human_decision is null`)).toBe(1);
  });

  it('when a decision conflicts with the one stored, then only that item fails, is reported, and the rest of its batch arrives', async () => {
    const failures: ShadowgateEvent[] = [];
    const sdk = newSdk({ onEvent: (e) => e.type === 'failed' && failures.push(e) });
    await sdk.ready();
    await sdk.decide('shadowed', { requestId: 'twice', input: { n: 1 } }, async () => 'approve');
    await sdk.flush();
    await sdk.decide('shadowed', { requestId: 'twice', input: { n: 1 } }, async () => 'reject');
    await sdk.decide('shadowed', { requestId: 'after-twice', input: { n: 2 } }, async () => 'approve');
    await sdk.flush();
    expect(failures).toEqual([
      expect.objectContaining({ type: 'failed', count: 1, status: 409, requestIds: ['twice'] }),
    ]);
    expect(sdk.stats()).toMatchObject({ sent: 2, failed: 1 });
    expect((await row('shadowed', 'twice'))?.human_decision).toBe('approve');
    expect((await row('shadowed', 'after-twice'))?.human_decision).toBe('approve');
  });

  it('when the AI answers after the deadline, then the human decides without it and the late answer is still recorded', async () => {
    const sdk = newSdk({ suggestionDeadlineMs: 150 });
    await sdk.ready();
    // The AI answers 10 times later than the deadline (within the plan’s 2 s timeout), so a
    // decide that waited for it would show.
    h.sim.setOptions({ latencyMs: 1_500, confidence: null });
    try {
      const invoice = makeInvoice(8);
      const seen: HumanContext<string>[] = [];
      const started = performance.now();
      const out = await sdk.decide('reviewed', invoice, clerk(invoice.input, seen, 10));
      const elapsed = performance.now() - started;
      expect(seen).toEqual([{ suggestion: undefined, mode: 'human-reviewed' }]);
      expect(out).toEqual({
        decision: referenceLabel(invoice.input, LABELS),
        decidedBy: 'human',
        mode: 'human-reviewed',
      });
      expect(elapsed).toBeLessThan(150 + 10 + 800);
      expect(sdk.stats().suggestionsLate).toBe(1);
      await sdk.flush();
      const stored = await eventually(async () => {
        const r = await row('reviewed', invoice.requestId);
        return r?.ai_state === 'done' && r.human_decision !== null ? r : undefined;
      }, 'the late AI answer');
      expect(stored.ai_decision).toBe(aiDecision(invoice.requestId));
      expect(stored.ai_latency_ms).toBeGreaterThanOrEqual(1_490);
      // Both sides exist. When the AI answered last, the suggestion path does not compare
      // them itself (yet): the sweep's repair does.
      await h.tc.controller.worker.sweep();
      expect((await row('reviewed', invoice.requestId))?.score).not.toBeNull();
    } finally {
      h.sim.setOptions({ latencyMs: 1 });
    }
  });
});
