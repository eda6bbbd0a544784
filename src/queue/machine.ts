// The deterministic queue state machine (DESIGN.md §5; Ra's ra_machine pattern):
// apply(command) → { reply, effects }. No I/O, no timers, no clock, no randomness: time enters only
// through the nowMs of commands, and the machine's clock is the largest nowMs applied so far, so
// the same command sequence yields the same state and effects on every replica.
//
// Ownership: a message is either ready (in `ready`, in delivery order) or checked out (in
// `unacked`, keyed by msgId, held by one consumer or getter id) until settled, returned or
// discarded. noAck deliveries are forgotten once delivered. msgIds are assigned here, 1, 2, 3, ...
//
// After every apply: either no ready message exists or no consumer can take one (has credit and,
// with single active consumer, is the active one). Every command that frees credit or adds
// messages ends by draining ready messages to consumers.
//
// QueueCore<M> is generic in what it holds per message (MessageModel<M>); an optional
// MessageObserver hears every change to a message's life, and exportState()/restore() rebuild a
// machine exactly (src/partition keeps bodies in its store and uses all three). QueueMachine is
// the in-memory flavour holding whole QueueMessages.

import { parseExpirationMs } from './args.js';
import { ConsumerSet, type Consumer } from './consumers.js';
import { deadLetter } from './deadletter.js';
import { Entry, ReadyList } from './ready.js';
import type {
  CheckoutCmd, DeadLetterReason, MessageProperties, DeleteCmd, Effect, EnqueueCmd, EnqueueReply, GetCmd, GetReply, MessageModel,
  MessageObserver, PurgeCmd, QueueArgs, QueueCommand, QueueCoreState, QueueMessage, QueueReply, QueueResult,
  RestoredMessage,
} from './types.js';

/**
 * The model of whole messages in memory (properties of type P: the codec's BasicProperties in the
 * broker), dead-lettered with RabbitMQ's x-death rewrite.
 */
export function wholeMessageModel<P extends MessageProperties>(): MessageModel<QueueMessage<P>> {
  return {
    bodyBytes: (m) => m.body.byteLength,
    priority: (m) => m.properties.priority,
    expiresAtMs(m, args, clockMs) {
      const q = args.messageTtlMs;
      const own = parseExpirationMs(m.properties.expiration);
      const ttl = q === undefined ? own : own === undefined ? q : Math.min(q, own);
      return ttl === undefined ? Infinity : clockMs + ttl;
    },
    deadLetter: (m, args, input) => deadLetter(m, args, input),
  };
}

/** QueueMachine's model. */
export const queueMessageModel: MessageModel<QueueMessage> = wholeMessageModel<MessageProperties>();

/** Where a command's effects go; undefined: nowhere, and none are built. */
type Effects<M> = Effect<M>[] | undefined;

export class QueueCore<M> {
  private readonly ready: ReadyList<Entry<M>>;
  private readonly unacked = new Map<number, Entry<M>>();
  private consumers: ConsumerSet;
  private nextMsgId = 1;
  private clockMs: number;
  private unackedBytes = 0;
  /** Last use for x-expires: creation, redeclare, basic.get, consume, last consumer gone. */
  private lastUsedMs: number;
  private expiredSignalled = false;
  /** Scratch list for expired heads (reused: this is the hot path). */
  private readonly expiredScratch: Entry<M>[] = [];

  constructor(
    readonly name: string,
    readonly args: QueueArgs,
    nowMs: number,
    private readonly model: MessageModel<M>,
    private readonly observer?: MessageObserver<M>,
  ) {
    this.ready = new ReadyList(args.maxPriority);
    this.consumers = new ConsumerSet(args.singleActiveConsumer);
    this.clockMs = nowMs;
    this.lastUsedMs = nowMs;
  }

  // ---- read-only views ----------------------------------------------------------------------

