/**
 * The structure of a Markdown text as a renderer sees it, line by line, without a Markdown
 * library: what block each line opens and how many unescaped characters of inline meaning it
 * holds (table cell separators, code spans, emphasis, links, HTML, entities). Two reports that
 * differ only in escaped values have the same shape.
 */

const INLINE = new Set(['|', '`', '*', '<', '>', '[', ']', '&', '~']);

/** Counts of unescaped inline characters: a character after an odd run of backslashes is escaped. */
export function unescaped(line: string): Record<string, number> {
  const counts: Record<string, number> = {};
  let backslashes = 0;
  for (const c of line) {
    if (c === '\\') {
      backslashes++;
      continue;
    }
    if (INLINE.has(c) && backslashes % 2 === 0) counts[c] = (counts[c] ?? 0) + 1;
    backslashes = 0;
  }
  return counts;
}

/** What a line opens when it starts a block (CommonMark allows up to three spaces before). */
export function blockKind(line: string): string {
  const text = line.replace(/^ {0,3}/, '');
  if (line.trim() === '') return 'blank';
  if (/^#{1,6}(?:[ \t]|$)/.test(text)) return `heading ${/^#+/.exec(text)![0].length}`;
  if (/^\|/.test(text)) return 'table row';
  if (/^[-+*](?:[ \t]|$)/.test(text)) return 'list item';
  if (/^\d{1,9}[.)](?:[ \t]|$)/.test(text)) return 'ordered item';
  if (/^(?:[-=_*][ \t]*)+$/.test(text)) return 'rule or underline';
  if (/^(?:>|```|~~~|<)/.test(text)) return 'quote, fence or HTML';
  if (/^ {4}/.test(line)) return 'indented code';
  return 'paragraph';
}

export function markdownShape(markdown: string): Array<{ kind: string; inline: Record<string, number> }> {
  return markdown.split('\n').map((line) => ({ kind: blockKind(line), inline: unescaped(line) }));
}
