import { setMaxListeners } from 'node:events';
import { backoffDelay } from './backoff.js';
import type { ControllerClient, SendOutcome } from './controller-client.js';
import { MirrorBuffer } from './mirror-buffer.js';
import { batchBody, type Entry, mirrorOf, namedItems, type OutboxItem, serialise } from './outbox-items.js';
import type { ShadowgateEvent } from './sdk-types.js';

export interface OutboxOptions {
  client: Pick<ControllerClient, 'postBatch' | 'postLateHuman' | 'postRating'>;
  maxItems: number;
  batchSize: number;
  flushIntervalMs: number;
  retry: { baseMs: number; maxMs: number; maxAttempts: number };
  emit: (event: ShadowgateEvent) => void;
  /** Late-human calls in flight at once within one round. */
  humanConcurrency?: number;
  random?: () => number;
}

export interface OutboxCounters {
  sent: number;
  retried: number;
  dropped: number;
  failed: number;
}

type Transient = Extract<SendOutcome, { kind: 'transient' }>;

/**
 * Sends what the live path owes the controller, off the live path: `add` is O(1) and
 * never does I/O or serialisation. One round at a time takes up to a batch from the
 * buffer (plus whatever the previous round must retry), sends late human decisions
 * one by one and mirrors as one batch, and backs off exponentially while the
 * controller is unreachable. Retries resend the same bytes, and the controller keys
 * decisions by (useCase, requestId), so an item that arrived before a failure was
 * reported counts as a duplicate, never twice.
 */
export class Outbox {
  readonly counters: OutboxCounters = { sent: 0, retried: 0, dropped: 0, failed: 0 };
  private readonly waiting: MirrorBuffer<Entry>;
  private inFlight: Entry[] = [];
  private running: Promise<void> | undefined;
  private kickScheduled = false;
  private failures = 0;
  private wake: (() => void) | undefined;
  private sending = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  private readonly drops = new Map<'overflow' | 'closed', string[]>();
  private dropsScheduled = false;
  /** Fired by `stop()`: a request still out is aborted, so closing never waits on a silent controller. */
  private readonly halt = haltSignal();

  constructor(private readonly options: OutboxOptions) {
    this.waiting = new MirrorBuffer(options.maxItems);
    this.timer = setInterval(() => this.kick(), options.flushIntervalMs);
    this.timer.unref();
  }

  get buffered(): number {
    return this.waiting.size + this.inFlight.length;
  }

  /** Buffers an item; the entry returned may still be completed while `json` is unset (not yet serialised). */
  add(item: OutboxItem): Entry {
    const entry: Entry = { item, attempts: 0 };
    if (this.stopped) {
      this.drop(entry, 'closed');
      return entry;
    }
    const dropped = this.waiting.push(entry, this.inFlight.length);
    if (dropped) this.drop(dropped, 'overflow');
    if (this.waiting.size >= this.options.batchSize && !this.running && !this.kickScheduled) {
      this.kickScheduled = true;
      setImmediate(() => {
        this.kickScheduled = false;
        this.kick();
      }).unref();
    }
    return entry;
  }

