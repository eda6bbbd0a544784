// Ready messages of one queue: one deque per priority level (a single one without x-max-priority).
// Invariant: each deque is sorted by msgId (delivery takes the head, enqueue appends a larger id,
// a returned message is inserted back at its original position), which is RabbitMQ classic
// queues' "requeue to original position".

import { Deque } from './deque.js';
import type { MessageView } from './types.js';

/** A message held by the queue (ready or checked out). Mutable internal record; observers see it read-only. */
export class Entry<M> implements MessageView<M> {
  deliveryCount = 0;
  redelivered = false;
  /** Consumer or getter holding it while checked out ('' when ready). */
  ownerId = '';
  /** The consumer incarnation whose credit it uses (undefined for basic.get and when ready). */
  owner: { unacked: number; readonly seq: number } | undefined = undefined;
  constructor(
    readonly msgId: number,
    readonly message: M,
    /** Body size, what RabbitMQ counts for x-max-length-bytes. */
    readonly bytes: number,
    /** Priority level (index of its deque). */
    readonly level: number,
    /** Absolute expiry (ms) from x-message-ttl / expiration, Infinity if none. */
    readonly expiresAtMs: number,
  ) {}

  get ownerSeq(): number | undefined {
    return this.owner?.seq;
  }
}

type AnyEntry = Entry<unknown>;
const returnedBefore = (v: AnyEntry, e: AnyEntry): boolean => v.msgId < e.msgId;

export class ReadyList<E extends AnyEntry> {
  private readonly levels: Deque<E>[] = [];
  count = 0;
  bytes = 0;

  constructor(maxPriority: number | undefined) {
    const n = maxPriority === undefined ? 1 : maxPriority + 1;
    for (let i = 0; i < n; i++) this.levels.push(new Deque<E>());
  }

  /** The deque index for a message priority (absent → 0; above max → max), as RabbitMQ. */
  levelOf(priority: number | undefined): number {
    const max = this.levels.length - 1;
    if (max === 0 || priority === undefined || !(priority > 0)) return 0;
    return priority > max ? max : Math.floor(priority);
  }

  push(e: E): void {
    (this.levels[e.level] as Deque<E>).pushBack(e);
    this.count++;
    this.bytes += e.bytes;
  }

  /** Back to its original position. Insert returns in descending msgId order: each is then O(1). */
  insertReturned(e: E): void {
    (this.levels[e.level] as Deque<E>).insertOrdered(e, returnedBefore);
    this.count++;
    this.bytes += e.bytes;
  }

  /** The next message to deliver: head of the highest non-empty level. */
  peek(): E | undefined {
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const d = this.levels[i] as Deque<E>;
      if (d.length > 0) return d.peekFront();
    }
    return undefined;
  }

  shift(): E | undefined {
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const d = this.levels[i] as Deque<E>;
      if (d.length > 0) return this.taken(d.shift() as E);
    }
    return undefined;
  }

  /** Removes and returns the head of every level that has expired at nowMs (classic: only heads expire). */
  shiftExpired(nowMs: number, out: E[]): void {
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const d = this.levels[i] as Deque<E>;
      for (let h = d.peekFront(); h !== undefined && h.expiresAtMs <= nowMs; h = d.peekFront()) {
        out.push(this.taken(d.shift() as E));
      }
    }
  }

  /** Earliest expiry among level heads (what the next tick can act on); Infinity if none. */
  nextExpiryMs(): number {
    let t = Infinity;
    for (const d of this.levels) {
      const h = d.peekFront();
      if (h !== undefined && h.expiresAtMs < t) t = h.expiresAtMs;
    }
    return t;
  }

  /** Every ready message in delivery order (highest level first, then by msgId). */
  *[Symbol.iterator](): IterableIterator<E> {
    for (let i = this.levels.length - 1; i >= 0; i--) yield* this.levels[i] as Deque<E>;
  }

  /** Empties the list; returns how many messages it held. */
  clear(): number {
    const n = this.count;
    for (const d of this.levels) d.clear();
    this.count = 0;
    this.bytes = 0;
    return n;
  }

  private taken(e: E): E {
    this.count--;
    this.bytes -= e.bytes;
    return e;
  }
}