  /** Ready messages (queue.declare-ok / basic.get-ok message-count). */
  get messageCount(): number { return this.ready.count; }
  get consumerCount(): number { return this.consumers.size; }
  get unackedCount(): number { return this.unacked.size; }
  /** Body bytes of ready + unacked messages. */
  get bytes(): number { return this.ready.bytes + this.unackedBytes; }
  get readyBytes(): number { return this.ready.bytes; }
  /** queue.delete if-unused: no consumers. */
  get isUnused(): boolean { return this.consumers.size === 0; }
  get isEmpty(): boolean { return this.ready.count === 0; }
  /** Single active consumer: the current one. */
  get activeConsumerId(): string | undefined { return this.consumers.activeId; }
  /** The machine's clock: the largest nowMs applied. */
  get nowMs(): number { return this.clockMs; }
  /** The id the next enqueued message gets. */
  get nextId(): number { return this.nextMsgId; }

  /** Ready messages in delivery order (highest priority first, then by msgId). */
  readyMessages(): Iterable<Entry<M>> { return this.ready; }
  /** Checked-out messages (no particular order). */
  unackedMessages(): Iterable<Entry<M>> { return this.unacked.values(); }
  /** Ids of live consumers and of every holder of a checked-out message. */
  ownerIds(): Set<string> {
    const ids = new Set<string>();
    for (const c of this.consumers.list()) ids.add(c.id);
    for (const e of this.unacked.values()) ids.add(e.ownerId);
    return ids;
  }

  // ---- export / restore ---------------------------------------------------------------------

  /** Everything but the messages; with the messages (RestoredMessage) it rebuilds this machine exactly. */
  exportState(): QueueCoreState {
    return {
      clockMs: this.clockMs,
      lastUsedMs: this.lastUsedMs,
      expiredSignalled: this.expiredSignalled,
      nextMsgId: this.nextMsgId,
      consumers: this.consumers.exportState(),
    };
  }

  /**
   * A machine in the state exportState() described, holding `messages` (ascending msgId; ready
   * ones go back in that order, checked-out ones to their owner). Not told to the observer.
   * Expiry is computed again by the model at the restored clock, so the rebuild is exact only for
   * models whose expiresAtMs ignores clockMs (the partition's stubs carry their enqueue time).
   */
  static restore<M>(
    name: string, args: QueueArgs, model: MessageModel<M>, state: QueueCoreState,
    messages: Iterable<RestoredMessage<M>>, observer?: MessageObserver<M>,
  ): QueueCore<M> {
    const q = new QueueCore(name, args, state.clockMs, model, observer);
    q.lastUsedMs = state.lastUsedMs;
    q.expiredSignalled = state.expiredSignalled;
    q.nextMsgId = state.nextMsgId;
    q.consumers = ConsumerSet.restore(args.singleActiveConsumer, state.consumers);
    let last = 0;
    for (const r of messages) {
      if (r.msgId <= last || r.msgId >= q.nextMsgId) throw new Error(`queue ${name}: restored msgId ${r.msgId} out of order`);
      last = r.msgId;
      const e = q.newEntry(r.msgId, r.message);
      e.deliveryCount = r.deliveryCount;
      e.redelivered = r.redelivered;
      if (r.ownerId === undefined || r.ownerId === '') {
        q.ready.push(e);
        continue;
      }
      const c = q.consumers.get(r.ownerId);
      // Held by a consumer incarnation that is gone (cancelled, or re-registered since): it keeps
      // that incarnation (detached, no credit), as the original machine's entry does.
      const owner = c !== undefined && c.seq === r.ownerSeq ? c : r.ownerSeq === undefined ? undefined : { unacked: 0, seq: r.ownerSeq };
      q.checkOut(e, r.ownerId, owner);
    }
    return q;
  }

  /**
   * When the host should propose the next tick: the earliest expiry of a message at a queue head,
   * or the x-expires deadline; undefined when nothing is pending.
   */
  nextDeadlineMs(): number | undefined {
    let t = this.ready.nextExpiryMs();
    const e = this.args.expiresMs;
    if (e !== undefined && !this.expiredSignalled && this.consumers.size === 0) {
      t = Math.min(t, this.lastUsedMs + e);
    }
    return t === Infinity ? undefined : t;
  }

  // ---- apply --------------------------------------------------------------------------------

