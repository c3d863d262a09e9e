import { describe, expect, it } from 'vitest';
import { compareDecisions, createComparator } from '../../src/comparison/comparators.js';
import type { ComparatorSpec } from '../../src/plans/plan-schema.js';
import { readPath } from '../../src/comparison/field-path.js';
import { jsonEqual } from '../../src/comparison/json-equal.js';
import { normalizeText } from '../../src/comparison/normalize-text.js';
import { numericValue } from '../../src/comparison/numeric-value.js';

describe('exact comparator', () => {
  const exact = createComparator({ type: 'exact' });

  it('when two objects differ only in key order, then they agree', () => {
    expect(exact({ a: 1, b: { c: [1, 2], d: null } }, { b: { d: null, c: [1, 2] }, a: 1 })).toBe(1);
  });

  it('when arrays hold the same items in another order, then they disagree', () => {
    expect(exact([1, 2], [2, 1])).toBe(0);
  });

  it('when a nested value differs, is missing or changes type, then they disagree', () => {
    expect(exact({ a: { b: 1 } }, { a: { b: 2 } })).toBe(0);
    expect(exact({ a: 1, b: 2 }, { a: 1 })).toBe(0);
    expect(exact({ a: 1 }, { a: '1' })).toBe(0);
    expect(exact([], {})).toBe(0);
    expect(exact(null, {})).toBe(0);
  });

  it('when labels are equal strings, then 1, and when they differ only in case, then 0', () => {
    expect(exact('approve', 'approve')).toBe(1);
    expect(exact('approve', 'Approve')).toBe(0);
  });

  it('when a key holds undefined, then it counts as absent, as after JSON serialisation', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: undefined }, { b: undefined })).toBe(true);
  });

  it('when comparing, then the inputs are left untouched', () => {
    const human = Object.freeze({ a: Object.freeze([1, 2]) });
    const ai = Object.freeze({ a: Object.freeze([1, 2]) });
    expect(compareDecisions({ type: 'exact' }, human, ai)).toBe(1);
  });
});

describe('normalized-text comparator', () => {
  const text = createComparator({ type: 'normalized-text' });

  it('when strings differ in case, surrounding and internal whitespace and a final period, then they agree', () => {
    expect(text('  Send to   Accounts\tPayable. ', 'send to accounts payable')).toBe(1);
  });

  it('when strings differ by a trailing run of ! and ?, then they agree', () => {
    expect(text('Approve!!', 'approve ?')).toBe(1);
  });

  it('when punctuation is inside the text, then it is kept and matters', () => {
    expect(text('a.b', 'ab')).toBe(0);
    expect(normalizeText('U.S. office.')).toBe('u.s. office');
  });

  it('when strings differ only by Unicode compatibility forms, then they agree', () => {
    // Full-width letters and the "ﬁ" ligature are NFKC-equivalent to their ASCII spelling.
    expect(text('ＡＰＰＲＯＶＥ', 'approve')).toBe(1);
    expect(text('ﬁle', 'FILE')).toBe(1);
    // Case folding maps ß to ss.
    expect(text('Straße', 'STRASSE')).toBe(1);
  });

  it('when the words differ, then they disagree', () => {
    expect(text('approve', 'reject')).toBe(0);
  });

  it('when either side is not a string, then exact equality decides', () => {
    expect(text(3, 3)).toBe(1);
    expect(text({ a: 'X' }, { a: 'x' })).toBe(0);
    expect(text('3', 3)).toBe(0);
  });
});

describe('numeric comparator', () => {
  const numeric = createComparator({ type: 'numeric', tolerance: 0.01 });

  it('when numbers differ by exactly the tolerance, then they agree (the bound is inclusive)', () => {
    // 1.01 − 1.00 is 0.010000000000000009 in binary floating point; it must still agree.
    expect(numeric(1.0, 1.01)).toBe(1);
  });

  it('when numbers differ by more than the tolerance, then they disagree', () => {
    expect(numeric(1.0, 1.02)).toBe(0);
  });

  it('when a side is a numeric string, then it is read as a number', () => {
    expect(numeric('12.50', 12.5)).toBe(1);
    expect(numeric(' 1e3 ', 1000)).toBe(1);
  });

  it('when a side is not numeric, then 0', () => {
    expect(numeric('twelve', 12)).toBe(0);
    expect(numeric('', 0)).toBe(0);
    expect(numeric(null, 0)).toBe(0);
    expect(numeric(true, 1)).toBe(0);
    expect(numeric('0x10', 16)).toBe(0);
    expect(numericValue('Infinity')).toBeNull();
  });

  it('when the tolerance is 0, then only equal values agree, floating-point noise aside', () => {
    const strict = createComparator({ type: 'numeric', tolerance: 0 });
    expect(strict(0.1 + 0.2, 0.3)).toBe(1);
    expect(strict(0.3, 0.3000001)).toBe(0);
  });
});

