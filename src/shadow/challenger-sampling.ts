import { isSampled } from '../contracts/sampling.js';
import type { UseCase } from '../plans/use-case-store.js';

/**
 * Whether a request of this use case is also asked of its challenger: while one is active, by a
 * hash of the request id at the plan's `challenger.sampleRate` (the same answer for a retry, in
 * every process).
 */
export function askChallenger(useCase: UseCase, requestId: string): boolean {
  return (
    useCase.challenger !== null && isSampled(requestId, useCase.plan.challenger.sampleRate, 'challenger')
  );
}

/**
 * Challenger calls travel in the shadow queue under their own key per use case, so they get their
 * own consumer (the challenger plan's concurrency and rate limit) and their jobs never collide
 * with the champion's (both are keyed by request id). `#` is never part of a use case id.
 */
const SUFFIX = '#challenger';

export function challengerQueueKey(useCase: string): string {
  return `${useCase}${SUFFIX}`;
}

/** The use case of a challenger queue key, or null for a use case's own key. */
export function challengerUseCase(queueKey: string): string | null {
  return queueKey.endsWith(SUFFIX) ? queueKey.slice(0, -SUFFIX.length) : null;
}
