import type { Plan } from './plan-schema.js';
import type { UseCaseStore } from './use-case-store.js';

/** Plan versions never change once applied, so each is read from the database once. */
export class PlanCache {
  private readonly plans = new Map<string, Promise<Plan | null>>();

  constructor(private readonly store: UseCaseStore) {}

  get(useCase: string, version: number): Promise<Plan | null> {
    const key = `${useCase}@${version}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = this.store.planVersion(useCase, version).then((record) => record?.plan ?? null);
      plan.catch(() => this.plans.delete(key));
      this.plans.set(key, plan);
    }
    return plan;
  }
}
