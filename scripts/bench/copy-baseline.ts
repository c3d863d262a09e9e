import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import type { MirroredDecision } from '../../src/contracts/decision-contracts.js';
import { payloadHash } from '../../src/ingest/payload-hash.js';

/**
 * The ingest benchmark's baseline: the rows `POST /v1/decisions` stores for the same decisions
 * (a shadow plan storing inputs in full, one AI call owed each), written into an empty, migrated
 * `decisions` table, with the same use case and plan applied (so the rollup triggers do the same
 * work), with COPY from one process and one connection, 1,000 lines a write.
 */

const COLUMNS = [
  'use_case',
  'request_id',
  'payload_hash',
  'input',
  'pending_input',
  'context',
  'stage',
  'stage_version',
  'plan_version',
  'ai_config',
  'human_decision',
  'human_decided_by',
  'human_handling_ms',
  'human_at',
  'ai_state',
] as const;

const LINES_PER_WRITE = 1_000;
/** Plus a millisecond a line: how long a COPY may take before it is taken as refused. */
const COPY_BOUND_MS = 60_000;

/** A value in COPY's text format: `\N` for null, backslash, tab, newline and return escaped. */
export function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  return String(value).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** The COPY lines for these decisions, as the controller would store them. */
export function copyLines(decisions: readonly MirroredDecision[], aiConfig: string): string[] {
  const now = new Date().toISOString();
  return decisions.map((d) =>
    [
      d.useCase,
      d.requestId,
      payloadHash(d),
      JSON.stringify(d.input),
      null,
      JSON.stringify(d.context ?? {}),
      'shadow',
      1,
      1,
      aiConfig,
      d.human ? JSON.stringify(d.human.decision) : null,
      d.human?.decidedBy ?? null,
      d.human?.handlingMs ?? null,
      d.human ? now : null,
      'owed',
    ]
      .map(copyField)
      .join('\t'),
  );
}

/** Writes the lines with one COPY; resolves with the rows per second it took. */
export async function copyRate(sql: postgres.Sql, lines: readonly string[]): Promise<number> {
  const started = performance.now();
  const writable = await sql.unsafe(`copy decisions (${COLUMNS.join(', ')}) from stdin`).writable();
  async function* chunks() {
    for (let i = 0; i < lines.length; i += LINES_PER_WRITE) {
      yield `${lines.slice(i, i + LINES_PER_WRITE).join('\n')}\n`;
    }
  }
  // postgres.js never settles the stream of a COPY that PostgreSQL refused (a column renamed or
  // made NOT NULL): give up after a bound far beyond any run, rather than hang the benchmark.
  let timer: NodeJS.Timeout | undefined;
  const bound = COPY_BOUND_MS + lines.length;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`COPY did not finish in ${bound} ms: was it refused? (columns: ${COLUMNS.join(', ')})`),
        ),
      bound,
    );
  });
  try {
    await Promise.race([pipeline(Readable.from(chunks()), writable), stalled]);
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from decisions`;
  if (row?.n !== lines.length) throw new Error(`COPY stored ${row?.n} rows of ${lines.length}`);
  return lines.length / seconds;
}
