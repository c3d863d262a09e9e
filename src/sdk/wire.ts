/**
 * The wire between the SDK and the controller: the constants and JSON shapes both sides
 * speak, with no dependency. The SDK builds its requests from these types; the
 * controller's zod schemas import the constants and are held to the types at compile
 * time (src/contracts/wire-checks.ts). Imported as `@shadowgate/sdk/wire`.
 */

/** The stages a plan promotes through, in order. */
export const STAGES = ['shadow', 'human-reviewed', 'limited-autonomous'] as const;
export type Stage = (typeof STAGES)[number];

/** What a flag's variant may say: a stage, or `disabled` (the kill switch of the AI). */
export const MODES = [...STAGES, 'disabled'] as const;
export type Mode = (typeof MODES)[number];

/** Each use case has one flag; its variant's name is the mode. */
export const flagName = (useCase: string): string => `shadowgate.${useCase}`;

/** Decisions per `POST /v1/decisions` batch, at most. */
export const MAX_BATCH = 1000;

export type ContextValue = string | number | boolean | null;

/** Flat scalars only, as the controller accepts them; they drive segments and the autonomy boundary. */
export type DecisionContext = Record<string, ContextValue>;

/**
 * The Unleash context of a request, built the same way by the SDK (to read the flag) and by the
 * controller (to judge the autonomy boundary). The request id is the `sessionId`, the stickiness
 * key of the flag's rollout (`stickiness: default` hashes userId, else sessionId), so a retried
 * request lands on the same side of the rollout percentage. The context fields become custom
 * properties (strings, as Unleash compares them); `userId` is never set, since it would take over
 * the stickiness.
 */
export function unleashContext(
  requestId: string,
  context: DecisionContext | undefined,
): { sessionId: string; properties: Record<string, string> } {
  const properties: Record<string, string> = {};
  if (context) {
    for (const [key, value] of Object.entries(context)) {
      if (value !== null && value !== undefined && typeof value !== 'object') properties[key] = String(value);
    }
  }
  return { sessionId: requestId, properties };
}

/** A value JSON can hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The human side of a decision: a body of its own for `POST /v1/decisions/:useCase/:requestId/human`. */
export interface HumanSideWire {
  /** Any JSON but null. */
  decision: NonNullable<JsonValue>;
  decidedBy?: string;
  handlingMs?: number;
}

/** One decision for `POST /v1/decisions`: a request, and usually its human decision. */
export interface MirroredDecisionWire {
  useCase: string;
  requestId: string;
  input: JsonValue;
  context?: DecisionContext;
  human?: HumanSideWire;
}

/** The batch form of `POST /v1/decisions` (1 to MAX_BATCH decisions, all or nothing). */
export interface DecisionBatchWire {
  decisions: MirroredDecisionWire[];
}

/** The answer to `POST /v1/decisions` (202). */
export interface IngestResult {
  /** Newly stored decisions. */
  accepted: number;
  /** Decisions already stored with the same payload (retries): nothing changed. */
  duplicates: number;
  /** AI calls newly owed (shadow stage, sampled). */
  aiCallsOwed: number;
}

/** The answer to `POST /v1/decisions/:useCase/:requestId/human`. */
export interface LateHumanAnswer {
  useCase: string;
  requestId: string;
  status: 'recorded' | 'duplicate';
  /** The comparison's score, when both sides were there to compare. */
  score: number | null;
  compared: boolean;
}

/** The body of `POST /v1/use-cases/:id/suggest`. */
export interface SuggestRequestWire {
  requestId: string;
  input: JsonValue;
  context?: DecisionContext;
}

/** The answer to `POST /v1/use-cases/:id/suggest`. */
export interface SuggestionAnswer {
  requestId: string;
  decision: unknown;
  confidence: number | null;
  modelVersion: string | null;
  /**
   * True in limited-autonomous for a request inside the boundary (its constraints on the context,
   * its rollout percentage by request id, as the flag decides in the SDK) whose confidence reaches
   * the boundary's minConfidence.
   */
  autonomous: boolean;
  /** An autonomous decision drawn for human audit (the plan's auditRate, by a hash of the request id). */
  audit: boolean;
  /** The use case's stage when it answered (a disabled use case refuses suggestions). */
  stage: Mode;
  latencyMs: number;
  /**
   * Offer this request to people for a rating (`POST …/rating`): the plan's comparator is a judge
   * and the request is in its calibration sample (`comparator.calibrationRate`, by request id).
   */
  rate: boolean;
}

/** Who rated, at most this many characters (one line, no control characters). */
export const MAX_RATED_BY = 200;

/** The body of `POST /v1/decisions/:useCase/:requestId/rating`: what people said of the AI's output. */
export interface RatingWire {
  /** Whether the AI's output was acceptable as it was. */
  acceptable: boolean;
  /** Who rated (a reviewer's id or name). */
  by: string;
}

/** The answer to `POST /v1/decisions/:useCase/:requestId/rating` (202 recorded, 200 duplicate). */
export interface RatingAnswer {
  useCase: string;
  requestId: string;
  /** `duplicate`: the same rating was already recorded (a retry); nothing changed. */
  status: 'recorded' | 'duplicate';
  /**
   * Whether the rating counts in the judge's calibration: the decision is in the calibration
   * sample. Ratings outside it are kept, not counted (README "Is the judge right?").
   */
  counted: boolean;
}

/** One problem a refusal names, with the path of the field in the request (`decisions[3].requestId`). */
export interface ProblemDetail {
  path: string;
  problem: string;
}

/** Every error the controller answers: a stable code, a message for people, the problems found. */
export interface ErrorBody {
  error: string;
  message: string;
  details: ProblemDetail[];
}
