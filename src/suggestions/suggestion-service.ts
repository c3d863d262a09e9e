import type { SuggestionAnswer } from '@shadowgate/sdk/wire';
import type { Logger } from 'pino';
import type { ComparisonRecorder } from '../shadow/comparison-recorder.js';
import { conflict, forbidden, notFound, ShadowgateError, unavailable } from '../contracts/errors.js';
import type { SuggestRequest } from '../contracts/suggestion-contracts.js';
import { isSampled } from '../contracts/sampling.js';
import { CALIBRATION_SALT, judgeOf } from '../plans/judge-comparator.js';
import { inScope, type Principal } from '../keys/roles.js';
import { withinAutonomyBoundary } from '../flags/autonomy-boundary.js';
import { isEarnedModel } from '../promotion/model-pinning.js';
import { storedAiError, storedForms } from '../privacy/input-policy.js';
import type { PlanCache } from '../plans/plan-cache.js';
import type { Plan } from '../plans/plan-schema.js';
import type { UseCase, UseCaseStore } from '../plans/use-case-store.js';
import { askChallenger, challengerQueueKey } from '../shadow/challenger-sampling.js';
import type { ShadowQueue } from '../shadow/shadow-queue.js';
import type { AiCallStore } from '../shadow/ai-call-store.js';
import type { AiClients } from '../shadow/ai-clients.js';
import { AiCallError } from '../shadow/ai-errors.js';
import type { InFlightCalls } from '../shadow/in-flight-calls.js';
import type { DecisionStore } from '../ingest/decision-store.js';
import { payloadHash } from '../ingest/payload-hash.js';

const LEASE_MARGIN_MS = 5_000;

/**
 * A synchronous AI suggestion (human-reviewed and limited-autonomous). The decision
 * is recorded before the call and the answer after it, even when the caller has
 * stopped waiting, so a late answer still counts in the metrics.
 */
export class SuggestionService {
  constructor(
    private readonly deps: {
      useCases: UseCaseStore;
      decisions: DecisionStore;
      calls: AiCallStore;
      clients: AiClients;
      comparisons: ComparisonRecorder;
      logger: Logger;
      /** The calls this process holds, handed back when it stops. */
      inFlight: InFlightCalls;
      /** The champion's plan version while a challenger is active (its AI configuration answers). */
      plans: PlanCache;
      /** Where the challenger's call is scheduled (PostgreSQL owes it either way). */
      queue: Pick<ShadowQueue, 'enqueue'>;
    },
  ) {}

  async suggest(id: string, request: SuggestRequest, principal: Principal): Promise<SuggestionAnswer> {
    if (!inScope(principal, id)) throw forbidden(`this key may not ask suggestions of use case ${id}`);
    const useCase = await this.deps.useCases.get(id);
    if (!useCase) throw notFound(`unknown use case ${id}`);
    if (useCase.stage === 'disabled') throw conflict(`use case ${id} is disabled: no AI calls are made`);
    const { inFlight } = this.deps;
    if (!inFlight.accepting) throw stopping();
    const hash = payloadHash({
      useCase: id,
      requestId: request.requestId,
      input: request.input,
      context: request.context,
    });
    // The raw input is kept from the insert until the answer's write: a process that dies during
    // the call leaves it owed, and the shadow worker must still ask with what was sent.
    const stored = storedForms(request.input, request.context ?? {}, useCase.plan, true);
    const row = {
      useCase: id,
      requestId: request.requestId,
      payloadHash: hash,
      input: stored.input,
      pendingInput: stored.pendingInput,
      context: stored.context,
      stage: useCase.stage,
      stageVersion: useCase.stageVersion,
      planVersion: useCase.serving.planVersion,
      aiConfig: useCase.serving.aiConfig,
      human: null,
      aiState: 'owed' as const,
      ...(askChallenger(useCase, request.requestId) ? { challengerInput: { input: request.input } } : {}),
    };
    // The AI configuration that serves: the champion's while a challenger is judged beside it.
    const plan =
      useCase.challenger === null
        ? useCase.plan
        : ((await this.deps.plans.get(id, useCase.serving.planVersion)) ?? useCase.plan);
    const decisionId = await inFlight.track(
      this.deps.decisions.insertClaimed(row, plan.ai.timeoutMs + LEASE_MARGIN_MS),
      (id) => id,
    );
    if (decisionId === null) return this.existing(useCase, request, hash);
    if (row.challengerInput) {
      // Best effort: the sweep schedules what the queue did not take.
      this.deps.queue
        .enqueue([{ useCase: challengerQueueKey(id), requestId: request.requestId }])
        .catch(() => {});
    }
    try {
      // Stored as the process hands its calls back: handed back with them (the shadow worker makes it).
      if (inFlight.handedBack) throw stopping();
      return await this.call(useCase, plan, decisionId, request);
    } finally {
      inFlight.settle(decisionId);
    }
  }

