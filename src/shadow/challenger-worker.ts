import type { Logger } from 'pino';
import { localComparator } from '../comparison/comparators.js';
import type { PlanCache } from '../plans/plan-cache.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { storedAiError } from '../privacy/input-policy.js';
import { AiCallError } from './ai-errors.js';
import type { AiClients } from './ai-clients.js';
import type { ChallengerCallStore } from './challenger-call-store.js';
import { challengerQueueKey, challengerUseCase } from './challenger-sampling.js';
import { InFlightCalls } from './in-flight-calls.js';
import { UseCaseCache } from './use-case-cache.js';
import { claimStep, databaseStep as step } from './database-step.js';
import { RetryLater, type ShadowJobRun, type ShadowQueue } from './shadow-queue.js';

export interface ChallengerWorkerDeps {
  queue: ShadowQueue;
  calls: ChallengerCallStore;
  useCases: UseCaseStore;
  plans: PlanCache;
  clients: AiClients;
  logger: Logger;
  backoffMs?: number;
  /** The use case's daily AI budget counts the challenger's calls too. */
  budget?: { allows(useCase: UseCase): Promise<boolean> };
}

const LEASE_MARGIN_MS = 15_000;
const SWEEP_BATCH = 5_000;

/**
 * Asks the active challenger of each use case the requests it was enlisted for at ingest
 * (README "Champion and challenger"), off the live path: one consumer per use case under its own
 * queue key, at the challenger plan's concurrency and rate limit. Each call is claimed in
 * PostgreSQL first, so a duplicate job never makes a second call; the sweep re-enqueues what the
 * queue lost. Its answers are scored against the human side when it is already known; the tick
 * scores the rest and folds the pairs (challenger-store.ts).
 */
export class ChallengerWorker {
  readonly counters = { answered: 0, failed: 0, retried: 0, skipped: 0 };
  /** The challenger calls this process holds, handed back when it stops. */
  readonly inFlight = new InFlightCalls();
  private readonly consuming = new Map<string, string>();
  private readonly useCaseCache: UseCaseCache;
  private sweepCursor = 0;

  constructor(private readonly deps: ChallengerWorkerDeps) {
    this.useCaseCache = new UseCaseCache(deps.useCases);
  }

  /** Where its calls are owed (the controller hands back what it holds when it stops). */
  get calls(): ChallengerCallStore {
    return this.deps.calls;
  }

  /** Consumes a use case's challenger calls while it has an active challenger and is not disabled. */
  async sync(useCase: UseCase): Promise<void> {
    const key = challengerQueueKey(useCase.id);
    this.useCaseCache.set(useCase);
    if (useCase.stage === 'disabled' || useCase.challenger === null) {
      if (this.consuming.delete(key)) await this.deps.queue.pause(key);
      return;
    }
    const ai = useCase.plan.ai; // the current plan is the challenger's
    const settings = {
      concurrency: ai.concurrency,
      maxAttempts: ai.maxAttempts,
      backoffMs: this.deps.backoffMs ?? 500,
      ...(ai.rateLimitPerSecond ? { rateLimitPerSecond: ai.rateLimitPerSecond } : {}),
    };
    const signature = JSON.stringify(settings);
    if (this.consuming.get(key) === signature) return;
    await this.deps.queue.consume(key, settings, (job) => this.handle(job));
    this.consuming.set(key, signature);
  }

  async syncAll(): Promise<void> {
    for (const useCase of await this.deps.useCases.list()) await this.sync(useCase);
  }

  /** Re-enqueues the owed challenger calls no worker holds and the queue has lost. */
  async sweep(): Promise<{ checked: number; reenqueued: number }> {
    const { calls, queue } = this.deps;
    const owed = await calls.owedUnclaimed(SWEEP_BATCH, this.sweepCursor);
    this.sweepCursor = owed.length < SWEEP_BATCH ? 0 : owed[owed.length - 1]!.id;
    if (owed.length === 0) return { checked: 0, reenqueued: 0 };
    const jobs = owed.map((o) => ({ useCase: challengerQueueKey(o.useCase), requestId: o.requestId }));
    const missing = await queue.absent(jobs);
    if (missing.length > 0) {
      await queue.enqueue(missing);
      this.deps.logger.info(
        { checked: owed.length, reenqueued: missing.length },
        'sweep re-enqueued challenger calls',
      );
    }
    return { checked: owed.length, reenqueued: missing.length };
  }

  private async handle(job: ShadowJobRun): Promise<void> {
    const { inFlight } = this;
    const useCaseId = challengerUseCase(job.useCase);
    if (useCaseId === null) return;
    if (!inFlight.accepting) throw new RetryLater('the controller is stopping');
    const useCase = await step('use case lookup', () => this.useCaseCache.get(useCaseId));
    if (
      !useCase ||
      useCase.stage === 'disabled' ||
      useCase.challenger === null ||
      !(await step('budget check', async () => this.deps.budget?.allows(useCase) ?? true))
    ) {
      this.counters.skipped++;
      return; // owed still (the sweep brings it back), or owed to a challenger that is gone
    }
    const plan0 = useCase.plan;
    const claim = await claimStep(
      inFlight,
      'challenger call claim',
      this.deps.calls.claim(
        { useCase: useCaseId, requestId: job.requestId },
        plan0.ai.timeoutMs * plan0.ai.maxAttempts + LEASE_MARGIN_MS,
      ),
    );
    if (!claim) {
      this.counters.skipped++;
      return;
    }
    const where = {
      useCase: useCaseId,
      requestId: claim.requestId,
      attempt: claim.attempts,
      challenger: claim.challengerId,
    };
    try {
      if (inFlight.handedBack) throw new RetryLater('the controller is stopping');
      const plan = (await this.deps.plans.get(useCaseId, claim.planVersion)) ?? plan0;
      try {
        const answer = await this.deps.clients
          .for(useCaseId, claim.planVersion, plan)
          .decide(
            { useCase: useCaseId, requestId: claim.requestId, input: claim.input, context: claim.context },
            inFlight.signal,
          );
        // Under a judge the challenger's answers are not scored (README "Judge comparator").
        const compare = localComparator(plan.comparator);
        const score =
          claim.humanDecision == null || compare === null
            ? null
            : compare(claim.humanDecision, answer.decision);
        await step('challenger answer write', () => this.deps.calls.recordAnswer(claim.id, answer, score));
        this.counters.answered++;
      } catch (error) {
        if (inFlight.handedBack) throw new RetryLater('the controller is stopping', { cause: error });
        if (!(error instanceof AiCallError)) {
          await step('challenger call release', () => this.deps.calls.releaseMany([claim.id])).catch(
            () => {},
          );
          throw new RetryLater('challenger call bookkeeping failed', { cause: error });
        }
        if (error.transient && claim.attempts < plan.ai.maxAttempts) {
          this.counters.retried++;
          await step('challenger call release', () => this.deps.calls.releaseMany([claim.id]));
          throw new RetryLater(error.message, { cause: error });
        }
        this.counters.failed++;
        this.deps.logger.info({ ...where, kind: error.kind }, 'challenger call failed');
        await step('challenger failure write', () =>
          this.deps.calls.recordFailure(claim.id, {
            error: storedAiError(error, plan),
            latencyMs: error.latencyMs ?? null,
            modelVersion: null,
          }),
        );
      }
    } finally {
      inFlight.settle(claim.id);
    }
  }
}
