import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { ShadowgateError } from '../contracts/errors.js';
import type { Database } from '../db/database.js';
import { auditEvents, pendingChanges, useCases } from '../db/schema.js';
import type {
  Approval,
  ChangeKind,
  ChangeRule,
  ChangeState,
  PendingChange,
  PlanPayload,
  StagePayload,
} from './change-types.js';

/** What a new change is stored with: the rest (id, approvals, state, decision) the store fills in. */
export type NewChange = Omit<
  PendingChange,
  'id' | 'approvals' | 'state' | 'decidedAt' | 'decidedBy' | 'decisionReason' | 'result'
>;

export interface ChangeQuery {
  /** null: every use case (an unscoped key). */
  scope: readonly string[] | null;
  useCase?: string;
  /** As readers see it: expired and stale computed from `now` and the use case's versions. */
  state?: ChangeState;
  limit: number;
  now: Date;
}

/** A terminal decision written on a change (from `pending` or `applying`). */
export interface ChangeDecision {
  state: Exclude<ChangeState, 'pending' | 'applying'>;
  at: Date;
  by: string | null;
  reason?: string | null;
  result?: unknown;
  /** Written in the same transaction, when the decision is a person's. */
  audit?: { actor: string; action: string; details: Record<string, unknown> };
}

type Row = typeof pendingChanges.$inferSelect;

/**
 * Pending changes (not expired) a use case may hold at once, and the controller in all. A change
 * holds up to a whole plan text: without a bound, an owner key could store them without end (a
 * first plan needs no existing use case, so the use-case quota does not bound them either).
 */
export const MAX_PENDING_PER_USE_CASE = 20;
export const MAX_PENDING_TOTAL = 2_000;

function toChange(row: Row): PendingChange {
  return {
    ...row,
    kind: row.kind as ChangeKind,
    state: row.state as ChangeState,
    payload: row.payload as PlanPayload | StagePayload,
    rules: row.rules as ChangeRule[],
    approvals: row.approvals as Approval[],
  };
}

/**
 * Pending changes in PostgreSQL. Every state change is one guarded UPDATE (`where state = …`), so
 * two controllers, or an approval retried, never both move a change: exactly one approval claims
 * it for applying.
 */
export class ChangeStore {
  constructor(private readonly database: Database) {}

