import { and, asc, eq, sql } from 'drizzle-orm';
import { conflict } from '../contracts/errors.js';
import type { Database } from '../db/database.js';
import { auditEvents, engineTicks, stageTransitions, useCases } from '../db/schema.js';
import type { Mode } from '../plans/plan-schema.js';

export interface TransitionInput {
  useCase: string;
  /** The stage version the decision was taken on; the move fails if another one happened since. */
  expectedStageVersion: number;
  from: Mode;
  to: Mode;
  actor: string;
  reason: string;
  forced: boolean;
  /** What kind of move it is, for the audit log: promote, rollback, guard, disable, enable. */
  kind: string;
  planVersion: number;
  modelVersion: string | null;
  snapshot: unknown;
  at: Date;
  /** The keys that approved a stage change held back for approval (README "Change control"). */
  approvedBy?: string[] | null;
}

export interface AuditEventInput {
  actor: string;
  action: string;
  useCase: string;
  details: unknown;
  at: Date;
}

export interface TransitionRecord {
  id: number;
  useCase: string;
  fromStage: string | null;
  toStage: string;
  stageVersion: number;
  actor: string;
  reason: string;
  forced: boolean;
  planVersion: number;
  modelVersion: string | null;
  snapshot: unknown;
  at: Date;
  /** Who approved it (change control); null or absent: it needed no approval. */
  approvedBy?: string[] | null;
}

/**
 * Stage changes, each exactly once: the use case's stage version is the guard
 * (optimistic concurrency), and the transition row is unique on it.
 */
export class TransitionStore {
  constructor(private readonly database: Database) {}

  async transition(input: TransitionInput): Promise<TransitionRecord> {
    return this.database.db.transaction(async (tx) => {
      const moved = await tx
        .update(useCases)
        .set({
          stage: input.to,
          stageVersion: sql`${useCases.stageVersion} + 1`,
          stageEnteredAt: input.at,
          stageBeforeDisable: input.to === 'disabled' ? input.from : null,
          // A move on evidence pins the version the evidence came from; one without (enable, a
          // forced move before any answer) carries the pinned version over.
          earnedModelVersion: sql`coalesce(${input.modelVersion}::text, ${useCases.earnedModelVersion})`,
          updatedAt: input.at,
        })
        .where(
          and(
            eq(useCases.id, input.useCase),
            eq(useCases.stageVersion, input.expectedStageVersion),
            eq(useCases.stage, input.from),
          ),
        )
        .returning({ stageVersion: useCases.stageVersion });
      const version = moved[0]?.stageVersion;
      if (version === undefined) {
        throw conflict(
          `use case ${input.useCase} changed stage while this ${input.kind} was being decided; look again and retry`,
        );
      }
      const [record] = await tx
        .insert(stageTransitions)
        .values({
          useCase: input.useCase,
          fromStage: input.from,
          toStage: input.to,
          stageVersion: version,
          actor: input.actor,
          reason: input.reason,
          forced: input.forced,
          planVersion: input.planVersion,
          modelVersion: input.modelVersion,
          snapshot: input.snapshot,
          at: input.at,
          approvedBy: input.approvedBy ?? null,
        })
        .returning();
      await tx.insert(auditEvents).values({
        actor: input.actor,
        action: `stage.${input.kind}`,
        useCase: input.useCase,
        details: {
          from: input.from,
          to: input.to,
          reason: input.reason,
          forced: input.forced,
          stageVersion: version,
          ...(input.approvedBy ? { approvedBy: input.approvedBy } : {}),
        },
        at: input.at,
      });
      return record as TransitionRecord;
    });
  }

  /**
   * Pins the model version of the stage the use case is in, if it is still in that stage version:
   * the first version seen after a move without one, or (onModelChange: keep) a new version once
   * it has earned the stage. Recorded in the audit log; false if the stage moved meanwhile.
   */
  async earnModelVersion(input: {
    useCase: string;
    stageVersion: number;
    modelVersion: string;
    actor: string;
    action: 'model.pinned' | 'model.earned';
    details: Record<string, unknown>;
    at: Date;
  }): Promise<boolean> {
    return this.database.db.transaction(async (tx) => {
      const updated = await tx
        .update(useCases)
        .set({ earnedModelVersion: input.modelVersion })
        .where(and(eq(useCases.id, input.useCase), eq(useCases.stageVersion, input.stageVersion)))
        .returning({ id: useCases.id });
      if (updated.length === 0) return false;
      await tx.insert(auditEvents).values({
        actor: input.actor,
        action: input.action,
        useCase: input.useCase,
        details: { stageVersion: input.stageVersion, modelVersion: input.modelVersion, ...input.details },
        at: input.at,
      });
      return true;
    });
  }

