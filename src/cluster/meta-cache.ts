// A frontend's copy of the metadata state, fed by Meta.Watch events (docs/cluster-contracts.md
// "Watch"): a snapshot replaces the machine (MetaMachine.restore), each command entry is applied
// with the same machine the metadata group applied it with, and a command the machine refuses
// changes nothing here, exactly as in MetaGroupApp (one rule: src/meta/apply-entry.ts). Entries at or below the applied index are
// skipped, so a watcher that resumes on another owner (which may repeat some) applies each once.
// No I/O: the stream is src/cluster/meta-watcher.ts's.
import { applyCommand } from '../meta/apply-entry.js';
import { decodeMeta } from '../meta/codec.js';
import { MetaMachine, type MetaSnapshot } from '../meta/machine.js';
import { u64 } from '../partition/codec.js';
import type { warren } from '../proto/meta.js';
import { joinChunks } from './meta-tail.js';
import { vhostNameKey } from '../util/names.js';

export interface MetaCacheStats {
  snapshots: number;
  entries: number;
  /** Entries the machine refused (they changed nothing, as on the owners). */
  refused: number;
}

interface Waiter {
  readonly index: number;
  readonly resolve: () => void;
}

/**
 * How long after this cache created an exchange a publish that it routes nowhere may only mean the
 * exchange's bindings, made elsewhere a moment later, are not applied here yet (recentlyCreated).
 */
export const YOUNG_EXCHANGE_MS = 5_000;

export class MetaCache {
  readonly stats: MetaCacheStats = { snapshots: 0, entries: 0, refused: 0 };
  /** Exchanges created by entries applied here in the last YOUNG_EXCHANGE_MS: `vhost\0name` → when. */
  private readonly young = new Map<string, number>();
  private current: MetaMachine;
  private index = 0;
  /** A state has been received (from a snapshot): entries may be applied to it. */
  private hasState = false;
  private pending: Uint8Array[] = [];
  private waiters: Waiter[] = [];
  private readyCbs: Array<() => void> = [];
  private readonly appliedCbs: Array<(index: number) => void> = [];
  private isReady = false;

  constructor(machine: MetaMachine = new MetaMachine({ defaultUser: null }), private readonly now: () => number = Date.now) {
    this.current = machine;
  }

  /** Whether an entry applied here created the exchange within the last YOUNG_EXCHANGE_MS. */
  recentlyCreated(vhost: string, exchange: string): boolean {
    const at = this.young.get(vhostNameKey(vhost, exchange));
    return at !== undefined && this.now() - at < YOUNG_EXCHANGE_MS;
  }

  private noteYoung(vhost: string, exchange: string): void {
    const now = this.now();
    if (this.young.size >= 1_000) for (const [k, at] of this.young) if (now - at >= YOUNG_EXCHANGE_MS) this.young.delete(k);
    this.young.set(vhostNameKey(vhost, exchange), now);
  }

  get machine(): MetaMachine {
    return this.current;
  }

  /** The highest index reflected in `machine`. */
  get applied(): number {
    return this.index;
  }

  /** What a (re)connecting watcher asks for: after the applied index, or 0 (a snapshot) when it has no state. */
  get resumeFrom(): number {
    return this.hasState ? this.index : 0;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Calls `cb` once the first catch-up is done (a state, then a Progress). */
  onReady(cb: () => void): void {
    if (this.isReady) cb();
    else this.readyCbs.push(cb);
  }

  /** A new stream starts: a snapshot half received on the old one is dropped. */
  streamStarted(): void {
    this.pending = [];
  }

  /**
   * The state can no longer be trusted (an entry failed to apply with a non-AMQP error): the next
   * watch starts from a snapshot. The old machine keeps answering reads meanwhile.
   */
  invalidate(): void {
    this.hasState = false;
    this.pending = [];
  }

  /**
   * Applies one Watch event. Returns true on a Progress received with a state (the cache is as
   * current as the serving owner).
   */
  onEvent(ev: warren.v1.WatchEvent): boolean {
    switch (ev.kind) {
      case 'snapshotChunk':
        this.pending.push(ev.snapshotChunk!.data ?? new Uint8Array(0));
        return false;
      case 'snapshotDone': {
        const at = u64(ev.snapshotDone!.index);
        const data = joinChunks(this.pending);
        this.pending = [];
        // An owner behind this cache (it resumed on a lagging one) would take it backwards.
        if (this.hasState && at < this.index) return false;
        this.current = MetaMachine.restore(decodeMeta<MetaSnapshot>(data));
        this.hasState = true;
        this.stats.snapshots++;
        this.advance(at);
        return false;
      }
      case 'entries':
        if (!this.hasState) return false; // cannot happen from a conforming owner: a watch from 0 starts with a snapshot
        for (const e of ev.entries!.entries ?? []) this.applyEntry(u64(e.index), e.command ?? new Uint8Array(0));
        return false;
      case 'progress':
        if (!this.hasState) return false;
        this.advance(u64(ev.progress!.appliedIndex));
        if (!this.isReady) {
          this.isReady = true;
          for (const cb of this.readyCbs.splice(0)) cb();
        }
        return true;
      default:
        return false; // placement and session events: not followed here yet
    }
  }

  /** Calls `cb` with the new applied index every time it advances. */
  onApplied(cb: (index: number) => void): void {
    this.appliedCbs.push(cb);
  }

  /** Resolves once the machine reflects `index` (at once if it does). */
  waitFor(index: number): Promise<void> {
    if (this.index >= index) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }

  /** Resolves every waiter (the backend is closing; they are told by their own deadline otherwise). */
  releaseWaiters(): void {
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private applyEntry(index: number, command: Uint8Array): void {
    if (index <= this.index) return;
    const outcome = applyCommand(this.current, command);
    if (outcome.kind !== 'applied') this.stats.refused++;
    else if (outcome.command.type === 'exchange.declare' && outcome.result.created === true) this.noteYoung(outcome.command.vhost, outcome.command.name);
    this.stats.entries++;
    this.advance(index);
  }

  private advance(index: number): void {
    if (index <= this.index) return;
    this.index = index;
    for (const cb of this.appliedCbs) cb(index);
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.index <= index) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
