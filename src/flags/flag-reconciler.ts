import type { Logger } from 'pino';
import type { DesiredFlag, FlagStore } from './flag-store.js';
import { isUnreachable } from './flag-store-error.js';

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
 */
export class FlagReconciler {
  private outage = false;
  private readonly lastFailure = new Map<string, string>();
  /** The last desired flag written or confirmed, per use case, as JSON. */
  private readonly lastApplied = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FlagReconcilerOptions) {}

  async reconcileAll(): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { applied: [], repaired: [], updated: [], failed: [] };
    const flags = await this.readDesired();
    if (!flags) return summary;
    for (const [i, flag] of flags.entries()) {
      const outcome = await this.serialized(() => this.applyOne(flag));
      if (outcome.status === 'failed') {
        summary.failed.push(flag.useCase);
        if (outcome.unreachable) {
          summary.failed.push(...flags.slice(i + 1).map((f) => f.useCase));
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
    if (!flag) return { useCase, status: 'unknown' };
    return this.serialized(() => this.applyOne(flag));
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
    this.lastFailure.delete(flag.useCase);
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
    const unreachable = isUnreachable(error);
    if (unreachable) {
      if (!this.outage) {
        this.outage = true;
        logger.warn(
          { store: store.kind, error: message },
          'Unleash unreachable; flags will catch up when it returns',
        );
      }
    } else if (this.lastFailure.get(useCase) !== message) {
      this.lastFailure.set(useCase, message);
      logger.error({ useCase, error: message }, 'flag could not be written; retrying at the next reconcile');
    }
    return { useCase, status: 'failed', error: message, unreachable };
  }
}
