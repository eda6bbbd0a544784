// The publishing side of a channel: routing, mandatory returns, publisher confirms (with `multiple`
// coalescing) and transactions.
//
// Confirm contract: a publish is acked once every queue it routed to has accepted it (in this
// release: applied by the in-process owner; with replication: committed by a majority). It is
// nacked when any target rejected it (x-overflow reject-publish). Unroutable publishes are acked
// at once (after basic.return when mandatory), as RabbitMQ does.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { encodeContent, encodeMethod } from '../amqp/frames.js';
import type { BasicProperties, BasicPublishArgs } from '../amqp/generated.js';
import type { FieldTable } from '../amqp/table.js';
import type { EnqueueOutcome, Message } from '../owner/api.js';
import { parseExpirationMs } from '../queue/args.js';
import type { Channel } from './channel.js';
import { asBuffer, contentHeader } from './content.js';
import { DIRECT_REPLY_TO, isDirectReply, rewriteReplyTo, routeDirectReply } from './direct-reply.js';

interface Outstanding {
  remaining: number;
  rejected: boolean;
}

interface TxPublish {
  readonly message: Message;
  readonly queues: readonly string[];
  readonly mandatory: boolean;
}

export class Publisher {
  private confirmMode = false;
  private txMode = false;
  private nextSeq = 1;
  /** Publishes not yet confirmed, in ascending sequence order (Map keeps insertion order). */
  private readonly outstanding = new Map<number, Outstanding>();
  /** Completed since the last flush: positive seq = ack, negative = nack. */
  private completed: number[] = [];
  private flushScheduled = false;
  private txPublishes: TxPublish[] = [];
  private readonly routed: string[] = [];
  private closed = false;

  constructor(private readonly ch: Channel) {}

  get transactional(): boolean {
    return this.txMode;
  }

  get confirming(): boolean {
    return this.confirmMode;
  }

  /** Publishes not confirmed yet (confirm mode). */
  get unconfirmed(): number {
    return this.outstanding.size;
  }

  /**
   * Lookups first, in rabbit_channel's order (write permission, then the exchange), before any
   * effect: a publish refused by a metadata view that trails may run again whole once the view
   * caught up (Channel.completeContent). `firstTry`: a publish the view routes nowhere through an
   * exchange it created a moment ago (whose bindings, made elsewhere just after, may not be applied
   * here yet) is refused with StaleRoute instead, to be run again at the read point.
   */
  publish(args: BasicPublishArgs, properties: BasicProperties, header: Buffer, body: Buffer, firstTry = false): void {
    const ch = this.ch;
    const exchange = args.exchange;
    ch.checkAccess('write', 'exchange', exchange);
    const queues = this.routed;
    queues.length = 0;
    const directReply = exchange === '' && isDirectReply(args.routingKey);
    if (!directReply) {
      ch.ctx.meta.route(ch.vhost, exchange, args.routingKey, properties.headers, queues);
      if (queues.length === 0 && firstTry && ch.ctx.meta.recentlyCreated?.(ch.vhost, exchange) === true) throw new StaleRoute();
    }
    const user = ch.conn.user!;
    if (properties.userId !== undefined && properties.userId !== user.name) {
      throw new AmqpError(ReplyCode.PreconditionFailed,
        `user_id property set to '${properties.userId}' but authenticated user was '${user.name}'`, 60, 40);
    }
    let message: Message = { exchange, routingKey: args.routingKey, properties, header, body };
    if (properties.replyTo === DIRECT_REPLY_TO) message = rewriteReplyTo(ch, message);
    if (properties.expiration !== undefined && parseExpirationMs(properties.expiration) === undefined) {
      throw new AmqpError(ReplyCode.PreconditionFailed, invalidExpiration(properties.expiration), 60, 40);
    }
    ch.ctx.counters.published++;
    ch.conn.notePublish();
    if (directReply) {
      routeDirectReply(ch, message);
    } else {
      const h = properties.headers;
      if (h !== undefined && (h['CC'] !== undefined || h['BCC'] !== undefined)) message = this.routeSenderSelected(message, queues);
    }
    if (this.txMode) {
      this.txPublishes.push({ message, queues: [...queues], mandatory: args.mandatory && !directReply });
      return;
    }
    const seq = this.confirmMode ? this.nextSeq++ : 0;
    if (queues.length === 0) {
      if (args.mandatory && !directReply) this.returnMessage(message, ReplyCode.NoRoute, 'NO_ROUTE');
      if (seq) this.complete(seq, true);
      return;
    }
    this.enqueueAll(message, queues, seq);
  }

