import type { SQL } from 'drizzle-orm';
import type { Database } from '../../src/db/database.js';

/**
 * A Database that times every raw SQL query (`rows()` and `preparedRows()`, which the metrics, guard and spend reads
 * go through) and keeps its text and parameters, so a benchmark can say which queries a tick or
 * a metrics read spends its time in and EXPLAIN ANALYZE the slowest one as it was run.
 */

export interface RecordedQuery {
  kind: string;
  sql: string;
  params: unknown[];
  ms: number;
}

interface Compiler {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
}

/** A name for a query of the controller, recognised by what it computes. */
export function queryKind(text: string): string {
  if (text.includes('cohort_rollups')) return 'cohort rollups';
  if (text.includes('latency_histograms')) return 'latency histogram';
  if (text.includes('segment_rollups')) return 'segment rollups';
  if (text.includes('confusion_rollups')) return 'confusion rollups';
  if (text.includes('from daily_ai_spend')) return 'spend today';
  if (text.includes('action = $') || text.includes('from audit_events')) return 'last eligibility notice';
  if (text.includes('percentile_cont')) return 'cohort aggregate';
  if (text.includes('cross join unnest')) return 'segment breakdown';
  if (text.includes("#>> '{}'")) return 'confusion matrix';
  if (text.includes('compared_at desc')) return 'guard window (compared)';
  if (text.includes('ai_at desc')) return 'guard window (AI calls)';
  if (text.includes('sum(ai_cost)')) return 'spend today';
  return text.replace(/\s+/g, ' ').trim().slice(0, 60);
}

export class QueryRecorder {
  private records: RecordedQuery[] = [];
  readonly database: Database;

  constructor(inner: Database) {
    this.database = {
      ...inner,
      kind: inner.kind,
      db: inner.db,
      relaxed: inner.relaxed,
      rows: (query) => this.timed(query, () => inner.rows(query)),
      preparedRows: (query) => this.timed(query, () => inner.preparedRows(query)),
    };
  }

  private async timed<T>(query: SQL, run: () => Promise<T[]>): Promise<T[]> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      const ms = performance.now() - started;
      const { sql, params } = (this.database.db as unknown as Compiler).dialect.sqlToQuery(query);
      this.records.push({ kind: queryKind(sql), sql, params, ms });
    }
  }

  /** The queries recorded since the last call. */
  take(): RecordedQuery[] {
    const taken = this.records;
    this.records = [];
    return taken;
  }
}

/** Total milliseconds and count per kind, largest first. */
export function byKind(
  records: readonly RecordedQuery[],
): Array<{ kind: string; count: number; ms: number }> {
  const totals = new Map<string, { count: number; ms: number }>();
  for (const r of records) {
    const t = totals.get(r.kind) ?? { count: 0, ms: 0 };
    t.count++;
    t.ms += r.ms;
    totals.set(r.kind, t);
  }
  return [...totals.entries()]
    .map(([kind, t]) => ({ kind, count: t.count, ms: Math.round(t.ms * 10) / 10 }))
    .sort((a, b) => b.ms - a.ms);
}
