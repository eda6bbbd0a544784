// A frontend's connection to one owner: one gRPC channel, and on it the long-lived Enqueue,
// Settle and Consume streams of warren.v1.Owner, each reopened after a break. Requests on a
// stream are matched to their answers by id; when a stream breaks, every request still waiting on
// it fails with LinkBroken — its outcome is unknown, and the caller's retry decides what that means.
import type { Logger } from '../log.js';
import { u64 } from '../partition/codec.js';
import type { warren } from '../proto/owner.js';
import type { BidiStream } from '../rpc/bidi.js';
import { OWNER } from '../rpc/contracts.js';
import { RpcChannel } from '../rpc/server.js';

// Answers as the channel hands them over (every field optional).
export type EnqueueAck = warren.v1.EnqueueAck.$Properties;
export type SettleAck = warren.v1.SettleAck.$Properties;
export type ConsumeEvent = warren.v1.ConsumeEvent.$Properties;
type ConsumeRequest = warren.v1.ConsumeRequest.$Properties;

/** The stream carrying a request broke before its answer: the outcome is unknown. */
export class LinkBroken extends Error {
  override readonly name = 'LinkBroken';
}

const REOPEN_MS = 200;

/** One bidi stream with id-matched answers, reopened lazily after a break. */
class Matched<Req, Res> {
  private stream: BidiStream<Res, Req> | undefined;
  private readonly waiting = new Map<number, (r: Res | Error) => void>();

  constructor(
    private readonly open: () => BidiStream<Res, Req>,
    private readonly idOf: (res: Res) => number,
    private readonly onOther?: (res: Res) => void,
    private readonly onOpen?: (s: BidiStream<Res, Req>) => void,
  ) {}

  private current(): BidiStream<Res, Req> {
    if (this.stream !== undefined) return this.stream;
    const s = this.open();
    this.stream = s;
    s.onData((res) => {
      const id = this.idOf(res);
      const w = id === 0 ? undefined : this.waiting.get(id);
      if (w === undefined) {
        this.onOther?.(res);
        return;
      }
      this.waiting.delete(id);
      w(res);
    });
    s.onClose((err) => {
      if (this.stream === s) this.stream = undefined;
      const waiting = [...this.waiting.values()];
      this.waiting.clear();
      const e = new LinkBroken(`owner stream closed${err ? `: ${err.message}` : ''}`);
      for (const w of waiting) w(e);
    });
    this.onOpen?.(s);
    return s;
  }

  /** Sends `req` (carrying `id`); `done` gets the answer with that id, or LinkBroken. */
  request(id: number, req: Req, done: (r: Res | Error) => void): void {
    const s = this.current();
    this.waiting.set(id, done);
    s.write(req);
  }

  /** Opens the stream now (it stays open: the Consume stream carries deliveries unasked). */
  ensure(): BidiStream<Res, Req> {
    return this.current();
  }

  isOpen(): boolean {
    return this.stream !== undefined;
  }

  close(): void {
    this.stream?.cancel();
    this.stream = undefined;
  }
}

export interface LinkEvents {
  /** Deliveries and consumer cancellations pushed by the owner on the Consume stream. */
  onEvent(ev: ConsumeEvent): void;
}

export class OwnerLink {
  readonly channel: RpcChannel;
  private nextId = 1;
  private readonly enqueues: Matched<warren.v1.EnqueueBatch.$Properties, EnqueueAck>;
  private readonly settles: Matched<warren.v1.SettleBatch.$Properties, SettleAck>;
  private readonly consume: Matched<ConsumeRequest, ConsumeEvent>;
  private reopenTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly ownerId: number, readonly address: string, private readonly session: string, events: LinkEvents, private readonly log: Logger) {
    this.channel = new RpcChannel(address);
    this.enqueues = new Matched(() => this.channel.bidi(OWNER.enqueue), (a) => u64(a.batchId));
    this.settles = new Matched(() => this.channel.bidi(OWNER.settle), (a) => u64(a.batchId));
    this.consume = new Matched(
      () => this.channel.bidi(OWNER.consume),
      (ev) => (ev.done ? u64(ev.done.requestId) : 0),
      (ev) => events.onEvent(ev),
      (s) => {
        s.write({ open: { session: this.session } });
        // The owner routes this session's deliveries to the newest Consume stream: keep one open.
        s.onClose(() => this.reopenConsume());
      },
    );
    this.consume.ensure();
  }

  private reopenConsume(): void {
    if (this.closed || this.reopenTimer !== undefined) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (this.closed || this.consume.isOpen()) return;
      this.log.debug({ owner: this.ownerId }, 'reopening the consume stream');
      this.consume.ensure();
    }, REOPEN_MS);
  }

  private id(): number {
    return this.nextId++;
  }

  enqueue(partition: number, items: warren.v1.EnqueueItem.$Properties[], done: (r: EnqueueAck | Error) => void): void {
    const batchId = this.id();
    this.enqueues.request(batchId, { batchId, partition, items }, done);
  }

  settle(partition: number, items: warren.v1.Settlement.$Properties[], done: (r: SettleAck | Error) => void): void {
    const batchId = this.id();
    this.settles.request(batchId, { batchId, partition, items }, done);
  }

  /** A subscribe / cancel / flow request; `done` gets its Done event. */
  control(make: (requestId: number) => ConsumeRequest, done: (r: ConsumeEvent | Error) => void): void {
    const requestId = this.id();
    this.consume.request(requestId, make(requestId), done);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    this.enqueues.close();
    this.settles.close();
    this.consume.close();
    this.channel.close();
  }
}
