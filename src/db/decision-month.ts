import { type SQL, sql } from 'drizzle-orm';
import { decisions } from './schema.js';

/**
 * `decisions` is partitioned by the month a row was stored (migration 0019, README "Decisions by
 * month"). A statement that names decisions without their month probes every month's partition,
 * so the ones on the paths every decision takes name it:
 *
 * - by id: the id carries its month, `received_month = id >> 40`;
 * - by (use_case, request_id): the newest month holding the key, months after this one left out
 *   (partitions made ahead are empty), so a decision of this month costs one index probe;
 * - a new decision: (use_case, request_id) is unique within a month, and ingest also looks in the
 *   month before and in what was stored before partitioning, so a request sent again is recognised
 *   for at least a full calendar month.
 *
 * The SQL is kept here as text: the raw statements of the ingest path and drizzle's builders both
 * use it.
 */

/** Bits of an id below its month: `id >> ID_MONTH_SHIFT` is the row's received_month. */
export const ID_MONTH_SHIFT = 40;

/** `received_month = <month of idSql>`, for a decision alias (`d.`) or none. */
export function monthOfIdText(idSql: string, alias = ''): string {
  return `${alias}received_month = (${idSql} >> ${ID_MONTH_SHIFT})::int`;
}

/** The same for drizzle's builders: the decisions row's month is that of `id` (a column, an expression, a number). */
export function monthOfId(id: SQL | number): SQL {
  return sql`${decisions.receivedMonth} = (${id}::bigint >> ${sql.raw(String(ID_MONTH_SHIFT))})::int`;
}

/** Months after this one hold nothing yet; naming that lets PostgreSQL skip their partitions. */
export const NOT_AFTER_THIS_MONTH = 'received_month <= shadowgate_month(now())';

/** The months a retry is looked for beyond this month's unique index: the one before, and 0 (before partitioning). */
const EARLIER_MONTHS = 'received_month in (0, shadowgate_month(now()) - 1)';

/**
 * The id and month of the newest decision stored for a key, as a LATERAL subquery over `u` and `q`
 * (SQL expressions for the use case and request id): `join lateral (${newestByKey(...)}) n on true`.
 */
export function newestByKeyText(u: string, q: string): string {
  return `select x.id, x.received_month from decisions x
    where x.use_case = ${u} and x.request_id = ${q} and x.${NOT_AFTER_THIS_MONTH}
    order by x.received_month desc limit 1`;
}

/**
 * Joins `earlier`, whose `found` is true when a key (SQL expressions `u`, `q`) is stored in the month
 * before this one or before partitioning (month 0): the months a retry is looked for beyond this
 * month's unique index. A LATERAL with LIMIT, so each key is one index probe: as NOT EXISTS the
 * planner may hash every decision of the use case instead (measured: 0.9 s for 1,000 keys against
 * 500,000 stored).
 */
export function earlierMonthJoinText(u: string, q: string): string {
  return `left join lateral (select true as found from decisions p where p.use_case = ${u} and p.request_id = ${q}
    and p.${EARLIER_MONTHS} limit 1) earlier on true`;
}

/** For drizzle's builders: the row is the newest decision stored for `key` (see `newestByKeyText`). */
export function isNewestOfKey(key: { useCase: string; requestId: string }): SQL {
  return sql`(${decisions.id}, ${decisions.receivedMonth}) = (select x.id, x.received_month from decisions x
    where x.use_case = ${key.useCase} and x.request_id = ${key.requestId} and x.${sql.raw(NOT_AFTER_THIS_MONTH)}
    order by x.received_month desc limit 1)`;
}

/** For drizzle's builders: whether one key is stored in the months `earlierMonthJoinText` looks in. */
export function storedInEarlierMonth(key: { useCase: string; requestId: string }): SQL {
  return sql`exists (select 1 from decisions p where p.use_case = ${key.useCase} and p.request_id = ${key.requestId}
    and p.${sql.raw(EARLIER_MONTHS)})`;
}

/** The month of an id in TypeScript (ids are below 2^53: months up to 8,191, the year 2682). */
export function monthOfIdValue(id: number): number {
  return Math.floor(id / 2 ** ID_MONTH_SHIFT);
}

/**
 * A challenger call's decision among `decisions` aliased `d`, for a call aliased `cc`: both rows are
 * written by one transaction (ENLIST_CHALLENGER), so the decision's month is that of the call's
 * received_at, or 0 for a decision stored before partitioning. Two partitions at most, not all.
 */
export const DECISION_OF_CHALLENGER_CALL =
  'd.use_case = cc.use_case and d.request_id = cc.request_id and d.received_month in (0, shadowgate_month(cc.received_at))';
