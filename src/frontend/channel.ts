// One AMQP channel: method dispatch, content assembly (method → header → bodies), and the single
// place where a soft error becomes channel.close. Publishing lives in publisher.ts, consumers and
// acknowledgements in consumers.ts, exchange/queue methods in admin-methods.ts.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { encodeMethod, type Frame } from '../amqp/frames.js';
import { methodId, type BasicPublishArgs, type BasicProperties, type Method } from '../amqp/generated.js';
import * as admin from './admin-methods.js';
import type { Connection } from './connection.js';
import type { ChannelInfo } from './context.js';
import { Consumers } from './consumers.js';
import { Publisher, StaleRoute } from './publisher.js';
import type { Access, ResourceKind } from './ports.js';
import { readFresh } from '../util/read-point.js';

interface PendingContent {
  readonly args: BasicPublishArgs;
  properties?: BasicProperties;
  header?: Buffer;
  bodySize: number;
  received: number;
  chunks: Buffer[];
}

/** A channel waiting for an owner stops the connection's reading at this many queued frames... */
const BACKLOG_PAUSE_FRAMES = 2000;
/** ...and lets it read again once the backlog is down to this many. */
const BACKLOG_RESUME_FRAMES = 500;

/** Methods that look a queue, an exchange or a permission up in the metadata view before acting. */
const LOOKUP_METHODS: ReadonlySet<string> = new Set([
  'basic.consume', 'basic.get', 'queue.bind', 'queue.unbind', 'queue.purge', 'queue.declare',
  'exchange.declare', 'exchange.bind', 'exchange.unbind',
]);
/** What a stale view answers for something created (or a permission granted) elsewhere a moment ago. */
const STALE_CODES: ReadonlySet<number> = new Set([ReplyCode.NotFound, ReplyCode.AccessRefused]);
const isStaleMiss = (err: unknown): boolean => (err instanceof AmqpError && STALE_CODES.has(err.replyCode)) || err instanceof StaleRoute;

export class Channel {
  private pending: PendingContent | undefined;
  /** A method of this channel is waiting for an owner or the metadata; frames wait in `backlog`. */
  private waiting = false;
  private backlog: Frame[] = [];
  /** Notifications held until the method in progress is answered (afterCurrent). */
  private deferred: Array<() => void> = [];
  /** The connection's reading is held for this channel's backlog. */
  private holding = false;
  private released = false;
  /** queue.declare's last name, used when a later method names the queue '' (AMQP's "current queue"). */
  lastQueue: string | undefined;
  readonly publisher: Publisher;
  readonly consumers: Consumers;
  /** Permission checks already passed on this channel (RabbitMQ's permission cache). */
  private readonly allowed = new Set<string>();

  constructor(
    readonly conn: Connection,
    readonly id: number,
  ) {
    this.publisher = new Publisher(this);
    this.consumers = new Consumers(this);
  }

  get vhost(): string {
    return this.conn.vhost as string;
  }

  info(): ChannelInfo {
    const p = this.publisher;
    return { number: this.id, confirm: p.confirming, transactional: p.transactional, unconfirmed: p.unconfirmed, consumers: this.consumers.summary() };
  }

  get ctx() {
    return this.conn.ctx;
  }

  send(frame: Buffer): void {
    this.conn.out.send(frame);
  }

  /**
   * Frames are handled strictly in arrival order, as RabbitMQ's channel process handles its
   * mailbox: while a method waits for an owner or the metadata (declare, bind, get, consume,
   * tx.commit, ...), later frames of this channel wait in `backlog`, so every answer goes out in
   * order and a method sees the effects of every method before it. Publishes and acks complete
   * at once and never hold the channel (unless a publish's exchange lookup misses on a metadata
   * view that trails: completeContent).
   */
  onFrame(frame: Frame): void {
    if (this.waiting) {
      this.backlog.push(frame);
      if (!this.holding && this.backlog.length >= BACKLOG_PAUSE_FRAMES) this.hold(true);
      return;
    }
    this.handle(frame);
  }

  private handle(frame: Frame): void {
    const method = frame.type === 1 ? frame.method : undefined;
    try {
      let pending: Promise<void> | void = undefined;
      if (frame.type === 1) pending = this.onMethodFresh(frame.method);
      else if (frame.type === 2) pending = this.onHeader(frame.classId, frame.bodySize, frame.properties, frame.raw);
      else if (frame.type === 3) pending = this.onBody(frame.payload);
      if (pending !== undefined) this.wait(pending, method);
    } catch (err) {
      this.onError(err, method);
    }
  }

