import { describe, expect, it } from 'vitest';
import {
  abandonedWork,
  DatabaseDeadlineError,
  MAX_ABANDONED,
  withinDeadline,
} from '../../src/db/database-deadline.js';

/** A piece of database work that answers only when told to (a silent connection). */
function silentWork(): { promise: Promise<string>; answer: () => void; started: () => boolean } {
  let answer = () => {};
  let started = false;
  const promise = new Promise<string>((resolve) => {
    started = true;
    answer = () => resolve('late');
  });
  return { promise, answer: () => answer(), started: () => started };
}

describe('withinDeadline', () => {
  it('answers with the work when it settles in time, and counts nothing as abandoned', async () => {
    await expect(withinDeadline(async () => 'ok', 1_000, 'read')).resolves.toBe('ok');
    await expect(
      withinDeadline(async () => Promise.reject(new Error('refused')), 1_000, 'read'),
    ).rejects.toThrow('refused');
    expect(abandonedWork()).toBe(0);
  });

  it('refuses new work without starting it while MAX_ABANDONED pieces wait past their deadline', async () => {
    const silent = Array.from({ length: MAX_ABANDONED }, () => silentWork());
    const waits = silent.map((w) => withinDeadline(() => w.promise, 5, 'ingest'));
    for (const wait of waits) await expect(wait).rejects.toBeInstanceOf(DatabaseDeadlineError);
    expect(abandonedWork()).toBe(MAX_ABANDONED);

    let startedWhileFull = false;
    const refused = withinDeadline(
      async () => {
        startedWhileFull = true;
        return 'stored';
      },
      1_000,
      'ingest',
    );
    await expect(refused).rejects.toMatchObject({ code: 'DATABASE_DEADLINE' });
    await expect(refused).rejects.toThrow(/not started/);
    expect(startedWhileFull).toBe(false);

    // One silent piece answers at last: its slot is free, and new work runs again.
    silent[0]?.answer();
    await silent[0]?.promise;
    expect(abandonedWork()).toBe(MAX_ABANDONED - 1);
    await expect(withinDeadline(async () => 'stored', 1_000, 'ingest')).resolves.toBe('stored');

    for (const w of silent.slice(1)) w.answer();
    await Promise.all(silent.map((w) => w.promise));
    expect(abandonedWork()).toBe(0);
  });
});
