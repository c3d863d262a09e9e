import type { Mode } from '../plans/plan-schema.js';
import type { FlagConstraint, FlagStrategy } from './flag-store.js';

/**
 * How one of our strategies looks in Unleash, both in the Admin API and in the client
 * API: a flexibleRollout whose single variant (weight 1000 of 1000) names the mode.
 * `stickiness: 'default'` hashes the context's userId, else its sessionId, else a
 * random number: the SDK passes the request id as `sessionId` so a retried request
 * lands on the same side of the rollout.
 */
export interface UnleashVariant {
  name: string;
  weight: number;
  weightType: string;
  stickiness: string;
  payload?: { type: string; value: string };
}

export interface UnleashConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  inverted?: boolean;
  caseInsensitive?: boolean;
}

/** A strategy as Unleash reports it; anything may have been edited by hand. */
export interface UnleashStrategy {
  id?: string;
  name: string;
  constraints?: UnleashConstraint[];
  parameters?: Record<string, string>;
  variants?: UnleashVariant[];
  segments?: number[];
  disabled?: boolean | null;
  sortOrder?: number;
}

export const modeVariant = (mode: Mode): UnleashVariant => ({
  name: mode,
  weight: 1000,
  weightType: 'variable',
  stickiness: 'default',
  payload: { type: 'string', value: mode },
});

export function unleashStrategy(flag: string, strategy: FlagStrategy) {
  return {
    name: 'flexibleRollout',
    constraints: strategy.constraints.map(unleashConstraint),
    parameters: { rollout: String(strategy.rolloutPercent), stickiness: 'default', groupId: flag },
    variants: [modeVariant(strategy.mode)],
  };
}

function unleashConstraint(c: FlagConstraint): UnleashConstraint {
  return {
    contextName: c.contextName,
    operator: c.operator,
    ...(c.values === undefined ? {} : { values: [...c.values] }),
    ...(c.value === undefined ? {} : { value: c.value }),
    inverted: c.inverted ?? false,
    caseInsensitive: c.caseInsensitive ?? false,
  };
}

/** What differs between Unleash's strategy at `position` (1-based) and ours, in words; empty when equal. */
export function strategyDrift(
  position: number,
  actual: UnleashStrategy,
  flag: string,
  wanted: FlagStrategy,
): string[] {
  const at = `strategy ${position}`;
  const drift: string[] = [];
  const note = (what: string, was: string, should: string) => {
    if (was !== should) drift.push(`${at}: ${what} ${was} → ${should}`);
  };
  note('type', actual.name, 'flexibleRollout');
  if (actual.disabled) drift.push(`${at}: was disabled`);
  note('constraints', describeConstraints(actual.constraints ?? []), describeConstraints(wanted.constraints));
  const parameters = actual.parameters ?? {};
  note('rollout', parameters.rollout ?? 'none', String(wanted.rolloutPercent));
  note('stickiness', parameters.stickiness ?? 'none', 'default');
  note('groupId', parameters.groupId ?? 'none', flag);
  const variants = actual.variants ?? [];
  note('variant', variants.map((v) => v.name).join(', ') || 'none', wanted.mode);
  if (variants.length === 1 && variants[0]?.name === wanted.mode && !sameVariant(variants[0], wanted.mode)) {
    drift.push(`${at}: variant ${wanted.mode} weight, stickiness or payload changed`);
  }
  note('segments', (actual.segments ?? []).join(', ') || 'none', 'none');
  return drift;
}

export function describeStrategy(s: UnleashStrategy): string {
  const variants = (s.variants ?? []).map((v) => v.name).join(', ') || 'none';
  const rollout = s.parameters?.rollout ?? 'none';
  return `${s.name} (constraints ${describeConstraints(s.constraints ?? [])}, rollout ${rollout}, variant ${variants})`;
}

function describeConstraints(constraints: readonly (UnleashConstraint | FlagConstraint)[]): string {
  if (constraints.length === 0) return 'none';
  return constraints
    .map((c) => {
      const operand =
        c.values && c.values.length > 0 ? `[${[...c.values].sort().join(', ')}]` : (c.value ?? '');
      const flags = `${c.inverted ? 'NOT ' : ''}`;
      const caseNote = c.caseInsensitive ? ' (case-insensitive)' : '';
      return `${c.contextName} ${flags}${c.operator} ${operand}${caseNote}`;
    })
    .join(' and ');
}

function sameVariant(v: UnleashVariant, mode: Mode): boolean {
  const want = modeVariant(mode);
  return (
    v.weight === want.weight &&
    v.weightType === want.weightType &&
    v.stickiness === want.stickiness &&
    v.payload?.type === want.payload?.type &&
    v.payload?.value === want.payload?.value
  );
}
