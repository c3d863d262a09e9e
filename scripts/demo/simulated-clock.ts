/**
 * The journey's clock: the host's time plus an offset that only the demo moves, always forward
 * and always said on screen. The embedded controller reads it for everything time-bound (a gate's
 * `minDuration`, when a stage was entered, which tick slot a tick claims); the evidence itself is
 * real, counted from the decisions the example service sent.
 */
export class SimulatedClock {
  private offsetMs = 0;

  readonly now = (): Date => new Date(Date.now() + this.offsetMs);

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new Error(`the simulated clock only moves forward, not by ${ms}`);
    this.offsetMs += ms;
  }

  /** How far ahead of the host's clock it runs, ms. */
  get aheadMs(): number {
    return this.offsetMs;
  }
}

export const DAY_MS = 86_400_000;
