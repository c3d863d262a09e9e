import type { Logger } from 'pino';
import { oneLine } from '../contracts/safe-text.js';
import type { DesiredFlag, FlagStore } from './flag-store.js';
import { FlagStoreError, type FlagStoreProblem } from './flag-store-error.js';
import { afterCheck, type FlagSyncStatus, NEEDS_A_PERSON, UNCHECKED } from './flag-sync-status.js';

export interface FlagReconcilerOptions {
  store: FlagStore;
  /** Every use case's flag as its stage says it should be (the database is the truth). */
  desired: () => Promise<DesiredFlag[]>;
  /**
   * Called after a flag that had drifted from what this reconciler last wrote was put
   * back (a hand edit, a lost write); the drift says what was different. Not called
   * when the flag changed because the desired flag did (a transition, a new use case).
   */
  onRepair?: (useCase: string, drift: string[]) => Promise<void> | void;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The time of a check, for `status()` (default: the host's clock). */
  clock?: () => Date;
}

export interface ReconcileSummary {
  /** Use cases whose flag now matches (changed or not). */
  applied: string[];
  /** Those among `applied` whose flag had drifted and was put back (`onRepair` was called). */
  repaired: string[];
  /** Those among `applied` whose flag was changed because the desired flag changed. */
  updated: string[];
  /** Use cases whose flag could not be written; retried at the next call. */
  failed: string[];
}

export type ReconcileOutcome =
  | { useCase: string; status: 'unchanged' | 'updated' | 'repaired'; drift: string[] }
  | { useCase: string; status: 'failed'; error: string; unreachable: boolean }
  | { useCase: string; status: 'unknown' };

/**
 * Makes the flag backend say what the stages say, now and again. Never throws: a
 * failure is logged and retried at the next call. An unreachable backend is logged
 * once per outage ("unreachable", then "reachable again"); a pass stops at the first
 * unreachable answer instead of waiting out a timeout per flag. Applies run one at a
 * time so a transition's reconcile and the timer's pass never interleave writes.
 *
 * A change is a repair when the flag had been written for the same desired flag
 * before (it drifted since) or, on this process's first sight of it, when it was not
 * simply missing; otherwise it is an update. Call `reconcileAll` once at start so a
 * restarted controller knows what it wrote.
 *
 * Each use case's flag has a sync status (`status`): in sync, pending approval in Unleash (a
 * project whose changes need change requests, a token that may not skip them), refused (the
 * token), failed (another rejection) or unreachable. A state that needs a person is logged once
 * when it begins (or its reason changes), not at every sync; the return to in sync is logged too.
 */
export class FlagReconciler {
  private outage = false;
  private readonly statuses = new Map<string, FlagSyncStatus>();
  /** The last desired flag written or confirmed, per use case, as JSON. */
  private readonly lastApplied = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FlagReconcilerOptions) {}

