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

import { parseExpirationMs } from './args.js';
import { ConsumerSet, type Consumer } from './consumers.js';
import { deadLetter } from './deadletter.js';
import { Entry, ReadyList } from './ready.js';
import type {
  CheckoutCmd, DeadLetterReason, DeleteCmd, Effect, EnqueueCmd, EnqueueReply, GetCmd, GetReply,
  PurgeCmd, QueueArgs, QueueCommand, QueueMessage, QueueResult,
} from './types.js';

export class QueueMachine {
  private readonly ready: ReadyList;
  private readonly unacked = new Map<number, Entry>();
  private readonly consumers: ConsumerSet;
  private nextMsgId = 1;
  private clockMs: number;
  private unackedBytes = 0;
  /** Last use for x-expires: creation, redeclare, basic.get, consume, last consumer gone. */
  private lastUsedMs: number;
  private expiredSignalled = false;
  /** Scratch list for expired heads (reused: this is the hot path). */
  private readonly expiredScratch: Entry[] = [];

  constructor(
    readonly name: string,
    readonly args: QueueArgs,
    nowMs: number,
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
  apply(cmd: EnqueueCmd, effects?: Effect[]): QueueResult<EnqueueReply>;
  apply(cmd: GetCmd, effects?: Effect[]): QueueResult<GetReply>;
  apply(cmd: PurgeCmd | DeleteCmd, effects?: Effect[]): QueueResult<number>;
  apply(cmd: QueueCommand, effects?: Effect[]): QueueResult;
  apply(cmd: QueueCommand, effects: Effect[] = []): QueueResult {
    if (cmd.nowMs !== undefined && cmd.nowMs > this.clockMs) this.clockMs = cmd.nowMs;
    let reply: QueueResult['reply'] = undefined;
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
      case 'purge': reply = this.ready.clear(); break;
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
    return { reply, effects };
  }

  // ---- commands -----------------------------------------------------------------------------

  private enqueue(message: QueueMessage, effects: Effect[]): EnqueueReply {
    const now = this.clockMs;
    const bytes = message.body.byteLength;
    this.expireHeads(effects);
    if (this.args.overflow !== 'drop-head' && this.wouldOverflow(bytes)) {
      // RabbitMQ checks before trying consumers: a full queue refuses even with a consumer waiting.
      if (this.args.overflow === 'reject-publish-dlx') {
        const e = new Entry(this.nextMsgId++, message, bytes, 0, Infinity);
        this.deadLetterOrDrop(e, 'maxlen', effects);
      }
      return 'rejected';
    }
    const e = new Entry(
      this.nextMsgId++, message, bytes,
      this.ready.levelOf(message.properties.priority), this.expiryOf(message, now),
    );
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

  private checkout(cmd: CheckoutCmd, effects: Effect[]): void {
    const c = this.consumers.add(cmd.consumerId, Math.max(0, cmd.prefetch), cmd.priority, cmd.noAck);
    if (c === undefined) return; // duplicate id: ignored
    this.lastUsedMs = this.clockMs;
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private settle(ownerId: string, msgIds: readonly number[], effects: Effect[]): void {
    for (const id of msgIds) this.checkIn(ownerId, id);
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private returnMsgs(ownerId: string, msgIds: readonly number[], effects: Effect[]): void {
    const back: Entry[] = [];
    for (const id of msgIds) {
      const e = this.checkIn(ownerId, id);
      if (e !== undefined) back.push(e);
    }
    this.requeue(back, effects);
  }

  private discard(ownerId: string, msgIds: readonly number[], effects: Effect[]): void {
    for (const id of msgIds) {
      const e = this.checkIn(ownerId, id);
      if (e !== undefined) this.deadLetterOrDrop(e, 'rejected', effects);
    }
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private cancel(consumerId: string, effects: Effect[]): void {
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
  private returnOwnedBy(owners: ReadonlySet<string>, effects: Effect[]): void {
    const back: Entry[] = [];
    for (const e of this.unacked.values()) if (owners.has(e.ownerId)) back.push(e);
    for (const e of back) this.checkIn(e.ownerId, e.msgId);
    this.requeue(back, effects);
  }

  private get(getterId: string, noAck: boolean, effects: Effect[]): GetReply {
    this.lastUsedMs = this.clockMs;
    this.expireHeads(effects);
    const e = this.ready.shift();
    if (e === undefined) return { kind: 'empty' };
    if (!noAck) this.checkOut(e, getterId, undefined);
    return {
      kind: 'message',
      msgId: e.msgId,
      message: e.message,
      redelivered: e.redelivered,
      deliveryCount: e.deliveryCount,
      messageCount: this.ready.count,
    };
  }

  private delete(effects: Effect[]): number {
    const n = this.ready.clear();
    this.unacked.clear();
    this.unackedBytes = 0;
    for (const c of this.consumers.clear()) effects.push({ kind: 'consumerCancelled', consumerId: c.id });
    return n;
  }

  private tick(effects: Effect[]): void {
    this.expireHeads(effects);
    const e = this.args.expiresMs;
    if (e !== undefined && !this.expiredSignalled && this.consumers.size === 0 && this.clockMs >= this.lastUsedMs + e) {
      this.expiredSignalled = true;
      effects.push({ kind: 'queueExpired' });
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Absolute expiry: the smaller of x-message-ttl and the message's expiration applies. */
  private expiryOf(message: QueueMessage, nowMs: number): number {
    const q = this.args.messageTtlMs;
    const m = parseExpirationMs(message.properties.expiration);
    const ttl = q === undefined ? m : m === undefined ? q : Math.min(q, m);
    return ttl === undefined ? Infinity : nowMs + ttl;
  }

  private wouldOverflow(bytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.args;
    return (maxLength !== undefined && this.ready.count + 1 > maxLength)
      || (maxLengthBytes !== undefined && this.ready.bytes + bytes > maxLengthBytes);
  }

  /** drop-head: dead-letter the oldest ready messages until within x-max-length(-bytes). */
  private dropHeadOverLimit(effects: Effect[]): void {
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

  private expireHeads(effects: Effect[]): void {
    const out = this.expiredScratch;
    this.ready.shiftExpired(this.clockMs, out);
    if (out.length === 0) return;
    for (const e of out) this.deadLetterOrDrop(e, 'expired', effects);
    out.length = 0;
  }

  /** Hands ready messages to consumers with credit until one side runs out. */
  private drain(effects: Effect[]): void {
    const now = this.clockMs;
    while (this.ready.count > 0) {
      const head = this.ready.peek() as Entry;
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

  private deliver(e: Entry, c: Consumer, effects: Effect[]): void {
    if (!c.noAck) this.checkOut(e, c.id, c);
    effects.push({
      kind: 'deliver',
      consumerId: c.id,
      msgId: e.msgId,
      message: e.message,
      redelivered: e.redelivered,
      deliveryCount: e.deliveryCount,
    });
  }

  private checkOut(e: Entry, ownerId: string, c: Consumer | undefined): void {
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
  private checkIn(ownerId: string, msgId: number): Entry | undefined {
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
  private requeue(back: Entry[], effects: Effect[]): void {
    const limit = this.args.deliveryLimit;
    back.sort((a, b) => b.msgId - a.msgId); // descending: each insert lands at (or near) the front
    const dead: Entry[] = [];
    for (const e of back) {
      e.deliveryCount++;
      e.redelivered = true;
      if (limit !== undefined && e.deliveryCount > limit) dead.push(e);
      else this.ready.insertReturned(e);
    }
    for (let i = dead.length - 1; i >= 0; i--) this.deadLetterOrDrop(dead[i] as Entry, 'delivery_limit', effects);
    this.dropHeadOverLimit(effects);
    this.expireHeads(effects);
    this.consumers.reconcile(effects);
    this.drain(effects);
  }

  private deadLetterOrDrop(e: Entry, reason: DeadLetterReason, effects: Effect[]): void {
    if (this.args.deadLetterExchange === undefined) return;
    const d = deadLetter(e.message, this.args, { queue: this.name, reason, nowMs: this.clockMs });
    effects.push({ kind: 'deadLetter', message: d.message, reason, exchange: d.exchange, routingKey: d.routingKey });
  }
}
