import { describe, expect, it } from 'vitest';
import { REDACTED, redact } from '../../src/privacy/redact.js';
import {
  MAX_SCANNED_CHARS,
  maskPatterns,
  PATTERN_NAMES,
  type PatternName,
  passesIbanCheck,
  passesLuhn,
  UNSCANNED,
} from '../../src/privacy/redaction-patterns.js';

/**
 * The patterns run on every string an ingest client or an AI system sends, on the event loop:
 * each must take time linear in the text whatever the text is. The former e-mail expression took
 * 28 s on a 150 KB run of letters (quadratic: ~20 minutes at 1 MB); the former phone expressions
 * took ~6 s per MB of `+` followed by 21 digits (bounded but huge backtracking per start).
 */

const MB = 1024 * 1024;
/** Far above the worst linear time seen on a loaded machine (~0.1 s), far below the bug. */
const BOUND_MS = 2000;

const repeat = (unit: string, length: number) =>
  unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
const digits = (n: number) => '1'.repeat(n);

const SHAPES: Record<string, string> = {
  'local-part characters, no @': 'a',
  'many @': 'a@',
  'a.a.a.a…': 'a.',
  'one @ then a.a.a…': 'a.',
  '@ and dashes': 'a@a-',
  '@ and digit labels': 'a@1.',
  'letters and digits alternating': 'a1',
  'a digit run': '1',
  'digits and spaces': '1 ',
  'digits and dashes': '1-',
  '+00 00 00…': '+00 ',
  '00 00 00…': '00 ',
  '(((': '(',
  '(1) (1) …': '(1) ',
  'near-IBAN in groups': 'GB82 WEST 1234 5698 7654 3',
  'near-IBAN compact': 'GB82WEST1234569876543X',
  'upper case and digits': 'AB12',
  'almost a NANP number': '(202) 555-014',
  '+ and 21 digits': ` +${digits(21)}x`,
  '00 and 18 digits': ` 00${digits(18)}x`,
  'trunk 0 and 25 digits': ` 0${digits(25)}x`,
  'trunk 0 and 24 digits, then a dot': ` 0${digits(24)}.`,
  'trunk 0 and groups': ' 012 34 56 78 90 12 34 56 7x',
};

function adversarial(shape: string, length: number): string {
  const unit = SHAPES[shape] as string;
  return shape === 'one @ then a.a.a…' ? `x@${repeat(unit, length - 2)}` : repeat(unit, length);
}

