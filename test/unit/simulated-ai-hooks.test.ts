import { describe, expect, it } from 'vitest';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';
import { startSimulatedAiSystem } from '../../scripts/simulation/simulated-ai-system.js';
import { type SimAnswerOptions, simulateOutcome } from '../../scripts/simulation/simulated-answer.js';

/** The simulated AI's hooks for scenario tests: a carried reference label, alwaysAnswer, failOnReference. */

const LABELS = ['approve', 'reject', 'escalate'];
const BASE: SimAnswerOptions = {
  labels: LABELS,
  agreement: 0.97,
  latencyMs: 0,
  errorRate: 0,
  transientErrors: false,
  failure: 'none',
  confidence: null,
  seed: 'hooks',
};

/** An invoice whose policy label is `approve`, carrying `referenceLabel: label`. */
function carrying(i: number, label: unknown) {
  return {
    ...makeInvoice(i).input,
    amount: 500,
    vendorVerified: true,
    poNumber: 'PO-1',
    referenceLabel: label,
  };
}

describe('the reference label a request carries', () => {
  it('when the input carries one of the labels as referenceLabel, then that is the reference label', () => {
    expect(referenceLabel(carrying(1, 'reject'), LABELS)).toBe('reject');
    expect(referenceLabel({ ticket: 7, referenceLabel: 'escalate' }, LABELS)).toBe('escalate');
  });

  it('when it carries something else, then the label follows the input as before', () => {
    expect(referenceLabel(carrying(1, 'refund'), LABELS)).toBe('approve');
    expect(referenceLabel(carrying(1, 3), LABELS)).toBe('approve');
    const { referenceLabel: _, ...plain } = carrying(1, 'x');
    expect(referenceLabel(plain, LABELS)).toBe('approve');
  });

  it('when the AI agrees 97%, then it gives the carried label for about 97% of the requests of each label', () => {
    for (const label of LABELS) {
      let right = 0;
      const n = 2000;
      for (let i = 0; i < n; i++) {
        const outcome = simulateOutcome(BASE, `req-${label}-${i}`, carrying(i, label), 1);
        if (outcome.kind === 'answer' && outcome.decision === label) right++;
      }
      expect(Math.abs(right / n - 0.97), label).toBeLessThan(0.015);
    }
  });
});

describe('alwaysAnswer and failOnReference', () => {
  it('when alwaysAnswer is approve, then every request is answered approve and agrees only when approve is its reference', () => {
    const options = { ...BASE, alwaysAnswer: 'approve' };
    for (const [i, label] of LABELS.entries()) {
      const outcome = simulateOutcome(options, `req-${i}`, carrying(i, label), 1);
      expect(outcome).toMatchObject({ kind: 'answer', decision: 'approve', reference: label });
      expect(outcome.kind === 'answer' && outcome.agreed).toBe(label === 'approve');
    }
  });

  it('when failOnReference lists reject, then requests with that reference fail with HTTP 500 on every attempt, others are answered', () => {
    const options = { ...BASE, failOnReference: ['reject'] };
    for (const attempt of [1, 2, 3]) {
      expect(simulateOutcome(options, 'r', carrying(1, 'reject'), attempt).kind).toBe('http-500');
      expect(simulateOutcome(options, 'a', carrying(2, 'approve'), attempt).kind).toBe('answer');
    }
  });

  it('when a hook names a label the simulation does not have, then it refuses to start', async () => {
    await expect(startSimulatedAiSystem({ alwaysAnswer: 'maybe' })).rejects.toThrow(
      /"maybe" is not one of its labels/,
    );
    await expect(startSimulatedAiSystem({ failOnReference: ['refund'] })).rejects.toThrow(/"refund"/);
  });

  it('when alwaysAnswer is set through setOptions over HTTP, then the running simulation answers it', async () => {
    const sim = await startSimulatedAiSystem({ agreement: 1 });
    try {
      const ask = async (requestId: string) => {
        const res = await fetch(`${sim.url}/decide`, {
          method: 'POST',
          body: JSON.stringify({ requestId, input: { referenceLabel: 'reject' } }),
        });
        return ((await res.json()) as { decision: string }).decision;
      };
      expect(await ask('one')).toBe('reject');
      sim.setOptions({ alwaysAnswer: 'escalate' });
      expect(await ask('two')).toBe('escalate');
      sim.setOptions({ alwaysAnswer: undefined });
      expect(await ask('three')).toBe('reject');
      expect(() => sim.setOptions({ alwaysAnswer: 'maybe' })).toThrow(/not one of its labels/);
    } finally {
      await sim.close();
    }
  });
});
