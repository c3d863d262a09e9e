import type postgres from 'postgres';
import type { Shadowgate } from '@shadowgate/sdk';
import { waitFor } from './waiting.js';

/** What the database holds for some use cases, against the request ids the workflow decided. */
export interface Ledger {
  rows: number;
  /** Request ids stored more than once (the unique index forbids it; counted, not assumed). */
  doubleStored: number;
  /** Decided request ids stored with their human decision. */
  stored: number;
  /** Decided request ids with no row, or a row without the human decision. */
  missing: string[];
  /** Rows whose request id the workflow never decided. */
  unexpected: number;
  owed: number;
  aiDone: number;
  aiErrors: number;
  /** Decisions with both sides and a comparison score. */
  compared: number;
  /** Both sides, the AI's answered, and no score yet. */
  uncompared: number;
  /**
   * AI attempts beyond the first that the database recorded (a claim counts each one): a
   * retry after a timeout or a 5xx, by design. A repeated call beyond these is a double call.
   */
  retriedAttempts: number;
}

export async function readLedger(
  sql: postgres.Sql,
  useCases: string[],
  decided: Iterable<string>,
): Promise<Ledger> {
  const rows = await sql<
    Array<{
      request_id: string;
      copies: number;
      human: boolean;
      ai_state: string;
      scored: boolean;
      retried: number;
    }>
  >`
    select request_id, count(*)::int as copies, bool_and(human_decision is not null) as human,
           min(ai_state) as ai_state, bool_and(score is not null) as scored,
           sum(greatest(ai_attempts - 1, 0))::int as retried
    from decisions where use_case in ${sql(useCases)} group by use_case, request_id`;
  const byId = new Map(rows.map((r) => [r.request_id, r]));
  const wanted = new Set(decided);
  const missing: string[] = [];
  let stored = 0;
  for (const id of wanted) {
    if (byId.get(id)?.human) stored++;
    else missing.push(id);
  }
  const ledger: Ledger = {
    rows: 0,
    doubleStored: 0,
    stored,
    missing,
    unexpected: 0,
    owed: 0,
    aiDone: 0,
    aiErrors: 0,
    compared: 0,
    uncompared: 0,
    retriedAttempts: 0,
  };
  for (const r of rows) {
    ledger.rows += r.copies;
    if (r.copies > 1) ledger.doubleStored++;
    ledger.retriedAttempts += Number(r.retried);
    if (!wanted.has(r.request_id)) ledger.unexpected++;
    if (r.ai_state === 'owed') ledger.owed++;
    if (r.ai_state === 'done') ledger.aiDone++;
    if (r.ai_state === 'error') ledger.aiErrors++;
    if (r.scored) ledger.compared++;
    else if (r.ai_state === 'done' && r.human) ledger.uncompared++;
  }
  return ledger;
}

/**
 * Waits (bounded) until the workflow's SDKs hold nothing and the database owes no AI call
 * and no comparison: the state every case checks its counts in.
 */
export async function settle(
  sdks: Shadowgate[],
  sql: postgres.Sql,
  useCases: string[],
  timeoutMs: number,
  /** Says where the queue holds the calls still owed (by request id), for the failure message. */
  queueStates?: (requestIds: string[]) => Promise<Map<string, string>>,
): Promise<number> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (const sdk of sdks) {
    const left = deadline - Date.now();
    if (left <= 0 || !(await sdk.flush(left))) {
      throw new Error(
        `the SDK still holds ${sdk.stats().buffered} items after ${Math.round(timeoutMs / 1000)} s`,
      );
    }
  }
  await waitFor(
    'no AI call or comparison owed in the database',
    async () => {
      const [row] = await sql<Array<{ owed: number; uncompared: number }>>`
        select count(*) filter (where ai_state = 'owed')::int as owed,
               count(*) filter (where ai_state = 'done' and human_decision is not null and score is null)::int
                 as uncompared
        from decisions where use_case in ${sql(useCases)}`;
      if (!row) return undefined;
      if (row.owed === 0 && row.uncompared === 0) return true;
      // A few of the calls still owed, as the worker and the sweep see them: what a replay looks at.
      const owed = await sql<Array<{ request_id: string; ai_attempts: number; lease_ms: number | null }>>`
        select request_id, ai_attempts,
               (extract(epoch from ai_lease_until - now()) * 1000)::int as lease_ms
        from decisions where use_case in ${sql(useCases)} and ai_state = 'owed' order by id limit 5`;
      const queued = await queueStates?.(owed.map((o) => o.request_id)).catch(() => undefined);
      const shown = owed
        .map(
          (o) =>
            `${o.request_id} (attempts ${o.ai_attempts}, lease ${o.lease_ms ?? 'none'} ms, ` +
            `queue ${queued?.get(o.request_id) ?? 'unknown'})`,
        )
        .join(', ');
      throw new Error(
        `${row.owed} AI calls and ${row.uncompared} comparisons still owed${shown ? `: ${shown}` : ''}`,
      );
    },
    Math.max(1_000, deadline - Date.now()),
    500,
  );
  return Date.now() - started;
}

/** Stage changes recorded more than once for the same stage version (the unique index forbids it). */
export async function repeatedTransitions(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<Array<{ repeated: number }>>`
    select count(*)::int as repeated from (
      select use_case, stage_version from stage_transitions group by 1, 2 having count(*) > 1) t`;
  return row?.repeated ?? 0;
}

export interface TransitionRow {
  useCase: string;
  from: string | null;
  to: string;
  actor: string;
  reason: string;
  stageVersion: number;
  at: Date;
}

export async function transitionsOf(sql: postgres.Sql, useCase: string): Promise<TransitionRow[]> {
  return sql<TransitionRow[]>`
    select use_case as "useCase", from_stage as "from", to_stage as "to", actor, reason, stage_version as "stageVersion", at
    from stage_transitions where use_case = ${useCase} order by stage_version`;
}
