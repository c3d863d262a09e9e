import type { CaseResult } from './fault-case.js';

/** The lines printed for one case: its counts, what it observed, and every failed check. */
export function caseLines(r: CaseResult): string[] {
  const verdict = r.problems.length === 0 ? 'PASS' : 'FAIL';
  return [
    `  ${verdict} ${r.name}: sent ${r.sent}, stored ${r.stored}, lost ${r.lost}, ` +
      `double-counted ${r.doubleCounted}, AI calls completed ${r.aiCompleted} (errors ${r.aiErrors}), ` +
      `comparisons ${r.compared}, repeated AI calls ${r.repeats} (${Math.round(r.seconds)} s)`,
    ...r.facts.map((f) => `    · ${f}`),
    ...r.problems.map((p) => `    ✗ ${p}`),
  ];
}

/** One row per case, as docs/reliability.md shows them. */
export function summaryTable(results: CaseResult[]): string {
  const header = [
    'case',
    'sent',
    'stored',
    'lost',
    'double',
    'AI calls',
    'AI errors',
    'compared',
    'repeats',
    's',
    '',
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.sent),
    String(r.stored),
    String(r.lost),
    String(r.doubleCounted),
    String(r.aiCompleted),
    String(r.aiErrors),
    String(r.compared),
    String(r.repeats),
    String(Math.round(r.seconds)),
    r.problems.length === 0 ? 'pass' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n').replace(/ +$/gm, '');
}
