import { createRequire } from 'node:module';
import type { Plan } from '../plans/plan-schema.js';
import { type DecisionContext, flagName, unleashContext } from '@shadowgate/sdk/wire';
import { desiredFlag } from './flag-store.js';
import { unleashStrategy } from './unleash-strategy.js';

/**
 * Whether a request falls inside a use case's autonomy boundary, judged on the server as the SDK
 * judges it: the flag's strategies as the flag store writes them, evaluated in order by
 * unleash-client's own flexibleRollout strategy (its constraint operators, and its murmur hash of
 * the request id for the rollout percentage) on the context the SDK builds. So a suggestion is
 * autonomous only where the SDK's flag says limited-autonomous too.
 */

// unleash-client exports no strategy but its base class; the module is CommonJS with a default export.
const require = createRequire(import.meta.url);
const { default: FlexibleRolloutStrategy } =
  require('unleash-client/lib/strategy/flexible-rollout-strategy.js') as typeof import('unleash-client/lib/strategy/flexible-rollout-strategy.js');
const flexibleRollout = new FlexibleRolloutStrategy();

type UnleashConstraints = Parameters<typeof flexibleRollout.isEnabledWithConstraints>[2];

export function withinAutonomyBoundary(
  useCase: string,
  plan: Plan,
  requestId: string,
  context: DecisionContext,
): boolean {
  const flag = flagName(useCase);
  const unleash = unleashContext(requestId, context);
  for (const strategy of desiredFlag(useCase, 'limited-autonomous', plan).strategies) {
    const { parameters, constraints } = unleashStrategy(flag, strategy);
    const applies = flexibleRollout.isEnabledWithConstraints(
      parameters,
      unleash,
      constraints.values() as UnleashConstraints,
    );
    if (applies) return strategy.mode === 'limited-autonomous';
  }
  return false;
}
