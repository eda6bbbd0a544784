// The in-memory state of a partition machine and the per-call write context. Everything here is
// either written to keys by the apply that changes it or rebuilt from keys by recover.ts.
import { warren } from '../proto/partition.js';
import { dedupeKey, PARTITION_KEY, queueKey, queueStateKey } from './keys.js';
import type { ApplyCtx, PartitionQueue } from './queue.js';
import type { WriteSet } from './writes.js';
import { vhostNameKey } from '../util/names.js';

const pb = warren.v1;

export class PartitionState {
  readonly queues = new Map<number, PartitionQueue>();
  /** "vhost\0name" → queue id. */
  readonly byName = new Map<string, number>();
  /** Publisher session → highest enqueue seq applied. */
  readonly dedupe = new Map<string, number>();
  nextQueueId = 1;
  /** The largest nowMs applied; every queue command runs at this time. */
  clockMs = 0;
  /** Last qstate bytes written per queue, so an unchanged state costs no put. */
  readonly writtenStates = new Map<number, Uint8Array>();
  private writtenMeta = { nextQueueId: 1, clockMs: 0 };

  static nameKey(vhost: string, name: string): string {
    return vhostNameKey(vhost, name);
  }

  add(q: PartitionQueue): void {
    this.queues.set(q.id, q);
    this.byName.set(PartitionState.nameKey(q.meta.vhost, q.meta.name), q.id);
  }

  remove(q: PartitionQueue, writes: WriteSet): void {
    this.queues.delete(q.id);
    this.byName.delete(PartitionState.nameKey(q.meta.vhost, q.meta.name));
    this.writtenStates.delete(q.id);
    writes.del(queueStateKey(q.id));
    writes.del(queueKey(q.id));
  }

  /** The clock after a command stamped nowMs (0 = no time). */
  advance(nowMs: number): number {
    if (nowMs > this.clockMs) this.clockMs = nowMs;
    return this.clockMs;
  }

  /** After loading from keys: what is stored now counts as written. */
  markLoaded(states: ReadonlyMap<number, Uint8Array>): void {
    for (const [id, s] of states) this.writtenStates.set(id, s);
    this.writtenMeta = { nextQueueId: this.nextQueueId, clockMs: this.clockMs };
  }

  /** Writes what the call changed outside message keys: queue states, dedupe entries, m/partition. */
  flushMeta(ctx: MachineCtx): void {
    for (const q of ctx.dirtyQueues) {
      if (!this.queues.has(q.id)) continue; // deleted in this call
      const bytes = q.encodeState();
      const old = this.writtenStates.get(q.id);
      if (old !== undefined && bytesEqual(old, bytes)) continue;
      this.writtenStates.set(q.id, bytes);
      ctx.writes.put(queueStateKey(q.id), bytes);
    }
    for (const s of ctx.dirtySessions) {
      const seq = this.dedupe.get(s);
      if (seq === undefined) ctx.writes.del(dedupeKey(s));
      else ctx.writes.put(dedupeKey(s), pb.DedupeRecord.encode({ seq }).finish());
    }
    const m = this.writtenMeta;
    if (m.nextQueueId !== this.nextQueueId || m.clockMs !== this.clockMs) {
      this.writtenMeta = { nextQueueId: this.nextQueueId, clockMs: this.clockMs };
      ctx.writes.put(PARTITION_KEY, pb.PartitionRecord.encode(this.writtenMeta).finish());
    }
  }
}

/** The write context of one apply() call. */
export interface MachineCtx extends ApplyCtx {
  readonly dirtyQueues: Set<PartitionQueue>;
  readonly dirtySessions: Set<string>;
  /** Command results are wanted (ApplyOptions.results); when not, applyCommand's are placeholders. */
  readonly results: boolean;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
