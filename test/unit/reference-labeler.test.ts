import { describe, expect, it } from 'vitest';
import { embeddedInput } from '../../scripts/simulation/embedded-input.js';
import { makeInvoice, referenceLabel } from '../../scripts/simulation/reference-labeler.js';

const LABELS = ['approve', 'reject', 'escalate'];
const invoice = (amount: number, vendorVerified: boolean, poNumber: string | null) => ({
  invoiceId: 'INV-1',
  vendor: 'Acme',
  vendorVerified,
  amount,
  currency: 'EUR',
  poNumber,
  lineItems: 1,
  dueInDays: 30,
});

describe('referenceLabel', () => {
  it.each([
    ['an invoice over 50,000', invoice(60_000, true, 'PO-1'), 'escalate'],
    [
      'an invoice of exactly 50,000 from a verified vendor with a PO',
      invoice(50_000, true, 'PO-1'),
      'approve',
    ],
    ['an unverified vendor above 1,000', invoice(1_500, false, 'PO-1'), 'reject'],
    ['an unverified vendor at or below 1,000', invoice(800, false, 'PO-1'), 'escalate'],
    ['no purchase order above 10,000', invoice(12_000, true, null), 'reject'],
    ['no purchase order at or below 10,000', invoice(5_000, true, null), 'escalate'],
    ['a verified vendor with a PO', invoice(5_000, true, 'PO-1'), 'approve'],
  ])('when the input is %s, then the label follows the invoice policy', (_name, input, expected) => {
    expect(referenceLabel(input, LABELS)).toBe(expected);
  });

  it('when the labels are not the invoice labels, then the label is a stable hash of the canonical input', () => {
    const labels = ['yes', 'no', 'maybe'];
    const a = referenceLabel({ x: 1, y: [1, 2], z: { p: 'q', r: 's' } }, labels);
    const b = referenceLabel({ z: { r: 's', p: 'q' }, y: [1, 2], x: 1 }, labels);
    expect(labels).toContain(a);
    expect(b).toBe(a);
    // invoice-shaped input does not matter when the labels are different
    expect(labels).toContain(referenceLabel(invoice(60_000, true, 'PO-1'), labels));
  });

  it('when the input is not invoice-shaped, then the hash fallback spreads over every label', () => {
    const seen = new Set(Array.from({ length: 300 }, (_, i) => referenceLabel({ ticket: i }, LABELS)));
    expect([...seen].sort()).toEqual([...LABELS].sort());
  });

  it('when there are no labels, then it throws', () => {
    expect(() => referenceLabel({}, [])).toThrow(/at least one label/);
  });
});

describe('makeInvoice', () => {
  const invoices = Array.from({ length: 2000 }, (_, i) => makeInvoice(i));
  const share = (pred: (x: (typeof invoices)[number]) => boolean) =>
    invoices.filter(pred).length / invoices.length;

  it('when called twice with one index, then it returns equal invoices with distinct ids per index', () => {
    expect(makeInvoice(7)).toEqual(makeInvoice(7));
    expect(makeInvoice(7).requestId).toBe('inv-000007');
    expect(makeInvoice(7).input.invoiceId).toBe('INV-000007');
    expect(new Set(invoices.map((x) => x.requestId)).size).toBe(2000);
  });

  it('when 2,000 are generated, then regions spread about 45/35/20', () => {
    expect(share((x) => x.context.region === 'EU')).toBeCloseTo(0.45, 1);
    expect(share((x) => x.context.region === 'US')).toBeCloseTo(0.35, 1);
    expect(share((x) => x.context.region === 'APAC')).toBeCloseTo(0.2, 1);
  });

  it('when 2,000 are generated, then every risk tier and every reference label occurs, approve the most', () => {
    for (const tier of ['low', 'medium', 'high'])
      expect(share((x) => x.context.riskTier === tier)).toBeGreaterThan(0.1);
    const labelShare = (l: string) => share((x) => referenceLabel(x.input, LABELS) === l);
    expect(labelShare('approve')).toBeGreaterThan(0.5);
    expect(labelShare('reject')).toBeGreaterThan(0.05);
    expect(labelShare('escalate')).toBeGreaterThan(0.05);
  });

  it('when an invoice is large or its vendor unverified, then its context is high risk', () => {
    for (const { input, context } of invoices) {
      const high = input.amount >= 20_000 || !input.vendorVerified;
      expect(context.riskTier === 'high').toBe(high);
    }
  });
});

describe('embeddedInput', () => {
  it('when the prompt embeds the input as the first JSON object, then that object is recovered', () => {
    const prompt = 'Decide "this" {invoice}.\nInput: {"a":{"b":"}"},"c":[1]}\nContext: {"region":"EU"}';
    expect(embeddedInput(prompt)).toEqual({ a: { b: '}' }, c: [1] });
  });

  it('when the prompt is a JSON object with an input field, then that field is the input', () => {
    expect(embeddedInput('{"input":{"x":1},"context":{}}')).toEqual({ x: 1 });
  });

  it('when the prompt holds no JSON object, then the prompt text stands for the input', () => {
    expect(embeddedInput('route this ticket: printer on fire')).toBe('route this ticket: printer on fire');
  });
});
