import type { UseCaseReader } from '../metrics/use-case-reader.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { MAX_CHANGES_LISTED } from '../contracts/change-contracts.js';
import { type ChangeState, type PendingChange, changeView } from '../promotion/change-types.js';
import type { JourneyPoint } from '../promotion/journey-points.js';
import { MAX_JOURNEY_POINTS } from '../promotion/journey-store.js';
import type { TransitionStore } from '../promotion/transition-store.js';
import type { ChallengerViewInput } from './report-challengers.js';
import type { AuditEventReader } from './audit-event-reader.js';
import { buildEvidenceReport, type EventCount } from './evidence-report.js';
import type { EvidenceReport, UseCaseDetail } from './report-types.js';

/** Latest guard trips shown in full. */
const RECENT_TRIPS = 10;
/** `challenger.promoted` events read: one per promoted challenger, and the view lists the latest 20 challengers. */
const PROMOTIONS = 20;

export interface ReportServiceDeps {
  useCases: UseCaseStore;
  reader: UseCaseReader;
  transitions: TransitionStore;
  events: AuditEventReader;
  /** Champion and challenger as `GET …/challenger` shows them (`ChallengerService`). */
  challengers: { view(id: string, now: Date): Promise<ChallengerViewInput> };
  /** The journey points the ticks kept (`JourneyStore`). */
  journey?: { read(useCase: string, limit: number): Promise<JourneyPoint[]> };
  /** Changes held back for approval (`ChangeStore`), each in the state a reader sees now. */
  changes: {
    list(query: {
      scope: null;
      useCase: string;
      limit: number;
      now: Date;
    }): Promise<Array<{ change: PendingChange; state: ChangeState }>>;
  };
}

/**
 * Reads what the evidence report needs. Metrics and the gate come from `UseCaseReader.detail`,
 * the same call `GET /v1/use-cases/:id` answers with, so the figures match it.
 */
export class ReportService {
  constructor(private readonly deps: ReportServiceDeps) {}

  async report(useCase: UseCase, now: Date): Promise<EvidenceReport> {
    const { reader, useCases, transitions, events, challengers } = this.deps;
    const id = useCase.id;
    const [
      { detail, drift },
      planVersions,
      transitionList,
      stageEvents,
      guardTrips,
      recentTrips,
      counts,
      challengerView,
      promotions,
      driftTrips,
      changes,
      journeyPoints,
    ] = await Promise.all([
      // One drift read: the Drift section shows in full the reading the detail summarises.
      reader.detailAndDrift(useCase, now),
      useCases.planVersions(id),
      transitions.list(id),
      events.stageEvents(id),
      events.guardTripsByStage(id),
      events.latest(id, 'guard.tripped', RECENT_TRIPS),
      events.counts(id, ['guard.budget', 'flag.repaired', 'model.changed', 'drift.detected']),
      challengers.view(id, now),
      events.latest(id, 'challenger.promoted', PROMOTIONS),
      events.latest(id, 'drift.detected', RECENT_TRIPS),
      // One more than listed tells whether there were more.
      this.deps.changes.list({ scope: null, useCase: id, limit: MAX_CHANGES_LISTED + 1, now }),
      this.deps.journey?.read(id, MAX_JOURNEY_POINTS + 1) ?? [],
    ]);
    const count = (action: string): EventCount | null => counts.find((c) => c.action === action) ?? null;
    return buildEvidenceReport({
      generatedAt: now,
      // The reader types the gate loosely (it takes any judge); the controller's judge is assessGate.
      detail: detail as UseCaseDetail,
      plan: useCase.plan,
      planVersions: planVersions.map(({ text: _text, plan: _plan, ...v }) => v),
      transitions: transitionList,
      stageEvents,
      guardTripsByStage: guardTrips,
      recentGuardTrips: recentTrips,
      budgetExhausted: count('guard.budget'),
      flagRepairs: count('flag.repaired'),
      modelChanges: count('model.changed'),
      challengers: challengerView,
      challengerPromotions: promotions,
      changes: changes.slice(0, MAX_CHANGES_LISTED).map(({ change, state }) => changeView(change, state)),
      changesTruncated: changes.length > MAX_CHANGES_LISTED,
      drift,
      driftTrips: count('drift.detected'),
      recentDriftTrips: driftTrips,
      journeyPoints,
    });
  }
}
