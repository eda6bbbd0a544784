// One AMQP channel of a client Connection. It never sees the socket: frames come in through
// handleFrame() and bytes go out through the ChannelTransport, so tests can drive it directly.
//
// Contracts:
//   - Synchronous methods (declare, qos, consume, ...) may be pipelined: the server answers them in
//     order on a channel, so replies are matched first-in first-out against what was sent.
//   - A delivery's body is handed to the callback as a view into the socket's buffer when it arrived
//     in one frame (the common case); copy it to keep it past the callback.
//   - A channel.close from the server (or the connection failing) rejects every pending operation with
//     the ClientError, calls onError once, and makes later calls throw / reject with the same error.
import { encodeContent, encodeMethod } from '../amqp/index.js';
import type { ArgsOf, BasicProperties, FieldTable, Frame, Method, MethodName } from '../amqp/index.js';
import { ClientError, ClientErrorCode } from './errors.js';
import { ConfirmTracker } from './confirms.js';

/** What a channel needs from its connection. */
export interface ChannelTransport {
  /** Queues bytes for this event-loop turn's socket write; false when the caller should wait for writability. */
  write(buf: Buffer): boolean;
  readonly frameMaxBytes: number;
  /** The channel is closed (either side); its number may be reused. */
  release(channelId: number): void;
}

export type DeliveryCallback = (deliveryTag: number, redelivered: boolean, body: Buffer, properties: BasicProperties) => void;

export interface ConsumeOptions {
  noAck?: boolean;
  exclusive?: boolean;
  arguments?: FieldTable;
  /** The server cancelled the consumer (queue deleted, ...). */
  onCancel?: () => void;
}

export interface QueueDeclareOptions {
  passive?: boolean;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  arguments?: FieldTable;
}

interface Rpc { readonly expect: MethodName; resolve(m: Method): void; reject(e: Error): void }
interface Consumer { readonly onDelivery: DeliveryCallback; readonly onCancel: (() => void) | undefined }

const EMPTY = Buffer.alloc(0);

export class Channel {
  /** Called with how many publishes a basic.ack (ack=true) or basic.nack (ack=false) settled. */
  onConfirm: ((count: number, ack: boolean) => void) | undefined;
  /** Called once when the channel closes other than by close(). */
  onError: ((err: ClientError) => void) | undefined;
  private rpcs: Rpc[] = [];
  private readonly consumers = new Map<string, Consumer>();
  private nextConsumerTag = 1;
  private confirms: ConfirmTracker | undefined;
  private failure: ClientError | undefined;
  private closing = false;
  // The content being assembled: a basic.deliver (consumer set) or a basic.return (consumer undefined).
  private inContent = false;
  private contentConsumer: Consumer | undefined;
  private contentTag = 0;
  private contentRedelivered = false;
  private contentProps: BasicProperties = {};
  private contentBytes = 0;
  private parts: Buffer[] = [];
  private partsBytes = 0;

  constructor(readonly id: number, private readonly transport: ChannelTransport) {}

  /** Unsettled publishes in confirm mode (0 otherwise). */
  get unconfirmed(): number { return this.confirms?.outstanding ?? 0; }
  get closed(): boolean { return this.failure !== undefined; }

  /** Sends channel.open; used by Connection.createChannel. */
  async open(): Promise<void> {
    await this.rpc('channel.open', { outOfBand: '' }, 'channel.open-ok');
  }