  /** Holds the channel until `pending` settles, then carries on with the backlog. */
  private wait(pending: Promise<void>, method: Method | undefined): void {
    this.waiting = true;
    pending.then(() => this.resume(), (err: unknown) => {
      if (this.released) return;
      try {
        this.onError(err, method);
      } catch (hard) {
        this.conn.fail(hard);
        return;
      }
      this.resume();
    });
  }

  /**
   * Runs `notify` now, or — while a method is in progress — right after its answer, as RabbitMQ's
   * channel process handles a queue's message (e.g. "your consumer was cancelled") only after the
   * call it is blocked in returns: a queue.delete answers delete-ok before the basic.cancel of the
   * channel's own consumers on that queue.
   */
  afterCurrent(notify: () => void): void {
    if (this.waiting) this.deferred.push(notify);
    else notify();
  }

  private resume(): void {
    this.waiting = false;
    if (this.released) return;
    if (this.deferred.length > 0) {
      const deferred = this.deferred;
      this.deferred = [];
      for (const notify of deferred) notify();
    }
    while (this.backlog.length > 0 && !this.waiting && !this.released) {
      const frame = this.backlog.shift() as Frame;
      if (this.holding && this.backlog.length <= BACKLOG_RESUME_FRAMES) this.hold(false);
      try {
        this.handle(frame);
      } catch (hard) {
        // A hard error from a queued frame: the connection closes, as it would have for the frame
        // had it been handled on arrival (outside the socket's data handler, so it is passed on here).
        this.conn.fail(hard);
        return;
      }
    }
  }

  private hold(on: boolean): void {
    this.holding = on;
    this.conn.holdReading(on);
  }

  /** Soft errors close this channel; hard ones (and bugs) propagate to the connection. */
  onError(err: unknown, method: Method | undefined): void {
    if (err instanceof AmqpError && method !== undefined && err.classId === 0) {
      const id = methodId(method.name);
      err.classId = id.classId;
      err.methodId = id.methodId;
    }
    if (err instanceof AmqpError && !err.hard) {
      this.pending = undefined;
      this.conn.closeChannel(this, err);
      return;
    }
    throw err;
  }

  // ---- content assembly -------------------------------------------------------------------

  private onHeader(classId: number, bodySize: number, properties: BasicProperties, raw: Buffer): Promise<void> | void {
    const p = this.pending;
    if (p === undefined) {
      throw new AmqpError(ReplyCode.UnexpectedFrame, 'expected method frame, got non method frame instead');
    }
    if (p.properties !== undefined) {
      throw new AmqpError(ReplyCode.UnexpectedFrame, 'expected content body, got non content body frame instead', 60, 40);
    }
    if (classId !== 60) {
      throw new AmqpError(ReplyCode.UnexpectedFrame, `expected content header for class 60, got one for class ${classId} instead`, 60, 40);
    }
    const max = this.ctx.config.maxMessageBytes;
    if (bodySize > max) {
      this.pending = undefined;
      throw new AmqpError(ReplyCode.PreconditionFailed, `message size ${bodySize} is larger than configured max size ${max}`, 60, 40);
    }
    p.properties = properties;
    p.header = raw;
    p.bodySize = bodySize;
    if (bodySize === 0) return this.completeContent(p);
  }

  private onBody(payload: Buffer): Promise<void> | void {
    const p = this.pending;
    // Errors in the middle of a content are reported against the method it belongs to
    // (basic.publish, 60/40), as rabbit_command_assembler does; without one, against none (0/0).
    if (p === undefined) throw new AmqpError(ReplyCode.UnexpectedFrame, 'expected method frame, got non method frame instead');
    if (p.properties === undefined) {
      throw new AmqpError(ReplyCode.UnexpectedFrame, 'expected content header for class 60, got non content header frame instead', 60, 40);
    }
    p.received += payload.length;
    if (p.received > p.bodySize) {
      throw new AmqpError(ReplyCode.FrameError, `body larger than the ${p.bodySize} bytes announced in the content header`, 60, 40);
    }
    p.chunks.push(payload);
    if (p.received === p.bodySize) return this.completeContent(p);
  }

  /**
   * A complete message is published. Its lookups (write permission, the exchange) answer from the
   * metadata view; when they miss on a view that may trail (an exchange declared through another
   * frontend a moment ago), the channel holds, like a method in progress, until the view reached
   * the leader's read point, and the publish runs once more: no wait while the lookups hit.
   */
  private completeContent(p: PendingContent): Promise<void> | void {
    this.pending = undefined;
    // Frames are views into socket chunks (64 KiB): copy, or a queued 1 KiB message pins a whole chunk.
    const body = Buffer.concat(p.chunks, p.received);
    const header = Buffer.from(p.header as Buffer);
    // (A channel released while it waited — its connection died — publishes nothing.) Only a run that
    // is not final may be refused as routed stale (StaleRoute).
    return readFresh(this.ctx.meta.sync, isStaleMiss, (final) =>
      this.released ? undefined : this.publisher.publish(p.args, p.properties as BasicProperties, header, body, !final));
  }

