// The partition machine: the deterministic application of one partition's Raft group, hosting the
// queue machines of the queues placed in the partition (DESIGN.md §5, docs/partitions.md).
//
// apply(entries, batch) → { results, effects }: each entry is a PartitionBatch of commands applied in
// order; results go back to proposers, effects are carried out by the leader only. Pure: no I/O
// but the ApplyBatch it is handed, no clock (time arrives as nowMs in commands), no timers.
//
// Keys vs memory (the contract recover() relies on; see keys.ts for the layout):
//   keys    queue records and arguments; per queue its state (x-expires use, next msg id, the
//           consumers with their credit, rotation and single-active-consumer choice, dead-letter
//           sequence); every message's record (exchange, routing key, raw header, body, priority,
//           TTL, enqueue time: the Enqueue as proposed); a state key per message that is not
//           "ready, never delivered" (delivery count, redelivered, holder, dead-letter in flight);
//           the deduplication table; the partition clock and next queue id.
//   memory  indexes rebuilt from those keys: per queue its ready list (msg id, size, priority,
//           expiry, delivery count, redelivered), checked-out messages, consumers, in-flight
//           dead-letters; never bodies or headers.
// Why consumers are in the keys: a snapshot or a restarted replica must continue with exactly the
// state the others have; if a recovered replica forgot consumers, the next settle or delivery would
// write different keys on it than on the leader, and the replicas would drift apart for good.
// Consumers of a frontend that died with the cluster are cancelled by a sessionDown command
// (proposed by the leader), which returns their messages as redelivered.
//
// Writes: all key writes of one apply() call are coalesced (writes.ts) and handed to the batch at
// its end; the driver commits them atomically with the applied index, without an fsync of their
// own (the Raft log holds the entries until then).
import type { AppReader, ApplyBatch } from '../raft/node/app.js';
import { decodeBatch } from './codec.js';
import { applyCommand } from './commands.js';
import { recordKey } from './keys.js';
import { splitOwnerId, type PartitionQueue, type RecordRead } from './queue.js';
import { loadState } from './recover.js';
import { PartitionState, type MachineCtx } from './state.js';
import type { ApplyOutput, CommandResult, PartitionCommand, PartitionEffect } from './types.js';
import { WriteSet } from './writes.js';

export interface PartitionMachineOptions {
  /** Report stored messages and their outcomes in ApplyOutput (invariant checks; not for production). */
  readonly trackOutcomes?: boolean;
}

export interface ApplyOptions {
  /**
   * Build effects (default true). A follower, which drops them, passes false: ApplyOutput's effects
   * are then empty, and nobody pays for them (they are per message).
   */
  readonly effects?: boolean;
  /**
   * Read the records that noAck deliveries need but this call deletes (default true). A follower,
   * which drops effects, passes false. basic.get results always get their record.
   */
  readonly readRecords?: boolean;
  /**
   * Build command results (default true). false when no proposer can be waiting for any of these
   * entries: ApplyOutput's results are then an empty list per entry, and a basic.get reads no record.
   */
  readonly results?: boolean;
}

const NO_RESULTS: readonly CommandResult[] = [];

/** One entry to apply: its data (an encoded PartitionBatch; empty = no-op) or its commands. */
export type EntryInput = Uint8Array | readonly PartitionCommand[];

export interface CheckedOutView {
  readonly msgId: number;
  readonly session: string;
  readonly consumer: string;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
}

export interface QueueView {
  readonly id: number;
  readonly vhost: string;
  readonly name: string;
  /** The declare arguments as an encoded field table. */
  readonly arguments: Uint8Array;
  readonly declaredAtMs: number;
  readonly messageCount: number;
  readonly unackedCount: number;
  readonly consumerCount: number;
  /** Body bytes of ready + checked-out messages. */
  readonly bytes: number;
  readonly readyBytes: number;
  /** Dead-lettered messages whose copies are not confirmed yet (their records are still stored). */
  readonly deadLetterCount: number;
  readonly nextDeadlineMs: number | undefined;
}

