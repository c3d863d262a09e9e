import { NONE } from '../format/figures.js';
import { formatTable, timestamp } from './format-table.js';

/** A stage transition as the API sends it (`GET /v1/use-cases/:id/transitions`, release actions). */
export interface TransitionRow {
  id: number;
  useCase: string;
  fromStage: string | null;
  toStage: string;
  stageVersion: number;
  actor: string;
  reason: string;
  forced: boolean;
  planVersion: number;
  modelVersion: string | null;
  at: string;
  /** The keys that approved it under change control; null or absent: it needed none. */
  approvedBy?: string[] | null;
}

/** `key:rm-bob, key:rm-eve`, or `—` when the move needed no approval. */
export function approvedByText(t: Pick<TransitionRow, 'approvedBy'>): string {
  return t.approvedBy?.length ? t.approvedBy.join(', ') : NONE;
}

/**
 * Oldest first, one line each: when, from → to, who asked and who approved, forced or not, under
 * which plan and model, why.
 */
export function transitionsTable(transitions: readonly TransitionRow[]): string {
  return formatTable(
    [
      { header: 'AT' },
      { header: 'FROM' },
      { header: 'TO' },
      { header: 'ACTOR' },
      { header: 'APPROVED BY' },
      { header: 'FORCED' },
      { header: 'PLAN', align: 'right' },
      { header: 'MODEL' },
      { header: 'REASON' },
    ],
    transitions.map((t) => [
      timestamp(t.at),
      t.fromStage ?? NONE,
      t.toStage,
      t.actor,
      approvedByText(t),
      t.forced ? 'yes' : 'no',
      String(t.planVersion),
      t.modelVersion ?? NONE,
      t.reason,
    ]),
  );
}