  /**
   * RabbitMQ's sender-selected distribution: the CC and BCC header arrays are extra routing keys;
   * BCC is removed from the delivered message.
   */
  private routeSenderSelected(message: Message, queues: string[]): Message {
    const h = message.properties.headers as FieldTable;
    const all = new Set(queues);
    const extra: string[] = [];
    for (const key of [...stringList(h['CC']), ...stringList(h['BCC'])]) {
      extra.length = 0;
      this.ch.ctx.meta.route(this.ch.vhost, message.exchange, key, h, extra);
      for (const q of extra) all.add(q);
    }
    queues.length = 0;
    queues.push(...all);
    if (h['BCC'] === undefined) return message;
    const { BCC: _bcc, ...headers } = h;
    void _bcc;
    return { exchange: message.exchange, routingKey: message.routingKey, properties: { ...message.properties, headers }, body: message.body };
  }

  private enqueueAll(message: Message, queues: readonly string[], seq: number): void {
    if (seq === 0) {
      for (const name of queues) this.enqueueOne(name, message, ignoreOutcome);
      return;
    }
    const state: Outstanding = { remaining: queues.length, rejected: false };
    this.outstanding.set(seq, state);
    const done = (outcome: EnqueueOutcome): void => {
      if (outcome === 'rejected') state.rejected = true;
      if (--state.remaining === 0) this.complete(seq, !state.rejected);
    };
    for (const name of queues) this.enqueueOne(name, message, done);
  }

  /**
   * One enqueue, with the flow rules: a backlogged queue makes the connection yield, and an enqueue
   * still waiting once the owner returned (a durable queue's commit) counts against the node's
   * bound (EnqueueGate); one answered at once (an in-memory queue) never does.
   */
  private enqueueOne(name: string, message: Message, done: (outcome: EnqueueOutcome) => void): void {
    const conn = this.ch.conn;
    const gate = this.ch.ctx.enqueues;
    let counted = false;
    let answered = false;
    this.ch.ctx.owner.enqueue({ vhost: this.ch.vhost, name }, message, (outcome, backlogged) => {
      answered = true;
      if (counted) gate.answered();
      if (backlogged) conn.yieldReading();
      done(outcome);
    });
    if (answered) return;
    counted = true;
    gate.sent(conn);
  }

  returnMessage(message: Message, replyCode: number, replyText: string): void {
    const ch = this.ch;
    ch.ctx.counters.returned++;
    ch.send(encodeContent(ch.id, 'basic.return', {
      replyCode, replyText, exchange: message.exchange, routingKey: message.routingKey,
    }, contentHeader(message), asBuffer(message.body), ch.conn.frameMaxBytes));
  }

  // ---- confirms ---------------------------------------------------------------------------------

  selectConfirm(nowait: boolean): void {
    if (this.txMode) throw new AmqpError(ReplyCode.PreconditionFailed, 'cannot switch from tx to confirm mode', 85, 10);
    this.confirmMode = true;
    if (!nowait) this.ch.send(encodeMethod(this.ch.id, 'confirm.select-ok', {}));
  }

