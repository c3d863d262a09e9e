/**
 * Reading the text of `EXPLAIN (ANALYZE, BUFFERS)`: a one-line digest of a plan for the notes, and
 * the counts that tell why a statement costs what it costs at one size and not at another (the
 * rows its scans returned, per table, and the buffers it touched: in shared buffers or read).
 */

export interface PlanCounts {
  /** The plan's Execution Time, in ms. */
  executionMs: number | null;
  /** Buffers found in shared buffers and read from the OS (its page cache or the disk), whole plan. */
  sharedHit: number;
  sharedRead: number;
  /** Rows returned by the scans of each table (actual rows × loops); month partitions count as their table. */
  rowsByTable: Record<string, number>;
  /** Heap fetches of the plan's index-only scans (rows whose page was not all-visible). */
  heapFetches: number;
}

const SCAN = /(?:Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: Backward)?(?: using \S+)? on (\S+)/;
const ACTUAL = /actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)/;

/** A month partition (decisions_2026_12) as its table; anything else as named. */
const tableOf = (relation: string) => relation.replace(/^(decisions)_\d{4}_\d{2}$/, '$1');

export function planCounts(lines: readonly string[]): PlanCounts {
  const counts: PlanCounts = {
    executionMs: null,
    sharedHit: 0,
    sharedRead: 0,
    rowsByTable: {},
    heapFetches: 0,
  };
  // The first Buffers line is the top node's, which includes every node below it; the planner's
  // own buffers come after "Planning:" and are left out.
  let topBuffers = false;
  for (const line of lines) {
    const scan = SCAN.exec(line);
    const actual = ACTUAL.exec(line);
    if (scan && actual) {
      const table = tableOf(scan[1]!);
      counts.rowsByTable[table] = (counts.rowsByTable[table] ?? 0) + Number(actual[1]) * Number(actual[2]);
    }
    const fetches = /Heap Fetches: (\d+)/.exec(line);
    if (fetches) counts.heapFetches += Number(fetches[1]);
    if (/^\s*Planning:/.test(line)) topBuffers = true;
    const buffers = /^\s*Buffers: shared([^,]*)/.exec(line);
    if (buffers && !topBuffers) {
      topBuffers = true;
      counts.sharedHit = Number(/hit=(\d+)/.exec(buffers[1]!)?.[1] ?? 0);
      counts.sharedRead = Number(/read=(\d+)/.exec(buffers[1]!)?.[1] ?? 0);
    }
    const total = /Execution Time: ([\d.]+) ms/.exec(line);
    if (total) counts.executionMs = Number(total[1]);
  }
  return counts;
}

/** The counts on one line: time, the rows of each table scanned, buffers and heap fetches. */
export function describeCounts(c: PlanCounts): string {
  const rows = Object.entries(c.rowsByTable)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([table, n]) => `${n.toLocaleString('en-US')} rows of ${table}`);
  return [
    `${c.executionMs === null ? '?' : c.executionMs.toLocaleString('en-US', { maximumFractionDigits: 1 })} ms`,
    ...rows,
    `buffers ${c.sharedHit.toLocaleString('en-US')} hit / ${c.sharedRead.toLocaleString('en-US')} read`,
    ...(c.heapFetches > 0 ? [`${c.heapFetches.toLocaleString('en-US')} heap fetches`] : []),
  ].join(', ');
}

/** The plan's nodes with their actual times, and its total, on one line. */
export function planDigest(lines: readonly string[]): string {
  const nodes = lines
    .filter((l) => /actual time=/.test(l))
    .slice(0, 6)
    .map((l) =>
      l
        .replace(/^[\s\->]+/, '')
        .replace(/\s*\(cost=[^)]*\)/, '')
        .replace(/\(actual time=[\d.]+\.\.([\d.]+) rows=(\d+) loops=(\d+)\)/, '($1 ms, $2 rows)')
        .trim(),
    );
  const sort = lines.find((l) => /Sort Method/.test(l))?.trim();
  const total = lines.find((l) => /Execution Time/.test(l))?.trim();
  return [...nodes, sort, total].filter(Boolean).join(' ← ');
}
