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
        },
        at: input.at,
      });
      return record as TransitionRecord;
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

  async recordEvent(event: { actor: string; action: string; useCase: string; details: unknown; at: Date }) {
    await this.database.db.insert(auditEvents).values(event);
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

  /** The latest event of one kind of each of many use cases (the tick reads them at once). */
  async lastEvents(useCases: readonly string[], action: string): Promise<Map<string, { details: unknown }>> {
    if (useCases.length === 0) return new Map();
    const rows = await this.database.preparedRows<{ use_case: string; details: unknown }>(sql`
      select distinct on (use_case) use_case, details from audit_events
      where use_case = any(${sql.param([...useCases])}::text[]) and action = ${action}
      order by use_case, id desc`);
    return new Map(rows.map((r) => [r.use_case, { details: r.details }]));
  }
}
