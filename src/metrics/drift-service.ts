import type { UseCase } from '../plans/use-case-store.js';
import type { DriftReference, DriftStore, DriftWindow } from './drift-store.js';
import { type DriftView, driftView } from './drift-view.js';

/** A use case's drift now: the reference in force, the current window and the measures. */
export interface DriftReading {
  stage: string;
  stageVersion: number;
  window: number | string;
  minWindow: number;
  reference: DriftReference;
  current: DriftWindow;
  view: DriftView;
}

/**
 * Reads a use case's drift (README "Drift") and keeps its references. A stage visit's reference is
 * taken from the window of the stage version before it (the evidence that earned the stage, up to
 * its last decision) when the move is made (the controller's onStageChanged), or else at the
 * visit's first drift reading (a move made by a process that stopped before it, a use case older
 * than the drift counts). Two takers at once store the same counts; the newest is in force.
 */
export class DriftService {
  constructor(private readonly store: DriftStore) {}

  async read(useCase: UseCase, now: Date): Promise<DriftReading> {
    const [reference, current] = await Promise.all([
      this.referenceOf(useCase),
      this.store.window(useCase.id, useCase.stageVersion, useCase.plan.drift.window, now.getTime()),
    ]);
    return this.reading(useCase, reference, current);
  }

  /**
   * `read` for many use cases at once (the tick): their references and current windows in two
   * queries, not a few per use case. A use case whose visit has no reference yet has it taken as
   * `read` would; one whose reference cannot be taken now is left out (its own `read` says why).
   */
  async readMany(useCases: readonly UseCase[], now: Date): Promise<Map<string, DriftReading>> {
    const result = new Map<string, DriftReading>();
    if (useCases.length === 0) return result;
    const visits = useCases.map((u) => ({
      useCase: u.id,
      stageVersion: u.stageVersion,
      window: u.plan.drift.window,
    }));
    const [references, windows] = await Promise.all([
      this.store.references(visits),
      this.store.currentWindows(visits, now.getTime()),
    ]);
    for (const useCase of useCases) {
      const reference =
        references.get(useCase.id) ?? (await this.referenceOf(useCase).catch(() => undefined));
      const current = windows.get(useCase.id);
      if (!reference || !current) continue;
      result.set(useCase.id, this.reading(useCase, reference, current));
    }
    return result;
  }

  private reading(useCase: UseCase, reference: DriftReference, current: DriftWindow): DriftReading {
    const { drift } = useCase.plan;
    return {
      stage: useCase.stage,
      stageVersion: useCase.stageVersion,
      window: drift.window,
      minWindow: drift.minWindow,
      reference,
      current,
      view: driftView(useCase.plan, useCase.stage, reference.window, current),
    };
  }

  /** The reference in force for the use case's stage visit, taken now if it has none. */
  async referenceOf(useCase: UseCase): Promise<DriftReference> {
    const found = await this.store.reference(useCase.id, useCase.stageVersion);
    if (found) return found;
    // Stage versions count the moves: the one before is the visit that earned this one.
    const window = await this.store.window(
      useCase.id,
      useCase.stageVersion - 1,
      useCase.plan.drift.window,
      Date.now(),
      true,
    );
    return this.store.store({
      useCase: useCase.id,
      stageVersion: useCase.stageVersion,
      stage: useCase.stage,
      takenBy: 'system',
      reason:
        window.decisions > 0
          ? `entered ${useCase.stage}: the window of the stage before`
          : `entered ${useCase.stage}: the stage before recorded no decisions`,
      window,
    });
  }

  /**
   * Re-baselines from the current window (`POST …/drift/baseline`, a challenger swapped in): the
   * guards compare against it and may trip again. Audited as `drift.baseline`.
   */
  async rebaseline(useCase: UseCase, actor: string, reason: string, now: Date): Promise<DriftReference> {
    const window = await this.store.window(
      useCase.id,
      useCase.stageVersion,
      useCase.plan.drift.window,
      now.getTime(),
    );
    return this.store.store({
      useCase: useCase.id,
      stageVersion: useCase.stageVersion,
      stage: useCase.stage,
      takenBy: actor,
      reason,
      window,
      audited: true,
    });
  }

  /** Marks the reference tripped against: true for the one caller that did (once per reference). */
  markTripped(reference: DriftReference): Promise<boolean> {
    return this.store.markTripped(reference.id);
  }
}
