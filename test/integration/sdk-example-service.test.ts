import { sql } from 'drizzle-orm';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSampled } from '../../src/contracts/sampling.js';
import { Shadowgate } from '@shadowgate/sdk';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import { clerkOf, createInvoiceService } from '../../scripts/example-workflow/invoice-service.js';
import { eventually } from '../support/test-controller.js';
import { LABELS, laterStages, type SdkHarness, startSdkHarness } from './sdk-harness.js';

describe('the example invoice service, deciding through the SDK', () => {
  let h: SdkHarness;
  let sg: Shadowgate;
  let service: ReturnType<typeof supertest>;

  beforeAll(async () => {
    h = await startSdkHarness({ confidence: 0.9 });
    await h.applyPlan('invoice-triage', laterStages({ minConfidence: 0.8, auditRate: 0.5 }));
    // Which invoices the AI decides is what is tested, not the suggestion deadline (sdk-modes tests
    // that): on a busy machine a suggestion must not miss the default 1.5 s and fall back to a clerk.
    sg = new Shadowgate({
      url: h.url,
      apiKey: h.ingestKey,
      appName: 'example-test',
      refreshIntervalMs: 200,
      suggestionDeadlineMs: 60_000,
    });
    await sg.ready();
    service = supertest(
      createInvoiceService({ sg, useCase: 'invoice-triage', clerkDelayMs: 2, auditDelayMs: 10 }),
    );
  });

  afterAll(async () => {
    await sg?.close();
    await h?.close();
  });

  it('when invoices are posted in shadow, then the clerk decides each and every one is mirrored with the clerk', async () => {
    for (let i = 0; i < 20; i++) {
      const invoice = makeInvoice(i);
      const answer = await service.post('/invoices').send(invoice).expect(200);
      expect(answer.body).toEqual({
        requestId: invoice.requestId,
        decision: referenceLabel(invoice.input, LABELS),
        decidedBy: 'human',
        mode: 'shadow',
      });
    }
    await sg.flush();
    expect(
      await h.count(sql`use_case = 'invoice-triage' and human_decided_by like 'simulated-clerk-%'`),
    ).toBe(20);
    const [one] = await h.rows<{ human_decided_by: string }>(
      sql`select human_decided_by from decisions where request_id = ${makeInvoice(3).requestId}`,
    );
    expect(one?.human_decided_by).toBe(clerkOf(makeInvoice(3).requestId));
    expect((await service.get('/stats').expect(200)).body).toMatchObject({ sent: 20, failed: 0 });
  });

  it('when the use case is limited-autonomous, then low-risk invoices are decided by the AI and sampled ones come back audited', async () => {
    await h.promote('invoice-triage', 'pilot');
    await h.promote('invoice-triage', 'low risk only');
    const probe = { requestId: 'probe', context: { riskTier: 'low' } };
    await eventually(
      async () => (sg.modeOf('invoice-triage', probe) === 'limited-autonomous' ? true : undefined),
      'the promotion',
    );

    const low = Array.from({ length: 200 }, (_, k) => makeInvoice(100 + k)).filter(
      (x) => x.context.riskTier === 'low',
    );
    expect(low.length).toBeGreaterThan(5);
    for (const invoice of low) {
      const answer = await service.post('/invoices').send(invoice).expect(200);
      expect(answer.body).toMatchObject({ decidedBy: 'ai', mode: 'limited-autonomous' });
    }
    const audited = low.filter((x) => isSampled(x.requestId, 0.5, 'audit')).map((x) => x.requestId);
    await eventually(async () => {
      await sg.flush();
      const n = await h.count(sql`use_case = 'invoice-triage' and human_decided_by = 'simulated-auditor'`);
      return n === audited.length ? true : undefined;
    }, 'the audit verdicts');
  });
});