  async declareQueue(queue: string, o: QueueDeclareOptions = {}): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    const m = await this.rpc('queue.declare', {
      ticket: 0, queue, passive: o.passive ?? false, durable: o.durable ?? false, exclusive: o.exclusive ?? false,
      autoDelete: o.autoDelete ?? false, nowait: false, arguments: o.arguments ?? {},
    }, 'queue.declare-ok');
    return m.args as ArgsOf<'queue.declare-ok'>;
  }

  /** Resolves with the number of messages deleted with the queue. */
  async deleteQueue(queue: string, o: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    const m = await this.rpc('queue.delete', { ticket: 0, queue, ifUnused: o.ifUnused ?? false, ifEmpty: o.ifEmpty ?? false,
      nowait: false }, 'queue.delete-ok');
    return (m.args as ArgsOf<'queue.delete-ok'>).messageCount;
  }

  async qos(prefetchCount: number, global = false): Promise<void> {
    await this.rpc('basic.qos', { prefetchSize: 0, prefetchCount, global }, 'basic.qos-ok');
  }

  /** Puts the channel in confirm mode; publishes from now on are numbered from 1 and settled via onConfirm. */
  async confirmSelect(): Promise<void> {
    const p = this.rpc('confirm.select', { nowait: false }, 'confirm.select-ok');
    this.confirms ??= new ConfirmTracker();
    await p;
  }

  /**
   * Method, header and body frames in one buffer, written with everything else sent this turn.
   * Returns false when the connection's write buffer is full: wait for Connection.whenWritable().
   */
  publish(exchange: string, routingKey: string, body: Buffer, properties: BasicProperties = {}, mandatory = false): boolean {
    if (this.failure) throw this.failure;
    const frames = encodeContent(this.id, 'basic.publish', { ticket: 0, exchange, routingKey, mandatory, immediate: false },
      properties, body, this.transport.frameMaxBytes);
    this.confirms?.publish();
    return this.transport.write(frames);
  }

  /** Subscribes; the consumer tag is chosen here so deliveries can never precede its registration. */
  async consume(queue: string, onDelivery: DeliveryCallback, o: ConsumeOptions = {}): Promise<string> {
    const consumerTag = `warren-client-${this.id}-${this.nextConsumerTag++}`;
    this.consumers.set(consumerTag, { onDelivery, onCancel: o.onCancel });
    try {
      await this.rpc('basic.consume', { ticket: 0, queue, consumerTag, noLocal: false, noAck: o.noAck ?? false,
        exclusive: o.exclusive ?? false, nowait: false, arguments: o.arguments ?? {} }, 'basic.consume-ok');
    } catch (err) {
      this.consumers.delete(consumerTag);
      throw err;
    }
    return consumerTag;
  }

  async cancel(consumerTag: string): Promise<void> {
    await this.rpc('basic.cancel', { consumerTag, nowait: false }, 'basic.cancel-ok');
    this.consumers.delete(consumerTag);
  }

  ack(deliveryTag: number, multiple = false): void {
    if (this.failure) throw this.failure;
    this.transport.write(encodeMethod(this.id, 'basic.ack', { deliveryTag, multiple }));
  }

  nack(deliveryTag: number, multiple = false, requeue = true): void {
    if (this.failure) throw this.failure;
    this.transport.write(encodeMethod(this.id, 'basic.nack', { deliveryTag, multiple, requeue }));
  }

  /** Closes the channel; resolves at once if it is already closed. */
  async close(): Promise<void> {
    if (this.failure || this.closing) return;
    this.closing = true;
    try {
      await this.rpc('channel.close', { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 }, 'channel.close-ok');
    } catch { /* closed by the server or the connection meanwhile: closed either way */ }
  }

  /**
   * Rejects everything pending; called on channel.close from the server and by the connection.
   * `report` false: the close was asked for (by close() here or on the connection), so no onError.
   */
  fail(err: ClientError, report = true): void {
    if (this.failure) return;
    this.failure = err;
    const rpcs = this.rpcs;
    this.rpcs = [];
    for (const r of rpcs) r.reject(err);
    this.consumers.clear();
    this.transport.release(this.id);
    if (report && !this.closing) this.onError?.(err);
  }

  handleFrame(f: Frame): void {
    if (f.type === 1) this.handleMethod(f.method);
    else if (f.type === 2) this.handleHeader(f.bodySize, f.properties);
    else if (f.type === 3) this.handleBody(f.payload);
  }

  private rpc<N extends MethodName>(name: N, args: ArgsOf<N>, expect: MethodName): Promise<Method> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.rpcs.push({ expect, resolve, reject });
      this.transport.write(encodeMethod(this.id, name, args));
    });
  }

  private handleMethod(m: Method): void {
    switch (m.name) {
      case 'basic.deliver':
        this.startContent(this.consumers.get(m.args.consumerTag), m.args.deliveryTag, m.args.redelivered);
        return;
      case 'basic.return':
        this.startContent(undefined, 0, false);
        return;
      case 'basic.ack':
      case 'basic.nack': {
        const n = this.confirms?.settle(m.args.deliveryTag, m.args.multiple) ?? 0;
        if (n > 0) this.onConfirm?.(n, m.name === 'basic.ack');
        return;
      }
      case 'basic.cancel': {
        const c = this.consumers.get(m.args.consumerTag);
        this.consumers.delete(m.args.consumerTag);
        if (!m.args.nowait) this.transport.write(encodeMethod(this.id, 'basic.cancel-ok', { consumerTag: m.args.consumerTag }));
        c?.onCancel?.();
        return;
      }
      case 'channel.flow':
        this.transport.write(encodeMethod(this.id, 'channel.flow-ok', { active: m.args.active }));
        return;
      case 'channel.close':
        this.transport.write(encodeMethod(this.id, 'channel.close-ok', {}));
        this.fail(ClientError.fromClose(ClientErrorCode.ChannelClosed, m.args));
        return;
      case 'channel.close-ok':
        this.rpcs.shift()?.resolve(m);
        this.fail(new ClientError(ClientErrorCode.ChannelClosed, 'channel closed by the client'));
        return;
      default:
        this.handleReply(m);
    }
  }

  private handleReply(m: Method): void {
    const rpc = this.rpcs.shift();
    if (rpc && rpc.expect === m.name) {
      rpc.resolve(m);
      return;
    }
    const err = new ClientError(ClientErrorCode.Protocol, `unexpected ${m.name} on channel ${this.id}` +
      (rpc ? ` (expected ${rpc.expect})` : ''));
    if (rpc) rpc.reject(err);
    this.fail(err);
  }

  private startContent(consumer: Consumer | undefined, deliveryTag: number, redelivered: boolean): void {
    this.inContent = true;
    this.contentConsumer = consumer;
    this.contentTag = deliveryTag;
    this.contentRedelivered = redelivered;
    this.contentBytes = -1;
  }

  private handleHeader(bodySize: number, properties: BasicProperties): void {
    if (!this.inContent || this.contentBytes !== -1) return; // a broker bug; nothing sensible to deliver
    this.contentProps = properties;
    this.contentBytes = bodySize;
    if (bodySize === 0) this.finishContent(EMPTY);
  }

  private handleBody(payload: Buffer): void {
    if (!this.inContent || this.contentBytes < 0) return;
    if (this.partsBytes === 0 && payload.length >= this.contentBytes) {
      this.finishContent(payload); // the whole body in one frame: no copy
      return;
    }
    this.parts.push(payload);
    this.partsBytes += payload.length;
    if (this.partsBytes >= this.contentBytes) {
      const body = Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
      this.finishContent(body);
    }
  }

  private finishContent(body: Buffer): void {
    this.inContent = false;
    const consumer = this.contentConsumer;
    this.contentConsumer = undefined;
    // basic.return content (consumer undefined) is dropped: this client does not publish mandatory.
    consumer?.onDelivery(this.contentTag, this.contentRedelivered, body, this.contentProps);
  }
}
