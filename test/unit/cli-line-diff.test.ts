import { describe, expect, it } from 'vitest';
import { diffLines, splitLines, unifiedDiff } from '../../src/cli/line-diff.js';

const labels = { old: 'old', new: 'new' };
const numbered = (n: number, change: Record<number, string> = {}) =>
  `${Array.from({ length: n }, (_, i) => change[i + 1] ?? `l${i + 1}`).join('\n')}\n`;

describe('unifiedDiff', () => {
  it('when the texts are equal, then the diff is empty', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', labels)).toBe('');
  });

  it('when one line changes, then one hunk shows it with the context asked for', () => {
    expect(unifiedDiff('a\nb\nc\nd\ne\n', 'a\nb\nX\nd\ne\n', labels, 1)).toBe(
      ['--- old', '+++ new', '@@ -2,3 +2,3 @@', ' b', '-c', '+X', ' d'].join('\n'),
    );
  });

  it('when two changes are further apart than twice the context, then they are two hunks, else one', () => {
    const before = numbered(10);
    const after = numbered(10, { 2: 'X2', 9: 'X9' });
    expect(unifiedDiff(before, after, labels, 1).split('\n')).toEqual([
      '--- old',
      '+++ new',
      '@@ -1,3 +1,3 @@',
      ' l1',
      '-l2',
      '+X2',
      ' l3',
      '@@ -8,3 +8,3 @@',
      ' l8',
      '-l9',
      '+X9',
      ' l10',
    ]);
    // Seven unchanged lines between the changes: with a context of 4 the hunks touch and merge.
    const merged = unifiedDiff(before, after, labels, 4).split('\n');
    expect(merged.filter((l) => l.startsWith('@@'))).toEqual(['@@ -1,10 +1,10 @@']);
  });

  it('when lines are only added or only removed, then the ranges say so as diff -u does', () => {
    expect(unifiedDiff('a\nb\n', 'a\nx\nb\n', labels)).toBe(
      ['--- old', '+++ new', '@@ -1,2 +1,3 @@', ' a', '+x', ' b'].join('\n'),
    );
    expect(unifiedDiff('', 'a\nb\n', labels)).toBe(
      ['--- old', '+++ new', '@@ -0,0 +1,2 @@', '+a', '+b'].join('\n'),
    );
    expect(unifiedDiff('a\n', '', labels)).toBe(['--- old', '+++ new', '@@ -1 +0,0 @@', '-a'].join('\n'));
  });

  it('when the texts differ only in the final newline, then the diff says so instead of showing no hunk', () => {
    expect(unifiedDiff('a', 'a\n', labels)).toBe(
      ['--- old', '+++ new', '(the texts differ only in line endings or the final newline)'].join('\n'),
    );
  });
});

describe('diffLines', () => {
  it('when a line leaves the front and another joins the end, then the common lines are kept, not replaced', () => {
    expect(diffLines(['a', 'b', 'c', 'd'], ['b', 'c', 'd', 'e'])).toEqual([
      { kind: '-', line: 'a' },
      { kind: ' ', line: 'b' },
      { kind: ' ', line: 'c' },
      { kind: ' ', line: 'd' },
      { kind: '+', line: 'e' },
    ]);
  });

  it('when lines are split, then CRLF and a final newline make no extra line', () => {
    expect(splitLines('a\r\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\n\n')).toEqual(['a', '']);
    expect(splitLines('')).toEqual([]);
  });
});
