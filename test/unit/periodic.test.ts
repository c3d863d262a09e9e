import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { periodic } from '../../src/main/periodic.js';

/** A logger whose lines the test reads. */
function recordingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const never = () => new Promise<never>(() => {});

describe('periodic tasks', () => {
  it('when a run is still going within its time, then the next interval joins it instead of starting another', async () => {
    const { logger } = recordingLogger();
    let runs = 0;
    let finish: () => void = () => {};
    const loop = periodic(
      'sweep',
      1000,
      () => {
        runs++;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      logger,
      { stuckAfterMs: 60_000 },
    );
    const first = loop.run();
    expect(loop.run()).toBe(first);
    expect(runs).toBe(1);
    finish();
    await first;
    const second = loop.run();
    expect(runs).toBe(2);
    finish();
    await second;
  });

  it('when a run hangs (a statement the database never answers), then it is reported and a new run starts after stuckAfterMs, so the task does not stop for good', async () => {
    const { logger, lines } = recordingLogger();
    let runs = 0;
    const loop = periodic(
      'sweep',
      10,
      () => {
        runs++;
        return runs === 1 ? never() : Promise.resolve();
      },
      logger,
      { stuckAfterMs: 20 },
    );
    void loop.run();
    // Waits on progress: the interval calls run() until the hung run is set aside.
    while (runs < 2) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      void loop.run();
    }
    expect(lines.some((l) => l.level === 40 && /sweep has not finished; a new run starts/.test(l.msg))).toBe(
      true,
    );
    // Once the new run ends, the next one starts at once, though the first is still hung.
    await loop.run();
    await loop.run();
    expect(runs).toBe(3);
  });

  it('when every run hangs, then at most a few are set aside and an error says so, instead of piling up runs', async () => {
    const { logger, lines } = recordingLogger();
    let runs = 0;
    const loop = periodic(
      'tick',
      10,
      () => {
        runs++;
        return never();
      },
      logger,
      { stuckAfterMs: 1 },
    );
    while (!lines.some((l) => l.level === 50)) {
      void loop.run();
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    expect(runs).toBe(4); // the one running and three set aside
    expect(lines.find((l) => l.level === 50)?.msg).toMatch(/tick: 3 runs have not finished/);
  });
});
