import { oneLine } from '../contracts/safe-text.js';

/**
 * Markdown built from untrusted values. Owners, release managers, ingest clients and the AI
 * system all write text the report shows (a description, a reason, a segment value, a model
 * version); none of it may open a heading, a table row or cell, a link, an image, an HTML tag or
 * entity, a code span or emphasis. So a report line is a `Markdown` value, made only by the `md`
 * template (whose `${}` values are escaped unless they are `Markdown` already) and the helpers
 * below: text cannot reach the report unescaped without a cast.
 */
class Markdown {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

/** Only this module makes Markdown from a string: the class itself is not exported. */
export type { Markdown };

export type Inline = string | number | Markdown;

const trusted = (text: string) => new Markdown(text);

/**
 * Every character with a meaning inline: backslash, code spans, emphasis and strikethrough,
 * links and images (`[`, `]`), HTML tags, autolinks and entities (`<`, `>`, `&`), table cells.
 * `_` inside a word opens nothing, so snake_case stays readable.
 */
const INLINE = /[\\`*~[\]<>&|]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;
/**
 * What opens a block at the start of a line: an ATX heading, a list item, an ordered list item,
 * a thematic break or setext underline (a value of `-` and `=` only; `*` and `_` are escaped
 * already). Values never start a line in the report's templates; this holds even if one did.
 * Block quotes and fences start with `>`, `` ` `` or `~`, escaped everywhere.
 */
const BLOCK_START = /^( {0,3})(?:(#{1,6}|[-+])(?=[ \t]|$)|(\d{1,9})([.)])(?=[ \t]|$)|([-=])(?=[-= \t]*$))/;

/** A value as literal text on one line: the single escaping function every renderer uses. */
export function escapeMarkdown(value: string): string {
  return oneLine(value)
    .replace(INLINE, (c) => `\\${c}`)
    .replace(
      BLOCK_START,
      (_all, indent: string, marker?: string, digits?: string, delimiter?: string, rule?: string) =>
        digits !== undefined ? `${indent}${digits}\\${delimiter}` : `${indent}\\${marker ?? rule}`,
    );
}

function inline(value: Inline): string {
  if (value instanceof Markdown) return value.toString();
  return typeof value === 'number' ? escapeMarkdown(String(value)) : escapeMarkdown(value);
}

/** A line of the report: the literal parts are the report's own Markdown, every value is escaped. */
export function md(literals: TemplateStringsArray, ...values: Inline[]): Markdown {
  let text = literals[0] ?? '';
  values.forEach((value, i) => {
    text += inline(value) + (literals[i + 1] ?? '');
  });
  return trusted(text);
}

export function strong(value: Inline): Markdown {
  return trusted(`**${inline(value)}**`);
}

/**
 * A code span, for the report's own identifiers (hashes, adapter names, API paths). Backslash
 * escapes do not work inside one, so a backtick becomes `'`; a pipe is escaped for tables (GFM
 * removes that backslash inside code spans too).
 */
export function code(text: string): Markdown {
  return trusted(`\`${oneLine(text).replace(/`/g, "'").replace(/\|/g, '\\|')}\``);
}

/** A GFM table: a header row, the separator, one row per entry; every cell escaped unless Markdown. */
export function table(headers: readonly Inline[], rows: ReadonlyArray<readonly Inline[]>): Markdown[] {
  const row = (cells: readonly Inline[]) => trusted(`| ${cells.map(inline).join(' | ')} |`);
  return [row(headers), trusted(`| ${headers.map(() => '---').join(' | ')} |`), ...rows.map(row)];
}

/** The document: one line per entry. */
export function markdownDocument(lines: readonly Markdown[]): string {
  return lines.join('\n');
}
