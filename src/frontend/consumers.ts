// The consuming side of a channel: basic.qos / consume / cancel / get, delivery tags, and
// ack / nack / reject / recover.
//
// Delivery tags are the channel's; the owner only knows (queue, consumerId, msgId). Per-consumer
// prefetch is enforced by the owner's credit; channel-wide (global) prefetch is enforced here by
// holding deliveries until acks make room — a held delivery is already checked
// out to the consumer at the owner, so closing the channel returns it like any unacked message.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { encodeContent, encodeMethod } from '../amqp/frames.js';
import type { BasicConsumeArgs } from '../amqp/generated.js';
import type { Delivery, Message, QueueRef, Settlement } from '../owner/api.js';
import type { Channel } from './channel.js';
import { asBuffer, contentHeader } from './content.js';
import { DIRECT_REPLY_TO } from './direct-reply.js';

interface ConsumerState {
  readonly tag: string;
  readonly id: string;
  readonly queue: QueueRef;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** The prefetch it consumes with (the channel's basic.qos when it started). */
  readonly prefetch: number;
  readonly arguments: Readonly<Record<string, unknown>>;
  /** consume-ok sent: deliveries go out. Before it, the owner's deliveries wait in `early`. */
  started: boolean;
  early: Delivery[];
}

export interface ConsumerSummary {
  readonly tag: string;
  readonly queue: QueueRef;
  readonly ackRequired: boolean;
  readonly exclusive: boolean;
  readonly prefetch: number;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export interface ConsumersSummary {
  readonly consumers: readonly ConsumerSummary[];
  readonly unacked: number;
  /** basic.qos per consumer (global=false) and per channel (global=true). */
  readonly prefetch: number;
  readonly globalPrefetch: number;
}

interface Unacked {
  readonly queue: QueueRef;
  readonly consumerId: string;
  readonly msgId: number;
}

interface Held {
  readonly consumer: ConsumerState;
  readonly delivery: Delivery;
}


export class Consumers {
  private readonly byTag = new Map<string, ConsumerState>();
  private nextDeliveryTag = 1;
  /** Unacked deliveries by tag; insertion order is ascending tag order. */
  private readonly unacked = new Map<number, Unacked>();
  private prefetchCount = 0;
  private globalPrefetch = 0;
  private held: Held[] = [];
  /** Consumers paused at the owner because the socket is congested; resumed on 'drain'. */
  private readonly paused = new Set<ConsumerState>();
  /** Acks and nacks made inside a transaction, applied at commit. */
  private txSettlements: Array<{ tags: number[]; how: Settlement }> = [];
  private released = false;
  directReplyKey: string | undefined;

  constructor(private readonly ch: Channel) {}

  private get getterId(): string {
    return `${this.ch.conn.id}/${this.ch.id}/get`;
  }

  qos(prefetchSize: number, prefetchCount: number, global: boolean): void {
    if (prefetchSize !== 0) throw new AmqpError(ReplyCode.NotImplemented, `prefetch_size!=0 (${prefetchSize})`, 60, 10);
    if (global) this.globalPrefetch = prefetchCount;
    else this.prefetchCount = prefetchCount;
    this.ch.send(encodeMethod(this.ch.id, 'basic.qos-ok', {}));
    this.releaseHeld();
  }

  /**
   * What the management API shows: the consumers on queues (direct reply-to's pseudo-consumer is
   * not one, as in RabbitMQ), the unacked deliveries and the channel's prefetch limits.
   */
  summary(): ConsumersSummary {
    const consumers: ConsumerSummary[] = [];
    for (const c of this.byTag.values()) {
      if (c.queue.name === DIRECT_REPLY_TO) continue;
      consumers.push({ tag: c.tag, queue: c.queue, ackRequired: !c.noAck, exclusive: c.exclusive, prefetch: c.prefetch, arguments: c.arguments });
    }
    return { consumers, unacked: this.unacked.size, prefetch: this.prefetchCount, globalPrefetch: this.globalPrefetch };
  }