  /** Sends everything buffered now, cutting a backoff short; true when nothing is left within `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.wake?.();
    while (this.buffered > 0 && !this.stopped) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      // Ref'd: a caller awaiting flush() keeps the process up until it is done or times out.
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      });
      await Promise.race([this.kick(), timeout]);
      clearTimeout(timer);
    }
    return this.buffered === 0;
  }

  /**
   * Stops sending: what is waiting is dropped and counted at once; a request still out is
   * aborted and its items are dropped and counted when it settles, which the promise
   * awaits. (The controller may have stored an aborted item: `dropped` counts what the SDK
   * could not confirm, and a later send of it would count once, keyed by request id.)
   */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      clearInterval(this.timer);
      this.wake?.();
      this.halt.abort();
      for (const entry of this.waiting.take(this.waiting.size)) this.drop(entry, 'closed');
      if (!this.sending) this.dropInFlight();
      this.emitDrops();
    }
    return this.running ?? Promise.resolve();
  }

  private kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const room = this.options.batchSize - this.inFlight.length;
      if (room > 0) this.inFlight.push(...this.waiting.take(room));
      if (this.inFlight.length === 0) return;
      this.sending = true;
      let failure: Transient | undefined;
      try {
        failure = await this.round();
      } catch (error) {
        // A bug of ours must not kill the loop: the items are retried, a bounded number of times.
        failure = { kind: 'transient', status: null, message: String(error), unreachable: false };
        const exhausted = this.inFlight.filter((e) => ++e.attempts >= this.options.retry.maxAttempts);
        this.fail(exhausted, null, `gave up: ${failure.message}`);
        this.inFlight = this.inFlight.filter((e) => e.attempts < this.options.retry.maxAttempts);
      } finally {
        this.sending = false;
      }
      if (this.stopped) break;
      if (!failure) {
        this.failures = 0;
        continue;
      }
      if (this.inFlight.length === 0) continue;
      this.failures += 1;
      const { baseMs, maxMs } = this.options.retry;
      const backoff = backoffDelay(this.failures, baseMs, maxMs, this.options.random);
      const delayMs = Math.min(maxMs, Math.max(backoff, failure.retryAfterMs ?? 0));
      this.options.emit({
        type: 'retry',
        count: this.inFlight.length,
        attempt: this.failures,
        delayMs,
        reason: failure.status === null ? failure.message : `HTTP ${failure.status}: ${failure.message}`,
      });
      await this.sleep(delayMs);
      if (!this.stopped) this.counters.retried += this.inFlight.length;
    }
    this.dropInFlight();
    this.emitDrops();
  }

  /** Sends the entries in flight once; leaves in `inFlight` those to retry and returns why. */
  private async round(): Promise<Transient | undefined> {
    const entries = this.inFlight;
    const retry: Entry[] = [];
    const mirrors = entries.filter((e) => e.item.kind === 'mirror');
    const humans = entries.filter((e) => e.item.kind === 'human');
    const ratings = entries.filter((e) => e.item.kind === 'rating');
    let transient: Transient | undefined;
    const again = (entry: Entry, outcome: Transient) => {
      transient ??= outcome;
      entry.attempts += 1;
      if (!outcome.unreachable && entry.attempts >= this.options.retry.maxAttempts) {
        this.fail([entry], outcome.status, `gave up after ${entry.attempts} attempts: ${outcome.message}`);
      } else retry.push(entry);
    };

    await forEachLimited(humans, this.options.humanConcurrency ?? 16, async (entry) => {
      const item = entry.item;
      if (item.kind !== 'human' || !this.serialised(entry)) return;
      const outcome = await this.options.client.postLateHuman(
        item.useCase,
        item.requestId,
        entry.json!,
        this.halt.signal,
      );
      if (outcome.kind === 'ok') this.counters.sent += 1;
      else if (outcome.kind === 'transient') again(entry, outcome);
      else {
        const mirror = outcome.status === 404 ? mirrorOf(item) : undefined;
        if (mirror) mirrors.push({ item: mirror, attempts: entry.attempts, fromHuman: item });
        else this.fail([entry], outcome.status, outcome.message);
      }
    });

    // Ratings go after the mirrors of this round: a rating refused 404 may name a decision still on
    // its way (buffered here, or a suggestion in flight), so it is tried again within its attempts.
    const sendRatings = () =>
      forEachLimited(ratings, this.options.humanConcurrency ?? 16, async (entry) => {
        const item = entry.item;
        if (item.kind !== 'rating' || !this.serialised(entry)) return;
        const outcome = await this.options.client.postRating(
          item.useCase,
          item.requestId,
          entry.json!,
          this.halt.signal,
        );
        if (outcome.kind === 'ok') this.counters.sent += 1;
        else if (outcome.kind === 'transient') again(entry, outcome);
        else if (outcome.status === 404) {
          again(entry, { kind: 'transient', status: 404, message: outcome.message, unreachable: false });
        } else this.fail([entry], outcome.status, outcome.message);
      });

    const sendMirrors = async (entries: Entry[]): Promise<void> => {
      let batch = entries;
      while (batch.length > 0) {
        const outcome = await this.options.client.postBatch(
          batchBody(batch.map((e) => e.json!)),
          this.halt.signal,
        );
        if (outcome.kind === 'ok') {
          this.counters.sent += batch.length;
          return;
        }
        if (outcome.kind === 'transient') {
          for (const entry of batch) again(entry, outcome);
          return;
        }
        if (outcome.status === 413 && batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          await sendMirrors(batch.slice(0, half));
          await sendMirrors(batch.slice(half));
          return;
        }
        const named = namedItems(outcome.details, batch.length);
        if (named.size === 0 || outcome.status === 401 || outcome.status === 403) {
          this.fail(batch, outcome.status, outcome.message);
          return;
        }
        // All or nothing: drop exactly the items the controller named, resend the rest.
        for (const [index, problem] of named) {
          const entry = batch[index]!;
          // The decision got to the controller between the late human's 404 and this mirror (its
          // suggestion landed late): send the human side to it again, within the attempts allowed.
          if (
            outcome.status === 409 &&
            entry.fromHuman &&
            entry.attempts + 1 < this.options.retry.maxAttempts
          ) {
            retry.push({ item: entry.fromHuman, attempts: entry.attempts + 1 });
          } else this.fail([entry], outcome.status, problem);
        }
        batch = batch.filter((_, i) => !named.has(i));
      }
    };
    await sendMirrors(mirrors.filter((entry) => this.serialised(entry)));
    await sendRatings();
    this.inFlight = retry;
    return transient;
  }

  private serialised(entry: Entry): boolean {
    if (entry.json !== undefined) return true;
    try {
      entry.json = serialise(entry.item);
      return true;
    } catch (error) {
      this.fail([entry], null, `not serialisable as JSON: ${(error as Error).message}`);
      return false;
    }
  }

  private fail(entries: Entry[], status: number | null, reason: string): void {
    if (entries.length === 0) return;
    this.counters.failed += entries.length;
    this.options.emit({
      type: 'failed',
      count: entries.length,
      status,
      reason,
      requestIds: entries.map((e) => e.item.requestId),
    });
  }

  private drop(entry: Entry, reason: 'overflow' | 'closed'): void {
    this.counters.dropped += 1;
    const ids = this.drops.get(reason) ?? [];
    ids.push(entry.item.requestId);
    this.drops.set(reason, ids);
    if (!this.dropsScheduled) {
      this.dropsScheduled = true;
      // One event per burst of drops, not one per decide.
      setImmediate(() => this.emitDrops()).unref();
    }
  }

  private emitDrops(): void {
    this.dropsScheduled = false;
    for (const [reason, requestIds] of this.drops) {
      this.options.emit({ type: 'dropped', count: requestIds.length, reason, requestIds });
    }
    this.drops.clear();
  }

  private dropInFlight(): void {
    for (const entry of this.inFlight) this.drop(entry, 'closed');
    this.inFlight = [];
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** One listener per request in flight (late human decisions go out 16 at a time): no cap. */
function haltSignal(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
