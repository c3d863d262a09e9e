import { describe, expect, it } from 'vitest';
import { reconnectDelaySeconds } from '../../src/db/database.js';

describe('reconnectDelaySeconds', () => {
  it('when the first reconnections fail, then the wait doubles from 50 ms', () => {
    expect([0, 1, 2, 3, 4].map(reconnectDelaySeconds)).toEqual([0.05, 0.1, 0.2, 0.4, 0.8]);
  });

  it('when PostgreSQL stays away, then attempts stay at most 1 s apart (postgres.js would wait up to 20 s)', () => {
    expect(reconnectDelaySeconds(5)).toBe(1);
    expect(reconnectDelaySeconds(12)).toBe(1);
    expect(reconnectDelaySeconds(200)).toBe(1);
  });
});
