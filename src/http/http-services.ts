import type { IngestService } from '../ingest/ingest-service.js';
import type { KeyStore } from '../keys/key-store.js';
import type { UseCaseReader } from '../metrics/use-case-reader.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';

/** What the HTTP layer needs from the rest of the controller. */
export interface HttpServices {
  useCases: UseCaseStore;
  ingest: IngestService;
  reader: UseCaseReader;
  keys: KeyStore;
  clock: () => Date;
  /** Called after a plan is applied (start or re-configure its shadow consumer). */
  onPlanApplied(useCase: UseCase): Promise<void>;
  /** Each dependency's state: 'ok' or what is wrong. */
  readiness(): Promise<Record<string, string>>;
}