  async list(useCase: string): Promise<TransitionRecord[]> {
    const rows = await this.database.db
      .select()
      .from(stageTransitions)
      .where(eq(stageTransitions.useCase, useCase))
      .orderBy(asc(stageTransitions.stageVersion));
    return rows as TransitionRecord[];
  }

  /** True for exactly one caller per slot, across processes sharing the database. */
  async claimTick(slot: number, owner: string): Promise<boolean> {
    const rows = await this.database.db
      .insert(engineTicks)
      .values({ slot, owner })
      .onConflictDoNothing()
      .returning({ slot: engineTicks.slot });
    if (rows.length > 0 && slot % 100 === 0) {
      await this.database.db.delete(engineTicks).where(sql`${engineTicks.slot} < ${slot - 1000}`);
    }
    return rows.length > 0;
  }

  async recordEvent(event: AuditEventInput) {
    await this.database.db.insert(auditEvents).values(event);
  }

  /** Many events in one insert (the tick's guard trips that only notify). */
  async recordEvents(events: readonly AuditEventInput[]) {
    if (events.length > 0) await this.database.db.insert(auditEvents).values([...events]);
  }

  /**
   * Records an event unless one of its kind for the use case already has the details `once`
   * names (its stage version, its day): true when recorded. Ticks of two controllers may overlap
   * (a slow tick runs on while the next slot's starts elsewhere), so "told once" cannot rest on
   * what each read before: the check and the insert run under a lock on the use case and kind.
   */
  async recordEventOnce(
    event: { actor: string; action: string; useCase: string; details: Record<string, unknown>; at: Date },
    once: Record<string, string | number>,
  ): Promise<boolean> {
    return this.database.db.transaction(async (tx) => {
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtext(${`event:${event.useCase}:${event.action}`}))`,
      );
      const [seen] = await tx
        .select({ id: auditEvents.id })
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.useCase, event.useCase),
            eq(auditEvents.action, event.action),
            sql`${auditEvents.details} @> ${JSON.stringify(once)}::jsonb`,
          ),
        )
        .limit(1);
      if (seen) return false;
      await tx.insert(auditEvents).values(event);
      return true;
    });
  }

  /** The latest audit event of a kind for a use case (to notify once per stage version). */
  async lastEvent(useCase: string, action: string): Promise<{ details: unknown; at: Date } | null> {
    const [row] = await this.database.db
      .select({ details: auditEvents.details, at: auditEvents.at })
      .from(auditEvents)
      .where(and(eq(auditEvents.useCase, useCase), eq(auditEvents.action, action)))
      .orderBy(sql`${auditEvents.id} desc`)
      .limit(1);
    return row ?? null;
  }

  /**
   * The latest event of each kind in `actions` of each of many use cases, in one statement (the
   * tick reads its notices so): per kind, the use cases that have one. Each use case and kind is
   * one probe of audit_events_use_case_action (migration 0020), however many events it holds.
   */
  async lastEvents(
    useCases: readonly string[],
    actions: readonly string[],
  ): Promise<Map<string, Map<string, { details: unknown }>>> {
    const byAction = new Map(actions.map((a) => [a, new Map<string, { details: unknown }>()]));
    if (useCases.length === 0 || actions.length === 0) return byAction;
    const rows = await this.database.preparedRows<{ use_case: string; action: string; details: unknown }>(sql`
      select f.use_case, a.action, e.details
      from unnest(${sql.param([...useCases])}::text[]) f(use_case)
      cross join unnest(${sql.param([...actions])}::text[]) a(action)
      cross join lateral (
        select e.details from audit_events e
        where e.use_case = f.use_case and e.action = a.action
        order by e.id desc limit 1) e`);
    for (const r of rows) byAction.get(r.action)?.set(r.use_case, { details: r.details });
    return byAction;
  }
}