export class PartitionMachine {
  private state = new PartitionState();

  constructor(private readonly opts: PartitionMachineOptions = {}) {}

  /** Replaces the in-memory state with the one stored under `store`'s keys. */
  async recover(store: AppReader): Promise<void> {
    this.state = await loadState(store);
  }

  /**
   * Applies entries in order; writes go into `batch`. Synchronous unless records must be read
   * (noAck deliveries of stored messages, basic.get), then the promise resolves once they are.
   * Throws only on a broken invariant or undecodable entry (fatal for the group).
   */
  apply(entries: readonly EntryInput[], batch: ApplyBatch, opts: ApplyOptions = {}): ApplyOutput | Promise<ApplyOutput> {
    const track = this.opts.trackOutcomes === true;
    const ctx: MachineCtx = {
      writes: new WriteSet(), effects: opts.effects === false ? undefined : [], coreEffects: [], reads: [],
      outcomes: track ? [] : undefined, stored: track ? [] : undefined,
      autoAcked: new Map(), record: undefined, storedId: 0, dirtyQueues: new Set(), dirtySessions: new Set(),
      results: opts.results !== false,
    };
    const results: (readonly CommandResult[])[] = [];
    for (const e of entries) {
      const commands = e instanceof Uint8Array ? decodeBatch(e) : e;
      const out: CommandResult[] | undefined = ctx.results ? [] : undefined;
      for (const c of commands) {
        const r = applyCommand(this.state, c, ctx);
        out?.push(r);
        // Map.clear() allocates a new table even when empty, and this runs per command.
        if (ctx.autoAcked.size > 0) ctx.autoAcked.clear();
      }
      results.push(out ?? NO_RESULTS);
    }
    this.state.flushMeta(ctx);
    const output: ApplyOutput = { results, effects: ctx.effects ?? [], stored: ctx.stored ?? [], outcomes: ctx.outcomes ?? [] };
    const reads = opts.readRecords === false ? ctx.reads.filter((r) => r.forResult) : ctx.reads;
    if (reads.length === 0) {
      ctx.writes.flush(batch);
      return output;
    }
    return this.readThenFlush(reads, ctx.writes, batch).then(() => output);
  }

  /** The batch does not hold this call's deletes yet, so the records are still there. */
  private async readThenFlush(reads: readonly RecordRead[], writes: WriteSet, batch: ApplyBatch): Promise<void> {
    for (const r of reads) r.fill(await batch.get(recordKey(r.queue, r.msgId)));
    writes.flush(batch);
  }

  /**
   * What a new leader must (re)do, from replicated state alone (Ra's state_enter): deliveries of
   * every message checked out to a consumer — live, or cancelled since (its frontend may never
   * have got it: the old leader can die between the apply and the hand-over, or before a refused
   * delivery's return committed) — which the frontend drops when it has them (by queue, msgId and
   * delivery count) and returns when the consumer is gone there; every dead-letter in flight (in
   * seq order per queue), the active consumer of single-active-consumer queues, and queues whose
   * x-expires fired. Messages held by basic.get are not re-sent (the getter's answer went to its
   * proposer). Records are not attached.
   */
  resumeEffects(): PartitionEffect[] {
    const effects: PartitionEffect[] = [];
    for (const q of this.state.queues.values()) {
      const held = [...q.core.unackedMessages()].sort((a, b) => a.msgId - b.msgId);
      for (const e of held) {
        if (e.ownerSeq === undefined) continue;
        const [session, consumer] = splitOwnerId(e.ownerId);
        effects.push({
          kind: 'deliver', queue: q.id, session, consumer, msgId: e.msgId, redelivered: e.redelivered,
          deliveryCount: e.deliveryCount, noAck: false, record: undefined,
        });
      }
      const pending = [...q.deadLetters].sort((a, b) => a[1].seq - b[1].seq);
      for (const [msgId, p] of pending) effects.push(q.deadLetterEffect(msgId, p, undefined));
      const active = q.core.activeConsumerId;
      if (active !== undefined) {
        const [session, consumer] = splitOwnerId(active);
        effects.push({ kind: 'consumerActivated', queue: q.id, session, consumer });
      }
      if (q.core.exportState().expiredSignalled) {
        effects.push({ kind: 'queueExpired', queue: q.id, vhost: q.meta.vhost, name: q.meta.name });
      }
    }
    return effects;
  }

