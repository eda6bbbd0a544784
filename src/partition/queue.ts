// One queue hosted by a partition: the pure QueueCore over message stubs, plus the observer that
// keeps the queue's keys in step with it (docs/partitions.md "Keys and memory").
//
// In memory per message: a stub (body size, priority, absolute expiry) inside the core's entry
// (msg id, delivery count, redelivered, holder). The body, header, exchange and routing key are only
// in the record key, written when the message is stored and deleted when it ends. A message's
// state key holds what differs from "ready, never delivered": delivery count, redelivered, holder,
// and the dead-letter in flight.
import { warren } from '../proto/partition.js';
import { QueueCore } from '../queue/machine.js';
import type {
  DeadLetterReason, Effect, MessageEnd, MessageModel, MessageObserver, MessageView, QueueArgs, QueueCommand, QueueCoreState,
  QueueReply, RestoredMessage,
} from '../queue/types.js';
import type { MessageRecord } from './codec.js';
import type { WriteSet } from './writes.js';
import type { MessageOutcome, PartitionEffect } from './types.js';

const pb = warren.v1;

/** What the core holds per message. */
export interface Stub {
  readonly bytes: number;
  readonly priority: number | undefined;
  readonly expiresAtMs: number;
}

/**
 * The last stub made: stubs are immutable, so consecutive messages of one size, priority and expiry
 * (most of a stream: one body size, no TTL) share one instead of allocating one each, on every
 * replica, and ready messages hold less memory.
 */
let lastStub: Stub = { bytes: 0, priority: undefined, expiresAtMs: Infinity };

/** The message's TTL counts from its enqueue command's nowMs, so a rebuild from keys is exact. */
export function stubOf(rec: MessageRecord, args: QueueArgs): Stub {
  const q = args.messageTtlMs;
  const own = rec.expirationMs;
  const ttl = q === undefined ? own : own === undefined ? q : Math.min(q, own);
  const bytes = rec.body.byteLength;
  const expiresAtMs = ttl === undefined ? Infinity : rec.nowMs + ttl;
  const last = lastStub;
  if (last.bytes === bytes && last.priority === rec.priority && last.expiresAtMs === expiresAtMs) return last;
  lastStub = { bytes, priority: rec.priority, expiresAtMs };
  return lastStub;
}

const stubModel: MessageModel<Stub> = {
  bodyBytes: (m) => m.bytes,
  priority: (m) => m.priority,
  expiresAtMs: (m) => m.expiresAtMs,
  // The rewrite happens when the leader carries out the effect, from the stored record.
  deadLetter: (m, args) => ({ message: m, exchange: args.deadLetterExchange ?? '', routingKey: args.deadLetterRoutingKey ?? '' }),
};

/** The consumer/getter id inside the core: session and consumer joined by NUL. */
export const ownerId = (session: string, consumer: string): string => `${session}\0${consumer}`;

export function splitOwnerId(id: string): [session: string, consumer: string] {
  const i = id.indexOf('\0');
  return [id.slice(0, i), id.slice(i + 1)];
}

export interface QueueMeta {
  readonly id: number;
  readonly vhost: string;
  readonly name: string;
  /** The declare arguments as proposed (encoded field table). */
  readonly arguments: Uint8Array;
  readonly declaredAtMs: number;
  readonly args: QueueArgs;
}

/** A dead-lettered message whose copy the targets have not confirmed yet; its record stays. */
export interface PendingDeadLetter {
  readonly reason: DeadLetterReason;
  readonly atMs: number;
  readonly seq: number;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
}

/** A read of a record from the store, done at the end of apply() before any delete reaches it. */
export interface RecordRead {
  readonly queue: number;
  readonly msgId: number;
  /** A command result needs it (always read); else only an effect does (leader only). */
  readonly forResult: boolean;
  readonly fill: (record: Uint8Array | undefined) => void;
}

/** Where a queue's observer writes during one apply() call. */
export interface ApplyCtx {
  readonly writes: WriteSet;
  /** undefined: the caller drops effects (a follower); none are built, nor records read for them. */
  readonly effects: PartitionEffect[] | undefined;
  /**
   * The queue cores' effects of the whole call, each command's translated as it ends: one list per
   * call, as a list per command would reserve 17 slots on its first push (per message, on a leader).
   */
  readonly coreEffects: Effect<Stub>[];
  readonly reads: RecordRead[];
  readonly outcomes: MessageOutcome[] | undefined;
  readonly stored: { queue: number; msgId: number }[] | undefined;
  /** "queue:msgId" of messages auto-acked by the current command → their record if at hand. */
  readonly autoAcked: Map<string, Uint8Array | undefined>;
  /** The record of the enqueue being applied. */
  record: Uint8Array | undefined;
  /** The id the current enqueue got in this queue (0 when refused). */
  storedId: number;
}

/**
 * The last state record encoded without a pending dead-letter: every message a consumer takes gets
 * the same one (same holder, incarnation and count), so a run of deliveries shares its bytes
 * instead of encoding the holder's id once per message on every replica. Values are never modified
 * once handed to a batch (ApplyBatch's contract), so sharing them is safe.
 */
