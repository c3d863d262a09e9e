import { flagName } from '@shadowgate/sdk/wire';
import type { Mode, Plan } from '../plans/plan-schema.js';

/**
 * Each use case has one flag (`flagName`) whose variant names the mode.
 * The database's stage is the desired state; a FlagStore makes the flag say it.
 */

export interface FlagConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  inverted?: boolean;
  caseInsensitive?: boolean;
}

/** One strategy: who it matches (constraints, rollout %) and the mode it serves them. */
export interface FlagStrategy {
  constraints: FlagConstraint[];
  rolloutPercent: number;
  mode: Mode;
}

/** What the flag must say. Strategies are evaluated in order; the first match wins. */
export interface DesiredFlag {
  useCase: string;
  name: string;
  strategies: FlagStrategy[];
}

/**
 * The flag for a stage. `limited-autonomous` uses Unleash's own targeting: the
 * plan's boundary constraints and rollout percentage serve the autonomous variant,
 * everyone else is served `human-reviewed`.
 */
export function desiredFlag(useCase: string, stage: Mode, plan: Plan): DesiredFlag {
  const everyone = (mode: Mode): FlagStrategy => ({ constraints: [], rolloutPercent: 100, mode });
  const autonomous = plan.stages['limited-autonomous'];
  const strategies =
    stage === 'limited-autonomous' && autonomous
      ? [
          {
            constraints: autonomous.boundary.constraints.map((c) => ({ ...c })),
            rolloutPercent: autonomous.boundary.rolloutPercent,
            mode: 'limited-autonomous' as const,
          },
          everyone('human-reviewed'),
        ]
      : [everyone(stage)];
  return { useCase, name: flagName(useCase), strategies };
}

export interface FlagApplyResult {
  /** False when the flag already said what it should. */
  changed: boolean;
  /** What was different, for the record (e.g. "strategy 1 rollout 40 → 10"). */
  drift: string[];
}

/** Where flags live: Unleash through its Admin API, or the controller's own table. */
export interface FlagStore {
  readonly kind: 'unleash' | 'built-in';
  /** Makes the flag match; idempotent. Throws when the flag backend is unreachable. */
  apply(flag: DesiredFlag): Promise<FlagApplyResult>;
  /** Throws when the backend is unreachable. */
  ping(): Promise<void>;
}
