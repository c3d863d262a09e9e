/** The SDK workflow services import (`shadowgate/sdk`): it depends on src/contracts, unleash-client and Node only. */
export { flagName, modeFromVariant } from './mode-source.js';
export { Shadowgate } from './shadowgate.js';
export {
  type AuditRequest,
  type ContextValue,
  type DecideOptions,
  type DecideRequest,
  type DecideResult,
  type DecisionContext,
  type HumanContext,
  type HumanDecision,
  type HumanPath,
  MODES,
  type Mode,
  type ShadowgateEvent,
  type ShadowgateEventType,
  type ShadowgateOptions,
  type ScalarFields,
  type ShadowgateStats,
} from './sdk-types.js';
