import type { UseCase } from '../plans/use-case-store.js';

/**
 * A stage is earned with one model version of its AI: the version of the gate's cohort when the
 * use case moved (UseCase.earnedModelVersion). Providers ship new versions under the same name, so
 * every answer says which version it came from (the http adapter's `modelVersion`, openai-chat's
 * `model`), and an answer from another version has none of the evidence the stage was earned with.
 */

/** May an answer from this model version decide alone? Only the earned one, or any while none is pinned. */
export function isEarnedModel(useCase: Pick<UseCase, 'earnedModelVersion'>, modelVersion: string | null) {
  return useCase.earnedModelVersion === null || useCase.earnedModelVersion === modelVersion;
}

/** What the tick does about the model version the stage's current cohort answers with. */
export type ModelCheck =
  | { action: 'none' }
  /** Nothing pinned yet (a move without evidence): pin the version the stage answers with. */
  | { action: 'pin'; version: string }
  /**
   * The stage answers with a version it was not earned with. `record` is false when the change was
   * already recorded (in this stage version, for this version): it is recorded and told once.
   */
  | { action: 'changed'; from: string; to: string; record: boolean };

/**
 * Compares the current cohort's model version with the earned one. Shadow decides nothing, so it
 * has nothing to pin; a cohort without a version (the AI reports none) changes nothing.
 */
export function checkModel(
  useCase: Pick<UseCase, 'stage' | 'stageVersion' | 'earnedModelVersion'>,
  cohortModelVersion: string | null,
  lastRecorded: { stageVersion?: number; to?: string } | null,
): ModelCheck {
  if (useCase.stage !== 'human-reviewed' && useCase.stage !== 'limited-autonomous') return { action: 'none' };
  if (cohortModelVersion === null) return { action: 'none' };
  if (useCase.earnedModelVersion === null) return { action: 'pin', version: cohortModelVersion };
  if (cohortModelVersion === useCase.earnedModelVersion) return { action: 'none' };
  const record = !(
    lastRecorded?.stageVersion === useCase.stageVersion && lastRecorded.to === cohortModelVersion
  );
  return { action: 'changed', from: useCase.earnedModelVersion, to: cohortModelVersion, record };
}
