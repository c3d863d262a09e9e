import type { Logger } from 'pino';
import { judgeConfigKey } from '../plans/ai-config-key.js';
import type { PlanCache } from '../plans/plan-cache.js';
import type { JudgeSpec, Plan } from '../plans/plan-schema.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { storedAiError, storedText } from '../privacy/input-policy.js';
import { AiCallError } from './ai-errors.js';
import { claimStep, databaseStep as step } from './database-step.js';
import { InFlightCalls } from './in-flight-calls.js';
import type { ClaimedJudgeCall, JudgeCallStore } from './judge-call-store.js';
import type { JudgeClients } from './judge-clients.js';
import { UseCaseCache } from './use-case-cache.js';

export type JudgeOutcome = 'done' | 'retried' | 'failed';

export interface JudgeWorkerDeps {
  calls: JudgeCallStore;
  useCases: UseCaseStore;
  plans: PlanCache;
  judges: JudgeClients;
  logger: Logger;
  /** The use case's daily AI budget counts the judge's calls: past it they stay owed. */
  budget?: { allows(useCase: UseCase): Promise<boolean> };
  /** First retry's delay after a failure (default 1 s), doubled each attempt up to 60 times it. */
  backoffMs?: number;
  /** Each attempt's outcome (Prometheus): latency and cost of the calls answered. */
  onOutcome?: (useCase: string, outcome: JudgeOutcome, latencyMs: number | null, costUsd: number) => void;
}

/** An invalid answer (not the contract, out of range) is asked again this many times in all, then failed. */
export const MAX_INVALID_ATTEMPTS = 3;
const LEASE_MARGIN_MS = 15_000;
/** The judge's longest timeout: the lease of a call whose plan is not yet known. */
const MAX_JUDGE_TIMEOUT_MS = 120_000;
/** Concurrency when the use case's current plan has no judge (older versions' calls still owed). */
const DEFAULT_CONCURRENCY = 4;

/**
 * Asks each use case's judge for the scores its comparisons owe (README "Judge comparator"), off
 * the live path. PostgreSQL is the record: calls are claimed there under a lease, at most the
 * judge's `concurrency` per use case in this process; `poll` (on a timer, and at once when a
 * comparison owes one) finds what is ready. On an answer the verdict and the decision's score are
 * written in one transaction. A transient failure (timeout, transport, 408/429/5xx) keeps the call
 * owed, claimable again after a backoff, for as long as the judge is away: the comparison stays
 * pending, none is lost. A permanent one (another 4xx, a refused destination, an answer that does
 * not fit MAX_INVALID_ATTEMPTS times) ends the call `error`: the score stays null, never 0 or 1.
 */
