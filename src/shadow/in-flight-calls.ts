import { setMaxListeners } from 'node:events';
import type { AiCallStore } from './ai-call-store.js';

/** Calls handed back in one statement at most; a larger set is released in several. */
const RELEASE_BATCH = 5_000;

/**
 * The AI calls this process holds a claim on (from the claim's statement until the call's outcome
 * is written), shared by the shadow worker and the synchronous suggestions. When the process
 * stops, it stops taking calls, lets those held finish for a grace period, then hands back the
 * claims of the rest in PostgreSQL, so another controller or the next start makes them at once
 * instead of waiting for their lease to run out.
 */
export class InFlightCalls {
  private readonly held = new Set<number>();
  private readonly claiming = new Set<Promise<unknown>>();
  private readonly aborter = new AbortController();
  private state: 'open' | 'stopping' | 'handed-back' = 'open';
  private readonly idleWaiters = new Set<() => void>();

  constructor() {
    // Every call in flight listens on the signal (a plan's concurrency, up to hundreds): not a leak.
    setMaxListeners(0, this.aborter.signal);
  }

  /** Aborted once the claims are handed back: a call still running then ends without its outcome written. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  /** False once the process is stopping: no new call is claimed. */
  get accepting(): boolean {
    return this.state === 'open';
  }

  get handedBack(): boolean {
    return this.state === 'handed-back';
  }

  /** Calls held plus claim statements still in flight. */
  get count(): number {
    return this.held.size + this.claiming.size;
  }

  /**
   * Counts a claim statement in flight; the calls it claims (`claimed` of its result) are held
   * from the moment it returns, so the count never drops to zero in between.
   */
  track<T>(claim: Promise<T>, claimed: (result: T) => number | null): Promise<T> {
    this.claiming.add(claim);
    claim.then(
      (result) => {
        const id = claimed(result);
        if (id !== null) this.held.add(id);
        this.claiming.delete(claim);
        this.wake();
      },
      () => {
        this.claiming.delete(claim);
        this.wake();
      },
    );
    return claim;
  }

  /** The call's outcome is written, or it was given back. */
  settle(id: number): void {
    this.held.delete(id);
    this.wake();
  }

  /** Stops taking calls: jobs and suggestions that arrive from now on claim nothing. */
  stopTaking(): void {
    if (this.state === 'open') this.state = 'stopping';
  }

  /** Resolves true once nothing is held nor being claimed, false when `signal` aborts first. */
  idle(signal: AbortSignal): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const check = () => {
        if (this.count > 0 && !signal.aborted) return;
        this.idleWaiters.delete(check);
        signal.removeEventListener('abort', check);
        resolve(this.count === 0);
      };
      this.idleWaiters.add(check);
      signal.addEventListener('abort', check, { once: true });
    });
  }

  /**
   * Hands back every call still held: their claims are released in PostgreSQL (only those still
   * owed: an outcome written meanwhile stays), then their AI requests are aborted. Claim
   * statements in flight are waited for up to `claimWaitMs` first, so the calls they claim are
   * handed back too. Returns how many calls were handed back and how many claim statements had
   * not returned (their calls wait for their lease).
   */
  async handBack(
    calls: Pick<AiCallStore, 'releaseMany'>,
    claimWaitMs: number,
  ): Promise<{ handedBack: number; unanswered: number }> {
    this.state = 'handed-back';
    if (this.claiming.size > 0) {
      await this.idleOfClaims(claimWaitMs);
    }
    const ids = [...this.held];
    for (let i = 0; i < ids.length; i += RELEASE_BATCH) {
      await calls.releaseMany(ids.slice(i, i + RELEASE_BATCH));
    }
    this.aborter.abort();
    return { handedBack: ids.length, unanswered: this.claiming.size };
  }

  private async idleOfClaims(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    try {
      await Promise.race([Promise.allSettled([...this.claiming]), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    for (const check of [...this.idleWaiters]) check();
  }
}
