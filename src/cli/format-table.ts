import { oneLine } from '../contracts/safe-text.js';

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

export const NONE = '—';

/** A fraction such as an agreement rate, to three decimals. */
export function fraction(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : value.toFixed(3);
}

/** An amount in USD: four decimals below 10 (per-decision costs are small), else two. */
export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  return Math.abs(value) < 10 ? value.toFixed(4) : value.toFixed(2);
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : String(value);
}

/** A criterion's figure as given: whole numbers unchanged, other numbers to at most four decimals. */
export function figure(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
}

/** `2025-01-31T10:00:00.000Z` → `2025-01-31 10:00:00Z`. */
export function timestamp(value: string | null | undefined): string {
  if (!value) return NONE;
  return value.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
