import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planSchema } from '../../src/plans/plan-schema.js';
import { storedForms, storedText } from '../../src/privacy/input-policy.js';
import { REDACTED, redact, redactPathProblem } from '../../src/privacy/redact.js';
import {
  maskPatterns,
  PATTERN_NAMES,
  passesIbanCheck,
  passesLuhn,
} from '../../src/privacy/redaction-patterns.js';

const ALL = PATTERN_NAMES;

/** A frozen deep copy: redaction must return new values, never write into its argument. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('card numbers (Luhn)', () => {
  it('when the digits pass the Luhn check, then they are a card number', () => {
    // 79927398713 from the right, every second digit doubled: 3 + (1→2) + 7 + (8→16→7) + 9 + (3→6) + 7 + (2→4) + 9 + (9→18→9) + 7 = 70.
    expect(passesLuhn('79927398713')).toBe(true);
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('378282246310005')).toBe(true);
    expect(passesLuhn('5555555555554444')).toBe(true);
  });

  it('when one digit is off, then the Luhn check fails', () => {
    expect(passesLuhn('79927398710')).toBe(false);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(passesLuhn('41111111a1111111')).toBe(false);
  });

  it('when a card number is written with spaces or dashes, then it is masked; a number failing Luhn is kept', () => {
    expect(maskPatterns('card 4111 1111 1111 1111, thanks', ['card'])).toBe('card [card], thanks');
    expect(maskPatterns('4111-1111-1111-1111', ['card'])).toBe('[card]');
    expect(maskPatterns('amex 378282246310005.', ['card'])).toBe('amex [card].');
    expect(maskPatterns('card 4111 1111 1111 1112', ['card'])).toBe('card 4111 1111 1111 1112');
  });

  it('when digits are too few, part of a word, or a date, then they are not a card', () => {
    expect(maskPatterns('4111 1111 1111', ['card'])).toBe('4111 1111 1111'); // 12 digits
    expect(maskPatterns('ref4111111111111111', ['card'])).toBe('ref4111111111111111');
    expect(maskPatterns('2024-03-15T10:00:00Z', ['card'])).toBe('2024-03-15T10:00:00Z');
  });
});

describe('IBANs (mod 97)', () => {
  it('when the rearranged number is 1 mod 97, then it is an IBAN', () => {
    // GB82WEST12345698765432 → WEST12345698765432GB82 → 3214282912345698765432161182, which is 1 mod 97.
    expect(passesIbanCheck('GB82WEST12345698765432')).toBe(true);
    expect(passesIbanCheck('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(passesIbanCheck('FR14 2004 1010 0505 0001 3M02 606')).toBe(true);
  });

  it('when a check digit or an account digit is wrong, then it is not', () => {
    expect(passesIbanCheck('GB82WEST12345698765433')).toBe(false);
    expect(passesIbanCheck('GB83WEST12345698765432')).toBe(false);
    expect(passesIbanCheck('GB82')).toBe(false);
  });

  it('when an IBAN is written compact or in groups of four, then it is masked, and the rest of the text kept', () => {
    expect(maskPatterns('pay to GB82WEST12345698765432 today', ['iban'])).toBe('pay to [iban] today');
    expect(maskPatterns('DE89 3704 0044 0532 0130 00 is mine', ['iban'])).toBe('[iban] is mine');
    expect(maskPatterns('pay to GB82WEST12345698765433', ['iban'])).toBe('pay to GB82WEST12345698765433');
  });
});

describe('e-mail addresses and phone numbers', () => {
  it('when a text holds e-mail addresses, then each is masked', () => {
    expect(maskPatterns('from jane.doe+invoices@example.co.uk and ops@acme.io', ['email'])).toBe(
      'from [email] and [email]',
    );
    expect(maskPatterns('not an address: jane@localhost or @handle', ['email'])).toBe(
      'not an address: jane@localhost or @handle',
    );
  });

  it('when a phone number is in a common international or national format, then it is masked', () => {
    for (const phone of [
      '+44 20 7946 0958',
      '+1-202-555-0143',
      '+33612345678',
      '+49 (0)30 1234567',
      '0044 20 7946 0958',
      '(202) 555-0143',
      '202.555.0143',
      '030 1234567',
      '06 12 34 56 78',
      '07911 123456',
    ]) {
      expect(maskPatterns(`call ${phone} today`, ['phone']), phone).toBe('call [phone] today');
    }
  });

  it('when numbers are dates, times, amounts, versions or ids, then they are not phone numbers', () => {
    for (const text of [
      '2024-03-15',
      '2025-06-01T12:00:00.000Z',
      '05.03.2024 10:00',
      'amount 12500.50',
      'INV-2024-000123',
      'PO-88213',
      'v1.2.3',
      '1234567890',
      'tier 3 of 5',
    ]) {
      expect(maskPatterns(text, ALL), text).toBe(text);
    }
  });

  it('when only some patterns are asked for, then only those are masked', () => {
    const text = 'jane@example.com, +44 20 7946 0958, 4111 1111 1111 1111';
    expect(maskPatterns(text, ['email'])).toBe('[email], +44 20 7946 0958, 4111 1111 1111 1111');
    expect(maskPatterns(text, ALL)).toBe('[email], [phone], [card]');
    expect(maskPatterns(text, [])).toBe(text);
  });
});

describe('redact', () => {
  const value = deepFreeze({
    input: {
      invoiceId: 'INV-7',
      amount: 1200,
      customer: { email: 'jane@example.com', name: 'Jane Doe', phones: ['+44 20 7946 0958'] },
      lines: [
        { sku: 'A1', iban: 'GB82WEST12345698765432', note: 'ok' },
        { sku: 'B2', iban: 'DE89370400440532013000', note: 'mail ops@acme.io' },
      ],
    },
    context: { region: 'EU', accountId: 'ACC-991' },
  });

  it('when fields are listed, then each is replaced by [redacted], nested and inside arrays, and the argument is unchanged', () => {
    const out = redact(value, {
      fields: ['input.customer.email', 'input.lines.iban', 'context.accountId'],
    });
    expect(out).toEqual({
      input: {
        invoiceId: 'INV-7',
        amount: 1200,
        customer: { email: REDACTED, name: 'Jane Doe', phones: ['+44 20 7946 0958'] },
        lines: [
          { sku: 'A1', iban: REDACTED, note: 'ok' },
          { sku: 'B2', iban: REDACTED, note: 'mail ops@acme.io' },
        ],
      },
      context: { region: 'EU', accountId: REDACTED },
    });
    expect(value.input.customer.email).toBe('jane@example.com');
  });

  it('when a path has an index or *, then it reaches that element or every key', () => {
    expect(redact(value, { fields: ['input.lines.1.note'] })).toMatchObject({
      input: { lines: [{ note: 'ok' }, { note: REDACTED }] },
    });
    expect(redact(value, { fields: ['input.customer.*'] })).toMatchObject({
      input: { customer: { email: REDACTED, name: REDACTED, phones: REDACTED } },
    });
    expect(redact(value, { fields: ['input.lines.*.sku'] })).toMatchObject({
      input: { lines: [{ sku: REDACTED }, { sku: REDACTED }] },
    });
  });

  it('when a path is missing from the value, then nothing is added', () => {
    expect(redact(value, { fields: ['input.customer.address.city', 'input.lines.5.iban'] })).toEqual(value);
    expect(redact(null, { fields: ['input.x'] })).toBeNull();
  });

  it('when patterns are given, then every string is masked, numbers and keys are left alone', () => {
    const out = redact(value, { patterns: ALL }) as typeof value;
    expect(out.input.customer).toEqual({ email: '[email]', name: 'Jane Doe', phones: ['[phone]'] });
    expect(out.input.lines.map((l) => [l.iban, l.note])).toEqual([
      ['[iban]', 'ok'],
      ['[iban]', 'mail [email]'],
    ]);
    expect(out.input.amount).toBe(1200);
    expect(out.context).toEqual({ region: 'EU', accountId: 'ACC-991' });
  });
});

describe('redaction paths', () => {
  it('when a path is rooted at input or context with plain segments, then it is valid', () => {
    for (const path of ['input.customer.email', 'context.accountId', 'input.lines.*.iban', 'input.lines.0']) {
      expect(redactPathProblem(path), path).toBeNull();
    }
  });

  it('when a path has another root, no segment, or an empty or odd segment, then the problem is named', () => {
    expect(redactPathProblem('customer.email')).toContain('starting with input. or context.');
    expect(redactPathProblem('input')).toContain('storeInput: none');
    expect(redactPathProblem('context')).toContain('name the fields');
    expect(redactPathProblem('input..email')).toContain('empty segment');
    expect(redactPathProblem('input.customer[0]')).toContain('segment "customer[0]"');
  });
});

describe('storeInput', () => {
  const input = { b: 1, a: 'jane@example.com' };
  const context = { region: 'EU', accountId: 'ACC-1', note: 'mail jane@example.com' };
  const redactRules = { fields: ['context.accountId'], patterns: ['email' as const] };

  it('when each mode is chosen, then the stored input is as sent, redacted, a hash or null, and the context is always redacted', () => {
    const full = storedForms(
      input,
      context,
      { storeInput: 'full', redact: { fields: ['context.accountId'] } },
      true,
    );
    expect(full).toEqual({
      input,
      context: { region: 'EU', accountId: REDACTED, note: 'mail jane@example.com' },
      pendingInput: undefined,
    });
    const redacted = storedForms(input, context, { storeInput: 'redacted', redact: redactRules }, true);
    expect(redacted.input).toEqual({ b: 1, a: '[email]' });
    expect(redacted.context).toEqual({ region: 'EU', accountId: REDACTED, note: 'mail [email]' });
    // The hash is of the canonical JSON of the input as sent: keys sorted, no spaces.
    const hash = createHash('sha256').update('{"a":"jane@example.com","b":1}').digest('hex');
    expect(storedForms(input, context, { storeInput: 'hash', redact: redactRules }, true).input).toEqual({
      sha256: hash,
    });
    expect(storedForms(input, context, { storeInput: 'none' }, true).input).toBeNull();
  });

  it('when an AI call is owed and the stored input is not the raw one, then the raw input is kept pending', () => {
    for (const storeInput of ['redacted', 'hash', 'none'] as const) {
      expect(storedForms(input, context, { storeInput, redact: redactRules }, true).pendingInput).toBe(input);
      expect(
        storedForms(input, context, { storeInput, redact: redactRules }, false).pendingInput,
      ).toBeUndefined();
    }
  });

  it('when free text is stored, then the plan patterns mask it', () => {
    expect(storedText('clerk jane@example.com', { redact: redactRules })).toBe('clerk [email]');
    expect(storedText('clerk jane@example.com', {})).toBe('clerk jane@example.com');
  });
});

describe('plan fields', () => {
  const base = {
    useCase: 'privacy',
    owner: 'po@example.com',
    decision: { type: 'label', labels: ['approve', 'reject'] },
    ai: { adapter: 'http', url: 'http://ai.local/decide' },
    segments: ['region'],
  };
  const problems = (extra: Record<string, unknown>) => {
    const result = planSchema.safeParse({ ...base, ...extra });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('when redact, storeInput and retentionDays are valid, then the plan is accepted with storeInput full by default', () => {
    const plan = planSchema.parse({
      ...base,
      redact: { fields: ['input.customer.email', 'context.accountId'], patterns: ['email', 'iban'] },
      storeInput: 'redacted',
      retentionDays: 90,
    });
    expect(plan.storeInput).toBe('redacted');
    expect(plan.retentionDays).toBe(90);
    expect(planSchema.parse(base).storeInput).toBe('full');
  });

  it('when a pattern is unknown or a path is bad, then each problem is named at its path', () => {
    expect(problems({ storeInput: 'none', redact: { patterns: ['email', 'ssn'] } })).toEqual([
      'redact.patterns.1: unknown pattern "ssn": expected one of email, card, iban, phone',
    ]);
    expect(problems({ storeInput: 'none', redact: { fields: ['customer.email', 'input..x'] } })).toEqual([
      'redact.fields.0: expected a path starting with input. or context., got "customer.email"',
      'redact.fields.1: "input..x" has an empty segment (two dots, or a dot at an end)',
    ]);
    expect(problems({ redact: { fields: ['context.a'], extra: true } })[0]).toMatch(/^redact: /);
  });

  it('when storeInput, retentionDays or the rules contradict each other, then the plan is refused', () => {
    expect(problems({ redact: { patterns: ['email'] } })).toEqual([
      expect.stringMatching(/^storeInput: full \(the default\) stores the input as sent/),
    ]);
    expect(problems({ storeInput: 'redacted', redact: { fields: ['context.accountId'] } })).toEqual([
      expect.stringMatching(/^storeInput: redacted needs redact.patterns or redact.fields under input\./),
    ]);
    expect(problems({ storeInput: 'hash', redact: { fields: ['context.region.code'] } })).toEqual([
      expect.stringMatching(/^redact.fields.0: redacts the segment region/),
    ]);
    expect(problems({ storeInput: 'everything' })[0]).toMatch(/^storeInput: /);
    expect(problems({ retentionDays: 1.5 })[0]).toMatch(/^retentionDays: /);
    expect(problems({ retentionDays: 0 })[0]).toMatch(/^retentionDays: /);
  });
});
