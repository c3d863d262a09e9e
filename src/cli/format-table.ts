import { oneLine } from '../contracts/safe-text.js';
import { NONE } from '../format/figures.js';

/**
 * Plain-text tables for a terminal: a header row, columns padded to their widest cell, two spaces
 * between columns, no trailing blanks. Right-aligned columns suit numbers. A cell is one line
 * (line breaks and tabs become spaces, control characters go), so a value cannot add rows.
 */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

export function formatTable(columns: readonly Column[], rawRows: readonly (readonly string[])[]): string {
  const rows = rawRows.map((r) => r.map(oneLine));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat((widths[i] ?? 0) - width(cell));
        return c.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n');
}

/** Code points, not UTF-16 units, so `≥` and `—` count as one column. */
function width(text: string): number {
  return [...text].length;
}

/** Figures (money, rates, counts, durations) are written by src/format/figures.js. */

/** `2025-01-31T10:00:00.000Z` → `2025-01-31 10:00:00Z`. */
export function timestamp(value: string | null | undefined): string {
  if (!value) return NONE;
  return value.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
