import type { RatingAnswer } from '@shadowgate/sdk/wire';
import type { Rating } from '../contracts/rating-contracts.js';
import { forbidden, notFound, ShadowgateError } from '../contracts/errors.js';
import { isSampled } from '../contracts/sampling.js';
import { withinDeadline } from '../db/database-deadline.js';
import { inScope, type Principal } from '../keys/roles.js';
import { CALIBRATION_SALT, judgeOf } from '../plans/judge-comparator.js';
import type { PlanCache } from '../plans/plan-cache.js';
import type { UseCaseStore } from '../plans/use-case-store.js';
import { storedText } from '../privacy/input-policy.js';
import type { RatingStore } from './rating-store.js';
import { INGEST_TIMEOUT_MS } from './ingest-service.js';

/**
 * People's ratings of what the AI produced, for the judge's calibration (README "Is the judge
 * right?"). A rating names a stored decision whose plan version's comparator is a judge. The first
 * rating of a decision stands: the same answer again is a duplicate (a retry), another answer is
 * refused (409 `already_rated`). Any decision of a judged plan version may be rated; only those in
 * the calibration sample count (`counted`), since people choosing what to rate would bias the
 * judge's measured agreement.
 */
export class RatingService {
  constructor(
    private readonly deps: {
      useCases: UseCaseStore;
      plans: PlanCache;
      ratings: RatingStore;
      /** How long a rating waits for the database before 503 (as ingest). */
      timeoutMs?: number;
    },
  ) {}

  rate(useCase: string, requestId: string, rating: Rating, principal: Principal): Promise<RatingAnswer> {
    return withinDeadline(
      () => this.rateNow(useCase, requestId, rating, principal),
      this.deps.timeoutMs ?? INGEST_TIMEOUT_MS,
      'rating',
    );
  }

  private async rateNow(
    useCaseId: string,
    requestId: string,
    rating: Rating,
    principal: Principal,
  ): Promise<RatingAnswer> {
    if (!inScope(principal, useCaseId))
      throw forbidden(`this key may not rate decisions of use case ${useCaseId}`);
    const useCase = await this.deps.useCases.get(useCaseId);
    if (!useCase) throw notFound(`unknown use case ${useCaseId}: apply its plan first`);
    const decision = await this.deps.ratings.decision(useCaseId, requestId);
    if (!decision)
      throw notFound(`no decision ${requestId} in use case ${useCaseId}: mirror the request first`);
    const plan = await this.deps.plans.get(useCaseId, decision.planVersion);
    const judge = plan ? judgeOf(plan) : null;
    if (!plan || !judge) {
      throw new ShadowgateError(
        409,
        'not_judged',
        `decision ${requestId} was taken under plan version ${decision.planVersion}, whose comparator is not a judge: there is no judge to calibrate`,
      );
    }
    const outcome = await this.deps.ratings.record({
      decisionId: decision.id,
      useCase: useCaseId,
      requestId,
      planVersion: decision.planVersion,
      acceptable: rating.acceptable,
      ratedBy: storedText(rating.by, plan),
    });
    if (outcome.status === 'conflict') {
      throw new ShadowgateError(
        409,
        'already_rated',
        `decision ${requestId} is already rated: the first rating stands`,
        [
          {
            path: 'acceptable',
            problem: `already rated ${outcome.existing.acceptable ? 'acceptable' : 'not acceptable'}`,
          },
        ],
      );
    }
    return {
      useCase: useCaseId,
      requestId,
      status: outcome.status,
      counted: isSampled(requestId, judge.calibrationRate, CALIBRATION_SALT),
    };
  }
}
