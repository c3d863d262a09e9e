import { and, eq, isNull, sql } from 'drizzle-orm';
import { canonicalJson } from '../contracts/canonical-json.js';
import { ShadowgateError } from '../contracts/errors.js';
import type { Database, Db } from '../db/database.js';
import {
  type ComparableRow,
  comparableColumns,
  type DecisionKey,
  type NewDecision,
} from '../db/decision-row.js';
import {
  earlierMonthJoinText,
  isNewestOfKey,
  monthOfId,
  newestByKeyText,
  storedInEarlierMonth,
} from '../db/decision-month.js';
import { decisions } from '../db/schema.js';
import { rawTransaction } from './raw-transaction.js';

export type HumanOutcome =
  | { status: 'recorded'; row: ComparableRow }
  | { status: 'duplicate' }
  | { status: 'conflict'; existing: unknown }
  | { status: 'not-found' };

/** Some decisions were stored before with another payload; the transaction is rolled back. */
export class ConflictingDecisions extends ShadowgateError {
  constructor(readonly keys: DecisionKey[]) {
    super(
      409,
      'conflict',
      `${keys.length} decision(s) already stored with a different payload; nothing in this request was stored`,
      keys.map((k) => ({ path: `${k.useCase}/${k.requestId}`, problem: CONFLICT_PROBLEM })),
    );
  }
}

export const CONFLICT_PROBLEM =
  'this (useCase, requestId) was stored with a different input, context or human decision';

const keyOf = (k: DecisionKey) => `${k.useCase}\u0000${k.requestId}`;

interface DecisionKeyRow {
  use_case: string;
  request_id: string;
}

/**
 * One constant statement for a whole batch: the rows travel as one JSON array (see
 * `mirroredRecords`), so the text never changes and is prepared once per connection. The pending
 * input travels wrapped in an array (`p -> 0`): a JSON null member would be read as SQL NULL,
 * and a pending input of JSON null is still pending. `ha` marks a human side (human_at = now()).
 * The document is read as `json`, not `jsonb`: only the members stored as jsonb are converted,
 * not the whole array first (about a quarter less PostgreSQL time per batch, measured side by side).
 * A key stored this month is left out by `on conflict`, one stored the month before by `earlier`
 * (decision-month.ts); both come back from the slower path below as duplicates or conflicts.
 */
const INSERT_MIRRORED = `
insert into decisions (use_case, request_id, payload_hash, input, pending_input, context, stage,
  stage_version, plan_version, ai_config, human_decision, human_decided_by, human_handling_ms,
  human_at, ai_state)
select r.u, r.q, r.h, r.i, r.p -> 0, r.c, r.s, r.sv, r.pv, r.a, r.hd, r.hb, r.hm,
  case when r.ha then now() end, r.st
from json_to_recordset($1::text::json) as r(u text, q text, h text, i jsonb, p jsonb, c jsonb,
  s text, sv int, pv int, a text, hd jsonb, hb text, hm int, ha boolean, st text)
${earlierMonthJoinText('r.u', 'r.q')}
where earlier.found is null
on conflict do nothing
returning use_case, request_id`;

/**
 * Owes the use case's active challenger a call for each row given (README "Champion and
 * challenger"), in the transaction that stored the decisions; nothing when none is active any more.
 * The raw input travels wrapped in an array, as the pending input above does.
 */
export const ENLIST_CHALLENGER = `
insert into challenger_calls (challenger_id, use_case, request_id, pending_input)
select c.id, r.u, r.q, r.i -> 0
from json_to_recordset($1::text::json) as r(u text, q text, i jsonb)
join challengers c on c.use_case = r.u and c.state = 'active'
on conflict do nothing`;

/** The JSON document ENLIST_CHALLENGER reads, for the rows that ask the challenger. */
export function challengerRecords(rows: readonly NewDecision[]): string | null {
  const asked = rows.filter((r) => r.challengerInput);
  if (asked.length === 0) return null;
  return JSON.stringify(asked.map((r) => ({ u: r.useCase, q: r.requestId, i: [r.challengerInput!.input] })));
}

const PAYLOAD_HASHES = `
select d.use_case, d.request_id, d.payload_hash, d.human_decision is null as undecided,
  d.human_decision::text as human_text
from json_to_recordset($1::text::json) as k(u text, q text)
cross join lateral (${newestByKeyText('k.u', 'k.q')}) n
join decisions d on d.id = n.id and d.received_month = n.received_month`;

/** Adds the human side to stored decisions that have none (a mirror completing a request). */
const COMPLETE_HUMAN = `
update decisions d set human_decision = k.hd, human_decided_by = k.hb, human_handling_ms = k.hm, human_at = now()
from json_to_recordset($1::text::json) as k(u text, q text, hd jsonb, hb text, hm int)
cross join lateral (${newestByKeyText('k.u', 'k.q')}) n
where d.id = n.id and d.received_month = n.received_month and d.human_decision is null
returning d.id, d.use_case as "useCase", d.request_id as "requestId", d.plan_version as "planVersion", d.human_decision as "humanDecision",
  d.ai_decision as "aiDecision", d.ai_state as "aiState", d.score`;

