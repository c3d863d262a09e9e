/**
 * The bounded buffer between the live path and the controller: a FIFO that, when
 * full, drops its OLDEST item to make room (recent decisions are worth more to the
 * metrics than old ones, and a full buffer means the controller has been away a while).
 *
 * `capacity` bounds the items waiting here plus `reserved` items held elsewhere (the
 * batch in flight), so memory is bounded by `capacity` in all. Pushing returns what
 * was dropped, so the caller can count and report it. Push and take are O(1) amortised.
 */
export class MirrorBuffer<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /**
   * Adds `item` at the tail. When the buffer plus `reserved` is full, the oldest waiting
   * item is dropped and returned; when nothing waits (all the room is reserved), `item`
   * itself is refused and returned.
   */
  push(item: T, reserved = 0): T | undefined {
    if (this.size + reserved < this.capacity) {
      this.items.push(item);
      return undefined;
    }
    if (this.size === 0) return item;
    const dropped = this.shift();
    this.items.push(item);
    return dropped;
  }

  /** Removes and returns up to `n` items from the head, oldest first. */
  take(n: number): T[] {
    const count = Math.max(0, Math.min(n, this.size));
    const out = this.items.slice(this.head, this.head + count) as T[];
    this.head += count;
    this.compact();
    return out;
  }

  private shift(): T | undefined {
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    this.compact();
    return item;
  }

  /** Reclaims the consumed prefix once it is at least half of the array. */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
