import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { movementTokens } from '../metrics/rollup-movement.js';
import type { GuardWindow } from './guards.js';

/** A use case's guard windows as the tick asks for them. */
export interface WindowRequest {
  useCase: string;
  stageVersion: number;
  size: number;
  /** `labelRecallBelow`'s labels, each read over the last `labelWindow` of its compared requests. */
  labels?: readonly string[];
  labelWindow?: number;
}

/** A window read, what it was read for, and the rollups' movement token it was read after. */
interface LastRead {
  key: string;
  token: string;
  window: GuardWindow;
}

/**
 * Reads the trailing windows guards judge, and the AI spend of the day. Each process keeps the
 * last windows it read and reads a use case's again only when its stage version's rollups moved
 * since (see `windows`): an unmoved use case costs one index lookup a tick, not two window scans.
 */
export class GuardWindowStore {
  private readonly lastReads = new Map<string, LastRead>();

  constructor(private readonly database: Database) {}

  /**
   * The guard windows of many use cases at once (the tick, which asks for every guarded use case:
   * a use case it no longer asks for is forgotten, so what is kept is bounded by the use cases).
   * A window is read again unless this process read it for the same stage version, window sizes
   * and labels and the movement token of that stage version is unchanged (rollup-movement.ts: a
   * decision inserted, deleted, or updated in a column a window reads moves it; score and
   * compared_at are written together). Each controller keeps its own windows; the token is
   * PostgreSQL's, so two controllers agree. `tokens`: the movement tokens of the requests' stage
   * versions, read by the caller before this call; read here when absent.
   */
  async windows(
    requests: readonly WindowRequest[],
    tokens?: ReadonlyMap<string, string>,
  ): Promise<Map<string, GuardWindow>> {
    const result = new Map<string, GuardWindow>();
    if (requests.length === 0) {
      this.lastReads.clear();
      return result;
    }
    // The token is read before the windows: a change committed between the two reads is in the
    // window read or moves the next token, never neither.
    const movement = tokens ?? (await movementTokens(this.database, requests));
    const moved: Array<{ request: WindowRequest; key: string; token: string }> = [];
    for (const request of requests) {
      const key = JSON.stringify([
        request.stageVersion,
        request.size,
        request.labels ?? [],
        request.labelWindow,
      ]);
      const token = movement.get(request.useCase) ?? '';
      const last = this.lastReads.get(request.useCase);
      if (last && last.key === key && last.token === token) result.set(request.useCase, copy(last.window));
      else moved.push({ request, key, token });
    }
    const read = await this.read(moved.map((m) => m.request));
    for (const { request, key, token } of moved) {
      const window = read.get(request.useCase)!;
      this.lastReads.set(request.useCase, { key, token, window: copy(window) });
      result.set(request.useCase, window);
    }
    const asked = new Set(requests.map((r) => r.useCase));
    for (const useCase of this.lastReads.keys()) if (!asked.has(useCase)) this.lastReads.delete(useCase);
    return result;
  }

