// The window of append messages in flight to one follower (pipelining, etcd's Inflights).
// Each element is the last index carried by one MsgApp; the window is full at `capacity`, which
// bounds both the follower's receive queue and the leader's memory for that follower.
export class Inflights {
  private indexes: number[] = [];

  constructor(readonly capacity: number) {}

  add(lastIndex: number): void {
    this.indexes.push(lastIndex);
  }

  /** Frees every message whose last index is ≤ to (acknowledged). */
  freeLE(to: number): void {
    let n = 0;
    while (n < this.indexes.length && this.indexes[n]! <= to) n++;
    if (n > 0) this.indexes = this.indexes.slice(n);
  }

  freeFirstOne(): void {
    this.indexes.shift();
  }

  full(): boolean {
    return this.indexes.length >= this.capacity;
  }

  count(): number {
    return this.indexes.length;
  }

  reset(): void {
    this.indexes = [];
  }
}