let lastState: { deliveryCount: number; redelivered: boolean; owner: string; ownerSeq: number; bytes: Uint8Array } | undefined;

export function encodeMessageState(m: MessageView<unknown>, pending?: PendingDeadLetter): Uint8Array {
  const seq = m.ownerSeq;
  const ownerSeq = seq === undefined ? 0 : seq + 1;
  const owner = m.ownerId;
  const last = lastState;
  if (pending === undefined && last !== undefined && last.deliveryCount === m.deliveryCount
    && last.redelivered === m.redelivered && last.owner === owner && last.ownerSeq === ownerSeq) return last.bytes;
  const p: warren.v1.MessageStateRecord.$Properties = { deliveryCount: m.deliveryCount, redelivered: m.redelivered, owner, ownerSeq };
  if (pending !== undefined) {
    p.deadLetterReason = pending.reason;
    p.deadLetteredAtMs = pending.atMs;
    p.deadLetterSeq = pending.seq;
  }
  const bytes = pb.MessageStateRecord.encode(p).finish();
  if (pending === undefined) lastState = { deliveryCount: m.deliveryCount, redelivered: m.redelivered, owner, ownerSeq, bytes };
  return bytes;
}

export class PartitionQueue implements MessageObserver<Stub> {
  readonly deadLetters = new Map<number, PendingDeadLetter>();
  nextDeadLetterSeq = 1;
  private current: ApplyCtx | undefined;
  readonly core: QueueCore<Stub>;

  constructor(readonly meta: QueueMeta, nowMs: number, restored?: {
    readonly state: QueueCoreState;
    readonly messages: Iterable<RestoredMessage<Stub>>;
    readonly deadLetters: Iterable<readonly [number, PendingDeadLetter]>;
    readonly nextDeadLetterSeq: number;
  }) {
    if (restored === undefined) {
      this.core = new QueueCore(meta.name, meta.args, nowMs, stubModel, this);
      return;
    }
    this.core = QueueCore.restore(meta.name, meta.args, stubModel, restored.state, restored.messages, this);
    for (const [id, p] of restored.deadLetters) this.deadLetters.set(id, p);
    this.nextDeadLetterSeq = restored.nextDeadLetterSeq;
  }

  get id(): number { return this.meta.id; }

  /**
   * Applies a core command with the observer writing into `ctx`, then translates its effects there.
   * (Not a callback taking helper: this runs several times per message on every replica.)
   */
  applyCore(ctx: ApplyCtx, cmd: QueueCommand<Stub>): QueueReply<Stub> {
    this.current = ctx;
    try {
      if (ctx.effects === undefined) return this.core.applyInto(cmd, undefined);
      const from = ctx.coreEffects.length;
      const reply = this.core.applyInto(cmd, ctx.coreEffects);
      this.translate(ctx.coreEffects, from, ctx.effects, ctx);
      return reply;
    } finally {
      this.current = undefined;
    }
  }

  private get ctx(): ApplyCtx {
    const c = this.current;
    if (c === undefined) throw new Error(`partition: queue ${this.meta.id} changed outside apply()`);
    return c;
  }

  // ---- MessageObserver: keys follow the core ------------------------------------------------

  stored(m: MessageView<Stub>): void {
    const ctx = this.ctx;
    if (ctx.record === undefined) throw new Error('partition: a message was stored outside an enqueue');
    ctx.writes.putRecord(this.id, m.msgId, ctx.record);
    ctx.storedId = m.msgId;
    ctx.stored?.push({ queue: this.id, msgId: m.msgId });
  }

  checkedOut(m: MessageView<Stub>): void {
    // A message goes back to ready only returned (redelivered, counted), so one never delivered nor
    // returned is checked out for the first time: it has no state key yet (restored ones included:
    // a ready message keeps a state key only as redelivered). Fresh: settled before the driver writes
    // it, neither the put nor its delete reaches the store.
    this.ctx.writes.putState(this.id, m.msgId, encodeMessageState(m), m.deliveryCount === 0 && !m.redelivered);
  }

  requeued(m: MessageView<Stub>): void {
    this.ctx.writes.putState(this.id, m.msgId, encodeMessageState(m));
  }

  ended(m: MessageView<Stub>, end: MessageEnd, reason?: DeadLetterReason): void {
    const ctx = this.ctx;
    ctx.outcomes?.push({ queue: this.id, msgId: m.msgId, end, reason });
    if (end === 'deadLettered') {
      this.startDeadLetter(m, reason ?? 'rejected', ctx);
      return;
    }
    if (end === 'autoAcked') {
      // The delivery or get needs the body, and this call deletes it: keep it at hand or read it first.
      const v = ctx.writes.recordValue(this.id, m.msgId);
      ctx.autoAcked.set(`${this.id}:${m.msgId}`, v ?? undefined);
    }
    ctx.writes.delRecord(this.id, m.msgId);
    ctx.writes.delState(this.id, m.msgId);
  }