/** The rows as the JSON document `INSERT_MIRRORED` reads (absent members are SQL NULL). */
function mirroredRecords(rows: readonly NewDecision[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      u: r.useCase,
      q: r.requestId,
      h: r.payloadHash,
      i: r.input,
      p: r.pendingInput === undefined ? undefined : [r.pendingInput],
      c: r.context,
      s: r.stage,
      sv: r.stageVersion,
      pv: r.planVersion,
      a: r.aiConfig,
      hd: r.human?.decision,
      hb: r.human?.decidedBy,
      hm: r.human?.handlingMs,
      ha: r.human ? true : undefined,
      st: r.aiState,
    })),
  );
}

interface StoredPayload extends DecisionKeyRow {
  payload_hash: string;
  undecided: boolean;
  human_text: string | null;
}

/** What a batch of mirrored decisions did: stored anew, already stored, or completed with their human side. */
export interface MirroredOutcome {
  inserted: NewDecision[];
  duplicates: number;
  /** Stored without a human decision before; completed now, to be compared. */
  completed: ComparableRow[];
}

/** The human sides of rows as the JSON document `COMPLETE_HUMAN` reads. */
function humanRecords(rows: readonly NewDecision[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      u: r.useCase,
      q: r.requestId,
      hd: r.human?.decision,
      hb: r.human?.decidedBy,
      hm: r.human?.handlingMs,
    })),
  );
}

export class DecisionStore {
  constructor(private readonly database: Database) {}

  /**
   * Stores mirrored decisions idempotently in one transaction: a key already stored
   * with the same payload hash is a duplicate; one stored without a human decision, sent again
   * with one and otherwise the same, is completed (`completed`, to be compared); with another
   * hash the whole batch is refused (409) and nothing is written.
   */
  async insertMirrored(rows: NewDecision[]): Promise<MirroredOutcome> {
    if (rows.length === 0) return { inserted: [], duplicates: 0, completed: [] };
    return rawTransaction(this.database, async (run) => {
      const returned = await run<DecisionKeyRow>(INSERT_MIRRORED, [mirroredRecords(rows)]);
      // The common case: every row is new (RETURNING gives back exactly the rows inserted).
      if (returned.length === rows.length) {
        const asked = challengerRecords(rows);
        if (asked) await run(ENLIST_CHALLENGER, [asked]);
        return { inserted: rows, duplicates: 0, completed: [] };
      }
      const insertedKeys = new Set(returned.map((k) => `${k.use_case}\u0000${k.request_id}`));
      const inserted = rows.filter((r) => insertedKeys.has(keyOf(r)));
      const others = rows.filter((r) => !insertedKeys.has(keyOf(r)));
      const asked = challengerRecords(inserted);
      if (asked) await run(ENLIST_CHALLENGER, [asked]);

      const found = await run<StoredPayload>(PAYLOAD_HASHES, [
        JSON.stringify(others.map((k) => ({ u: k.useCase, q: k.requestId }))),
      ]);
      const stored = new Map(found.map((f) => [`${f.use_case}\u0000${f.request_id}`, f]));
      const completing: NewDecision[] = [];
      const conflicting = others.filter((r) => {
        const f = stored.get(keyOf(r));
        if (f?.payload_hash === r.payloadHash) return false;
        if (!f || !r.human || r.bareHash?.() !== f.payload_hash) return true;
        if (f.undecided) completing.push(r);
        // Completed before (the same human decision): a duplicate; another decision: a conflict.
        else if (!sameJson(JSON.parse(f.human_text ?? 'null'), r.human.decision)) return true;
        return false;
      });
      if (conflicting.length > 0) throw new ConflictingDecisions(conflicting);
      const completed =
        completing.length === 0 ? [] : await run<ComparableRow>(COMPLETE_HUMAN, [humanRecords(completing)]);
      // A completion raced by another writer of the human side: decided meanwhile, so judged again.
      if (completed.length < completing.length) {
        const done = new Set(completed.map(keyOf));
        const raced = completing.filter((r) => !done.has(keyOf(r)));
        const now = await run<StoredPayload>(PAYLOAD_HASHES, [
          JSON.stringify(raced.map((k) => ({ u: k.useCase, q: k.requestId }))),
        ]);
        const byKey = new Map(now.map((f) => [`${f.use_case}\u0000${f.request_id}`, f]));
        const lost = raced.filter(
          (r) => !sameJson(JSON.parse(byKey.get(keyOf(r))?.human_text ?? 'null'), r.human?.decision),
        );
        if (lost.length > 0) throw new ConflictingDecisions(lost);
      }
      return { inserted, duplicates: others.length - completed.length, completed };
    });
  }

