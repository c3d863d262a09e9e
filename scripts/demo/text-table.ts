/**
 * Plain-text tables for the terminal: the first column left-aligned, the
 * others right-aligned (they hold numbers), columns two spaces apart. Figures in the cells are
 * written by src/format/figures.js, as the CLI, the report and the dashboard write them.
 */
export function textTable(header: string[], rows: string[][], indent = '  '): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = indent + widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)];
}
