/**
 * At most `limit` holders at once, the rest wait in arrival order. The limit is given on each
 * call, so a plan's new concurrency applies from the next entry on (holders above a lowered
 * limit finish; nobody new enters until the count is below it).
 */
export class CallGate {
  private holders = 0;
  private readonly waiting: Array<() => void> = [];

  get active(): number {
    return this.holders;
  }

  enter(limit: number): Promise<void> {
    if (this.holders < limit && this.waiting.length === 0) {
      this.holders++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  leave(limit: number): void {
    this.holders--;
    while (this.holders < limit && this.waiting.length > 0) {
      this.holders++;
      this.waiting.shift()!();
    }
  }
}
