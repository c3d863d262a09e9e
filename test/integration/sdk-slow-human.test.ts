import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Shadowgate } from '@shadowgate/sdk';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import { eventually } from '../support/test-controller.js';
import { LABELS, type SdkHarness, sleep, startSdkHarness } from './sdk-harness.js';

/** A person who takes their time: the AI should not wait for them in shadow. */
describe('the SDK in shadow with a slow human path', () => {
  let h: SdkHarness;
  let sg: Shadowgate;

  beforeAll(async () => {
    h = await startSdkHarness({ agreement: 1 });
    await h.applyPlan('slow-desk', '');
    sg = new Shadowgate({
      url: h.url,
      apiKey: h.ingestKey,
      appName: 'sdk-slow-human-test',
      earlyMirrorMs: 50,
      buffer: { flushIntervalMs: 20 },
    });
    await sg.ready();
  });
  afterAll(async () => {
    await sg?.close();
    await h?.close();
  });

  it('when the human takes longer than earlyMirrorMs, then the AI answers first and the comparison follows the human', async () => {
    const invoice = makeInvoice(42);
    const reference = referenceLabel(invoice.input, LABELS);
    const aiAnsweredWhileDeciding = sg.decide('slow-desk', invoice, async () => {
      // The person is still deciding when the AI's answer is stored.
      await eventually(
        async () =>
          (await h.count(sql`request_id = ${invoice.requestId} and ai_state = 'done'`)) ? true : undefined,
        'the AI answer before the human decision',
      );
      return reference;
    });
    const out = await aiAnsweredWhileDeciding;
    expect(out).toEqual({ decision: reference, decidedBy: 'human', mode: 'shadow' });
    await sg.flush(5_000);
    await eventually(
      async () => ((await h.count(sql`request_id = ${invoice.requestId} and score = 1`)) ? true : undefined),
      'the comparison once the human decided',
    );
    expect(sg.stats()).toMatchObject({ failed: 0, dropped: 0 });
  });

  it('when the human answers before earlyMirrorMs, then the request is mirrored once, with its decision', async () => {
    const invoice = makeInvoice(43);
    const reference = referenceLabel(invoice.input, LABELS);
    const sentBefore = sg.stats().sent;
    await sg.decide('slow-desk', invoice, async () => reference);
    await sleep(60); // past earlyMirrorMs: a timer left running would mirror a second item
    await sg.flush(5_000);
    expect(sg.stats().sent - sentBefore).toBe(1);
    const [stored] = await h.rows<{ human_decision: string }>(
      sql`select human_decision from decisions where request_id = ${invoice.requestId}`,
    );
    expect(stored?.human_decision).toBe(reference);
  });
});
