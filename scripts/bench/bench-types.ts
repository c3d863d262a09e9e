/**
 * What every benchmark hands back: rows for the printed table (a figure, the baseline measured in
 * the same run beside it, the target of issue 7 and whether it was met), notes that say what
 * limits a missed target, and details that go to the JSON file only.
 */

/** `core-µs`: CPU microseconds, on whichever core they ran (CPU per decision). */
export type Unit = 'µs' | 'core-µs' | 'ms' | 's' | '/s' | '%' | 'x' | 'MB' | 'GB' | 'count';

export interface Figure {
  value: number | null;
  unit: Unit;
}

export interface BenchRow {
  metric: string;
  value: number | null;
  unit: Unit;
  /** The baseline's figure for the same metric, measured in the same run. */
  baseline?: Figure & { label: string };
  /** The target as issue 7 states it, e.g. "≤ 20 µs". */
  target?: string;
  /** Null when the figure could not be measured. */
  met?: boolean | null;
}

export interface BenchResult {
  name: string;
  rows: BenchRow[];
  /** Shown under the table: what limits a missed target, with numbers. */
  notes: string[];
  /** Everything else measured (samples, profiles, plans), for the JSON file. */
  details: Record<string, unknown>;
}

export interface BenchOptions {
  quick: boolean;
  /** The gates benchmark's points, in stored decisions, ascending (`--stored`); else by `quick`. */
  stored?: number[];
  /** Run the controller children with --cpu-prof and summarise the profiles. */
  profile: boolean;
  /** Where the CPU profiles go. */
  profileDir: string;
  postgresUrl: string;
  redisUrl: string;
  log: (line: string) => void;
}

export const atMost = (value: number | null, limit: number): boolean | null =>
  value === null ? null : value <= limit;

export const atLeast = (value: number | null, limit: number): boolean | null =>
  value === null ? null : value >= limit;
