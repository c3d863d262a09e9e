import { describe, expect, it } from 'vitest';
import { code, escapeMarkdown, markdownDocument, md, strong, table } from '../../src/report/markdown-text.js';
import { blockKind, markdownShape, unescaped } from '../support/markdown-shape.js';

/** Text an owner, a release manager, an ingest client or an AI system could send. */
const HOSTILE = [
  '## Current gate',
  '\n## Gate\n',
  '| eligible |',
  'x | eligible | 100.00% |\n| --- | --- |\n| forged | row |',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '[x](javascript:alert(1))',
  '![pixel](https://tracker.example/p.png)',
  '[ref]: https://evil.example',
  '`code` and ``double``',
  '```\nfenced\n```',
  '**bold** *em* _em_ ~~gone~~',
  '&lt;b&gt; &#60;script&#62; &amp;',
  '<https://evil.example>',
  '> quoted',
  '- listed',
  '+ listed',
  '1. ordered',
  '7) ordered',
  '---',
  '===',
  '   ### indented heading',
  'trailing backslash \\',
  'two spaces at the end  \nnext',
  'esc \u001b]52;c;ZWNobw==\u0007 csi \u001b[2A\u001b[2K',
  'c1 \u009b2J bidi \u202eevil\u202c \u2066x\u2069',
  'crlf\r\nline\rseparators\u2028\u2029nel\u0085tab\tend',
];

/** A test name that shows every control character as an escape. */
const shown = (text: string) =>
  JSON.stringify(text).replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );

describe('escapeMarkdown', () => {
  it.each(HOSTILE.map((h) => [shown(h), h] as const))(
    'when %s is escaped, then it is one line that opens no block and holds no unescaped inline markup',
    (_name, hostile) => {
      const escaped = escapeMarkdown(hostile);
      expect(escaped.split('\n')).toHaveLength(1);
      // Even at the very start of a line, where block markers count.
      expect(blockKind(escaped)).toBe('paragraph');
      expect(unescaped(escaped)).toEqual({});
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may remain
      expect(escaped).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    },
  );

  it('when hostile text is escaped, then what a reader sees is the text itself, with backslashes only where needed', () => {
    expect(escapeMarkdown('## Gate')).toBe('\\## Gate');
    expect(escapeMarkdown('\n## Gate\n')).toBe(' \\## Gate ');
    expect(escapeMarkdown('| eligible |')).toBe('\\| eligible \\|');
    expect(escapeMarkdown('<script>alert(1)</script>')).toBe('\\<script\\>alert(1)\\</script\\>');
    expect(escapeMarkdown('[x](javascript:alert(1))')).toBe('\\[x\\](javascript:alert(1))');
    expect(escapeMarkdown('`rm -rf /`')).toBe('\\`rm -rf /\\`');
    expect(escapeMarkdown('&amp;')).toBe('\\&amp;');
    expect(escapeMarkdown('1. ordered')).toBe('1\\. ordered');
    expect(escapeMarkdown('---')).toBe('\\---');
    expect(escapeMarkdown('_em_ snake_case')).toBe('\\_em\\_ snake_case');
    expect(escapeMarkdown('esc \u001b]52;c;ZWNobw==\u0007!')).toBe('esc \\]52;c;ZWNobw==!');
    expect(escapeMarkdown('a\r\nb\tc')).toBe('a b c');
  });

  it('when ordinary values are escaped, then they are unchanged', () => {
    for (const plain of [
      'ap@example.com',
      'Route invoices to the right team.',
      '2026-04-15T12:00:00.000Z',
      '-$3.86',
      '95.00%',
      '1,250',
      'key:release-bot',
      'gpt-4o-mini-2024-07-18',
      'region=APAC (12)',
      'customer_tier',
      '#42 is the ticket',
    ]) {
      expect(escapeMarkdown(plain)).toBe(plain);
    }
  });
});

describe('the md template and its helpers', () => {
  it('when a value is interpolated, then it is escaped; the literal parts and Markdown values are kept', () => {
    const line = md`- ${strong('Owner')}: ${'<b>x</b> | y'} (${code('abc|`d')}) ${42}`;
    expect(String(line)).toBe("- **Owner**: \\<b\\>x\\</b\\> \\| y (`abc\\|'d`) 42");
  });

  it('when a table holds hostile cells, then each row keeps its cells and no row is added', () => {
    const rows = table(
      ['segment', 'value'],
      HOSTILE.map((h) => ['region', h]),
    );
    const shape = markdownShape(markdownDocument(rows));
    expect(shape).toHaveLength(HOSTILE.length + 2);
    for (const line of shape) expect(line).toEqual({ kind: 'table row', inline: { '|': 3 } });
  });
});
