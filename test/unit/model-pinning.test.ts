import { describe, expect, it } from 'vitest';
import { checkModel, isEarnedModel } from '../../src/promotion/model-pinning.js';

const at = (stage: string, earnedModelVersion: string | null) =>
  ({ stage, stageVersion: 4, earnedModelVersion }) as Parameters<typeof checkModel>[0];

describe('a model version a stage was earned with', () => {
  it('lets only the earned version decide alone, and any while none is pinned', () => {
    expect(isEarnedModel({ earnedModelVersion: 'v1' }, 'v1')).toBe(true);
    expect(isEarnedModel({ earnedModelVersion: 'v1' }, 'v2')).toBe(false);
    expect(isEarnedModel({ earnedModelVersion: 'v1' }, null)).toBe(false);
    expect(isEarnedModel({ earnedModelVersion: null }, 'v2')).toBe(true);
    expect(isEarnedModel({ earnedModelVersion: null }, null)).toBe(true);
  });

  it.each([
    ['shadow decides nothing', at('shadow', 'v1'), 'v2', null, { action: 'none' }],
    ['disabled decides nothing', at('disabled', 'v1'), 'v2', null, { action: 'none' }],
    ['no version reported', at('limited-autonomous', 'v1'), null, null, { action: 'none' }],
    ['the earned version', at('limited-autonomous', 'v1'), 'v1', null, { action: 'none' }],
    ['nothing pinned yet', at('limited-autonomous', null), 'v1', null, { action: 'pin', version: 'v1' }],
    [
      'a new version, first seen',
      at('limited-autonomous', 'v1'),
      'v2',
      null,
      { action: 'changed', from: 'v1', to: 'v2', record: true },
    ],
    [
      'a new version already recorded in this stage visit',
      at('human-reviewed', 'v1'),
      'v2',
      { stageVersion: 4, to: 'v2' },
      { action: 'changed', from: 'v1', to: 'v2', record: false },
    ],
    [
      'recorded in an earlier stage visit',
      at('limited-autonomous', 'v1'),
      'v2',
      { stageVersion: 3, to: 'v2' },
      { action: 'changed', from: 'v1', to: 'v2', record: true },
    ],
    [
      'another new version after a recorded one',
      at('limited-autonomous', 'v1'),
      'v3',
      { stageVersion: 4, to: 'v2' },
      { action: 'changed', from: 'v1', to: 'v3', record: true },
    ],
  ])('%s', (_, useCase, cohortVersion, last, expected) => {
    expect(checkModel(useCase, cohortVersion, last)).toEqual(expected);
  });
});
