import type { Logger } from 'pino';
import { localComparator } from '../comparison/comparators.js';
import type { ComparisonRecorder } from './comparison-recorder.js';
import type { PlanCache } from '../plans/plan-cache.js';
import type { Plan } from '../plans/plan-schema.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { storedAiError } from '../privacy/input-policy.js';
import { AiCallError } from './ai-errors.js';
import type { AiCallStore, AnswerRecord, ClaimedCall, ClaimRequest } from './ai-call-store.js';
import type { ComparableRow } from '../db/decision-row.js';
import { claimStep, DB_STEP_MS, databaseStep } from './database-step.js';
import { CallGate } from './call-gate.js';
import { Coalescer } from './coalescer.js';
import { InFlightCalls } from './in-flight-calls.js';
import { UseCaseCache } from './use-case-cache.js';
import type { AiClients } from './ai-clients.js';
import { RetryLater, type ShadowJobRun, type ShadowQueue } from './shadow-queue.js';

export interface ShadowWorkerDeps {
  queue: ShadowQueue;
  calls: AiCallStore;
  useCases: UseCaseStore;
  plans: PlanCache;
  comparisons: ComparisonRecorder;
  logger: Logger;
  /** First retry delay for transient AI failures. */
  backoffMs?: number;
  /** Daily AI budget; without one every owed call is made. */
  budget?: { allows(useCase: UseCase): Promise<boolean> };
  clients: AiClients;
  /** The calls this process holds, handed back when it stops (default: the worker's own). */
  inFlight?: InFlightCalls;
  /** How long a job waits for one statement of its bookkeeping (default DB_STEP_MS). */
  dbStepMs?: number;
}

export interface ShadowCallCounters {
  answered: number;
  failed: number;
  retried: number;
  skipped: number;
}

/** How long past its timeout a claimed call stays reserved for the worker that claimed it. */
const LEASE_MARGIN_MS = 15_000;
const SWEEP_BATCH = 5_000;
/** Owed calls the sweep compares with what the queue holds, per run. */
const SWEEP_SCAN_LIMIT = 50_000;
/**
 * Claims and answers of calls running at once go to PostgreSQL together: a few statements in
 * flight, each for up to this many calls, however high the plans' concurrency.
 */
const DB_BATCH = { maxBatch: 500, maxInFlight: 2 };
/**
 * Jobs a consumer runs at once, per unit of the plan's `ai.concurrency`. Only the AI call and the
 * write of its outcome are held to the plan's concurrency (a CallGate per use case); the claim
 * before them and the queue's own work between jobs overlap with other calls, so that work does
 * not eat into the calls the plan allows in flight.
 */
const JOBS_PER_CALL_SLOT = 2;
/**
 * Claims of a call, beyond its plan's `maxAttempts`, allowed to end without an outcome written
 * (the answer's write failed, the process stopped): the next claim records the call as failed
 * (`unrecorded`) instead of asking the AI once more. Claims are counted in the decision's row, so
 * the bound holds across retries, sweeps and processes.
 */
export const MAX_UNRECORDED_ATTEMPTS = 3;

/**
 * Makes the AI calls owed by decisions mirrored in shadow: one consumer per use
 * case with the plan's concurrency and rate limit; each call is claimed in
 * PostgreSQL first, so a duplicate job never causes a second call.
 */
export class ShadowWorker {
  readonly counters: ShadowCallCounters = { answered: 0, failed: 0, retried: 0, skipped: 0 };
  private readonly modelVersions = new Map<string, string | null>();
  private readonly consuming = new Map<string, string>();
  private readonly useCaseCache: UseCaseCache;
  private readonly gates = new Map<string, CallGate>();
  /** Where the next sweep goes on: the id after which it looks at owed calls. */
  private sweepCursor = 0;

  readonly inFlight: InFlightCalls;
  private readonly claims: Coalescer<ClaimRequest, ClaimedCall | null>;
  private readonly answers: Coalescer<AnswerRecord, ComparableRow | null>;

  constructor(private readonly deps: ShadowWorkerDeps) {
    this.inFlight = deps.inFlight ?? new InFlightCalls();
    this.useCaseCache = new UseCaseCache(deps.useCases);
    this.claims = new Coalescer((requests) => claimEach(deps.calls, requests), DB_BATCH);
    this.answers = new Coalescer(async (records) => {
      const rows = new Map((await deps.calls.recordAnswers(records)).map((row) => [row.id, row]));
      return records.map((r) => rows.get(r.id) ?? null);
    }, DB_BATCH);
  }

  /** Starts, re-configures or pauses a use case's consumer to match its stage and plan. */
  async sync(useCase: UseCase): Promise<void> {
    const { queue } = this.deps;
    this.useCaseCache.set(useCase);
    if (useCase.stage === 'disabled') {
      if (this.consuming.delete(useCase.id)) await queue.pause(useCase.id);
      return;
    }
    const ai = useCase.plan.ai;
    const settings = {
      concurrency: ai.concurrency * JOBS_PER_CALL_SLOT,
      maxAttempts: ai.maxAttempts,
      backoffMs: this.deps.backoffMs ?? 500,
      ...(ai.rateLimitPerSecond ? { rateLimitPerSecond: ai.rateLimitPerSecond } : {}),
    };
    const signature = JSON.stringify(settings);
    if (this.consuming.get(useCase.id) === signature) return;
    await queue.consume(useCase.id, settings, (job) => this.handle(job));
    this.consuming.set(useCase.id, signature);
  }

