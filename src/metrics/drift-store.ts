import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { parseDurationMs } from '../plans/duration.js';
import { MAX_CATEGORIES } from '../statistics/drift.js';

/**
 * The drift counts (README "Drift"): what the decisions triggers keep per hour (migration 0011,
 * table drift_counts) summed over a window, and the references drift is measured against (table
 * drift_references). A window is read from at most one row per (hour, field, value, stripe) of
 * one stage version, so its cost does not grow with the decisions stored.
 */

/**
 * The named values a segment field holds per hour of a stage version (migration 0015's
 * `value_cap`): once an hour holds this many, a value new to it is counted as `__other__`, so a
 * client sending a new value with every decision adds no more rows than this an hour. Twice
 * MAX_CATEGORIES: the measures compare at most MAX_CATEGORIES, picked by the window's shares, and
 * a field of up to this many values reaches them whole. The labels are bounded already (the
 * plan's, and `__other__`), the numeric fields by their buckets.
 */
export const DRIFT_VALUES_PER_HOUR = 2 * MAX_CATEGORIES;

/** The longest segment value counted by name (migration 0015's `value_chars`); a longer one is `__other__`. */
export const DRIFT_VALUE_CHARS = 200;

export const DRIFT_KINDS = ['segment', 'numeric', 'built-in'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** `{kind: {field: {value: count}}}`: prototype-free records, as drift.ts reads them. */
export type DriftCells = Record<DriftKind, Record<string, Record<string, number>>>;

/** The hours of one stage version summed into a window, and what they hold. */
export interface DriftWindow {
  stageVersion: number;
  /** Hours since the epoch (UTC), inclusive; null when the stage version has no decisions. */
  fromHour: number | null;
  toHour: number | null;
  /** Decisions received in those hours. */
  decisions: number;
  cells: DriftCells;
}

export interface DriftReference {
  id: number;
  useCase: string;
  stageVersion: number;
  stage: string;
  takenAt: Date;
  takenBy: string;
  reason: string;
  /** When a drift guard tripped against it (once until re-baselined); null while none has. */
  trippedAt: Date | null;
  window: DriftWindow;
}

const HOUR_MS = 3_600_000;
/** A window of decisions looks back at most this many hours of its stage version (a year). */
const MAX_LOOKBACK_HOURS = 24 * 366;

export function emptyCells(): DriftCells {
  return {
    segment: Object.create(null),
    numeric: Object.create(null),
    'built-in': Object.create(null),
  } as DriftCells;
}

/** The counts of one field (an empty record when it holds none). */
export function fieldCounts(cells: DriftCells, kind: DriftKind, field: string): Record<string, number> {
  return Object.hasOwn(cells[kind], field)
    ? cells[kind][field]!
    : (Object.create(null) as Record<string, number>);
}

export class DriftStore {
  constructor(private readonly database: Database) {}

  /**
   * The window `drift.window` names, of one stage version: the trailing hours up to the hour of
   * `nowMs` (a duration) or the trailing whole hours holding at least that many decisions. With
   * `endAtLast`, the window ends at the stage version's last hour with decisions instead (a
   * reference taken from a stage already left).
   */
  async window(
    useCase: string,
    stageVersion: number,
    window: number | string,
    nowMs: number,
    endAtLast = false,
  ): Promise<DriftWindow> {
    const empty = { stageVersion, fromHour: null, toHour: null, decisions: 0, cells: emptyCells() };
    if (typeof window === 'string' && !endAtLast) {
      // A duration up to now needs no sizing: its hours are known.
      const toHour = Math.floor(nowMs / HOUR_MS);
      const fromHour = toHour - Math.ceil(parseDurationMs(window) / HOUR_MS) + 1;
      const read = await this.sum(useCase, stageVersion, fromHour, toHour);
      return read.decisions > 0 ? { ...read, stageVersion } : empty;
    }
    // The partial index drift_counts_decisions answers this from the index alone.
    const hours = await this.database.rows<{ hour: number; n: number }>(sql`
      select hour, sum(count)::float8 as n from drift_counts
      where use_case = ${useCase} and stage_version = ${stageVersion} and kind = 'built-in'
        and field = 'decisions'
      group by hour having sum(count) > 0 order by hour desc limit ${MAX_LOOKBACK_HOURS}`);
    if (hours.length === 0) return empty;
    const toHour = endAtLast ? Number(hours[0]!.hour) : Math.floor(nowMs / HOUR_MS);
    let fromHour: number;
    if (typeof window === 'string') {
      fromHour = toHour - Math.ceil(parseDurationMs(window) / HOUR_MS) + 1;
    } else {
      // The newest hours until they hold `window` decisions (all of them when they never do).
      fromHour = toHour;
      let held = 0;
      for (const { hour, n } of hours) {
        if (Number(hour) > toHour) continue;
        fromHour = Number(hour);
        held += Number(n);
        if (held >= window) break;
      }
    }
    return { ...(await this.sum(useCase, stageVersion, fromHour, toHour)), stageVersion };
  }

  /**
   * The current windows of many use cases at once (the tick), in one query: for each, the window
   * `window` reads for its stage version up to the hour of `nowMs` (a duration, or the trailing
   * whole hours holding at least that many decisions, sized from the drift_counts_decisions index
   * in the same statement).
   */
  async currentWindows(
    requests: ReadonlyArray<{ useCase: string; stageVersion: number; window: number | string }>,
    nowMs: number,
  ): Promise<Map<string, DriftWindow>> {
    const toHour = Math.floor(nowMs / HOUR_MS);
    const result = new Map<string, DriftWindow>(
      requests.map((r) => [
        r.useCase,
        { stageVersion: r.stageVersion, fromHour: null, toHour: null, decisions: 0, cells: emptyCells() },
      ]),
    );
    if (requests.length === 0) return result;
    // A duration's first hour is known; a window of decisions (size > 0) is sized by the query.
    const sizes = requests.map((r) => (typeof r.window === 'number' ? r.window : 0));
    const froms = requests.map((r) =>
      typeof r.window === 'string' ? toHour - Math.ceil(parseDurationMs(r.window) / HOUR_MS) + 1 : 0,
    );
    const rows = await this.database.preparedRows<{
      use_case: string;
      from_hour: number;
      kind: DriftKind;
      field: string;
      value: string;
      n: number;
    }>(sql`
      with recursive f as (
        select * from unnest(${sql.param(requests.map((r) => r.useCase))}::text[],
          ${sql.param(requests.map((r) => r.stageVersion))}::int[], ${sql.param(sizes)}::int[],
          ${sql.param(froms)}::int[]) f(use_case, stage_version, size, from_hour)
      ), walk as (
        -- A window of decisions: from the newest hour back, one hour with decisions at a time (a
        -- probe of the drift_counts_decisions index each), until the hours hold size decisions or
        -- none is left: the window's hours are read, not the stage version's whole history.
        select f.use_case, f.stage_version, f.size, h.hour, h.n as held, 1 as depth
        from f cross join lateral (
          select hour, sum(count) as n from drift_counts
          where use_case = f.use_case and stage_version = f.stage_version and kind = 'built-in'
            and field = 'decisions' and hour <= ${toHour}
          group by hour having sum(count) > 0 order by hour desc limit 1) h
        where f.size > 0
        union all
        select w.use_case, w.stage_version, w.size, h.hour, w.held + h.n, w.depth + 1
        from walk w cross join lateral (
          select hour, sum(count) as n from drift_counts
          where use_case = w.use_case and stage_version = w.stage_version and kind = 'built-in'
            and field = 'decisions' and hour < w.hour
          group by hour having sum(count) > 0 order by hour desc limit 1) h
        where w.held < w.size and w.depth < ${MAX_LOOKBACK_HOURS}
      ), bounds as materialized (
        select f.use_case, f.stage_version, case when f.size > 0 then m.hour else f.from_hour end as from_hour
        from f left join (select use_case, min(hour) as hour from walk group by use_case) m
          on m.use_case = f.use_case
      )
      select b.use_case, b.from_hour, c.kind, c.field, c.value, c.n
      from bounds b cross join lateral (
        select kind, field, value, sum(count)::float8 as n from drift_counts
        where use_case = b.use_case and stage_version = b.stage_version
          and hour >= b.from_hour and hour <= ${toHour}
        group by kind, field, value having sum(count) > 0) c`);
    for (const { use_case, from_hour, kind, field, value, n } of rows) {
      const window = result.get(use_case);
      if (!window || !DRIFT_KINDS.includes(kind)) continue;
      window.fromHour = Number(from_hour);
      window.toHour = toHour;
      add(window, kind, field, value, Number(n));
    }
    // As `window` reads them: a window holding no decision is empty.
    for (const [useCase, window] of result) {
      if (window.decisions === 0) {
        result.set(useCase, {
          stageVersion: window.stageVersion,
          fromHour: null,
          toHour: null,
          decisions: 0,
          cells: emptyCells(),
        });
      }
    }
    return result;
  }

  private async sum(useCase: string, stageVersion: number, fromHour: number, toHour: number) {
    const rows = await this.database.rows<{ kind: DriftKind; field: string; value: string; n: number }>(sql`
      select kind, field, value, sum(count)::float8 as n from drift_counts
      where use_case = ${useCase} and stage_version = ${stageVersion}
        and hour >= ${fromHour} and hour <= ${toHour}
      group by kind, field, value having sum(count) > 0`);
    const read = { fromHour, toHour, decisions: 0, cells: emptyCells() };
    for (const { kind, field, value, n } of rows) {
      if (DRIFT_KINDS.includes(kind)) add(read, kind, field, value, Number(n));
    }
    return read;
  }

  /** The references in force for many stage versions at once (the tick), by use case; one query. */
  async references(
    requests: ReadonlyArray<{ useCase: string; stageVersion: number }>,
  ): Promise<Map<string, DriftReference>> {
    const result = new Map<string, DriftReference>();
    if (requests.length === 0) return result;
    const rows = await this.database.preparedRows<ReferenceRow>(sql`
      select r.id, r.use_case, r.stage_version, r.stage, r.taken_at, r.taken_by, r.reason, r.counts, r.source,
        r.tripped_at
      from unnest(${sql.param(requests.map((q) => q.useCase))}::text[],
        ${sql.param(requests.map((q) => q.stageVersion))}::int[]) f(use_case, stage_version)
      cross join lateral (
        select * from drift_references
        where use_case = f.use_case and stage_version = f.stage_version order by id desc limit 1) r`);
    for (const row of rows) result.set(row.use_case, referenceOf(row));
    return result;
  }

  /** The reference in force for a stage version: the newest taken, or null. */
  async reference(useCase: string, stageVersion: number): Promise<DriftReference | null> {
    const [row] = await this.database.rows<ReferenceRow>(sql`
      select id, use_case, stage_version, stage, taken_at, taken_by, reason, counts, source, tripped_at
      from drift_references where use_case = ${useCase} and stage_version = ${stageVersion}
      order by id desc limit 1`);
    return row ? referenceOf(row) : null;
  }

  /**
   * Marks a reference as tripped against, once: true for the one caller that marked it (a guard
   * trips at most once per reference, whichever controller's tick sees it first).
   */
  async markTripped(referenceId: number): Promise<boolean> {
    const rows = await this.database.rows<{ id: number }>(sql`
      update drift_references set tripped_at = now() where id = ${referenceId} and tripped_at is null
      returning id`);
    return rows.length > 0;
  }

  /** Stores a reference for `stageVersion` from a window already read. */
  async store(input: {
    useCase: string;
    stageVersion: number;
    stage: string;
    takenBy: string;
    reason: string;
    window: DriftWindow;
    /** Recorded in the audit log as `drift.baseline` (a person's re-baseline). */
    audited?: boolean;
  }): Promise<DriftReference> {
    const { window } = input;
    const source = {
      stageVersion: window.stageVersion,
      fromHour: window.fromHour,
      toHour: window.toHour,
      decisions: window.decisions,
    };
    // The audit event (a re-baseline by a person) is written by the same statement.
    const [row] = await this.database.rows<ReferenceRow>(sql`
      with ref as (
        insert into drift_references (use_case, stage_version, stage, taken_by, reason, counts, source)
        values (${input.useCase}, ${input.stageVersion}, ${input.stage}, ${input.takenBy},
          ${input.reason.slice(0, 2000)}, ${JSON.stringify(window.cells)}::jsonb, ${JSON.stringify(source)}::jsonb)
        returning id, use_case, stage_version, stage, taken_at, taken_by, reason, counts, source, tripped_at
      ), audited as (
        insert into audit_events (actor, action, use_case, details)
        select ref.taken_by, 'drift.baseline', ref.use_case,
          jsonb_build_object('reference', ref.id, 'stageVersion', ref.stage_version, 'reason', ref.reason,
            'source', ref.source)
        from ref where ${input.audited ?? false}
      )
      select * from ref`);
    return referenceOf(row!);
  }
}

/** Adds one summed cell to a window being read (`decisions`: `all` is its decision count). */
function add(
  window: { decisions: number; cells: DriftCells },
  kind: DriftKind,
  field: string,
  value: string,
  n: number,
): void {
  window.cells[kind][field] ??= Object.create(null) as Record<string, number>;
  window.cells[kind][field]![value] = n;
  if (kind === 'built-in' && field === 'decisions' && value === 'all') window.decisions = n;
}

interface ReferenceRow {
  id: number | string;
  use_case: string;
  stage_version: number;
  stage: string;
  taken_at: Date | string;
  taken_by: string;
  reason: string;
  counts: unknown;
  source: unknown;
  tripped_at: Date | string | null;
}

function referenceOf(row: ReferenceRow): DriftReference {
  const counts = (
    typeof row.counts === 'string' ? JSON.parse(row.counts) : row.counts
  ) as Partial<DriftCells>;
  const source = (typeof row.source === 'string' ? JSON.parse(row.source) : row.source) as Omit<
    DriftWindow,
    'cells'
  >;
  // Records rebuilt prototype-free: a value named `__proto__` stays a value.
  const cells = emptyCells();
  for (const kind of DRIFT_KINDS) {
    for (const [field, values] of Object.entries(counts[kind] ?? {})) {
      const out = Object.create(null) as Record<string, number>;
      for (const [value, n] of Object.entries(values)) out[value] = n;
      cells[kind][field] = out;
    }
  }
  return {
    id: Number(row.id),
    useCase: row.use_case,
    stageVersion: row.stage_version,
    stage: row.stage,
    takenAt: new Date(row.taken_at),
    takenBy: row.taken_by,
    reason: row.reason,
    trippedAt: row.tripped_at === null ? null : new Date(row.tripped_at),
    window: { ...source, cells },
  };
}