  private async call(
    useCase: UseCase,
    plan: Plan,
    decisionId: number,
    request: SuggestRequest,
  ): Promise<SuggestionAnswer> {
    const client = this.deps.clients.for(useCase.id, useCase.serving.planVersion, plan);
    try {
      const answer = await client.decide(
        {
          useCase: useCase.id,
          requestId: request.requestId,
          input: request.input,
          context: request.context ?? {},
        },
        this.deps.inFlight.signal,
      );
      const row = await this.deps.calls.recordAnswer(decisionId, answer, null);
      // The human side may already be there (it arrived while the AI was answering).
      if (row) await this.deps.comparisons.compareIfComplete(row);
      const suggestion = this.toSuggestion(useCase, plan, request, answer);
      // Where the request went, for the escalation rate (README "Drift"): limited-autonomous only.
      if (useCase.stage === 'limited-autonomous') {
        await this.deps.calls.recordRoute(decisionId, routeOf(useCase, request, answer));
      }
      return suggestion;
    } catch (error) {
      // Aborted by the hand-back at stop: its claim was released with the others, nothing is written.
      if (this.deps.inFlight.handedBack) throw stopping();
      if (!(error instanceof AiCallError)) throw error;
      // The caller falls back to a person: an escalation for the AI's failure.
      if (useCase.stage === 'limited-autonomous') await this.deps.calls.recordRoute(decisionId, 'ai-failure');
      if (error.transient) {
        // Owed again: the shadow worker retries it for the metrics' sake.
        await this.deps.calls.release(decisionId);
      } else {
        await this.deps.calls.recordFailure(decisionId, {
          error: storedAiError(error, plan),
          latencyMs: error.latencyMs,
          modelVersion: null,
        });
      }
      // Our own words only: what the AI system sent is never told to the caller.
      throw new ShadowgateError(502, 'ai_error', `the AI system failed: ${error.kind}: ${error.message}`);
    }
  }

  private async existing(useCase: UseCase, request: SuggestRequest, hash: string): Promise<SuggestionAnswer> {
    const { requestId } = request;
    const stored = await this.deps.decisions.get({ useCase: useCase.id, requestId });
    if (!stored) throw conflict(`decision ${requestId} is being written; retry`);
    if (stored.payloadHash !== hash) {
      throw conflict(`decision ${requestId} was already recorded with another input or context`);
    }
    if (stored.aiState === 'done') {
      const plan = (await this.deps.plans.get(useCase.id, stored.planVersion)) ?? useCase.plan;
      return this.toSuggestion(useCase, plan, request, {
        decision: stored.aiDecision,
        confidence: stored.aiConfidence,
        modelVersion: stored.aiModelVersion,
        latencyMs: stored.aiLatencyMs ?? 0,
      });
    }
    if (stored.aiState === 'error') {
      // The stored text may quote the AI system (storeInput full): only its kind is told.
      const kind = /^[a-z-]+/.exec(stored.aiError ?? '')?.[0] ?? 'unknown';
      throw new ShadowgateError(502, 'ai_error', `the AI system failed for this request: ${kind}`);
    }
    throw conflict(`the suggestion for ${requestId} is still being computed`);
  }

  /** `plan`: the plan version the decision was taken under (the champion's while a challenger runs). */
  private toSuggestion(
    useCase: UseCase,
    plan: Plan,
    request: SuggestRequest,
    answer: SuggestedAnswer,
  ): SuggestionAnswer {
    const route = useCase.stage === 'limited-autonomous' ? routeOf(useCase, request, answer) : null;
    const autonomous = route === 'autonomous' || route === 'audit';
    return {
      requestId: request.requestId,
      decision: answer.decision,
      confidence: answer.confidence,
      modelVersion: answer.modelVersion,
      autonomous,
      audit: route === 'audit',
      stage: useCase.stage,
      latencyMs: answer.latencyMs,
      rate: offerForRating(plan, request.requestId),
    };
  }
}

type SuggestedAnswer = {
  decision: unknown;
  confidence: number | null;
  modelVersion: string | null;
  latencyMs: number;
};

/**
 * The calibration draw the judge marks its call with (`judge_calls.calibration`): the request is
 * offered to people for a rating when the decision's plan's comparator is a judge and the request
 * id falls in `comparator.calibrationRate`.
 */
function offerForRating(plan: Plan, requestId: string): boolean {
  const judge = judgeOf(plan);
  return judge !== null && isSampled(requestId, judge.calibrationRate, CALIBRATION_SALT);
}

/** Where a limited-autonomous request goes (`decisions.route`): decided alone, or to a person and why. */
export type Route = 'autonomous' | 'audit' | 'model' | 'confidence' | 'boundary' | 'ai-failure';

function routeOf(useCase: UseCase, { requestId, context }: SuggestRequest, answer: SuggestedAnswer): Route {
  const autonomousStage = useCase.plan.stages['limited-autonomous'];
  // An answer from a model version the stage was not earned with never decides alone.
  if (!isEarnedModel(useCase, answer.modelVersion)) return 'model';
  if ((answer.confidence ?? 0) < (autonomousStage?.boundary.minConfidence ?? 0)) return 'confidence';
  if (!withinAutonomyBoundary(useCase.id, useCase.plan, requestId, context ?? {})) return 'boundary';
  return isSampled(requestId, autonomousStage?.auditRate ?? 0, 'audit') ? 'audit' : 'autonomous';
}

/** A suggestion asked of a stopping controller: another one (or this one restarted) answers it. */
function stopping(): ShadowgateError {
  return unavailable('the controller is stopping; retry');
}