  async syncAll(): Promise<void> {
    for (const useCase of await this.deps.useCases.list()) await this.sync(useCase);
  }

  /**
   * Re-enqueues the owed calls no worker holds and the queue has lost (after a restart, a Redis
   * flush, a failed enqueue, or a call skipped while disabled or over budget), and scores
   * decisions left with both sides but no score. Calls the queue still holds are left alone:
   * re-adding a growing backlog every run would only feed it. At most SWEEP_SCAN_LIMIT owed
   * calls are looked at per run; the next run goes on from there, so the cost stays bounded
   * however large the backlog.
   */
  async sweep(): Promise<{ checked: number; reenqueued: number; repaired: number }> {
    const { calls, queue } = this.deps;
    let checked = 0;
    let reenqueued = 0;
    let afterId = this.sweepCursor;
    let wrapped = afterId === 0;
    while (checked < SWEEP_SCAN_LIMIT) {
      const limit = Math.min(SWEEP_BATCH, SWEEP_SCAN_LIMIT - checked);
      const owed = await calls.owedUnclaimed(limit, afterId);
      checked += owed.length;
      if (owed.length > 0) {
        const missing = await queue.absent(owed.map(({ useCase, requestId }) => ({ useCase, requestId })));
        if (missing.length > 0) await queue.enqueue(missing);
        reenqueued += missing.length;
        afterId = owed[owed.length - 1]!.id;
      }
      if (owed.length < limit) {
        // The end of the owed calls: the next run starts over, and so does this one if it began midway.
        afterId = 0;
        if (wrapped) break;
        wrapped = true;
      }
    }
    this.sweepCursor = afterId;
    const repaired = await this.deps.comparisons.repair();
    if (reenqueued > 0 || repaired > 0) {
      this.deps.logger.info({ checked, reenqueued, repaired }, 'sweep re-enqueued owed AI calls');
    }
    return { checked, reenqueued, repaired };
  }

  private async handle(job: ShadowJobRun): Promise<void> {
    const { plans, logger } = this.deps;
    const { inFlight } = this;
    // A stopping process claims nothing: the job goes back to the queue for another controller.
    if (!inFlight.accepting) throw new RetryLater('the controller is stopping');
    const useCase = await this.step('use case lookup', () => this.useCaseCache.get(job.useCase));
    const allowed =
      useCase && (await this.step('budget check', async () => this.deps.budget?.allows(useCase) ?? true));
    if (!useCase || useCase.stage === 'disabled' || !allowed) {
      this.counters.skipped++;
      return; // the call stays owed; the sweep brings it back once enabled or within budget
    }
    if (!inFlight.accepting) throw new RetryLater('the controller is stopping');
    const plan0 = useCase.plan;
    const claim = await claimStep(
      inFlight,
      'AI call claim',
      this.claims.submit({
        useCase: job.useCase,
        requestId: job.requestId,
        leaseMs: plan0.ai.timeoutMs * plan0.ai.maxAttempts + LEASE_MARGIN_MS,
      }),
      this.deps.dbStepMs ?? DB_STEP_MS,
    );
    if (!claim) {
      this.counters.skipped++;
      return; // answered already, or another worker holds it
    }
    try {
      // Claimed as the process hands its calls back: handed back with them, not made.
      if (inFlight.handedBack) throw new RetryLater('the controller is stopping');
      const plan = (await plans.get(claim.useCase, claim.planVersion)) ?? plan0;
      // The plan's concurrency counts calls from the request to the AI until their outcome is
      // written, as a call interrupted in that span is the one made again.
      const gate = this.gateFor(claim.useCase);
      const limit = useCase.plan.ai.concurrency;
      await gate.enter(limit);
      try {
        if (inFlight.handedBack) throw new RetryLater('the controller is stopping');
        if (!inFlight.accepting) {
          // Claimed before the stop, not started: given back now rather than begun in the grace period.
          // Unreachable database: the lease frees it.
          await this.step('AI call release', () => this.deps.calls.release(claim.id)).catch(() => {});
          throw new RetryLater('the controller is stopping');
        }
        await this.call(claim, plan);
      } finally {
        gate.leave(limit);
      }
    } catch (error) {
      if (inFlight.handedBack && !(error instanceof RetryLater)) {
        logger.debug({ useCase: claim.useCase, requestId: claim.requestId }, 'AI call handed back at stop');
        throw new RetryLater('the controller is stopping');
      }
      throw error;
    } finally {
      inFlight.settle(claim.id);
    }
  }

