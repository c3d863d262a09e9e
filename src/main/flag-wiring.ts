import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createBuiltInFlagStore } from '../flags/built-in-flag-store.js';
import { clientApiRoutes } from '../http/routes/client-api-routes.js';
import { FlagReconciler } from '../flags/flag-reconciler.js';
import { type DesiredFlag, desiredFlag, type FlagStore } from '../flags/flag-store.js';
import { createUnleashFlagStore } from '../flags/unleash-flag-store.js';
import type { KeyStore } from '../keys/key-store.js';
import type { UseCaseStore } from '../plans/use-case-store.js';
import type { Notifier } from '../promotion/notifier.js';
import type { TransitionStore } from '../promotion/transition-store.js';

export interface Flags {
  store: FlagStore;
  reconciler: FlagReconciler;
  /** The Unleash client API for the controller's own flags; null when Unleash serves them. */
  clientApi: Router | null;
}

/**
 * Flags follow the stages in the database: written to Unleash when it is
 * configured, else served by the controller itself in Unleash's client format.
 */
export function createFlags(deps: {
  config: Config;
  useCases: UseCaseStore;
  keys: KeyStore;
  transitions: TransitionStore;
  notifier: Notifier;
  logger: Logger;
  clock: () => Date;
}): Flags {
  const { config } = deps;
  const unleash = config.UNLEASH_URL && config.UNLEASH_ADMIN_TOKEN;
  const store = unleash
    ? createUnleashFlagStore({
        url: config.UNLEASH_URL!,
        adminToken: config.UNLEASH_ADMIN_TOKEN!,
        project: config.UNLEASH_PROJECT,
        environment: config.UNLEASH_ENVIRONMENT,
      })
    : createBuiltInFlagStore();
  const desired = async (): Promise<DesiredFlag[]> =>
    (await deps.useCases.list()).map((u) => desiredFlag(u.id, u.stage, u.plan));
  const reconciler = new FlagReconciler({
    store,
    desired,
    logger: deps.logger,
    clock: deps.clock,
    onRepair: async (useCase, drift) => {
      const at = deps.clock();
      await deps.transitions.recordEvent({
        actor: 'system',
        action: 'flag.repaired',
        useCase,
        details: { drift },
        at,
      });
      const plan = (await deps.useCases.get(useCase))?.plan;
      deps.notifier.notify(plan?.notify?.webhook, {
        type: 'flag.repaired',
        useCase,
        at: at.toISOString(),
        drift,
      });
    },
  });
  // The client API has a bucket per key at the API rate, apart from the key's /v1 budgets: an SDK
  // polls every 10 s and posts metrics each minute, so one key's bucket serves hundreds of them.
  const clientApi = unleash
    ? null
    : clientApiRoutes({
        listFlags: desired,
        authenticate: (key, address) => deps.keys.authenticate(key, address),
        perKeyPerSecond: config.SHADOWGATE_RATE_LIMIT_API_PER_SEC,
      });
  return { store, reconciler, clientApi };
}