export class JudgeWorker {
  readonly counters = { judged: 0, failed: 0, retried: 0, skipped: 0 };
  /** The judge calls this process holds, handed back when it stops. */
  readonly inFlight = new InFlightCalls();
  private readonly active = new Map<string, number>();
  private readonly filling = new Set<string>();
  private readonly useCaseCache: UseCaseCache;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: JudgeWorkerDeps) {
    this.useCaseCache = new UseCaseCache(deps.useCases);
  }

  get calls(): JudgeCallStore {
    return this.deps.calls;
  }

  /** Starts the ready calls of every use case, up to each one's concurrency. Returns how many started. */
  async poll(): Promise<number> {
    if (!this.inFlight.accepting) return 0;
    let started = 0;
    for (const [useCase, { ready }] of await step('judge calls owed', () =>
      this.deps.calls.owedByUseCase(),
    )) {
      if (ready > 0) started += await this.fill(useCase);
    }
    return started;
  }

  /** A comparison owes a call of this use case: take it now rather than at the next poll. */
  wake(useCase: string): void {
    this.fill(useCase).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, useCase }, 'judge calls not taken; taken at the next poll'),
    );
  }

  /** Settles once the calls started so far have ended (tests). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Claims calls of one use case while it has room; each runs on its own. */
  private async fill(useCaseId: string): Promise<number> {
    if (this.filling.has(useCaseId)) return 0;
    this.filling.add(useCaseId);
    let started = 0;
    try {
      const useCase = await step('use case lookup', () => this.useCaseCache.get(useCaseId));
      if (!useCase || useCase.stage === 'disabled') return 0; // owed still, judged once enabled
      const current = useCase.plan.comparator.type === 'judge' ? useCase.plan.comparator : null;
      const concurrency = current?.concurrency ?? DEFAULT_CONCURRENCY;
      const leaseMs = (current?.timeoutMs ?? MAX_JUDGE_TIMEOUT_MS) + LEASE_MARGIN_MS;
      while (this.inFlight.accepting && (this.active.get(useCaseId) ?? 0) < concurrency) {
        if (!(await step('budget check', async () => this.deps.budget?.allows(useCase) ?? true))) {
          this.counters.skipped++;
          break; // owed still: judged the next UTC day, or once the plan raises the limit
        }
        const claim = await claimStep(
          this.inFlight,
          'judge call claim',
          this.deps.calls.claim(useCaseId, leaseMs),
        );
        if (!claim) break;
        this.active.set(useCaseId, (this.active.get(useCaseId) ?? 0) + 1);
        started++;
        const run = this.run(claim).finally(() => {
          this.running.delete(run);
          this.active.set(useCaseId, (this.active.get(useCaseId) ?? 1) - 1);
          this.inFlight.settle(claim.id);
          if (this.inFlight.accepting) this.wake(useCaseId);
        });
        this.running.add(run);
      }
    } finally {
      this.filling.delete(useCaseId);
    }
    return started;
  }

  private async run(claim: ClaimedJudgeCall): Promise<void> {
    const { logger } = this.deps;
    const where = { useCase: claim.useCase, requestId: claim.requestId, attempt: claim.attempts };
    let plan: Plan | null = null;
    try {
      plan = await step('plan lookup', () => this.deps.plans.get(claim.useCase, claim.planVersion));
      const judge = plan?.comparator.type === 'judge' ? plan.comparator : null;
      if (!plan || !judge) {
        await this.fail(claim, 'no-judge: the plan version of this decision has no judge', null);
        return;
      }
      const verdict = await this.deps.judges.for(claim.useCase, claim.planVersion, judge).judge(
        {
          useCase: claim.useCase,
          requestId: claim.requestId,
          input: claim.input,
          context: claim.context,
          human: claim.human,
          ai: claim.ai,
          rubric: judge.rubric ?? null,
        },
        this.inFlight.signal,
      );
      const written = await step('judge verdict write', () =>
        this.deps.calls.recordVerdict(claim.id, {
          ...verdict,
          rationale: verdict.rationale === null ? null : storedText(verdict.rationale, plan as Plan),
          judgeVersion: verdict.judgeVersion ?? judgeVersionOf(judge),
        }),
      );
      if (written) {
        this.counters.judged++;
        this.deps.onOutcome?.(claim.useCase, 'done', verdict.latencyMs, verdict.costUsd);
      }
    } catch (error) {
      if (this.inFlight.handedBack) return; // its claim was handed back with the others
      if (!(error instanceof AiCallError)) {
        logger.warn({ ...where, err: error }, 'judge call outcome not written; the call is given back');
        await step('judge call release', () => this.deps.calls.releaseMany([claim.id])).catch(() => {});
        return;
      }
      const invalid = error.kind === 'bad-output' || error.kind === 'out-of-range';
      const retry = error.transient || (invalid && claim.attempts < MAX_INVALID_ATTEMPTS);
      const stored = plan ? storedAiError(error, plan, 'judge') : `${error.kind}: ${error.message}`;
      if (retry) {
        this.counters.retried++;
        const delay = this.backoff(claim.attempts);
        logger.info(
          { ...where, kind: error.kind, retryInMs: delay },
          'judge call failed; retried after backoff',
        );
        this.deps.onOutcome?.(claim.useCase, 'retried', null, 0);
        await step('judge call retry', () => this.deps.calls.retryLater(claim.id, delay, stored)).catch(
          (e: unknown) => logger.warn({ ...where, err: e }, 'judge retry not written; its lease frees it'),
        );
        return;
      }
      await this.fail(claim, stored, error.latencyMs);
    }
  }

  private async fail(claim: ClaimedJudgeCall, error: string, latencyMs: number | null): Promise<void> {
    this.counters.failed++;
    this.deps.logger.warn(
      { useCase: claim.useCase, requestId: claim.requestId, attempt: claim.attempts, error },
      'judge call failed for good; the comparison stays pending',
    );
    this.deps.onOutcome?.(claim.useCase, 'failed', null, 0);
    await step('judge failure write', () => this.deps.calls.recordFailure(claim.id, { error, latencyMs }));
  }

  private backoff(attempts: number): number {
    const base = this.deps.backoffMs ?? 1_000;
    return Math.min(60 * base, base * 2 ** Math.min(20, Math.max(0, attempts - 1)));
  }
}

/** A judge that does not say what it is goes by its configuration's hash. */
function judgeVersionOf(judge: JudgeSpec): string {
  return `config:${judgeConfigKey(judge)}`;
}
