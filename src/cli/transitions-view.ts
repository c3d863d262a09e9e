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
}

/** Oldest first, one line each: when, from → to, who, forced or not, under which plan and model, why. */
export function transitionsTable(transitions: readonly TransitionRow[]): string {
  return formatTable(
    [
      { header: 'AT' },
      { header: 'FROM' },
      { header: 'TO' },
      { header: 'ACTOR' },
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
      t.forced ? 'yes' : 'no',
      String(t.planVersion),
      t.modelVersion ?? NONE,
      t.reason,
    ]),
  );
}
