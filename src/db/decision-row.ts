import { decisions } from './schema.js';

/**
 * A decision row as the stores that share the `decisions` table see it: ingest writes it, the
 * shadow worker claims its AI call and records the answer, the comparison scores it.
 */

export type AiState = 'none' | 'owed' | 'done' | 'error';

export interface NewDecision {
  useCase: string;
  requestId: string;
  payloadHash: string;
  /**
   * With a human side: the hash of the same payload without it, so a mirror that only adds the
   * human decision to a request stored without one (a suggestion, or a mirror sent before the
   * person decided) completes it instead of conflicting. Computed only when asked: only a request
   * already stored needs it, and hashing is a tenth of ingest's CPU.
   */
  bareHash?: () => string;
  /** The input in the plan's `storeInput` form. */
  input: unknown;
  /** The raw input to keep while the AI call is owed (see `storedForms`); undefined: nothing to keep. */
  pendingInput?: unknown;
  context: Record<string, unknown>;
  stage: string;
  /** The use case's `stageVersion` when the decision was received. */
  stageVersion: number;
  planVersion: number;
  aiConfig: string;
  human: { decision: unknown; decidedBy: string | null; handlingMs: number | null } | null;
  aiState: AiState;
  /**
   * Set when the use case's challenger is asked this request too (sampled): the raw input its call
   * is made with, kept in the challenger call until its outcome is written.
   */
  challengerInput?: { input: unknown };
}

export interface DecisionKey {
  useCase: string;
  requestId: string;
}

/** What a comparison needs once one side has just been written. */
export interface ComparableRow {
  id: number;
  useCase: string;
  requestId: string;
  planVersion: number;
  humanDecision: unknown;
  aiDecision: unknown;
  aiState: AiState;
  score: number | null;
}

/** The columns of a `ComparableRow`, for RETURNING clauses. */
export const comparableColumns = {
  id: decisions.id,
  useCase: decisions.useCase,
  requestId: decisions.requestId,
  planVersion: decisions.planVersion,
  humanDecision: decisions.humanDecision,
  aiDecision: decisions.aiDecision,
  aiState: decisions.aiState,
  score: decisions.score,
};