  private startDeadLetter(m: MessageView<Stub>, reason: DeadLetterReason, ctx: ApplyCtx): void {
    const p: PendingDeadLetter = {
      reason, atMs: this.core.nowMs, seq: this.nextDeadLetterSeq++, deliveryCount: m.deliveryCount, redelivered: m.redelivered,
    };
    this.deadLetters.set(m.msgId, p);
    ctx.writes.putState(this.id, m.msgId, encodeMessageState(m, p));
    ctx.effects?.push(this.deadLetterEffect(m.msgId, p, ctx.writes.recordValue(this.id, m.msgId) ?? undefined));
  }

  deadLetterEffect(msgId: number, p: PendingDeadLetter, record: Uint8Array | undefined): PartitionEffect {
    const { args, vhost, name } = this.meta;
    return {
      kind: 'deadLetter', queue: this.id, vhost, queueName: name, msgId, seq: p.seq, reason: p.reason, atMs: p.atMs,
      exchange: args.deadLetterExchange ?? '', routingKey: args.deadLetterRoutingKey, record,
    };
  }

  /** The target partitions have the copies: forget the sources. Unknown ids are ignored. */
  deadLettered(msgIds: readonly number[], ctx: ApplyCtx): void {
    for (const id of msgIds) {
      if (!this.deadLetters.delete(id)) continue;
      ctx.writes.delRecord(this.id, id);
      ctx.writes.delState(this.id, id);
    }
  }

  /** Queue deleted: its in-flight dead-letters go too (their outcome was already told). */
  dropDeadLetters(ctx: ApplyCtx): void {
    this.deadLettered([...this.deadLetters.keys()], ctx);
  }

  // ---- core effects → partition effects -------------------------------------------------------

  /** The last owner id split (a run of deliveries goes to one consumer: split once, per leader). */
  private lastOwner: { readonly id: string; readonly split: readonly [session: string, consumer: string] } | undefined;

  private ownerOf(id: string): readonly [session: string, consumer: string] {
    const last = this.lastOwner;
    if (last !== undefined && last.id === id) return last.split;
    const split = splitOwnerId(id);
    this.lastOwner = { id, split };
    return split;
  }

  /** Translates effects[from..]. */
  private translate(effects: readonly Effect<Stub>[], from: number, out: PartitionEffect[], ctx: ApplyCtx): void {
    for (let i = from; i < effects.length; i++) {
      const e = effects[i]!;
      switch (e.kind) {
        case 'deliver': out.push(this.delivery(e.consumerId, e.msgId, e.redelivered, e.deliveryCount, ctx)); break;
        case 'deadLetter': break; // told by the observer, with the message's id
        case 'consumerCancelled': case 'consumerActivated': {
          const [session, consumer] = splitOwnerId(e.consumerId);
          out.push({ kind: e.kind, queue: this.id, session, consumer });
          break;
        }
        case 'queueExpired':
          out.push({ kind: 'queueExpired', queue: this.id, vhost: this.meta.vhost, name: this.meta.name });
          break;
        default: {
          const never: never = e;
          throw new Error(`partition: unknown queue effect ${JSON.stringify(never)}`);
        }
      }
    }
  }

  private delivery(id: string, msgId: number, redelivered: boolean, deliveryCount: number, ctx: ApplyCtx): PartitionEffect {
    const [session, consumer] = this.ownerOf(id);
    // The lookup key only when this command auto-acked anything (most consumers ack).
    const key = ctx.autoAcked.size === 0 ? undefined : `${this.id}:${msgId}`;
    const noAck = key !== undefined && ctx.autoAcked.has(key);
    const record = noAck ? ctx.autoAcked.get(key) : ctx.writes.recordValue(this.id, msgId) ?? undefined;
    const eff = { kind: 'deliver' as const, queue: this.id, session, consumer, msgId, redelivered, deliveryCount, noAck, record };
    if (noAck && record === undefined) ctx.reads.push({ queue: this.id, msgId, forResult: false, fill: (r) => { eff.record = r; } });
    return eff;
  }

  // ---- stored state ---------------------------------------------------------------------------

  /** m/qstate/<id>: everything of the queue but its messages. */
  encodeState(): Uint8Array {
    const s = this.core.exportState();
    return pb.QueueStateRecord.encode({
      lastUsedMs: s.lastUsedMs, expiredSignalled: s.expiredSignalled, nextMsgId: s.nextMsgId,
      nextDeadLetterSeq: this.nextDeadLetterSeq,
      consumers: s.consumers.consumers.map((c) => ({
        id: c.id, prefetch: c.prefetch, priority: c.priority, noAck: c.noAck, seq: c.seq, paused: c.paused,
      })),
      groups: s.consumers.groups.map((g) => ({ priority: g.priority, members: [...g.members], cursor: g.cursor })),
      nextConsumerSeq: s.consumers.nextSeq,
      activeConsumer: s.consumers.activeId ?? '',
    }).finish();
  }
}
