/** The SDK workflow services import (`@shadowgate/sdk`): it depends on unleash-client and Node only. */
export { modeFromVariant } from './mode-source.js';
export { Shadowgate } from './shadowgate.js';
export type {
  AuditRequest,
  ContextValue,
  DecideOptions,
  DecideRequest,
  DecideResult,
  DecisionContext,
  HumanContext,
  HumanDecision,
  HumanPath,
  Mode,
  ShadowgateEvent,
  ShadowgateEventType,
  ShadowgateOptions,
  ScalarFields,
  ShadowgateStats,
  SuggestionRating,
} from './sdk-types.js';
export { flagName, MODES } from './wire.js';