  private complete(seq: number, ok: boolean): void {
    if (this.closed) return;
    this.outstanding.delete(seq);
    this.completed.push(ok ? seq : -seq);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushConfirms);
    }
  }

  /**
   * Sends the confirms completed since the last flush in ascending sequence order, as RabbitMQ
   * does. Consecutive acks below the lowest publish still outstanding are coalesced into one
   * `ack multiple` (every earlier seq is then confirmed: acked before or nacked just before);
   * acks above it go one by one, and a nack ends the run of acks before it.
   */
  private readonly flushConfirms = (): void => {
    this.flushScheduled = false;
    if (this.closed) return;
    const done = this.completed;
    this.completed = [];
    done.sort((a, b) => Math.abs(a) - Math.abs(b));
    const lowestOutstanding = this.outstanding.size === 0 ? Infinity : (this.outstanding.keys().next().value as number);
    const ch = this.ch;
    let run = 0; // highest ack of the current coalescible run, 0 = none
    let runLength = 0;
    const endRun = (): void => {
      if (run !== 0) ch.send(encodeMethod(ch.id, 'basic.ack', { deliveryTag: run, multiple: runLength > 1 }));
      run = 0;
      runLength = 0;
    };
    for (const s of done) {
      if (s < 0) {
        endRun();
        ch.send(encodeMethod(ch.id, 'basic.nack', { deliveryTag: -s, multiple: false, requeue: false }));
      } else if (s < lowestOutstanding) {
        run = s;
        runLength++;
      } else {
        endRun();
        ch.send(encodeMethod(ch.id, 'basic.ack', { deliveryTag: s, multiple: false }));
      }
    }
    endRun();
    ch.ctx.counters.confirmed += done.length;
  };

  // ---- transactions -------------------------------------------------------------------------------

  selectTx(): void {
    if (this.confirmMode) throw new AmqpError(ReplyCode.PreconditionFailed, 'cannot switch from confirm to tx mode', 90, 10);
    this.txMode = true;
    this.ch.send(encodeMethod(this.ch.id, 'tx.select-ok', {}));
  }

  /**
   * tx.commit-ok goes out only once every publish of the transaction was accepted by its queues
   * and every ack/nack applied by the owners (with replication: committed).
   */
  async commit(): Promise<void> {
    if (!this.txMode) throw new AmqpError(ReplyCode.PreconditionFailed, 'channel is not transactional', 90, 20);
    const publishes = this.txPublishes;
    this.txPublishes = [];
    const waits: Array<Promise<unknown>> = [];
    for (const p of publishes) {
      if (p.queues.length === 0) {
        if (p.mandatory) this.returnMessage(p.message, ReplyCode.NoRoute, 'NO_ROUTE');
      } else {
        waits.push(this.enqueueTx(p.message, p.queues));
      }
    }
    waits.push(this.ch.consumers.commitTx());
    await Promise.all(waits);
    if (!this.closed) this.ch.send(encodeMethod(this.ch.id, 'tx.commit-ok', {}));
  }

  /** Enqueues one transactional publish; resolves once every target queue answered. */
  private enqueueTx(message: Message, queues: readonly string[]): Promise<void> {
    return new Promise((resolve) => {
      let remaining = queues.length;
      for (const name of queues) this.enqueueOne(name, message, () => { if (--remaining === 0) resolve(); });
    });
  }

  rollback(): void {
    if (!this.txMode) throw new AmqpError(ReplyCode.PreconditionFailed, 'channel is not transactional', 90, 30);
    this.txPublishes = [];
    this.ch.consumers.rollbackTx();
    this.ch.send(encodeMethod(this.ch.id, 'tx.rollback-ok', {}));
  }

  release(): void {
    this.closed = true;
    this.txPublishes = [];
    this.outstanding.clear();
    this.ch.ctx.enqueues.forget(this.ch.conn);
  }
}


/** rabbit_basic:parse_expiration's reasons, as RabbitMQ prints them. */
function invalidExpiration(expiration: string): string {
  const reason = /^-\d+$/.test(expiration) ? `{value_negative,${expiration}}`
    : /^\d+$/.test(expiration) ? `{value_too_large,${expiration}}` : 'no_integer';
  return `invalid expiration '${expiration}': ${reason}`;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
}

function ignoreOutcome(): void {}

/**
 * A publish routed nowhere by a metadata view that created its exchange a moment ago: not an error
 * for the client, a reason to look again at the read point (Channel.completeContent).
 */
export class StaleRoute extends Error {
  constructor() {
    super('routed nowhere through an exchange created a moment ago: may be a view that trails');
  }
}
