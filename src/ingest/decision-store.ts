import { and, eq, isNull, sql } from 'drizzle-orm';
import { ShadowgateError } from '../contracts/errors.js';
import type { Database } from '../db/database.js';
import { decisions } from '../db/schema.js';

export type AiState = 'none' | 'owed' | 'done' | 'error';

export interface NewDecision {
  useCase: string;
  requestId: string;
  payloadHash: string;
  /** The input in the plan's `storeInput` form. */
  input: unknown;
  /** The raw input to keep while the AI call is owed (see `storedForms`); undefined: nothing to keep. */
  pendingInput?: unknown;
  context: Record<string, unknown>;
  stage: string;
  /** The use case's `stageVersion` when the decision was received. */
  stageVersion: number;
  planVersion: number;
  aiConfig: string;
  human: { decision: unknown; decidedBy: string | null; handlingMs: number | null } | null;
  aiState: AiState;
}

export interface DecisionKey {
  useCase: string;
  requestId: string;
}

/** What a comparison needs once one side has just been written. */
export interface ComparableRow {
  id: number;
  useCase: string;
  planVersion: number;
  humanDecision: unknown;
  aiDecision: unknown;
  aiState: AiState;
  score: number | null;
}

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

/** The columns of a `ComparableRow`, for RETURNING clauses. */
export const comparableColumns = {
  id: decisions.id,
  useCase: decisions.useCase,
  planVersion: decisions.planVersion,
  humanDecision: decisions.humanDecision,
  aiDecision: decisions.aiDecision,
  aiState: decisions.aiState,
  score: decisions.score,
};

export class DecisionStore {
  constructor(private readonly database: Database) {}

  /**
   * Stores mirrored decisions idempotently in one transaction: a key already stored
   * with the same payload hash is a duplicate; with another hash the whole batch is
   * refused (409) and nothing is written.
   */
  async insertMirrored(rows: NewDecision[]): Promise<{ inserted: NewDecision[]; duplicates: number }> {
    return this.database.db.transaction(async (tx) => {
      const returned = await tx
        .insert(decisions)
        .values(
          rows.map((r) => ({
            useCase: r.useCase,
            requestId: r.requestId,
            payloadHash: r.payloadHash,
            input: r.input,
            pendingInput: pendingValue(r),
            context: r.context,
            stage: r.stage,
            stageVersion: r.stageVersion,
            planVersion: r.planVersion,
            aiConfig: r.aiConfig,
            humanDecision: r.human?.decision ?? null,
            humanDecidedBy: r.human?.decidedBy ?? null,
            humanHandlingMs: r.human?.handlingMs ?? null,
            humanAt: r.human ? sql`now()` : null,
            aiState: r.aiState,
          })),
        )
        .onConflictDoNothing()
        .returning({ useCase: decisions.useCase, requestId: decisions.requestId });
      const insertedKeys = new Set(returned.map(keyOf));
      const inserted = rows.filter((r) => insertedKeys.has(keyOf(r)));
      const others = rows.filter((r) => !insertedKeys.has(keyOf(r)));
      if (others.length === 0) return { inserted, duplicates: 0 };

      const stored = await this.payloadHashes(tx, others);
      const conflicting = others.filter((r) => stored.get(keyOf(r)) !== r.payloadHash);
      if (conflicting.length > 0) throw new ConflictingDecisions(conflicting);
      return { inserted, duplicates: others.length };
    });
  }

  private async payloadHashes(
    tx: Parameters<Parameters<Database['db']['transaction']>[0]>[0],
    keys: DecisionKey[],
  ): Promise<Map<string, string>> {
    const found = await tx
      .select({
        useCase: decisions.useCase,
        requestId: decisions.requestId,
        payloadHash: decisions.payloadHash,
      })
      .from(decisions)
      .where(
        sql`(${decisions.useCase}, ${decisions.requestId}) in (select * from unnest(${sql.param(
          keys.map((k) => k.useCase),
        )}::text[], ${sql.param(keys.map((k) => k.requestId))}::text[]))`,
      );
    return new Map(found.map((f) => [keyOf(f), f.payloadHash]));
  }

  /**
   * Stores a decision whose AI call the caller makes at once (a suggestion): it is
   * inserted already claimed, so no worker calls for it meanwhile. Null when the key exists.
   */
  async insertClaimed(row: NewDecision, leaseMs: number): Promise<number | null> {
    const [inserted] = await this.database.db
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
      .where(
        and(
          eq(decisions.useCase, key.useCase),
          eq(decisions.requestId, key.requestId),
          isNull(decisions.humanDecision),
        ),
      )
      .returning(comparableColumns);
    if (row) return { status: 'recorded', row: row as ComparableRow };
    const [existing] = await this.database.db
      .select({ humanDecision: decisions.humanDecision })
      .from(decisions)
      .where(and(eq(decisions.useCase, key.useCase), eq(decisions.requestId, key.requestId)));
    if (!existing) return { status: 'not-found' };
    return sameJson(existing.humanDecision, human.decision)
      ? { status: 'duplicate' }
      : { status: 'conflict', existing: existing.humanDecision };
  }

  /** Sets the comparison score once; a second writer changes nothing. */
  async recordScore(id: number, score: number): Promise<boolean> {
    const updated = await this.database.db
      .update(decisions)
      .set({ score, comparedAt: sql`now()` })
      .where(and(eq(decisions.id, id), isNull(decisions.score)))
      .returning({ id: decisions.id });
    return updated.length > 0;
  }

  /** Decisions with both sides but no score (a process died between the two writes). */
  async uncompared(limit: number): Promise<ComparableRow[]> {
    const rows = await this.database.db
      .select(comparableColumns)
      .from(decisions)
      .where(
        and(
          isNull(decisions.score),
          eq(decisions.aiState, 'done'),
          sql`${decisions.humanDecision} is not null`,
        ),
      )
      .limit(limit);
    return rows as ComparableRow[];
  }

  async get(key: DecisionKey) {
    const [row] = await this.database.db
      .select()
      .from(decisions)
      .where(and(eq(decisions.useCase, key.useCase), eq(decisions.requestId, key.requestId)));
    return row ?? null;
  }
}

/** JSON null is kept as jsonb `null`, not SQL NULL: a pending input of null is still pending. */
function pendingValue(row: NewDecision) {
  return row.pendingInput === undefined ? null : sql`${JSON.stringify(row.pendingInput)}::jsonb`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Key-order-independent form of a JSON value. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