  /**
   * Stores a change unless one alike is pending (same use case, kind, base and payload, not
   * expired): that one is returned instead, so the same request sent again does not stack.
   */
  async hold(input: NewChange): Promise<{ change: PendingChange; created: boolean }> {
    return this.database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`change:${input.useCase}`}))`);
      const [same] = await tx
        .select()
        .from(pendingChanges)
        .where(
          and(
            eq(pendingChanges.useCase, input.useCase),
            eq(pendingChanges.kind, input.kind),
            eq(pendingChanges.state, 'pending'),
            sql`${pendingChanges.expiresAt} > ${input.createdAt.toISOString()}::timestamptz`,
            sql`${pendingChanges.basePlanVersion} is not distinct from ${input.basePlanVersion}::int`,
            sql`${pendingChanges.baseStageVersion} is not distinct from ${input.baseStageVersion}::int`,
            sql`${pendingChanges.payload} = ${JSON.stringify(input.payload)}::jsonb`,
          ),
        )
        .orderBy(desc(pendingChanges.id))
        .limit(1);
      if (same) return { change: toChange(same), created: false };
      await refuseTooMany(tx, input);
      const [row] = await tx.insert(pendingChanges).values(input).returning();
      const change = toChange(row!);
      await tx.insert(auditEvents).values({
        actor: input.requestedBy,
        action: 'change.pending',
        useCase: input.useCase,
        details: {
          change: change.id,
          kind: change.kind,
          basePlanVersion: change.basePlanVersion,
          baseStageVersion: change.baseStageVersion,
          approvalsRequired: change.approvalsRequired,
          rules: change.rules,
          ...(change.kind === 'plan' ? { textHash: (change.payload as PlanPayload).textHash } : {}),
        },
        at: input.createdAt,
      });
      return { change, created: true };
    });
  }

  async get(id: number): Promise<PendingChange | null> {
    const [row] = await this.database.db.select().from(pendingChanges).where(eq(pendingChanges.id, id));
    return row ? toChange(row) : null;
  }

  /** Newest first, at most `limit`, each with the state a reader sees (see effectiveState). */
  async list(query: ChangeQuery): Promise<Array<{ change: PendingChange; state: ChangeState }>> {
    if (query.scope?.length === 0) return [];
    const now = sql`${query.now.toISOString()}::timestamptz`;
    const seen = sql<string>`case
      when ${pendingChanges.state} <> 'pending' then ${pendingChanges.state}
      when ${pendingChanges.expiresAt} <= ${now} then 'expired'
      when ${useCases.planVersion} is distinct from ${pendingChanges.basePlanVersion}
        or ${useCases.stageVersion} is distinct from ${pendingChanges.baseStageVersion} then 'stale'
      else 'pending' end`;
    const where: SQL[] = [];
    if (query.scope) where.push(inArray(pendingChanges.useCase, [...query.scope]));
    if (query.useCase) where.push(eq(pendingChanges.useCase, query.useCase));
    if (query.state) where.push(sql`${seen} = ${query.state}`);
    const rows = await this.database.db
      .select({ row: pendingChanges, seen })
      .from(pendingChanges)
      .leftJoin(useCases, eq(useCases.id, pendingChanges.useCase))
      .where(and(...where))
      .orderBy(desc(pendingChanges.id))
      .limit(query.limit);
    return rows.map((r) => ({ change: toChange(r.row), state: r.seen as ChangeState }));
  }

  /**
   * Adds an approval to a pending, unexpired change that this key has not approved yet, with its
   * audit event; null when the change is not in that state any more (read it again to say why).
   */
  async approve(
    id: number,
    approval: Approval,
    now: Date,
    audit: { useCase: string; details: Record<string, unknown> },
  ): Promise<PendingChange | null> {
    return this.database.db.transaction(async (tx) => {
      const [row] = await tx
        .update(pendingChanges)
        .set({ approvals: sql`${pendingChanges.approvals} || ${JSON.stringify([approval])}::jsonb` })
        .where(
          and(
            eq(pendingChanges.id, id),
            eq(pendingChanges.state, 'pending'),
            sql`${pendingChanges.expiresAt} > ${now.toISOString()}::timestamptz`,
            sql`not ${pendingChanges.approvals} @> ${JSON.stringify([{ key: approval.key }])}::jsonb`,
          ),
        )
        .returning();
      if (!row) return null;
      const change = toChange(row);
      await tx.insert(auditEvents).values({
        actor: approval.by,
        action: 'change.approved',
        useCase: audit.useCase,
        details: {
          change: id,
          kind: change.kind,
          reason: approval.reason,
          approvals: change.approvals.length,
          approvalsRequired: change.approvalsRequired,
          ...audit.details,
        },
        at: now,
      });
      return change;
    });
  }

  /** Takes a fully approved pending change for applying: true for exactly one caller. */
  async claim(id: number): Promise<PendingChange | null> {
    const [row] = await this.database.db
      .update(pendingChanges)
      .set({ state: 'applying' })
      .where(
        and(
          eq(pendingChanges.id, id),
          eq(pendingChanges.state, 'pending'),
          sql`jsonb_array_length(${pendingChanges.approvals}) >= ${pendingChanges.approvalsRequired}`,
        ),
      )
      .returning();
    return row ? toChange(row) : null;
  }

  /** Hands a claimed change back (its apply failed for a reason that may pass): pending again. */
  async unclaim(id: number): Promise<void> {
    await this.database.db
      .update(pendingChanges)
      .set({ state: 'pending' })
      .where(and(eq(pendingChanges.id, id), eq(pendingChanges.state, 'applying')));
  }

  /** Writes a decision on a change still in `from`; null when it is not (someone else decided). */
  async decide(
    id: number,
    from: 'pending' | 'applying',
    decision: ChangeDecision,
  ): Promise<PendingChange | null> {
    return this.database.db.transaction(async (tx) => {
      const [row] = await tx
        .update(pendingChanges)
        .set({
          state: decision.state,
          decidedAt: decision.at,
          decidedBy: decision.by,
          decisionReason: decision.reason ?? null,
          result: decision.result ?? null,
        })
        .where(and(eq(pendingChanges.id, id), eq(pendingChanges.state, from)))
        .returning();
      if (!row) return null;
      if (decision.audit) {
        await tx.insert(auditEvents).values({
          ...decision.audit,
          useCase: row.useCase,
          details: { change: id, kind: row.kind, ...decision.audit.details },
          at: decision.at,
        });
      }
      return toChange(row);
    });
  }
}

/** 409 `too_many_pending` when the use case, or the controller, holds as many pending changes as allowed. */
async function refuseTooMany(tx: Pick<Database['db'], 'select'>, input: NewChange): Promise<void> {
  const [counts] = await tx
    .select({
      here: sql<number>`count(*) filter (where ${pendingChanges.useCase} = ${input.useCase})`.mapWith(Number),
      total: sql<number>`count(*)`.mapWith(Number),
    })
    .from(pendingChanges)
    .where(
      and(
        eq(pendingChanges.state, 'pending'),
        sql`${pendingChanges.expiresAt} > ${input.createdAt.toISOString()}::timestamptz`,
      ),
    );
  const here = counts?.here ?? 0;
  const total = counts?.total ?? 0;
  if (here < MAX_PENDING_PER_USE_CASE && total < MAX_PENDING_TOTAL) return;
  const where =
    here >= MAX_PENDING_PER_USE_CASE
      ? `use case ${input.useCase} has ${here} pending changes (at most ${MAX_PENDING_PER_USE_CASE})`
      : `the controller holds ${total} pending changes (at most ${MAX_PENDING_TOTAL})`;
  throw new ShadowgateError(
    409,
    'too_many_pending',
    `${where}: reject the ones not wanted, or wait until they expire (SHADOWGATE_CHANGE_TTL)`,
  );
}
