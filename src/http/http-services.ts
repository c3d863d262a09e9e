import type { Egress } from '../egress/egress.js';
import type { FlagSyncStatus } from '../flags/flag-sync-status.js';
import type { IngestService } from '../ingest/ingest-service.js';
import type { RatingService } from '../ingest/rating-service.js';
import type { SuggestionService } from '../suggestions/suggestion-service.js';
import type { KeyStore } from '../keys/key-store.js';
import type { DriftService } from '../metrics/drift-service.js';
import type { TimeseriesStore } from '../metrics/timeseries-store.js';
import type { UseCaseReader } from '../metrics/use-case-reader.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import type { ReleaseService } from '../promotion/release-service.js';
import type { JourneyStore } from '../promotion/journey-store.js';
import type { ChallengerService } from '../promotion/challenger-service.js';
import type { ChangeService } from '../promotion/change-service.js';
import type { ReportService } from '../report/report-service.js';

/** What the HTTP layer needs from the rest of the controller. */
export interface HttpServices {
  useCases: UseCaseStore;
  ingest: IngestService;
  /** People's ratings of the AI's output: the judge's calibration (README "Is the judge right?"). */
  ratings: RatingService;
  suggestions: SuggestionService;
  reader: UseCaseReader;
  /** The evidence report (`GET /v1/use-cases/:id/report`). */
  report: ReportService;
  /** Drift against the stage's reference, and re-baselining (README "Drift"). */
  drift: DriftService;
  /** Agreement and AI figures per hour or day (the dashboard's charts). */
  timeseries: TimeseriesStore;
  /** What each tick judged, thinned: agreement over the journey beside the stage visits. */
  journey: JourneyStore;
  keys: KeyStore;
  release: ReleaseService;
  /** Champion and challenger: the verdict, the swap and the discard. */
  challengers: ChallengerService;
  /** Change control: plans submitted, changes held back, approved, rejected and applied once. */
  changes: ChangeService;
  clock: () => Date;
  /** Where plans may send AI calls and webhooks, and which secrets they may name. */
  egress: Egress;
  /** Whether the use case's flag says what its stage says (GET /v1/use-cases…: `flag`). */
  flagStatus?(useCase: string): FlagSyncStatus;
  /** Called after a plan is applied (start or re-configure its shadow consumer). */
  onPlanApplied(useCase: UseCase): Promise<void>;
  /** Each dependency's state, `ok` or `unavailable` (what is wrong goes to the log). */
  readiness(): Promise<Record<string, 'ok' | 'unavailable'>>;
  /** True once the process is stopping: /readyz answers 503 and the SDK's routes are refused. */
  stopping?(): boolean;
}