  async consume(args: BasicConsumeArgs): Promise<void> {
    const ch = this.ch;
    const tag = args.consumerTag === '' ? `amq.ctag-${ch.ctx.randomId()}` : args.consumerTag;
    if (this.byTag.has(tag)) {
      throw new AmqpError(ReplyCode.NotAllowed, `attempt to reuse consumer tag '${tag}'`, 60, 20);
    }
    if (args.queue === DIRECT_REPLY_TO) return this.consumeDirectReply(tag, args);
    const name = ch.resolveQueue(args.queue);
    ch.checkAccess('read', 'queue', name);
    ch.ctx.meta.useQueue(ch.vhost, name, ch.conn.id);
    const priority = consumerPriority(args.arguments['x-priority']);
    const prefetch = this.prefetchCount !== 0 ? this.prefetchCount : this.globalPrefetch;
    const consumer: ConsumerState = {
      tag, id: `${ch.conn.id}/${ch.id}/${tag}`, queue: { vhost: ch.vhost, name }, noAck: args.noAck, exclusive: args.exclusive,
      prefetch, arguments: args.arguments, started: false, early: [],
    };
    this.byTag.set(tag, consumer);
    try {
      await ch.ctx.owner.consume(consumer.queue, consumer.id, { prefetch, priority, noAck: args.noAck, exclusive: args.exclusive }, {
        deliver: (d) => this.onDelivery(consumer, d),
        cancelled: () => this.onOwnerCancel(consumer),
      });
    } catch (err) {
      if (this.byTag.get(tag) === consumer) this.byTag.delete(tag);
      throw err;
    }
    if (this.released || this.byTag.get(tag) !== consumer) return;
    // consume-ok precedes the first delivery; the owner may have delivered before it answered.
    if (!args.nowait) ch.send(encodeMethod(ch.id, 'basic.consume-ok', { consumerTag: tag }));
    consumer.started = true;
    const early = consumer.early;
    consumer.early = [];
    for (const d of early) this.onDelivery(consumer, d);
  }

  private consumeDirectReply(tag: string, args: BasicConsumeArgs): void {
    if (!args.noAck) throw new AmqpError(ReplyCode.PreconditionFailed, 'reply consumer cannot acknowledge', 60, 20);
    if (this.directReplyKey !== undefined) throw new AmqpError(ReplyCode.PreconditionFailed, 'reply consumer already set', 60, 20);
    const ch = this.ch;
    const key = ch.ctx.randomId() + ch.ctx.randomId();
    this.directReplyKey = key;
    const consumer: ConsumerState = {
      tag, id: key, queue: { vhost: ch.vhost, name: DIRECT_REPLY_TO }, noAck: true, exclusive: false, prefetch: 0, arguments: {},
      started: true, early: [],
    };
    this.byTag.set(tag, consumer);
    if (!args.nowait) ch.send(encodeMethod(ch.id, 'basic.consume-ok', { consumerTag: tag }));
    ch.ctx.directReply.set(key, (message: Message) => {
      this.send(consumer, { queue: DIRECT_REPLY_TO, msgId: 0, message, redelivered: false });
    });
  }

  cancel(tag: string, nowait: boolean): void {
    const c = this.byTag.get(tag);
    if (c !== undefined) this.dropConsumer(c);
    if (!nowait) this.ch.send(encodeMethod(this.ch.id, 'basic.cancel-ok', { consumerTag: tag }));
  }

  private dropConsumer(c: ConsumerState): void {
    this.byTag.delete(c.tag);
    if (c.queue.name === DIRECT_REPLY_TO) {
      this.ch.ctx.directReply.delete(c.id);
      this.directReplyKey = undefined;
      return;
    }
    this.ch.ctx.owner.cancel(c.queue, c.id);
    this.returnHeld(c);
  }

  /**
   * Deliveries held back for global prefetch were never sent: once the consumer is cancelled
   * (cancel-ok, or the channel closing) its tag receives nothing more, so they go back to the queue.
   */
  private returnHeld(c: ConsumerState): void {
    if (this.held.length === 0) return;
    const ids: number[] = [];
    this.held = this.held.filter((h) => {
      if (h.consumer !== c) return true;
      ids.push(h.delivery.msgId);
      return false;
    });
    if (ids.length > 0) this.ch.ctx.owner.settle(c.queue, c.id, ids, 'requeue');
  }

