// A growable ring-buffer deque: O(1) push/shift at both ends, O(k) insert k slots from the front.
// The ready list of a queue lives here, so Array.prototype.shift (O(n) on large arrays) never runs
// on the hot path.

export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.buf = new Array<T | undefined>(cap);
  }

  get length(): number {
    return this.len;
  }

  /** The element at index i from the front (0 = head), or undefined when out of range. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.len) return undefined;
    return this.buf[(this.head + i) & (this.buf.length - 1)];
  }

  peekFront(): T | undefined {
    return this.len === 0 ? undefined : this.buf[this.head];
  }

  pushBack(v: T): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) & (this.buf.length - 1)] = v;
    this.len++;
  }

  pushFront(v: T): void {
    if (this.len === this.buf.length) this.grow();
    this.head = (this.head - 1) & (this.buf.length - 1);
    this.buf[this.head] = v;
    this.len++;
  }

  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined; // let the GC take the message
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.len--;
    return v;
  }

  /**
   * Inserts v before the first element e with before(v, e) true, scanning from the front; at the
   * back if none. Cost is O(position): requeued messages usually belong near the head.
   */
  insertOrdered(v: T, before: (v: T, e: T) => boolean): void {
    let pos = 0;
    while (pos < this.len && !before(v, this.at(pos) as T)) pos++;
    if (pos === this.len) {
      this.pushBack(v);
      return;
    }
    // Open a slot at the front, then slide the first `pos` elements one step towards it.
    this.pushFront(v);
    const mask = this.buf.length - 1;
    for (let i = 0; i < pos; i++) {
      this.buf[(this.head + i) & mask] = this.buf[(this.head + i + 1) & mask];
    }
    this.buf[(this.head + pos) & mask] = v;
  }

  clear(): void {
    this.buf = new Array<T | undefined>(16);
    this.head = 0;
    this.len = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.len; i++) yield this.at(i) as T;
  }

  private grow(): void {
    const old = this.buf;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}
