import type { CaseResult } from './fault-case.js';

/**
 * The lines printed for one run of a case: its counts, what it observed, and every failed check.
 * The first line names the run (when the case runs more than once) and its seed.
 */
export function caseLines(r: CaseResult, runs = 1): string[] {
  const verdict = r.problems.length === 0 ? 'PASS' : 'FAIL';
  const which = runs > 1 && r.run !== undefined ? ` run ${r.run}/${runs}` : '';
  const seed = r.seed !== undefined ? ` (seed ${r.seed})` : '';
  return [
    `  ${verdict} ${r.name}${which}${seed}: sent ${r.sent}, stored ${r.stored}, lost ${r.lost}, ` +
      `double-counted ${r.doubleCounted}, AI calls completed ${r.aiCompleted} (errors ${r.aiErrors}), ` +
      `comparisons ${r.compared}, repeated AI calls ${r.repeats} (${Math.round(r.seconds)} s)`,
    ...r.facts.map((f) => `    · ${f}`),
    ...r.problems.map((p) => `    ✗ ${p}`),
  ];
}

/** Per case, how many of its runs passed and the seeds of those that failed (each replays with --seed). */
export function repeatSummary(results: CaseResult[], runs: number): string[] {
  const names = [...new Set(results.map((r) => r.name))];
  return names.map((name) => {
    const own = results.filter((r) => r.name === name);
    const failed = own.filter((r) => r.problems.length > 0);
    const seeds = failed.length > 0 ? `; failed with seed ${failed.map((r) => r.seed).join(', ')}` : '';
    return `  ${name.padEnd(18)} ${own.length - failed.length}/${runs} runs passed${seeds}`;
  });
}

/** One row per case run, as docs/reliability.md shows them. */
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
  const repeated = results.some((r) => (r.run ?? 1) > 1);
  const rows = results.map((r) => [
    repeated ? `${r.name} #${r.run}` : r.name,
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
