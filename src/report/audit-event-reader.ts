import { and, desc, eq, inArray, like, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { auditEvents } from '../db/schema.js';

export interface AuditEventRecord {
  id: number;
  at: Date;
  actor: string;
  action: string;
  details: unknown;
}

export interface AuditEventCount {
  action: string;
  count: number;
  first: Date;
  last: Date;
}

/**
 * The audit events of one use case the evidence report cites. A guard whose action is
 * `notify` trips at every tick while it holds, so events are counted in SQL and only the
 * latest few of each action are read.
 */
export class AuditEventReader {
  constructor(private readonly database: Database) {}

  async counts(useCase: string, actions: readonly string[]): Promise<AuditEventCount[]> {
    if (actions.length === 0) return [];
    const rows = await this.database.db
      .select({
        action: auditEvents.action,
        count: sql<number>`count(*)::int`,
        // Epoch milliseconds: the drivers disagree on how a timestamp comes back from raw SQL.
        first: sql<number>`(extract(epoch from min(${auditEvents.at})) * 1000)::float8`,
        last: sql<number>`(extract(epoch from max(${auditEvents.at})) * 1000)::float8`,
      })
      .from(auditEvents)
      .where(and(eq(auditEvents.useCase, useCase), inArray(auditEvents.action, [...actions])))
      .groupBy(auditEvents.action);
    return rows.map((r) => ({
      action: r.action,
      count: Number(r.count),
      first: new Date(Number(r.first)),
      last: new Date(Number(r.last)),
    }));
  }

  /** `guard.tripped` events counted by the stage whose guard tripped. */
  async guardTripsByStage(
    useCase: string,
  ): Promise<Array<Omit<AuditEventCount, 'action'> & { stage: string }>> {
    const stage = sql<string>`coalesce(${auditEvents.details}->'verdict'->>'stage', 'unknown')`;
    const rows = await this.database.db
      .select({
        stage,
        count: sql<number>`count(*)::int`,
        first: sql<number>`(extract(epoch from min(${auditEvents.at})) * 1000)::float8`,
        last: sql<number>`(extract(epoch from max(${auditEvents.at})) * 1000)::float8`,
      })
      .from(auditEvents)
      .where(and(eq(auditEvents.useCase, useCase), eq(auditEvents.action, 'guard.tripped')))
      .groupBy(stage);
    return rows.map((r) => ({
      stage: r.stage,
      count: Number(r.count),
      first: new Date(Number(r.first)),
      last: new Date(Number(r.last)),
    }));
  }

  /** The latest `limit` events of one action, newest first. */
  async latest(useCase: string, action: string, limit: number): Promise<AuditEventRecord[]> {
    return this.database.db
      .select({
        id: auditEvents.id,
        at: auditEvents.at,
        actor: auditEvents.actor,
        action: auditEvents.action,
        details: auditEvents.details,
      })
      .from(auditEvents)
      .where(and(eq(auditEvents.useCase, useCase), eq(auditEvents.action, action)))
      .orderBy(desc(auditEvents.id))
      .limit(limit);
  }

  /** Every `stage.<kind>` event: one per transition, so as many as there are transitions. */
  async stageEvents(useCase: string): Promise<AuditEventRecord[]> {
    return this.database.db
      .select({
        id: auditEvents.id,
        at: auditEvents.at,
        actor: auditEvents.actor,
        action: auditEvents.action,
        details: auditEvents.details,
      })
      .from(auditEvents)
      .where(and(eq(auditEvents.useCase, useCase), like(auditEvents.action, 'stage.%')))
      .orderBy(auditEvents.id);
  }
}
