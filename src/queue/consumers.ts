// The consumers of one queue and the choice of who gets the next message (deterministic).
//
// Without single active consumer: among consumers with credit, the highest priority wins, and
// consumers of equal priority take turns (round-robin), as RabbitMQ's consumer priorities.
//
// With single active consumer (x-single-active-consumer), quorum-queue semantics (RabbitMQ 3.13+):
// the active consumer is the live one with the highest priority, earliest registered among equals.
// When a consumer with a higher priority registers, the current one stops receiving new messages
// and the switch happens once it has no unacked messages left (so processing order holds). When
// the active consumer is cancelled or goes down, the next one is activated at once.

import type { ConsumerActivatedEffect, ConsumerSetState } from './types.js';

export class Consumer {
  /** Deliveries not yet settled/returned/discarded (always 0 for noAck consumers). */
  unacked = 0;
  /** Flow-controlled by the frontend (congested socket): no credit while set. */
  paused = false;
  constructor(
    readonly id: string,
    /** 0 = unlimited. */
    readonly prefetch: number,
    readonly priority: number,
    readonly noAck: boolean,
    /** Registration order, for SAC tie-breaks. */
    readonly seq: number,
  ) {}

  get hasCredit(): boolean {
    return !this.paused && (this.noAck || this.prefetch === 0 || this.unacked < this.prefetch);
  }
}

interface PriorityGroup {
  readonly priority: number;
  readonly members: Consumer[];
  /** Index of the member whose turn is next. */
  cursor: number;
}

export class ConsumerSet {
  private readonly byId = new Map<string, Consumer>();
  /** Sorted by priority, highest first. */
  private readonly groups: PriorityGroup[] = [];
  private nextSeq = 0;
  private active: Consumer | undefined;

  constructor(private readonly singleActive: boolean) {}

  get size(): number {
    return this.byId.size;
  }

  get activeId(): string | undefined {
    return this.active?.id;
  }

  get(id: string): Consumer | undefined {
    return this.byId.get(id);
  }

  /** Live consumers in registration order. */
  list(): IterableIterator<Consumer> {
    return this.byId.values();
  }

  /** Everything needed to rebuild this set exactly (restore()). */
  exportState(): ConsumerSetState {
    return {
      consumers: [...this.byId.values()].map((c) => ({
        id: c.id, prefetch: c.prefetch, priority: c.priority, noAck: c.noAck, seq: c.seq, paused: c.paused,
      })),
      groups: this.groups.map((g) => ({ priority: g.priority, members: g.members.map((c) => c.id), cursor: g.cursor })),
      nextSeq: this.nextSeq,
      activeId: this.active?.id,
    };
  }

  /** The set exportState() described, with every unacked count 0 (the caller re-counts checked-out messages). */
  static restore(singleActive: boolean, s: ConsumerSetState): ConsumerSet {
    const set = new ConsumerSet(singleActive);
    for (const r of s.consumers) {
      const c = new Consumer(r.id, r.prefetch, r.priority, r.noAck, r.seq);
      c.paused = r.paused;
      set.byId.set(r.id, c);
    }
    for (const g of s.groups) {
      const members = g.members.map((id) => set.mustGet(id));
      set.groups.push({ priority: g.priority, members, cursor: g.cursor });
    }
    set.nextSeq = s.nextSeq;
    set.active = s.activeId === undefined ? undefined : set.mustGet(s.activeId);
    return set;
  }

  private mustGet(id: string): Consumer {
    const c = this.byId.get(id);
    if (c === undefined) throw new Error(`queue: restored state names unknown consumer ${JSON.stringify(id)}`);
    return c;
  }

  /** Registers a consumer; returns undefined if the id is already live (the command is ignored). */
  add(id: string, prefetch: number, priority: number, noAck: boolean): Consumer | undefined {
    if (this.byId.has(id)) return undefined;
    const c = new Consumer(id, prefetch, priority, noAck, this.nextSeq++);
    this.byId.set(id, c);
    let i = 0;
    while (i < this.groups.length && (this.groups[i] as PriorityGroup).priority > priority) i++;
    const g = this.groups[i];
    if (g !== undefined && g.priority === priority) {
      // Join the end of the rotation: just before the member whose turn is next.
      g.members.splice(g.cursor, 0, c);
      g.cursor++;
      if (g.cursor >= g.members.length) g.cursor = 0;
    } else {
      this.groups.splice(i, 0, { priority, members: [c], cursor: 0 });
    }
    return c;
  }

  remove(id: string): Consumer | undefined {
    const c = this.byId.get(id);
    if (c === undefined) return undefined;
    this.byId.delete(id);
    const gi = this.groups.findIndex((g) => g.priority === c.priority);
    const g = this.groups[gi] as PriorityGroup;
    const mi = g.members.indexOf(c);
    g.members.splice(mi, 1);
    if (mi < g.cursor) g.cursor--;
    if (g.cursor >= g.members.length) g.cursor = 0;
    if (g.members.length === 0) this.groups.splice(gi, 1);
    if (this.active === c) this.active = undefined;
    return c;
  }

  /** The consumer that gets the next message, advancing the rotation; undefined if nobody can take one. */
  pick(): Consumer | undefined {
    if (this.singleActive) {
      const a = this.active;
      return a !== undefined && a.hasCredit && this.desired() === a ? a : undefined;
    }
    for (const g of this.groups) {
      const n = g.members.length;
      for (let k = 0; k < n; k++) {
        const i = (g.cursor + k) % n;
        const c = g.members[i] as Consumer;
        if (c.hasCredit) {
          g.cursor = (i + 1) % n;
          return c;
        }
      }
    }
    return undefined;
  }

  /**
   * Single active consumer: hands over to the desired consumer when allowed, emitting
   * consumerActivated (into `effects` unless undefined). Call after any change to consumers or to the
   * active one's unacked count.
   */
  reconcile(effects: { push(e: ConsumerActivatedEffect): unknown } | undefined): void {
    if (!this.singleActive) return;
    const want = this.desired();
    if (want === this.active) return;
    if (this.active === undefined || this.active.unacked === 0) {
      this.active = want;
      if (want !== undefined) effects?.push({ kind: 'consumerActivated', consumerId: want.id });
    }
  }

  /** SAC: the consumer that should be active (highest priority, then earliest registered). */
  private desired(): Consumer | undefined {
    const g = this.groups[0];
    if (g === undefined) return undefined;
    let best = g.members[0] as Consumer;
    for (const c of g.members) if (c.seq < best.seq) best = c;
    return best;
  }

  clear(): Consumer[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    this.groups.length = 0;
    this.active = undefined;
    return all;
  }
}