  // ---- read-only views ----------------------------------------------------------------------

  /** The partition clock: the largest nowMs applied. */
  get clockMs(): number { return this.state.clockMs; }

  queueId(vhost: string, name: string): number | undefined {
    return this.state.byName.get(PartitionState.nameKey(vhost, name));
  }

  queueIds(): number[] {
    return [...this.state.queues.keys()];
  }

  queue(id: number): QueueView | undefined {
    const q = this.state.queues.get(id);
    if (q === undefined) return undefined;
    const c = q.core;
    return {
      id, vhost: q.meta.vhost, name: q.meta.name, arguments: q.meta.arguments, declaredAtMs: q.meta.declaredAtMs,
      messageCount: c.messageCount, unackedCount: c.unackedCount, consumerCount: c.consumerCount, bytes: c.bytes,
      readyBytes: c.readyBytes, deadLetterCount: q.deadLetters.size, nextDeadlineMs: c.nextDeadlineMs(),
    };
  }

  /**
   * Whether the queue has consumers and more than `readyAbove` ready messages (they are not keeping
   * up): what a publisher's flow check needs, without building a QueueView per message.
   */
  backlogged(id: number, readyAbove: number): boolean {
    const c = this.state.queues.get(id)?.core;
    return c !== undefined && c.messageCount > readyAbove && c.consumerCount > 0;
  }

  /** Ready message ids in delivery order. */
  readyIds(queue: number): number[] {
    return [...(this.mustQueue(queue).core.readyMessages())].map((e) => e.msgId);
  }

  /** Ready messages with their delivery state, in delivery order. */
  readyMessages(queue: number): { msgId: number; deliveryCount: number; redelivered: boolean; bytes: number }[] {
    return [...this.mustQueue(queue).core.readyMessages()].map((e) => ({
      msgId: e.msgId, deliveryCount: e.deliveryCount, redelivered: e.redelivered, bytes: e.bytes,
    }));
  }

  /** Checked-out messages, by msgId. */
  checkedOut(queue: number): CheckedOutView[] {
    const out: CheckedOutView[] = [];
    for (const e of this.mustQueue(queue).core.unackedMessages()) {
      const [session, consumer] = splitOwnerId(e.ownerId);
      out.push({ msgId: e.msgId, session, consumer, deliveryCount: e.deliveryCount, redelivered: e.redelivered });
    }
    return out.sort((a, b) => a.msgId - b.msgId);
  }

  /** Message ids of in-flight dead-letters, ascending. */
  deadLetterIds(queue: number): number[] {
    return [...this.mustQueue(queue).deadLetters.keys()].sort((a, b) => a - b);
  }

  /** Live consumers of a queue as "session\0consumer". */
  consumerIds(queue: number): string[] {
    return this.mustQueue(queue).core.exportState().consumers.consumers.map((c) => c.id);
  }

  /** When the leader should propose the next tick; undefined when nothing is pending. */
  nextDeadlineMs(): number | undefined {
    let t: number | undefined;
    for (const q of this.state.queues.values()) {
      const d = q.core.nextDeadlineMs();
      if (d !== undefined && (t === undefined || d < t)) t = d;
    }
    return t;
  }

  /** Highest enqueue seq applied for a publisher session (0 if none). */
  dedupeSeq(session: string): number {
    return this.state.dedupe.get(session) ?? 0;
  }

  private mustQueue(id: number): PartitionQueue {
    const q = this.state.queues.get(id);
    if (q === undefined) throw new Error(`partition: no queue ${id}`);
    return q;
  }
}