  /** Makes one claimed call and records its outcome; a transient failure with attempts left is retried. */
  private async call(claim: ClaimedCall, plan: Plan): Promise<void> {
    const { calls, logger } = this.deps;
    // Every line about this call names the decision, so it can be followed from the SDK's request.
    const where = { useCase: claim.useCase, requestId: claim.requestId, attempt: claim.attempts };
    if (claim.attempts > plan.ai.maxAttempts + MAX_UNRECORDED_ATTEMPTS) {
      this.counters.failed++;
      const error = `unrecorded: ${claim.attempts - 1} attempts ended without their outcome written; the call is not made again`;
      logger.warn({ ...where, kind: 'unrecorded' }, 'AI call given up');
      await this.step('AI failure write', () =>
        calls.recordFailure(claim.id, { error, latencyMs: null, modelVersion: null }),
      );
      return;
    }
    try {
      const answer = await this.deps.clients.for(claim.useCase, claim.planVersion, plan).decide(
        {
          useCase: claim.useCase,
          requestId: claim.requestId,
          input: claim.input,
          context: claim.context,
        },
        this.inFlight.signal,
      );
      this.modelVersions.set(`${claim.useCase}@${claim.aiConfig}`, answer.modelVersion);
      // A judge's score is owed (the comparison below records its call): pending until it answers.
      const compare = localComparator(plan.comparator);
      const score =
        claim.humanDecision == null || compare === null
          ? null
          : compare(claim.humanDecision, answer.decision);
      const row = await this.step('AI answer write', () =>
        this.answers.submit({ id: claim.id, answer, score }),
      );
      this.counters.answered++;
      if (logger.isLevelEnabled('debug')) {
        logger.debug(
          { ...where, latencyMs: answer.latencyMs, modelVersion: answer.modelVersion, score },
          'AI call answered',
        );
      }
      // The human side may have arrived while the AI was answering.
      if (row && row.score === null) {
        const complete = row;
        await this.step('comparison', () => this.deps.comparisons.compareIfComplete(complete));
      }
    } catch (error) {
      // Aborted by the hand-back at stop: its claim was released with the others, nothing is written.
      if (this.inFlight.handedBack) throw new RetryLater('the controller is stopping', { cause: error });
      if (!(error instanceof AiCallError)) {
        // A database message may quote a value of the row (the AI's answer): only its code is told.
        const code = databaseErrorCode(error);
        logger.warn({ ...where, code }, 'AI call outcome not written; the call is given back');
        await this.step('AI call release', () => calls.release(claim.id)).catch(() => {});
        throw new RetryLater(`shadow call bookkeeping failed (${code})`);
      }
      if (error.transient && claim.attempts < plan.ai.maxAttempts) {
        this.counters.retried++;
        logger.debug(
          { ...where, kind: error.kind, latencyMs: error.latencyMs },
          'AI call failed; retried after backoff',
        );
        await this.step('AI call release', () => calls.release(claim.id));
        throw new RetryLater(error.message, { cause: error });
      }
      this.counters.failed++;
      // What the AI sent may echo the input: never logged, stored under storeInput full only.
      logger.info(
        { ...where, kind: error.kind, latencyMs: error.latencyMs, error: error.message },
        'AI call failed',
      );
      const modelVersion = await this.step('model version lookup', () =>
        this.lastModelVersion(claim.useCase, claim.aiConfig),
      );
      await this.step('AI failure write', () =>
        calls.recordFailure(claim.id, {
          error: storedAiError(error, plan),
          latencyMs: error.latencyMs ?? null,
          modelVersion,
        }),
      );
    }
  }

  /** One statement of a job's bookkeeping, waited for at most `dbStepMs`. */
  private step<T>(what: string, start: () => Promise<T>): Promise<T> {
    return databaseStep(what, start, this.deps.dbStepMs ?? DB_STEP_MS);
  }

  private gateFor(useCase: string): CallGate {
    let gate = this.gates.get(useCase);
    if (!gate) {
      gate = new CallGate();
      this.gates.set(useCase, gate);
    }
    return gate;
  }

  private async lastModelVersion(useCase: string, aiConfig: string): Promise<string | null> {
    const key = `${useCase}@${aiConfig}`;
    if (!this.modelVersions.has(key)) {
      this.modelVersions.set(key, await this.deps.calls.lastModelVersion(useCase, aiConfig));
    }
    return this.modelVersions.get(key) ?? null;
  }
}

/** The SQLSTATE of a database error (drizzle wraps the driver's), else the error's name. */
function databaseErrorCode(error: unknown): string {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return `SQLSTATE ${code}`;
  }
  return error instanceof Error ? error.name : typeof error;
}

/** Claims a batch in one statement; results in the requests' order, a key asked twice claimed by its first request only. */
async function claimEach(calls: AiCallStore, requests: ClaimRequest[]): Promise<Array<ClaimedCall | null>> {
  const key = (k: { useCase: string; requestId: string }) => `${k.useCase}\u0000${k.requestId}`;
  const claimed = new Map((await calls.claimMany(requests)).map((c) => [key(c), c]));
  return requests.map((r) => {
    const k = key(r);
    const claim = claimed.get(k) ?? null;
    claimed.delete(k);
    return claim;
  });
}