  /** The queue went away under the consumer: basic.cancel to clients that understand it. */
  private onOwnerCancel(c: ConsumerState): void {
    if (this.released || !this.byTag.has(c.tag)) return;
    this.byTag.delete(c.tag);
    this.held = this.held.filter((h) => h.consumer !== c); // their queue is gone
    if (this.ch.conn.hasCapability('consumer_cancel_notify')) {
      this.ch.afterCurrent(() => {
        if (!this.released) this.ch.send(encodeMethod(this.ch.id, 'basic.cancel', { consumerTag: c.tag, nowait: true }));
      });
    }
  }

  async get(queue: string, noAck: boolean): Promise<void> {
    const ch = this.ch;
    const name = ch.resolveQueue(queue);
    ch.checkAccess('read', 'queue', name);
    ch.ctx.meta.useQueue(ch.vhost, name, ch.conn.id);
    const q = { vhost: ch.vhost, name };
    const got = await ch.ctx.owner.get(q, this.getterId, noAck);
    if (this.released) {
      if (got !== undefined && !noAck) ch.ctx.owner.settle(q, this.getterId, [got.delivery.msgId], 'requeue');
      return;
    }
    if (got === undefined) {
      ch.send(encodeMethod(ch.id, 'basic.get-empty', { clusterId: '' }));
      return;
    }
    const d = got.delivery;
    const tag = this.nextDeliveryTag++;
    if (!noAck) this.unacked.set(tag, { queue: q, consumerId: this.getterId, msgId: d.msgId });
    ch.ctx.counters.delivered++;
    ch.send(encodeContent(ch.id, 'basic.get-ok', {
      deliveryTag: tag, redelivered: d.redelivered, exchange: d.message.exchange,
      routingKey: d.message.routingKey, messageCount: got.messageCount,
    }, contentHeader(d.message), asBuffer(d.message.body), ch.conn.frameMaxBytes));
  }

  // ---- deliveries ------------------------------------------------------------------------------

  private onDelivery(c: ConsumerState, d: Delivery): void {
    if (this.released) return;
    if (!c.started) {
      c.early.push(d);
      return;
    }
    if (!c.noAck && this.globalFull()) {
      this.held.push({ consumer: c, delivery: d });
      return;
    }
    this.send(c, d);
  }

  private globalFull(): boolean {
    return this.globalPrefetch !== 0 && this.unacked.size >= this.globalPrefetch;
  }

  private send(c: ConsumerState, d: Delivery): void {
    const ch = this.ch;
    if (ch.conn.out.congested && !this.paused.has(c) && c.queue.name !== DIRECT_REPLY_TO) {
      // The client reads slower than we deliver: stop the owner (TCP back-pressure reaches the queue).
      this.paused.add(c);
      ch.ctx.owner.setFlow(c.queue, c.id, false);
    }
    const tag = this.nextDeliveryTag++;
    if (!c.noAck) this.unacked.set(tag, { queue: c.queue, consumerId: c.id, msgId: d.msgId });
    ch.ctx.counters.delivered++;
    ch.send(encodeContent(ch.id, 'basic.deliver', {
      consumerTag: c.tag, deliveryTag: tag, redelivered: d.redelivered,
      exchange: d.message.exchange, routingKey: d.message.routingKey,
    }, contentHeader(d.message), asBuffer(d.message.body), ch.conn.frameMaxBytes));
  }

  private releaseHeld(): void {
    if (this.held.length === 0) return;
    const held = this.held;
    let i = 0;
    while (i < held.length && !this.globalFull()) {
      const h = held[i++] as Held;
      if (this.byTag.get(h.consumer.tag) === h.consumer) this.send(h.consumer, h.delivery);
    }
    this.held = held.slice(i);
  }

  /** The socket drained: resume consumers paused for congestion, then deliveries held for global prefetch. */
  onWritable(): void {
    if (this.paused.size > 0) {
      const paused = [...this.paused];
      this.paused.clear();
      for (const c of paused) if (this.byTag.get(c.tag) === c) this.ch.ctx.owner.setFlow(c.queue, c.id, true);
    }
    this.releaseHeld();
  }

  // ---- settlement --------------------------------------------------------------------------------