  // ---- methods --------------------------------------------------------------------------------

  /**
   * A method whose lookups answer from a metadata view that may trail changes made through another
   * frontend (a cluster): when it fails with "not found" or "access refused" before doing anything,
   * the view catches up with the metadata leader and the method runs once more, so a queue declared
   * through one frontend can be consumed at once through another.
   */
  private onMethodFresh(m: Method): Promise<void> | void {
    if (!LOOKUP_METHODS.has(m.name)) return this.onMethod(m);
    // (A channel released while it waited — its connection died — does nothing more.)
    return readFresh(this.ctx.meta.sync, isStaleMiss, () => this.released ? undefined : this.onMethod(m));
  }

  private onMethod(m: Method): Promise<void> | void {
    if (this.pending !== undefined) {
      const text = this.pending.properties === undefined
        ? 'expected content header for class 60, got non content header frame instead'
        : 'expected content body, got non content body frame instead';
      this.pending = undefined;
      throw new AmqpError(ReplyCode.UnexpectedFrame, text, 60, 40);
    }
    switch (m.name) {
      case 'basic.publish':
        if (m.args.immediate) throw new AmqpError(ReplyCode.NotImplemented, 'immediate=true', 60, 40);
        this.pending = { args: m.args, bodySize: 0, received: 0, chunks: [] };
        return;
      case 'basic.ack': return this.consumers.ack(m.args.deliveryTag, m.args.multiple);
      case 'basic.nack': return this.consumers.nack(m.args.deliveryTag, m.args.multiple, m.args.requeue);
      case 'basic.reject': return this.consumers.nack(m.args.deliveryTag, false, m.args.requeue);
      case 'basic.consume': return this.consumers.consume(m.args);
      case 'basic.cancel': return this.consumers.cancel(m.args.consumerTag, m.args.nowait);
      case 'basic.get': return this.consumers.get(m.args.queue, m.args.noAck);
      case 'basic.qos': return this.consumers.qos(m.args.prefetchSize, m.args.prefetchCount, m.args.global);
      case 'basic.recover':
      case 'basic.recover-async':
        this.consumers.recover();
        if (m.name === 'basic.recover') this.send(encodeMethod(this.id, 'basic.recover-ok', {}));
        return;
      case 'confirm.select': return this.publisher.selectConfirm(m.args.nowait);
      case 'tx.select': return this.publisher.selectTx();
      case 'tx.commit': return this.publisher.commit();
      case 'tx.rollback': return this.publisher.rollback();
      case 'channel.flow':
        // RabbitMQ (3.x) refuses client-initiated flow stops; consumers use basic.qos instead.
        if (!m.args.active) throw new AmqpError(ReplyCode.NotImplemented, 'active=false', 20, 20);
        this.send(encodeMethod(this.id, 'channel.flow-ok', { active: true }));
        return;
      case 'channel.flow-ok': return;
      case 'channel.close': return this.conn.channelClosedByClient(this);
      case 'channel.open':
        throw new AmqpError(ReplyCode.ChannelError, `second 'channel.open' seen`, 20, 10);
      case 'access.request':
        this.send(encodeMethod(this.id, 'access.request-ok', { ticket: 1 }));
        return;
      default:
        return admin.dispatch(this, m);
    }
  }

  /** Throws 403 unless the user has `access` on the resource; cached per channel like RabbitMQ. */
  checkAccess(access: Access, kind: ResourceKind, name: string): void {
    const key = `${access}\0${kind}\0${name}`;
    if (this.allowed.has(key)) return;
    this.ctx.meta.checkAccess(this.conn.user!, this.vhost, access, kind, name);
    if (this.allowed.size > 1000) this.allowed.clear();
    this.allowed.add(key);
  }

  /** '' means the channel's last declared queue (AMQP 0-9-1 §1.7.2.x "current queue"). */
  resolveQueue(name: string): string {
    if (name !== '') return name;
    if (this.lastQueue === undefined) throw new AmqpError(ReplyCode.NotFound, 'no previously declared queue');
    return this.lastQueue;
  }

  /** The socket drained: deliveries held for congestion may flow again. */
  onWritable(): void {
    this.consumers.onWritable();
  }

  /** Frames still waiting behind the method in progress (handed to the connection when the channel fails). */
  takeBacklog(): Frame[] {
    const b = this.backlog;
    this.backlog = [];
    return b;
  }

  /** The channel is gone (closed either way, or the connection died): give everything back. */
  release(): void {
    if (this.holding) this.hold(false);
    this.released = true;
    this.backlog = [];
    this.pending = undefined;
    this.consumers.release();
    this.publisher.release();
  }
}
