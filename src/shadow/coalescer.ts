/**
 * Turns many concurrent single-item calls into a few batched ones: items submitted while
 * `maxInFlight` batches are running wait and go together in the next batch (at most
 * `maxBatch` items). Under light load an item goes out on the next turn of the event loop,
 * alone or with whatever arrived in the same turn; under heavy load batches grow instead
 * of statements queueing up.
 *
 * A failed batch of several items is run again one item at a time, all at once, so an item
 * that fails (a row the database refuses) fails alone and the others get their results. `run`
 * must therefore leave no effect behind when it fails, as one SQL statement does.
 */

export interface CoalescerOptions {
  maxBatch: number;
  maxInFlight: number;
}

interface Waiting<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

export class Coalescer<In, Out> {
  private waiting: Waiting<In, Out>[] = [];
  private inFlight = 0;
  private scheduled = false;

  /** `run` answers a batch with one result per item, in the items' order. */
  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly options: CoalescerOptions,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.runBatch(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async runBatch(batch: Waiting<In, Out>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        w.resolve(results[i] as Out);
      });
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else await Promise.all(batch.map((w) => this.runBatch([w])));
    }
  }
}