describe('fields comparator', () => {
  const fields = createComparator({ type: 'fields', fields: ['vendor.id', 'amount', 'currency', 'note'] });

  it('when 2 of 4 listed fields agree, then the score is 0.5', () => {
    const human = { vendor: { id: 'V1', name: 'Acme' }, amount: 10, currency: 'EUR', note: 'x' };
    const ai = { vendor: { id: 'V1', name: 'ACME Ltd' }, amount: 11, currency: 'EUR', note: 'y' };
    // vendor.id agrees, amount differs, currency agrees, note differs; vendor.name is not listed.
    expect(fields(human, ai)).toBe(0.5);
  });

  it('when a field is missing on both sides, then it agrees; on one side, then it disagrees', () => {
    const human = { vendor: { id: 'V1' }, amount: 10, currency: 'EUR' };
    // note missing on both: agrees. currency missing on the AI side: disagrees. → 3 of 4.
    expect(fields(human, { vendor: { id: 'V1' }, amount: 10 })).toBe(0.75);
  });

  it('when a field is null on both sides, then it agrees, and null against missing disagrees', () => {
    const spec: ComparatorSpec = { type: 'fields', fields: ['a', 'b'] };
    expect(compareDecisions(spec, { a: null, b: 1 }, { a: null, b: 1 })).toBe(1);
    expect(compareDecisions(spec, { a: null, b: 1 }, { b: 1 })).toBe(0.5);
  });

  it('when a tolerance is given, then numeric fields agree within it and other fields need equality', () => {
    const spec: ComparatorSpec = { type: 'fields', fields: ['amount', 'tax', 'currency'], tolerance: 0.05 };
    const human = { amount: 100, tax: '20.00', currency: 'EUR' };
    // amount |100 − 100.04| ≤ 0.05 agrees; tax "20.00" vs 20.1 differs by 0.1; currency equal. → 2 of 3.
    expect(compareDecisions(spec, human, { amount: 100.04, tax: 20.1, currency: 'EUR' })).toBeCloseTo(
      2 / 3,
      15,
    );
  });

  it('when no tolerance is given, then numbers must be equal', () => {
    const spec: ComparatorSpec = { type: 'fields', fields: ['amount'] };
    expect(compareDecisions(spec, { amount: 100 }, { amount: 100.04 })).toBe(0);
    expect(compareDecisions(spec, { amount: 100 }, { amount: '100' })).toBe(0);
  });

  it('when a listed field holds an object, then its whole value must be structurally equal', () => {
    const spec: ComparatorSpec = { type: 'fields', fields: ['vendor'] };
    expect(compareDecisions(spec, { vendor: { id: 1, n: 'a' } }, { vendor: { n: 'a', id: 1 } })).toBe(1);
  });

  it('when a path indexes an array, then the item is compared', () => {
    const spec: ComparatorSpec = { type: 'fields', fields: ['lines.1.sku'] };
    expect(
      compareDecisions(spec, { lines: [{ sku: 'a' }, { sku: 'b' }] }, { lines: [{}, { sku: 'b' }] }),
    ).toBe(1);
  });

  it('when either decision is not a JSON object, then 0', () => {
    expect(fields('V1', 'V1')).toBe(0);
    expect(fields(null, null)).toBe(0);
    expect(fields([1], [1])).toBe(0);
    expect(fields({ amount: 1 }, 'x')).toBe(0);
  });

  it('when a field is listed twice, then it counts once', () => {
    const spec: ComparatorSpec = { type: 'fields', fields: ['a', 'a', 'b'] };
    expect(compareDecisions(spec, { a: 1, b: 1 }, { a: 1, b: 2 })).toBe(0.5);
  });
});

describe('readPath', () => {
  it('when a segment crosses a scalar or an inherited property, then the field is missing', () => {
    expect(readPath({ a: 'text' }, 'a.length')).toEqual({ found: false });
    expect(readPath({}, 'toString')).toEqual({ found: false });
    expect(readPath({ a: [1] }, 'a.x')).toEqual({ found: false });
  });

  it('when the path resolves, then its value is returned', () => {
    expect(readPath({ a: { b: [0, { c: false }] } }, 'a.b.1.c')).toEqual({ found: true, value: false });
  });
});
