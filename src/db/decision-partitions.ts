import { sql } from 'drizzle-orm';
import { ShadowgateError } from '../contracts/errors.js';
import type { Database } from './database.js';
import { ID_MONTH_SHIFT } from './decision-month.js';

/** Month partitions kept ahead of the current month: an insert never finds its month missing. */
export const MONTHS_AHEAD = 3;

/** One partition of `decisions` (migration 0019, README "Decisions by month"). */
export interface DecisionPartition {
  table: string;
  /** `YYYY-MM`, or `before` for decisions_legacy (everything stored before migration 0019). */
  month: string;
  /** PostgreSQL's estimate (pg_class.reltuples, as of the last vacuum or analyze); -1 when never counted. */
  rowsEstimate: number;
  /** The partition's size with its indexes, bytes. */
  bytes: number;
}

export interface DetachOutcome {
  table: string;
  month: string;
  dropped: boolean;
}

/** `YYYY-MM` of a month number (months since January 2000, UTC). */
export function monthLabel(month: number): string {
  return `${2000 + Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}`;
}

/** The month number of `YYYY-MM`; null when it is not one (years 2000–2682). */
export function parseMonthLabel(label: string): number | null {
  const m = /^(\d{4})-(\d{2})$/.exec(label);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (year < 2000 || year > 2682 || month < 1 || month > 12) return null;
  return (year - 2000) * 12 + month - 1;
}

/** The table of a month's partition, as shadowgate_decision_partitions names it. */
export function partitionTable(month: number): string {
  return `decisions_${monthLabel(month).replace('-', '_')}`;
}

/**
 * The months of `decisions`: made ahead by the controller, listed and detached by an operator
 * (`shadowgate partitions`). Detaching takes a month's rows out of every read; the rollups keep
 * what they counted, so metrics and gates read the same before and after.
 */
export class DecisionPartitions {
  constructor(private readonly database: Database) {}

  /** Makes the partitions of this month and the next MONTHS_AHEAD that are missing; returns how many it made. */
  async ensureAhead(months = MONTHS_AHEAD): Promise<number> {
    const [row] = await this.database.rows<{ made: number }>(
      sql`select shadowgate_decision_partitions(shadowgate_month(now()) + ${Math.trunc(months)}::int) as made`,
    );
    return Number(row?.made ?? 0);
  }

  /** This month, by the database's clock (months since January 2000, UTC). */
  private async currentMonth(): Promise<number> {
    const [row] = await this.database.rows<{ month: number }>(sql`select shadowgate_month(now()) as month`);
    return Number(row?.month);
  }

  /** How many months after this one have a partition, without a gap; −1 when this month has none. */
  async monthsAhead(): Promise<number> {
    const current = await this.currentMonth();
    const attached = await this.database.rows<{ table: string }>(sql`
      select c.relname as table from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'decisions'::regclass`);
    const tables = new Set(attached.map((p) => p.table));
    let ahead = -1;
    while (ahead < 24 && tables.has(partitionTable(current + ahead + 1))) ahead++;
    return ahead;
  }

  async list(): Promise<DecisionPartition[]> {
    const rows = await this.database.rows<{
      table: string;
      rows: number | string;
      bytes: number | string;
    }>(sql`
      select c.relname as table, c.reltuples as rows, pg_total_relation_size(c.oid) as bytes
      from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'decisions'::regclass
      order by c.relname <> 'decisions_legacy', c.relname`);
    return rows.map((r) => ({
      table: r.table,
      month: r.table === 'decisions_legacy' ? 'before' : r.table.slice('decisions_'.length).replace('_', '-'),
      rowsEstimate: Math.round(Number(r.rows)),
      bytes: Number(r.bytes),
    }));
  }

  /**
   * Detaches a past month (or `before`, decisions_legacy) from `decisions`; with `drop`, drops it
   * too, else it stays a table of its own to be archived (pg_dump -t) and dropped by hand. Refused
   * for this month and later ones, and while the month holds an AI or judge call still owed.
   */
  async detach(month: string, options: { drop: boolean }): Promise<DetachOutcome> {
    const current = await this.currentMonth();
    let table: string;
    let number: number;
    if (month === 'before') {
      table = 'decisions_legacy';
      number = 0;
    } else {
      const parsed = parseMonthLabel(month);
      if (parsed === null) {
        throw new ShadowgateError(
          400,
          'invalid-request',
          `expected a month as YYYY-MM or "before", got "${month.slice(0, 40)}"`,
        );
      }
      if (parsed >= current) {
        throw new ShadowgateError(
          409,
          'conflict',
          `${month} is not past (this month is ${monthLabel(current)}): only past months can be detached`,
        );
      }
      table = partitionTable(parsed);
      number = parsed;
    }
    const attached = (await this.list()).some((p) => p.table === table);
    if (!attached) throw new ShadowgateError(404, 'not-found', `no partition of decisions holds ${month}`);
    const [owed] = await this.database.rows<{ calls: number; judged: number }>(sql`
      select
        (select count(*)::int from decisions where received_month = ${number}::int and ai_state = 'owed') as calls,
        (select count(*)::int from judge_calls where state = 'owed' and (decision_id >> ${sql.raw(String(ID_MONTH_SHIFT))})::int = ${number}::int) as judged`);
    if (Number(owed?.calls) > 0 || Number(owed?.judged) > 0) {
      throw new ShadowgateError(
        409,
        'conflict',
        `${month} still owes ${owed?.calls} AI call(s) and ${owed?.judged} judge call(s): detach it once they are made`,
      );
    }
    // DETACH waits for every statement reading decisions; give up rather than queue inserts behind it.
    await this.database.db.transaction(async (tx) => {
      await tx.execute(sql`set local lock_timeout = '5s'`);
      await tx.execute(sql.raw(`alter table decisions detach partition "${table}"`));
      if (options.drop) await tx.execute(sql.raw(`drop table "${table}"`));
    });
    return { table, month, dropped: options.drop };
  }
}
