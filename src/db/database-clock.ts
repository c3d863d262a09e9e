import { sql } from 'drizzle-orm';
import type { Database } from './database.js';

/**
 * The controller's clock, read from PostgreSQL's: every process sharing a database tells the
 * same time, whatever its host's clock says. Several things are decided on that time by one
 * process for all: which process takes a tick (its slot is the time divided by the tick
 * interval), how long a use case has been in its stage (the gate's minDuration, against the
 * stage_entered_at another process wrote), which day a budget is spent in, what retention
 * has expired. With host clocks 60 s apart (+30 s and −30 s), two controllers each took their
 * own tick slots and both ticked every interval, so a manual gate could be announced twice.
 *
 * The clock is the host's, corrected by the offset to PostgreSQL's `clock_timestamp()` measured
 * at sync (the sample with the shortest round trip of a few, its error at most half of it), so
 * reading it costs no query. It is synced at start and then periodically; a failed sync keeps
 * the last offset.
 */
export interface DatabaseClock {
  now(): Date;
  /** Measures the offset again; throws when the database cannot be asked. */
  sync(): Promise<void>;
  /** Host clock minus database clock, ms, as last measured (0 before the first sync). */
  readonly offsetMs: number;
  /** False until a sync succeeded: the clock is the host's until then. */
  readonly synced: boolean;
}

const SAMPLES = 3;

export function databaseClock(database: Database, hostMs: () => number = Date.now): DatabaseClock {
  let offsetMs = 0;
  let synced = false;
  return {
    now: () => new Date(hostMs() - offsetMs),
    async sync() {
      let best: { rtt: number; offset: number } | null = null;
      for (let i = 0; i < SAMPLES; i++) {
        const before = hostMs();
        const [row] = await database.rows<{ ms: number | string }>(
          sql`select extract(epoch from clock_timestamp()) * 1000 as ms`,
        );
        const after = hostMs();
        const dbMs = Number(row?.ms);
        if (!Number.isFinite(dbMs)) throw new Error(`the database's clock read ${String(row?.ms)}`);
        const rtt = after - before;
        if (!best || rtt < best.rtt) best = { rtt, offset: (before + after) / 2 - dbMs };
      }
      if (best) {
        offsetMs = best.offset;
        synced = true;
      }
    },
    get offsetMs() {
      return offsetMs;
    },
    get synced() {
      return synced;
    },
  };
}