function timed(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

describe('the cost of the patterns on hostile text', () => {
  for (const pattern of PATTERN_NAMES) {
    it(`when ${pattern} reads 1 MB of any of ${Object.keys(SHAPES).length} adversarial shapes, unlimited, then each takes < 2 s`, () => {
      const slow: string[] = [];
      for (const shape of Object.keys(SHAPES)) {
        const text = adversarial(shape, MB);
        const ms = timed(() => maskPatterns(text, [pattern], Number.POSITIVE_INFINITY));
        if (ms >= BOUND_MS) slow.push(`${shape}: ${Math.round(ms)} ms`);
      }
      expect(slow).toEqual([]);
    });
  }

  it('when all patterns read a 1 MB string of every shape with the default limit, then each takes < 2 s', () => {
    for (const shape of Object.keys(SHAPES)) {
      const text = adversarial(shape, MB);
      expect(
        timed(() => maskPatterns(text, PATTERN_NAMES)),
        shape,
      ).toBeLessThan(BOUND_MS);
    }
  });

  it('when a plan lists 10,000 field paths and the input is an array of 20,000 objects, then redact takes < 2 s', () => {
    // Each path was walked on its own, mapping every element of the array: ~22 s here.
    const fields = Array.from({ length: 10_000 }, (_, i) => `input.k${i}`);
    const value = { input: Array.from({ length: 20_000 }, (_, i) => ({ a: i, k9999: 'secret' })) };
    let out: unknown;
    expect(timed(() => (out = redact(value, { fields })))).toBeLessThan(BOUND_MS);
    expect((out as typeof value).input[19_999]).toEqual({ a: 19_999, k9999: REDACTED });
  });

  it('when redact walks 2 MB of JSON made of 40,000 strings holding addresses and numbers, then it takes < 2 s', () => {
    const line =
      'jane.doe@example.com paid 4111 1111 1111 1111 from GB82WEST12345698765432, +44 20 7946 0958';
    const value = {
      input: { rows: Array.from({ length: 20_000 }, (_, i) => ({ id: i, note: line, more: [line] })) },
    };
    let out: unknown;
    expect(timed(() => (out = redact(value, { patterns: PATTERN_NAMES })))).toBeLessThan(BOUND_MS);
    expect((out as typeof value).input.rows[19_999]).toEqual({
      id: 19_999,
      note: '[email] paid [card] from [iban], [phone]',
      more: ['[email] paid [card] from [iban], [phone]'],
    });
  });
});

describe('the scan limit', () => {
  it('when a string is longer than the limit, then the rest past it is replaced by [unscanned] and what is before is masked', () => {
    const head = 'mail jane@example.com ';
    const text = head + 'x'.repeat(MAX_SCANNED_CHARS) + ' tail@example.com';
    const out = maskPatterns(text, ['email']);
    expect(out.startsWith('mail [email] xxx')).toBe(true);
    expect(out.endsWith(`x${UNSCANNED}`)).toBe(true);
    expect(out).not.toContain('tail');
    expect(out.length).toBeLessThanOrEqual(MAX_SCANNED_CHARS);
    expect(maskPatterns(text, [])).toBe(text);
  });

  it('when a card number, an IBAN or a phone number is cut by the limit, then none of its digits is left', () => {
    for (const secret of ['4111 1111 1111 1111', 'DE89 3704 0044 0532 0130 00', '+44 20 7946 0958']) {
      for (let shift = 0; shift < secret.length; shift++) {
        const text = `${';'.repeat(1000 - shift)}${secret} and more`;
        const out = maskPatterns(text, PATTERN_NAMES, 1000);
        expect(out, `${secret} cut after ${shift}`).toBe(`${';'.repeat(1000 - shift)}${UNSCANNED}`);
      }
    }
  });

  it('when the limit falls inside a surrogate pair, then the pair is not split', () => {
    const text = `${';'.repeat(999)}😀${';'.repeat(100)}`;
    expect(maskPatterns(text, ['email'], 1000)).toBe(`${';'.repeat(999)}${UNSCANNED}`);
  });
});

/**
 * The expressions the detectors replaced, kept as the reference for ordinary text (on which they
 * are fast): on text of moderate size, the bounded detectors must mask exactly what they masked.
 */
const digitsOf = (text: string) => text.replace(/\D/g, '');
const REFERENCE: Record<PatternName, Array<[RegExp, ((m: string) => boolean)?]>> = {
  email: [[/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g]],
  iban: [
    [
      /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g,
      passesIbanCheck,
    ],
  ],
  card: [[/(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w])/g, (m) => passesLuhn(digitsOf(m))]],
  phone: [
    [
      /(?<![\w+])(?:\+|00)\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?!\w)/g,
      (m) => digitsOf(m).length >= 8 && digitsOf(m).length <= 17,
    ],
    [/(?<![\w+.-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])/g],
    [
      /(?<![\w+.-])0\d{1,4}(?:[ -]?\d{2,8}){1,4}(?![\w.-])/g,
      (m) => digitsOf(m).length >= 9 && digitsOf(m).length <= 12,
    ],
  ],
};
const ORDER: PatternName[] = ['email', 'iban', 'card', 'phone'];

