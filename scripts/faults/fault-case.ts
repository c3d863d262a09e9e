/** The shape of a fault case and of what it reports. */
import type { SeededRandom } from './seeded-random.js';

export interface CaseContext {
  quick: boolean;
  /**
   * This run's timings: when the fault strikes, how long it lasts, the traffic's pace. Each run
   * of a case gets its own seed (seeded-random.ts); --seed replays them.
   */
  random: SeededRandom;
  /** The machine's PostgreSQL, where each case creates (and drops) a database of its own. */
  pgAdminUrl: string;
  /** The machine's Redis, where each case uses a queue prefix of its own. */
  redisUrl: string;
  /** Registers cleanup work; it runs, last registered first, when the case ends however it ends. */
  defer(cleanup: () => Promise<unknown> | unknown): void;
  /** Registers something worth printing if the case fails (e.g. a process's last log lines). */
  onFailure(describe: () => string): void;
}

export interface CaseResult {
  name: string;
  /** The seed of this run: `--seed` with the suite's base seed replays it (set by the runner). */
  seed?: number;
  /** Which run of the case this was, from 1 (set by the runner). */
  run?: number;
  /** Decisions the workflow made through the SDK (each mirrored once). */
  sent: number;
  /** Of those, stored with their human decision. */
  stored: number;
  lost: number;
  /** Decisions stored twice, plus stage changes recorded twice. */
  doubleCounted: number;
  /** AI calls ended (answered or failed for good) per the database. */
  aiCompleted: number;
  aiErrors: number;
  compared: number;
  /** Calls the simulated AI received beyond the first for a request id. */
  repeats: number;
  /** What else the case observed, one line each. */
  facts: string[];
  /** Checks that failed; the case passes when there are none. */
  problems: string[];
  seconds: number;
}

export interface FaultCase {
  name: string;
  /** The fault, as docs/reliability.md lists it. */
  fault: string;
  /** The guarantee the case checks. */
  guarantee: string;
  run(ctx: CaseContext): Promise<CaseResult>;
}

/** Collects failed checks with what was expected and what was found. */
export class Checks {
  readonly problems: string[] = [];

  that(holds: boolean, problem: string): void {
    if (!holds) this.problems.push(problem);
  }

  equal(actual: number, expected: number, what: string): void {
    if (actual !== expected) this.problems.push(`${what}: expected ${expected}, found ${actual}`);
  }

  atMost(actual: number, limit: number, what: string): void {
    if (actual > limit) this.problems.push(`${what}: expected at most ${limit}, found ${actual}`);
  }
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}
