import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';

/** How long a use case read by a worker is trusted: a kill switch or a new plan takes effect within it. */
const USE_CASE_TTL_MS = 1_000;

/**
 * The use cases a worker's jobs look at, read at most once a second per use case (a job per call
 * would otherwise read its use case per call). A failed read is forgotten at once.
 */
export class UseCaseCache {
  private readonly entries = new Map<string, { at: number; value: Promise<UseCase | null> }>();

  constructor(private readonly useCases: Pick<UseCaseStore, 'get'>) {}

  /** What the worker was just told (a sync): trusted for the next second. */
  set(useCase: UseCase): void {
    this.entries.set(useCase.id, { at: Date.now(), value: Promise.resolve(useCase) });
  }

  get(id: string): Promise<UseCase | null> {
    const cached = this.entries.get(id);
    if (cached && Date.now() - cached.at < USE_CASE_TTL_MS) return cached.value;
    const value = this.useCases.get(id);
    this.entries.set(id, { at: Date.now(), value });
    value.catch(() => this.entries.delete(id));
    return value;
  }
}