  /**
   * Stores a decision whose AI call the caller makes at once (a suggestion): it is
   * inserted already claimed, so no worker calls for it meanwhile. Null when the key exists.
   */
  async insertClaimed(row: NewDecision, leaseMs: number): Promise<number | null> {
    // This month's unique index catches a key stored this month; the month before is looked up
    // (no decision is stored into it any more, so the look and the insert need no transaction).
    const [earlier] = await this.database.rows<{ stored: boolean }>(
      sql`select ${storedInEarlierMonth(row)} as stored`,
    );
    if (earlier?.stored) return null;
    const asked = challengerRecords([row]);
    if (asked) {
      // With the challenger's call, in one transaction: a stored suggestion always owes it.
      return this.database.db.transaction(async (tx) => {
        const id = await this.insertClaimedIn(tx, row, leaseMs);
        if (id !== null) {
          const [before, after] = ENLIST_CHALLENGER.split('$1') as [string, string];
          await tx.execute(sql`${sql.raw(before)}${asked}${sql.raw(after)}`);
        }
        return id;
      });
    }
    return this.insertClaimedIn(this.database.db, row, leaseMs);
  }

  private async insertClaimedIn(
    db: Pick<Database['db'], 'insert'>,
    row: NewDecision,
    leaseMs: number,
  ): Promise<number | null> {
    const [inserted] = await db
      .insert(decisions)
      .values({
        useCase: row.useCase,
        requestId: row.requestId,
        payloadHash: row.payloadHash,
        input: row.input,
        pendingInput: pendingValue(row),
        context: row.context,
        stage: row.stage,
        stageVersion: row.stageVersion,
        planVersion: row.planVersion,
        aiConfig: row.aiConfig,
        aiState: 'owed',
        aiAttempts: 1,
        aiLeaseUntil: sql`now() + ${`${Math.ceil(leaseMs)} milliseconds`}::interval`,
      })
      .onConflictDoNothing()
      .returning({ id: decisions.id });
    return inserted?.id ?? null;
  }

  /** Adds the human side of a stored decision; the same decision again is a no-op, another is a conflict. */
  async recordHuman(
    key: DecisionKey,
    human: { decision: unknown; decidedBy: string | null; handlingMs: number | null },
  ): Promise<HumanOutcome> {
    const [row] = await this.database.db
      .update(decisions)
      .set({
        humanDecision: human.decision,
        humanDecidedBy: human.decidedBy,
        humanHandlingMs: human.handlingMs,
        humanAt: sql`now()`,
      })
      .where(and(isNewestOfKey(key), isNull(decisions.humanDecision)))
      .returning(comparableColumns);
    if (row) return { status: 'recorded', row: row as ComparableRow };
    const [existing] = await this.database.db
      .select({ humanDecision: decisions.humanDecision })
      .from(decisions)
      .where(isNewestOfKey(key));
    if (!existing) return { status: 'not-found' };
    return sameJson(existing.humanDecision, human.decision)
      ? { status: 'duplicate' }
      : { status: 'conflict', existing: existing.humanDecision };
  }

  /** Sets the comparison score once; a second writer changes nothing. */
  /**
   * `db` is a transaction when the score is written with what produced it (a judge's verdict,
   * judge-call-store.ts): the rollup triggers fire on this update either way.
   */
  async recordScore(id: number, score: number, db: Db = this.database.db): Promise<boolean> {
    const updated = await db
      .update(decisions)
      .set({ score, comparedAt: sql`now()` })
      .where(and(eq(decisions.id, id), monthOfId(id), isNull(decisions.score)))
      .returning({ id: decisions.id });
    return updated.length > 0;
  }

  /**
   * Decisions with both sides but no score (a process died between the two writes). A decision
   * whose judge call exists is left out: its score is owed to the judge (judge-worker.ts).
   */
  async uncompared(limit: number): Promise<ComparableRow[]> {
    const rows = await this.database.db
      .select(comparableColumns)
      .from(decisions)
      .where(
        and(
          isNull(decisions.score),
          eq(decisions.aiState, 'done'),
          sql`${decisions.humanDecision} is not null`,
          sql`not exists (select 1 from judge_calls j where j.decision_id = ${decisions.id})`,
        ),
      )
      .limit(limit);
    return rows as ComparableRow[];
  }

  async get(key: DecisionKey) {
    const [row] = await this.database.db.select().from(decisions).where(isNewestOfKey(key));
    return row ?? null;
  }
}

/** JSON null is kept as jsonb `null`, not SQL NULL: a pending input of null is still pending. */
function pendingValue(row: NewDecision) {
  return row.pendingInput === undefined ? null : sql`${JSON.stringify(row.pendingInput)}::jsonb`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a, 'integers-first') === canonicalJson(b, 'integers-first');
}