  async reconcileAll(): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { applied: [], repaired: [], updated: [], failed: [] };
    const flags = await this.readDesired();
    if (!flags) return summary;
    const wanted = new Set(flags.map((f) => f.useCase));
    for (const useCase of this.statuses.keys()) if (!wanted.has(useCase)) this.statuses.delete(useCase);
    for (const [i, flag] of flags.entries()) {
      const outcome = await this.serialized(() => this.applyOne(flag));
      if (outcome.status === 'failed') {
        summary.failed.push(flag.useCase);
        if (outcome.unreachable) {
          const rest = flags.slice(i + 1);
          summary.failed.push(...rest.map((f) => f.useCase));
          const reason = this.statuses.get(flag.useCase)?.reason ?? null;
          for (const f of rest) this.observe(f.useCase, 'unreachable', reason, outcome.error);
          break;
        }
        continue;
      }
      summary.applied.push(flag.useCase);
      if (outcome.status === 'repaired') summary.repaired.push(flag.useCase);
      if (outcome.status === 'updated') summary.updated.push(flag.useCase);
    }
    return summary;
  }

  /** One use case's flag, e.g. right after its transition; `unknown` when no flag is desired for it. */
  async reconcile(useCase: string): Promise<ReconcileOutcome> {
    const flags = await this.readDesired();
    if (!flags) {
      return { useCase, status: 'failed', error: 'the desired flags could not be read', unreachable: false };
    }
    const flag = flags.find((f) => f.useCase === useCase);
    if (!flag) {
      this.statuses.delete(useCase);
      return { useCase, status: 'unknown' };
    }
    return this.serialized(() => this.applyOne(flag));
  }

  /** Whether the use case's flag says what its stage says, as the last check found it. */
  status(useCase: string): FlagSyncStatus {
    return this.statuses.get(useCase) ?? UNCHECKED;
  }

  private async readDesired(): Promise<DesiredFlag[] | undefined> {
    try {
      return await this.options.desired();
    } catch (error) {
      this.options.logger.error({ err: error }, 'flag reconcile: could not read the desired flags');
      return undefined;
    }
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }

  private async applyOne(flag: DesiredFlag): Promise<ReconcileOutcome> {
    const { store, logger, onRepair } = this.options;
    let result: Awaited<ReturnType<FlagStore['apply']>>;
    try {
      result = await store.apply(flag);
    } catch (error) {
      return this.failed(flag.useCase, error);
    }
    if (this.outage) {
      this.outage = false;
      logger.info({ store: store.kind }, 'Unleash reachable again; flags are being reconciled');
    }
    this.observe(flag.useCase, 'in-sync', null);
    const key = JSON.stringify(flag);
    const previous = this.lastApplied.get(flag.useCase);
    this.lastApplied.set(flag.useCase, key);
    if (!result.changed) return { useCase: flag.useCase, status: 'unchanged', drift: [] };
    const expected = previous === undefined ? result.drift.includes('flag was missing') : previous !== key;
    if (expected) {
      logger.info({ useCase: flag.useCase, flag: flag.name, drift: result.drift }, 'flag updated');
      return { useCase: flag.useCase, status: 'updated', drift: result.drift };
    }
    logger.info({ useCase: flag.useCase, flag: flag.name, drift: result.drift }, 'flag repaired');
    try {
      await onRepair?.(flag.useCase, result.drift);
    } catch (error) {
      logger.error(
        { err: error, useCase: flag.useCase },
        'flag repaired but the repair could not be recorded',
      );
    }
    return { useCase: flag.useCase, status: 'repaired', drift: result.drift };
  }

  private failed(useCase: string, error: unknown): ReconcileOutcome {
    const message = (error as Error)?.message ?? String(error);
    const { logger, store } = this.options;
    const problem: FlagStoreProblem = error instanceof FlagStoreError ? error.problem : 'failed';
    const unreachable = problem === 'unreachable';
    if (unreachable && !this.outage) {
      this.outage = true;
      logger.warn(
        { store: store.kind, error: message },
        'Unleash unreachable; flags will catch up when it returns',
      );
    }
    // Any key that may read the use case sees the reason: a FlagStoreError's says no address.
    const reason = error instanceof FlagStoreError ? error.reason : oneLine(message).slice(0, 300);
    this.observe(useCase, problem, reason, message);
    return { useCase, status: 'failed', error: message, unreachable };
  }

  /** Records a check's finding; logs a state that needs a person once, and the way back. */
  private observe(
    useCase: string,
    state: 'in-sync' | FlagStoreProblem,
    reason: string | null,
    message = reason ?? '',
  ): void {
    const previous = this.statuses.get(useCase);
    const next = afterCheck(previous, state, reason, (this.options.clock ?? (() => new Date()))());
    this.statuses.set(useCase, next);
    if (previous?.state === state && previous.reason === next.reason) return;
    const { logger } = this.options;
    const fields = { useCase, flagSync: state, error: message };
    switch (state) {
      case 'in-sync':
        if (previous && NEEDS_A_PERSON.has(previous.state)) {
          logger.info({ useCase, flagSync: state, was: previous.state }, 'flag in sync again');
        }
        return;
      case 'pending-approval':
        logger.warn(fields, 'flag change pending approval in Unleash; checked again at every flag sync');
        return;
      case 'refused':
        logger.warn(fields, 'flag write refused by Unleash; checked again at every flag sync');
        return;
      case 'failed':
        logger.error(fields, 'flag could not be written; retrying at the next reconcile');
        return;
      case 'unreachable':
        // Logged once per outage, for every flag at once (`failed`).
        return;
    }
  }
}
