import type { BenchResult, Figure } from './bench-types.js';
import type { Machine } from './machine.js';

/** A figure as the table prints it: thousands separated, precision by magnitude, with its unit. */
export function formatFigure({ value, unit }: Figure): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 || unit === 'count' ? 0 : abs >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  switch (unit) {
    case 'count':
      return text;
    case '/s':
      return `${text}/s`;
    case '%':
      return `${text}%`;
    case 'x':
      return `${text}×`;
    default:
      return `${text} ${unit}`;
  }
}

const verdict = (met: boolean | null | undefined) =>
  met === undefined ? '' : met === null ? 'n/a' : met ? 'yes' : 'NO';

export function machineLine(m: Machine): string {
  return (
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB memory, Node ${m.node}, ` +
    `PostgreSQL ${m.postgres} (shared_buffers ${m.postgresSettings.sharedBuffers}, work_mem ${m.postgresSettings.workMem}), ` +
    `Redis ${m.redis}, ${m.os}`
  );
}

/** The results as a plain-text table, one block per benchmark, its notes under it. */
export function formatTable(results: BenchResult[], machine: Machine): string {
  const header = ['benchmark', 'metric', 'value', 'baseline (same run)', 'target', 'met'];
  const body: string[][] = [];
  for (const r of results) {
    r.rows.forEach((row, i) => {
      body.push([
        i === 0 ? r.name : '',
        row.metric,
        formatFigure(row),
        row.baseline ? `${formatFigure(row.baseline)} ${row.baseline.label}` : '',
        row.target ?? '',
        verdict(row.met),
      ]);
    });
  }
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((line) => line[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [`machine: ${machineLine(machine)}`, '', line(header), line(widths.map((w) => '-'.repeat(w)))];
  for (const cells of body) out.push(line(cells));
  for (const r of results) {
    if (r.notes.length === 0) continue;
    out.push('', `${r.name}:`);
    for (const note of r.notes) out.push(`  - ${note}`);
  }
  return out.join('\n');
}

/** The same table in Markdown, for docs/performance.md. */
export function formatMarkdown(results: BenchResult[]): string {
  const out = [
    '| benchmark | metric | value | baseline (same run) | target | met |',
    '| --- | --- | ---: | --- | --- | --- |',
  ];
  for (const r of results) {
    r.rows.forEach((row, i) => {
      const baseline = row.baseline ? `${formatFigure(row.baseline)} ${row.baseline.label}` : '';
      out.push(
        `| ${i === 0 ? r.name : ''} | ${row.metric} | ${formatFigure(row)} | ${baseline} | ${row.target ?? ''} | ${verdict(row.met)} |`,
      );
    });
  }
  return out.join('\n');
}
