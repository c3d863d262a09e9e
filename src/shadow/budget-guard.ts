import type { UseCase } from '../plans/use-case-store.js';

/** How long a day's spend is trusted before it is read again. */
const SPEND_TTL_MS = 2_000;

/**
 * `ai.maxDailyCost`, enforced before a shadow call is made: past it the calls stay
 * owed (they are made the next UTC day, or once the plan raises the limit).
 */
export class BudgetGuard {
  private readonly spend = new Map<string, { at: number; value: Promise<number> }>();

  constructor(
    private readonly spendToday: (useCase: string, now: Date) => Promise<number>,
    private readonly clock: () => Date,
  ) {}

  async allows(useCase: UseCase): Promise<boolean> {
    const limit = useCase.plan.ai.maxDailyCost;
    if (limit === undefined) return true;
    const now = Date.now();
    let cached = this.spend.get(useCase.id);
    if (!cached || now - cached.at > SPEND_TTL_MS) {
      cached = { at: now, value: this.spendToday(useCase.id, this.clock()) };
      this.spend.set(useCase.id, cached);
      cached.value.catch(() => this.spend.delete(useCase.id));
    }
    return (await cached.value) < limit;
  }
}
