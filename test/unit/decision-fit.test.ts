import { describe, expect, it } from 'vitest';
import { checkDecision } from '../../src/comparison/decision-fit.js';
import type { DecisionSpec } from '../../src/plans/plan-schema.js';

const labels: DecisionSpec = { type: 'label', labels: ['approve', 'reject', 'escalate'] };
const anyJson: DecisionSpec = { type: 'json' };
const invoice: DecisionSpec = { type: 'json', requiredFields: ['queue', 'vendor.id'] };

describe('checkDecision', () => {
  it("when a label is one of the plan's, then it fits", () => {
    expect(checkDecision(labels, 'reject')).toBeNull();
  });

  it('when a label is misspelt or differs in case, then the labels are listed and the value quoted', () => {
    expect(checkDecision(labels, 'aprove')).toBe('expected one of approve, reject, escalate, got "aprove"');
    expect(checkDecision(labels, 'Approve')).toBe('expected one of approve, reject, escalate, got "Approve"');
  });

  it('when a label decision is not text, then its type is named', () => {
    expect(checkDecision(labels, 1)).toBe('expected one of approve, reject, escalate, got number 1');
    expect(checkDecision(labels, { label: 'approve' })).toBe(
      'expected one of approve, reject, escalate, got an object',
    );
  });

  it('when the decision is missing, then it is required', () => {
    expect(checkDecision(labels, undefined)).toBe('required');
    expect(checkDecision(anyJson, undefined)).toBe('required');
  });

  it('when a json decision has no required fields, then any value but null fits', () => {
    expect(checkDecision(anyJson, 42)).toBeNull();
    expect(checkDecision(anyJson, 'text')).toBeNull();
    expect(checkDecision(anyJson, [1, 2])).toBeNull();
    expect(checkDecision(anyJson, null)).toBe('expected a decision, got null');
  });

  it('when required fields are present (nested by dot path, null counts), then it fits', () => {
    expect(checkDecision(invoice, { queue: 'ap', vendor: { id: null }, extra: 1 })).toBeNull();
  });

  it('when required fields are missing, then each is named', () => {
    expect(checkDecision(invoice, { vendor: {} })).toBe('missing required fields "queue", "vendor.id"');
    expect(checkDecision(invoice, { queue: 'ap' })).toBe('missing required field "vendor.id"');
  });

  it('when required fields are asked of something that is not an object, then that is said', () => {
    expect(checkDecision(invoice, ['queue'])).toBe(
      'expected an object with queue, vendor.id, got an array of 1 item',
    );
    expect(checkDecision(invoice, 'ap')).toBe('expected an object with queue, vendor.id, got string "ap"');
  });

  it('when the comparator is numeric, then only numbers or numeric text fit', () => {
    const numeric = { type: 'numeric', tolerance: 0.5 } as const;
    expect(checkDecision(anyJson, 12.5, numeric)).toBeNull();
    expect(checkDecision(anyJson, '12.5', numeric)).toBeNull();
    expect(checkDecision(anyJson, 'twelve', numeric)).toBe('expected a number, got string "twelve"');
    expect(checkDecision(anyJson, 'twelve')).toBeNull();
  });

  it('when the comparator is normalized-text on json decisions, then only text fits', () => {
    const text = { type: 'normalized-text' } as const;
    expect(checkDecision(anyJson, 'Net 30', text)).toBeNull();
    expect(checkDecision(anyJson, 30, text)).toBe('expected text, got number 30');
  });
});