  /** Applies one command. Effects are appended to `effects` (pass one array to batch). */
  apply(cmd: EnqueueCmd<M>, effects?: Effect<M>[]): QueueResult<EnqueueReply, M>;
  apply(cmd: GetCmd, effects?: Effect<M>[]): QueueResult<GetReply<M>, M>;
  apply(cmd: PurgeCmd | DeleteCmd, effects?: Effect<M>[]): QueueResult<number, M>;
  apply(cmd: QueueCommand<M>, effects?: Effect<M>[]): QueueResult<QueueReply<M>, M>;
  apply(cmd: QueueCommand<M>, effects: Effect<M>[] = []): QueueResult<QueueReply<M>, M> {
    return { reply: this.applyInto(cmd, effects), effects };
  }

  /**
   * apply() returning just the reply (the partition's per-message path: no result object). With
   * `effects` undefined no effect is built at all: for a replica that would drop them (a follower);
   * the state, and what the observer hears, are the same either way.
   */
  applyInto(cmd: QueueCommand<M>, effects: Effects<M>): QueueReply<M> {
    if (cmd.nowMs !== undefined && cmd.nowMs > this.clockMs) this.clockMs = cmd.nowMs;
    let reply: EnqueueReply | GetReply<M> | number | undefined = undefined;
    switch (cmd.kind) {
      case 'enqueue': reply = this.enqueue(cmd.message, effects); break;
      case 'checkout': this.checkout(cmd, effects); break;
      case 'settle': this.settle(cmd.consumerId, cmd.msgIds, effects); break;
      case 'return': this.returnMsgs(cmd.consumerId, cmd.msgIds, effects); break;
      case 'discard': this.discard(cmd.consumerId, cmd.msgIds, effects); break;
      case 'cancel': this.cancel(cmd.consumerId, effects); break;
      case 'down':
        // Remove first (so nothing is redelivered to them), then requeue, then hand over/drain once.
        for (const id of cmd.consumerIds) this.removeConsumer(id);
        this.returnOwnedBy(new Set(cmd.consumerIds), effects);
        break;
      case 'returnAll': this.returnOwnedBy(new Set([cmd.consumerId]), effects); break;
      case 'get': reply = this.get(cmd.getterId, cmd.noAck, effects); break;
      case 'purge': reply = this.purge(); break;
      case 'delete': reply = this.delete(effects); break;
      case 'tick': this.tick(effects); break;
      case 'touch':
        this.lastUsedMs = this.clockMs;
        this.expiredSignalled = false;
        break;
      case 'flow': {
        const c = this.consumers.get(cmd.consumerId);
        if (c === undefined || c.paused === !cmd.active) break;
        c.paused = !cmd.active;
        if (cmd.active) this.drain(effects);
        break;
      }
      default: {
        const never: never = cmd;
        throw new Error(`queue: unknown command ${JSON.stringify(never)}`);
      }
    }
    return reply;
  }

  // ---- commands -----------------------------------------------------------------------------

  private newEntry(msgId: number, message: M): Entry<M> {
    const m = this.model;
    return new Entry(
      msgId, message, m.bodyBytes(message), this.ready.levelOf(m.priority(message)),
      m.expiresAtMs(message, this.args, this.clockMs),
    );
  }

  private enqueue(message: M, effects: Effects<M>): EnqueueReply {
    const bytes = this.model.bodyBytes(message);
    this.expireHeads(effects);
    if (this.args.overflow !== 'drop-head' && this.wouldOverflow(bytes)) {
      // RabbitMQ checks before trying consumers: a full queue refuses even with a consumer waiting.
      if (this.args.overflow === 'reject-publish-dlx') {
        const e = new Entry(this.nextMsgId++, message, bytes, 0, Infinity);
        this.observer?.stored(e);
        this.deadLetterOrDrop(e, 'maxlen', effects);
      }
      return 'rejected';
    }
    const e = this.newEntry(this.nextMsgId++, message);
    this.observer?.stored(e);
    if (this.ready.count === 0) {
      // Fast path: straight to a consumer. A TTL of 0 still delivers when someone is waiting.
      const c = this.consumers.pick();
      if (c !== undefined) {
        this.deliver(e, c, effects);
        return 'accepted';
      }
    }
    this.ready.push(e);
    this.dropHeadOverLimit(effects);
    this.expireHeads(effects);
    this.drain(effects);
    return 'accepted';
  }