  ack(deliveryTag: number, multiple: boolean): void {
    this.settle(deliveryTag, multiple, 'ack');
  }

  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void {
    this.settle(deliveryTag, multiple, requeue ? 'requeue' : 'discard');
  }

  private settle(deliveryTag: number, multiple: boolean, how: Settlement): void {
    const tags = this.takeTags(deliveryTag, multiple);
    if (this.ch.publisher.transactional) {
      this.txSettlements.push({ tags, how });
      return;
    }
    this.apply(tags, how);
  }

  /**
   * The tags an ack/nack/reject covers; 406 for a tag that is not outstanding (RabbitMQ: "unknown
   * delivery tag N"). The channel reports the error against the method it was handling.
   */
  private takeTags(deliveryTag: number, multiple: boolean): number[] {
    if (!multiple) {
      if (!this.unacked.has(deliveryTag)) {
        throw new AmqpError(ReplyCode.PreconditionFailed, `unknown delivery tag ${deliveryTag}`);
      }
      return [deliveryTag];
    }
    if (deliveryTag !== 0 && deliveryTag >= this.nextDeliveryTag) {
      throw new AmqpError(ReplyCode.PreconditionFailed, `unknown delivery tag ${deliveryTag}`);
    }
    const tags: number[] = [];
    for (const tag of this.unacked.keys()) {
      if (deliveryTag !== 0 && tag > deliveryTag) break;
      tags.push(tag);
    }
    return tags;
  }

  /** Groups tags by (queue, consumer) and tells the owner; one call per group. */
  /**
   * Groups tags by (queue, consumer) and tells the owner, one call per group; `done` runs once the
   * owner applied all of them.
   */
  private apply(tags: readonly number[], how: Settlement, done?: () => void): void {
    if (tags.length === 1) { // the hot path: one ack per delivery
      const u = this.unacked.get(tags[0] as number);
      if (u !== undefined) {
        this.unacked.delete(tags[0] as number);
        this.ch.ctx.owner.settle(u.queue, u.consumerId, [u.msgId], how, done);
        if (how === 'ack') this.ch.ctx.counters.acked++;
        this.releaseHeld();
      } else {
        done?.();
      }
      return;
    }
    const groups = new Map<string, { q: QueueRef; consumerId: string; ids: number[] }>();
    for (const tag of tags) {
      const u = this.unacked.get(tag);
      if (u === undefined) continue;
      this.unacked.delete(tag);
      const key = `${u.queue.vhost}\0${u.queue.name}\0${u.consumerId}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { q: u.queue, consumerId: u.consumerId, ids: [] }));
      g.ids.push(u.msgId);
    }
    let waiting = groups.size;
    const one = done === undefined ? undefined : (): void => { if (--waiting === 0) done(); };
    for (const g of groups.values()) this.ch.ctx.owner.settle(g.q, g.consumerId, g.ids, how, one);
    if (waiting === 0) done?.();
    if (how === 'ack') this.ch.ctx.counters.acked += tags.length;
    this.releaseHeld();
  }

  /** Applies the transaction's acks and nacks; resolves once the owners applied every one. */
  commitTx(): Promise<void> {
    const s = this.txSettlements;
    this.txSettlements = [];
    const waits: Array<Promise<void>> = [];
    for (const { tags, how } of s) waits.push(new Promise((resolve) => this.apply(tags, how, resolve)));
    return Promise.all(waits).then(() => undefined);
  }

  /** Rolled-back acks leave their deliveries unacked (tags stay in `unacked` until commit). */
  rollbackTx(): void {
    this.txSettlements = [];
  }

  /** basic.recover: every unacked delivery goes back to its queue and is redelivered (requeue semantics). */
  recover(): void {
    this.apply([...this.unacked.keys()], 'requeue');
  }

  /** Channel closed: cancel consumers; everything unacked or held goes back to its queue. */
  release(): void {
    if (this.released) return;
    for (const c of [...this.byTag.values()]) this.dropConsumer(c);
    this.released = true;
    const pending = [...this.unacked.keys()];
    this.apply(pending, 'requeue');
  }
}

function consumerPriority(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new AmqpError(ReplyCode.PreconditionFailed, `invalid arg 'x-priority' for consumer: expected an integer`, 60, 20);
  }
  return v;
}
