/**
 * Plain-text tables for the terminal: the first column left-aligned, the
 * others right-aligned (they hold numbers), columns two spaces apart.
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

export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function fixed(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined ? '–' : x.toFixed(digits);
}

export function whole(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US');
}

/** Dollars: small amounts with enough digits to be seen, large ones rounded and grouped. */
export function usd(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  const sign = x < 0 ? '-' : '';
  const a = Math.abs(x);
  if (a >= 1000) return `${sign}$${Math.round(a).toLocaleString('en-US')}`;
  if (a >= 0.01 || a === 0) return `${sign}$${a.toFixed(2)}`;
  return `${sign}$${a.toPrecision(2)}`;
}

/** Per-decision dollars to the millionth, so an AI cost of a few hundredths of a cent still shows. */
export function usdMicro(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `$${x.toFixed(6)}`;
}

export function ms(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${Math.round(x)} ms`;
}