  private checkout(cmd: CheckoutCmd, effects: Effects<M>): void {
    const c = this.consumers.add(cmd.consumerId, Math.max(0, cmd.prefetch), cmd.priority, cmd.noAck);
    if (c === undefined) return; // duplicate id: ignored
    this.lastUsedMs = this.clockMs;
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private settle(ownerId: string, msgIds: readonly number[], effects: Effects<M>): void {
    for (const id of msgIds) {
      const e = this.checkIn(ownerId, id);
      if (e !== undefined) this.observer?.ended(e, 'settled');
    }
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private returnMsgs(ownerId: string, msgIds: readonly number[], effects: Effects<M>): void {
    const back: Entry<M>[] = [];
    for (const id of msgIds) {
      const e = this.checkIn(ownerId, id);
      if (e !== undefined) back.push(e);
    }
    this.requeue(back, effects);
  }

  private discard(ownerId: string, msgIds: readonly number[], effects: Effects<M>): void {
    for (const id of msgIds) {
      const e = this.checkIn(ownerId, id);
      if (e !== undefined) this.deadLetterOrDrop(e, 'rejected', effects);
    }
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private cancel(consumerId: string, effects: Effects<M>): void {
    if (!this.removeConsumer(consumerId)) return;
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private removeConsumer(consumerId: string): boolean {
    if (this.consumers.remove(consumerId) === undefined) return false;
    // RabbitMQ restarts the x-expires timer when the last consumer goes away.
    if (this.consumers.size === 0) this.lastUsedMs = this.clockMs;
    return true;
  }

  /** Returns everything checked out to these owners (consumers or getters), in msgId order. */
  private returnOwnedBy(owners: ReadonlySet<string>, effects: Effects<M>): void {
    const back: Entry<M>[] = [];
    for (const e of this.unacked.values()) if (owners.has(e.ownerId)) back.push(e);
    for (const e of back) this.checkIn(e.ownerId, e.msgId);
    this.requeue(back, effects);
  }

  private get(getterId: string, noAck: boolean, effects: Effects<M>): GetReply<M> {
    this.lastUsedMs = this.clockMs;
    this.expireHeads(effects);
    const e = this.ready.shift();
    if (e === undefined) return { kind: 'empty' };
    if (noAck) {
      this.observer?.ended(e, 'autoAcked');
    } else {
      this.checkOut(e, getterId, undefined);
      this.observer?.checkedOut(e);
    }
    return {
      kind: 'message',
      msgId: e.msgId,
      message: e.message,
      redelivered: e.redelivered,
      deliveryCount: e.deliveryCount,
      messageCount: this.ready.count,
    };
  }

  private purge(): number {
    if (this.observer !== undefined) for (const e of this.ready) this.observer.ended(e, 'purged');
    return this.ready.clear();
  }

  private delete(effects: Effects<M>): number {
    if (this.observer !== undefined) {
      for (const e of this.ready) this.observer.ended(e, 'deleted');
      for (const e of this.unacked.values()) this.observer.ended(e, 'deleted');
    }
    const n = this.ready.clear();
    this.unacked.clear();
    this.unackedBytes = 0;
    for (const c of this.consumers.clear()) effects?.push({ kind: 'consumerCancelled', consumerId: c.id });
    return n;
  }

  private tick(effects: Effects<M>): void {
    this.expireHeads(effects);
    const e = this.args.expiresMs;
    if (e !== undefined && !this.expiredSignalled && this.consumers.size === 0 && this.clockMs >= this.lastUsedMs + e) {
      this.expiredSignalled = true;
      effects?.push({ kind: 'queueExpired' });
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  private wouldOverflow(bytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.args;
    return (maxLength !== undefined && this.ready.count + 1 > maxLength)
      || (maxLengthBytes !== undefined && this.ready.bytes + bytes > maxLengthBytes);
  }

  /** drop-head: dead-letter the oldest ready messages until within x-max-length(-bytes). */
  private dropHeadOverLimit(effects: Effects<M>): void {
    if (this.args.overflow !== 'drop-head') return;
    const { maxLength, maxLengthBytes } = this.args;
    while (
      (maxLength !== undefined && this.ready.count > maxLength)
      || (maxLengthBytes !== undefined && this.ready.bytes > maxLengthBytes)
    ) {
      const e = this.ready.shift();
      if (e === undefined) break;
      this.deadLetterOrDrop(e, 'maxlen', effects);
    }
  }

  private expireHeads(effects: Effects<M>): void {
    const out = this.expiredScratch;
    this.ready.shiftExpired(this.clockMs, out);
    if (out.length === 0) return;
    for (const e of out) this.deadLetterOrDrop(e, 'expired', effects);
    out.length = 0;
  }

  /** Hands ready messages to consumers with credit until one side runs out. */
  private drain(effects: Effects<M>): void {
    const now = this.clockMs;
    while (this.ready.count > 0) {
      const head = this.ready.peek() as Entry<M>;
      if (head.expiresAtMs <= now) {
        this.ready.shift();
        this.deadLetterOrDrop(head, 'expired', effects);
        continue;
      }
      const c = this.consumers.pick();
      if (c === undefined) return;
      this.ready.shift();
      this.deliver(head, c, effects);
    }
  }

  private deliver(e: Entry<M>, c: Consumer, effects: Effects<M>): void {
    if (!c.noAck) this.checkOut(e, c.id, c);
    if (this.observer !== undefined) {
      if (c.noAck) this.observer.ended(e, 'autoAcked');
      else this.observer.checkedOut(e);
    }
    effects?.push({
      kind: 'deliver',
      consumerId: c.id,
      msgId: e.msgId,
      message: e.message,
      redelivered: e.redelivered,
      deliveryCount: e.deliveryCount,
    });
  }

  private checkOut(e: Entry<M>, ownerId: string, c: Entry<M>['owner']): void {
    e.ownerId = ownerId;
    e.owner = c;
    this.unacked.set(e.msgId, e);
    this.unackedBytes += e.bytes;
    if (c !== undefined) c.unacked++;
  }

  /**
   * Takes msgId back from ownerId; undefined if it is not checked out to that owner (unknown,
   * already settled, or another consumer's: ignored, the frontend owns delivery-tag validation).
   */
  private checkIn(ownerId: string, msgId: number): Entry<M> | undefined {
    const e = this.unacked.get(msgId);
    if (e === undefined || e.ownerId !== ownerId) return undefined;
    this.unacked.delete(msgId);
    this.unackedBytes -= e.bytes;
    e.ownerId = '';
    // The incarnation that received it: a consumer re-registered under the same id after a
    // cancel has its own count.
    if (e.owner !== undefined) e.owner.unacked--;
    e.owner = undefined;
    return e;
  }

  /** Returned messages: redelivered, deliveryCount+1, back at their original position. */
  private requeue(back: Entry<M>[], effects: Effects<M>): void {
    const limit = this.args.deliveryLimit;
    back.sort((a, b) => b.msgId - a.msgId); // descending: each insert lands at (or near) the front
    const dead: Entry<M>[] = [];
    for (const e of back) {
      e.deliveryCount++;
      e.redelivered = true;
      if (limit !== undefined && e.deliveryCount > limit) {
        dead.push(e);
      } else {
        this.ready.insertReturned(e);
        this.observer?.requeued(e);
      }
    }
    for (let i = dead.length - 1; i >= 0; i--) this.deadLetterOrDrop(dead[i] as Entry<M>, 'delivery_limit', effects);
    this.dropHeadOverLimit(effects);
    this.expireHeads(effects);
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private deadLetterOrDrop(e: Entry<M>, reason: DeadLetterReason, effects: Effects<M>): void {
    if (this.args.deadLetterExchange === undefined) {
      this.observer?.ended(e, 'dropped', reason);
      return;
    }
    this.observer?.ended(e, 'deadLettered', reason);
    if (effects === undefined) return;
    const d = this.model.deadLetter(e.message, this.args, { queue: this.name, reason, nowMs: this.clockMs });
    effects.push({ kind: 'deadLetter', message: d.message, reason, exchange: d.exchange, routingKey: d.routingKey });
  }
}

/** The in-memory queue machine: whole QueueMessages, RabbitMQ's dead-letter rewrite. */
export class QueueMachine extends QueueCore<QueueMessage> {
  constructor(name: string, args: QueueArgs, nowMs: number, observer?: MessageObserver<QueueMessage>) {
    super(name, args, nowMs, queueMessageModel, observer);
  }
}