  /**
   * The last `size` compared decisions and AI calls of each use case's current stage visit (its
   * stage version), read now. Each reads `size` entries of a partial index that holds what it
   * counts (decisions_guard_window_compared, decisions_guard_window_calls,
   * decisions_guard_window_label). Calls are taken in the order their requests arrived, not the
   * order they ended: failures retried after a burst would otherwise crowd the window together.
   */
  private async read(requests: readonly WindowRequest[]): Promise<Map<string, GuardWindow>> {
    const result = new Map<string, GuardWindow>(
      requests.map((r) => [r.useCase, { compared: 0, scoreSum: 0, aiCalls: 0, aiErrors: 0, labels: {} }]),
    );
    const labelled = requests.flatMap((r) =>
      (r.labels ?? []).map((label) => ({ ...r, label, size: r.labelWindow ?? r.size })),
    );
    if (requests.length === 0) return result;
    const wanted = sql`unnest(${sql.param(requests.map((r) => r.useCase))}::text[],
      ${sql.param(requests.map((r) => r.stageVersion))}::int[],
      ${sql.param(requests.map((r) => r.size))}::int[]) f(use_case, stage_version, size)`;
    const [compared, calls, labels] = await Promise.all([
      this.database.preparedRows<{ use_case: string; n: number; s: number }>(sql`
        select f.use_case, w.n, w.s from ${wanted} cross join lateral (
          select count(*)::int as n, coalesce(sum(score), 0)::float8 as s from (
            select d.score from decisions d
            where d.use_case = f.use_case and d.stage_version = f.stage_version and d.score is not null
            order by d.compared_at desc limit f.size) x) w`),
      this.database.preparedRows<{ use_case: string; n: number; e: number }>(sql`
        select f.use_case, w.n, w.e from ${wanted} cross join lateral (
          select count(*)::int as n, count(*) filter (where ai_state = 'error')::int as e from (
            select d.ai_state from decisions d
            where d.use_case = f.use_case and d.stage_version = f.stage_version
              and d.ai_state in ('done', 'error')
            order by d.received_at desc limit f.size) x) w`),
      labelled.length === 0
        ? []
        : this.database.preparedRows<{ use_case: string; label: string; n: number; h: number }>(sql`
        select f.use_case, f.label, w.n, w.h from unnest(
          ${sql.param(labelled.map((r) => r.useCase))}::text[],
          ${sql.param(labelled.map((r) => r.stageVersion))}::int[],
          ${sql.param(labelled.map((r) => r.label))}::text[],
          ${sql.param(labelled.map((r) => r.size))}::int[]) f(use_case, stage_version, label, size)
        cross join lateral (
          select count(*)::int as n, count(*) filter (where x.score >= 1)::int as h from (
            select d.score from decisions d
            where d.use_case = f.use_case and d.stage_version = f.stage_version and d.score is not null
              and jsonb_typeof(d.human_decision) = 'string' and length(d.human_decision #>> '{}') <= 200
              and (d.human_decision #>> '{}') = f.label
            order by d.compared_at desc limit f.size) x) w`),
    ]);
    for (const r of compared) {
      Object.assign(result.get(r.use_case)!, { compared: Number(r.n), scoreSum: Number(r.s) });
    }
    for (const r of calls) {
      Object.assign(result.get(r.use_case)!, { aiCalls: Number(r.n), aiErrors: Number(r.e) });
    }
    for (const r of labels) {
      result.get(r.use_case)!.labels[r.label] = { compared: Number(r.n), hits: Number(r.h) };
    }
    return result;
  }

  /** AI spend of a use case on `now`'s UTC day, in USD (the daily_ai_spend rollup). */
  async spendToday(useCase: string, now: Date): Promise<number> {
    return (await this.spendsToday([useCase], now)).get(useCase) ?? 0;
  }

  /**
   * The day's spend of many use cases at once (the tick): a lookup of the day's stripes per use
   * case (as `= any(…)`, PostgreSQL scanned every day of every use case).
   */
  async spendsToday(useCases: readonly string[], now: Date): Promise<Map<string, number>> {
    if (useCases.length === 0) return new Map();
    const rows = await this.database.preparedRows<{ use_case: string; cost: number | null }>(sql`
      select f.use_case, s.cost from unnest(${sql.param([...useCases])}::text[]) f(use_case)
      cross join lateral (
        select sum(d.cost)::float8 as cost from daily_ai_spend d
        where d.use_case = f.use_case and d.day = ${now.toISOString().slice(0, 10)}::date) s
      where s.cost is not null`);
    return new Map(rows.map((r) => [r.use_case, Number(r.cost)]));
  }
}

/** A window kept apart from the one handed out, so what a caller does with it never changes what is kept. */
function copy(window: GuardWindow): GuardWindow {
  const labels = Object.fromEntries(Object.entries(window.labels).map(([label, l]) => [label, { ...l }]));
  return { ...window, labels };
}