function referenceMask(text: string, patterns: readonly PatternName[]): string {
  let out = text;
  for (const name of ORDER.filter((n) => patterns.includes(n))) {
    for (const [regex, confirm] of REFERENCE[name]) {
      out = out.replace(regex, (m) => (!confirm || confirm(m) ? `[${name}]` : m));
    }
  }
  return out;
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Text as requests carry it: words, addresses, numbers of every common kind, near misses. */
function ordinaryText(next: () => number, tokens: number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
  const digitRun = (min: number, max: number) =>
    Array.from({ length: min + Math.floor(next() * (max - min + 1)) }, () => Math.floor(next() * 10)).join(
      '',
    );
  const grouped = (sep: string) =>
    Array.from({ length: 2 + Math.floor(next() * 5) }, () => digitRun(1, 5)).join(sep);
  const makers: Array<() => string> = [
    () =>
      pick([
        'the',
        'invoice',
        'paid',
        'from',
        'call',
        'me',
        'at',
        'ref',
        'Jane',
        'ACME',
        'x',
        'a.b',
        'v1.2.3',
      ]),
    () =>
      `${pick(['jane.doe', 'ops', 'a', 'J_D+tag', 'x.y-z', '1a'])}@${pick(['example.com', 'acme.io', 'localhost', 'a.b.c', 'ex-ample.co.uk', 'x.1', 'b.cc.d', 'mail.example.com9'])}`,
    () => pick(['@', '@handle', 'a@', '@b.com', 'x@y@z.com', '..@..', 'a@b..cc']),
    () =>
      pick([
        'GB82WEST12345698765432',
        'DE89 3704 0044 0532 0130 00',
        'FR14 2004 1010 0505 0001 3M02 606',
        'GB82WEST12345698765433',
        'NL91ABNA0417164300',
        `GB${digitRun(2, 2)} ${digitRun(4, 4)} ${digitRun(4, 4)}`,
      ]),
    () =>
      pick([
        '4111 1111 1111 1111',
        '4111-1111-1111-1111',
        '378282246310005',
        '5555555555554444',
        '4111 1111 1111 1112',
        digitRun(12, 20),
      ]),
    () =>
      pick([
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
      ]),
    () =>
      `${pick(['+', '00', '0', '(', ''])}${grouped(pick([' ', '-', '.', '', ') (', ' (']))}${pick(['', ')', 'x', '.', '-'])}`,
    () =>
      pick([
        '2024-03-15',
        '2025-06-01T12:00:00.000Z',
        '05.03.2024 10:00',
        '12500.50',
        'INV-2024-000123',
        'PO-88213',
        '1234567890',
        'tier 3 of 5',
        '10:30',
        '1,234,567.89',
      ]),
    () => digitRun(1, 30),
  ];
  const separators = [' ', ' ', ' ', ', ', '; ', '\n', '', '-', '.', ' (', ') '];
  let text = '';
  for (let i = 0; i < tokens; i++) text += pick(makers)() + pick(separators);
  return text;
}

describe('the bounded detectors on ordinary text', () => {
  it('when 3,000 texts of ordinary tokens and near misses are masked, then every pattern masks exactly what the former expressions masked', () => {
    const next = random(12);
    const differences: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const text = ordinaryText(next, 5 + Math.floor(next() * 60));
      for (const patterns of [...PATTERN_NAMES.map((p) => [p]), PATTERN_NAMES]) {
        const expected = referenceMask(text, patterns);
        const actual = maskPatterns(text, patterns);
        if (actual !== expected) differences.push(`${patterns.join('+')}: ${JSON.stringify(text)}`);
      }
    }
    expect(differences.slice(0, 5)).toEqual([]);
  });
});

/** How each field path was applied before: one walk per path, one path after the other. */
function referenceMaskPath(value: unknown, path: readonly string[]): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return REDACTED;
  if (Array.isArray(value)) {
    if (/^\d+$/.test(head)) {
      const i = Number(head);
      if (i >= value.length) return value;
      return value.map((item, j) => (j === i ? referenceMaskPath(item, rest) : item));
    }
    return value.map((item) => referenceMaskPath(item, head === '*' ? rest : path));
  }
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (head === '*') {
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, referenceMaskPath(v, rest)]));
  }
  if (!Object.hasOwn(record, head)) return value;
  return { ...record, [head]: referenceMaskPath(record[head], rest) };
}

describe('field paths walked at once', () => {
  it('when 5,000 random values are redacted by random sets of paths, then the result is what the paths applied one by one gave', () => {
    const next = random(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
    const KEYS = ['a', 'b', '0', '1', '*', 'c-d'];
    const value = (depth: number): unknown => {
      const kind = depth >= 4 ? 0 : Math.floor(next() * 4);
      if (kind === 0) return pick(['x', 1, null, true, 'jane@example.com']);
      if (kind === 1) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
      const record: Record<string, unknown> = {};
      for (const key of KEYS.slice(0, 1 + Math.floor(next() * KEYS.length))) {
        if (next() < 0.7) record[key] = value(depth + 1);
      }
      return record;
    };
    const path = () =>
      [
        pick(['input', 'context']),
        ...Array.from({ length: 1 + Math.floor(next() * 4) }, () => pick(KEYS)),
      ].join('.');
    const differences: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const v = { input: value(0), context: value(0) };
      const fields = Array.from({ length: 1 + Math.floor(next() * 4) }, path);
      const expected = fields.reduce((out, field) => referenceMaskPath(out, field.split('.')), v as unknown);
      const actual = redact(v, { fields });
      if (JSON.stringify(actual) !== JSON.stringify(expected))
        differences.push(JSON.stringify({ v, fields }));
    }
    expect(differences.slice(0, 3)).toEqual([]);
  });
});
