import type { FlagApplyResult, FlagStore } from './flag-store.js';

/**
 * Without Unleash the controller is the flag source: it serves each flag straight
 * from the use case's stage (see http/routes/client-api-routes.ts), so there is nothing to write.
 */
export function createBuiltInFlagStore(): FlagStore {
  return {
    kind: 'built-in',
    async apply(): Promise<FlagApplyResult> {
      return { changed: false, drift: [] };
    },
    async ping(): Promise<void> {},
  };
}
