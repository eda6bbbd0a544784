// The frontend's OwnerClient in a cluster (src/owner/api.ts over warren.v1.Owner): every queue call
// goes to the owner that can answer it — a durable queue's partition leader (learnt from NotLeader
// hints, starting from the placement's preferred replica), a transient queue's home owner — and is
// retried there across leader changes and owner restarts until `retryMs` passes.
//
// Ordering and deduplication. Enqueues and settlements are batched per target (batch-pipeline.ts:
// several batches in flight, resent in order after a failure): an enqueue keeps its (session, seq)
// on every resend and seq n+1 never commits before seq n, so the partition's "highest seq per
// session" deduplication is exact. A synchronous call (declare, consume, get, purge, delete) first
// waits until the target's earlier enqueues, settlements and consumer changes were answered, so
// "calls on one queue are applied in the order they are made" holds across the separate streams.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { encodeContentHeader } from '../amqp/content.js';
import type { OwnerAddress } from '../config.js';
import type { Logger } from '../log.js';
import { encodeMeta } from '../meta/codec.js';
import type {
  ConsumeOptions, ConsumerSink, DeclareCounts, DeleteConditions, EnqueueOutcome, GetResult, Message, OwnerClient,
  QueueRef, QueueSpec, Settlement,
} from '../owner/api.js';
import { partitionOf } from '../owner/durable.js';
import { transientHome } from './layout.js';
import { u64 } from '../partition/codec.js';
import { publishedMessage } from '../partition/index.js';
import type { warren } from '../proto/owner.js';
import { parseExpirationMs } from '../queue/args.js';
import type { BidiMethod } from '../rpc/bidi.js';
import { OWNER } from '../rpc/contracts.js';
import { RpcError } from '../rpc/server.js';
import { BatchPipeline } from './batch-pipeline.js';
import { LinkBroken, OwnerLink, type ConsumeEvent } from './owner-link.js';
import { mergeSettlements } from './settlements.js';
import { fromWire, NotLeaderReply, UnavailableReply } from './wire.js';

type EnqueueItem = warren.v1.EnqueueItem.$Properties;
type SettleItem = warren.v1.Settlement.$Properties;

export interface RemoteOwnerOptions {
  readonly owners: readonly OwnerAddress[];
  readonly partitions: number;
  /** The owners holding partition p, preferred leader first (the placement ring). */
  readonly replicas: (partition: number) => readonly number[];
  /** This frontend's session: owner of its consumers, getters and enqueue sequence numbers. */
  readonly session: string;
  /** The queue's record says it lives in a partition (durable, not exclusive). */
  readonly isDurable: (q: QueueRef) => boolean;
  readonly log: Logger;
  /** How long a call keeps retrying (elections, restarts) before it fails. */
  readonly retryMs?: number;
  /** Deadline of one unary attempt. */
  readonly attemptMs?: number;
}

const DEFAULT_RETRY_MS = 30_000;
const DEFAULT_ATTEMPT_MS = 10_000;
const BACKOFF_MS = 100;
const MAX_BATCH_ITEMS = 1_000;
const SETTLE_BATCHES_IN_FLIGHT = 4;
const ENQUEUE_BATCHES_IN_FLIGHT = 4;

interface EnqueueResult {
  readonly outcome: EnqueueOutcome;
  readonly backlogged: boolean;
}
const REJECTED: EnqueueResult = { outcome: 'rejected', backlogged: false };
/** A consumer cancelled here is remembered this long, so a delivery decided before the cancel is given back. */
const CANCELLED_MEMORY_MS = 60_000;
const SETTLE_KIND: Record<Settlement, number> = { ack: 1, requeue: 2, discard: 3 };
const OUTCOMES: Record<number, EnqueueOutcome> = { 1: 'accepted', 2: 'rejected' };

/** Where a queue's requests go: partition > 0 is a durable queue's partition; 0 a transient queue on `home`. */
interface Target {
  readonly key: string;
  readonly partition: number;
  readonly home: number;
}

interface Consumer {
  readonly q: QueueRef;
  readonly target: Target;
  sink: ConsumerSink | undefined;
  readonly noAck: boolean;
  /**
   * Delivered and not yet settled. A new partition leader re-sends what is checked out to a
   * consumer (it cannot know what the old one handed over): a msgId already here is not handed to
   * the client twice; the client's ack settles it at the new leader.
   */
  readonly unsettled: Set<number>;
  /** Settled by the client, the settlement not yet committed: a re-send of these is dropped too (the old leader may have died before committing the ack). */
  readonly settling: Set<number>;
}

/** One outstanding-work count per target: synchronous calls wait for it to drain. */
class Outstanding {
  private count = 0;
  private waiters: Array<() => void> = [];
  add(n = 1): void {
    this.count += n;
  }
  done(n = 1): void {
    this.count -= n;
    if (this.count > 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  idle(): Promise<void> {
    return this.count <= 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

export class RemoteOwner implements OwnerClient {
  private readonly links = new Map<number, OwnerLink>();
  private readonly leaders = new Map<number, number>();
  private readonly consumers = new Map<string, Consumer>();
  /** Per partition, the latest leader term a delivery came from (0: a transient queue's, never filtered). */
  private readonly deliveryTerms = new Map<number, number>();
  private readonly outstanding = new Map<string, Outstanding>();
  private readonly enqueuePipes = new Map<string, BatchPipeline<EnqueueItem, EnqueueResult>>();
  private readonly settlePipes = new Map<string, BatchPipeline<SettleItem, boolean>>();
  private readonly seqs = new Map<number, number>();
  private readonly retryMs: number;
  private readonly attemptMs: number;
  private closed = false;

  constructor(private readonly opts: RemoteOwnerOptions) {
    this.retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.attemptMs = opts.attemptMs ?? DEFAULT_ATTEMPT_MS;
    for (const o of opts.owners) {
      this.links.set(o.id, new OwnerLink(o.id, o.address, opts.session, { onEvent: (ev) => this.onEvent(ev) }, opts.log));
    }
  }

  // ---- where requests go ---------------------------------------------------------------------

  private target(q: QueueRef): Target {
    const p = partitionOf(q, this.opts.partitions);
    if (this.opts.isDurable(q)) return { key: `p${p}`, partition: p, home: 0 };
    const home = transientHome(q, this.opts.partitions, this.opts.replicas, this.opts.owners);
    return { key: `t${home}`, partition: 0, home };
  }

  private ownerFor(t: Target): OwnerLink {
    const id = t.partition === 0 ? t.home : this.leaders.get(t.partition) ?? this.opts.replicas(t.partition)[0] ?? 0;
    const link = this.links.get(id) ?? this.links.values().next().value;
    if (link === undefined) throw new Error('cluster: no owners configured');
    return link;
  }

  /** What a failed attempt teaches about the partition's leader. */
  private learn(t: Target, err: Error): void {
    if (t.partition === 0) return;
    if (err instanceof NotLeaderReply && err.leaderId !== 0 && this.links.has(err.leaderId)) {
      this.leaders.set(t.partition, err.leaderId);
      return;
    }
    if (err instanceof NotLeaderReply || err instanceof LinkBroken || err instanceof RpcError) {
      // No hint, or the owner is unreachable: try the next replica.
      const replicas = this.opts.replicas(t.partition);
      const current = this.leaders.get(t.partition) ?? replicas[0];
      const i = replicas.indexOf(current ?? 0);
      this.leaders.set(t.partition, replicas[(i + 1) % replicas.length] ?? 0);
    }
  }

  /** Whether an attempt's failure is worth another attempt (rather than the caller's error). */
  private static retryable(err: unknown): err is Error {
    return err instanceof NotLeaderReply || err instanceof UnavailableReply || err instanceof LinkBroken || err instanceof RpcError;
  }

  private delay(err: Error): number {
    return err instanceof NotLeaderReply && err.leaderId !== 0 ? 0 : BACKOFF_MS;
  }

  private tracked(t: Target): Outstanding {
    let o = this.outstanding.get(t.key);
    if (o === undefined) {
      o = new Outstanding();
      this.outstanding.set(t.key, o);
    }
    return o;
  }

  /**
   * Runs `attempt` against the target's owner until it succeeds, fails for good, or the retry time
   * is up; first, unless `afterEarlier` is false, waits until the target's earlier work was answered.
   */
  private async call<R>(t: Target, what: string, attempt: (link: OwnerLink) => Promise<R>, afterEarlier = true): Promise<R> {
    if (afterEarlier) await this.tracked(t).idle();
    const deadline = Date.now() + this.retryMs;
    for (;;) {
      if (this.closed) throw new AmqpError(ReplyCode.InternalError, `${what}: shutting down`);
      try {
        return await attempt(this.ownerFor(t));
      } catch (err) {
        if (!RemoteOwner.retryable(err)) throw err;
        this.learn(t, err);
        if (Date.now() >= deadline) throw new AmqpError(ReplyCode.InternalError, `${what}: ${err.message}`);
        const ms = this.delay(err);
        if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      }
    }
  }

  /** A unary request whose answer carries the error envelope. */
  private unary<Req, Res extends { error?: warren.v1.Error.$Properties | null }>(
    t: Target, what: string, method: BidiMethod<Req, Res>, req: Req,
  ): Promise<Res> {
    return this.call(t, what, async (link) => {
      const res = await link.channel.unary(method, req, this.attemptMs);
      const err = fromWire(res.error);
      if (err !== undefined) throw err;
      return res;
    });
  }

  private wireQueue(q: QueueRef, t: Target): warren.v1.QueueRef.$Properties {
    return { vhost: q.vhost, name: q.name, partition: t.partition };
  }

  // ---- OwnerClient ---------------------------------------------------------------------------

  async declareQueue(q: QueueRef, spec: QueueSpec): Promise<DeclareCounts> {
    const t = this.target(q);
    const r = await this.unary(t, `queue.declare '${q.name}'`, OWNER.declareQueue, {
      queue: this.wireQueue(q, t), arguments: encodeMeta(spec.arguments), autoDelete: spec.autoDelete, passive: spec.passive ?? false,
    });
    return { messages: r.messageCount ?? 0, consumers: r.consumerCount ?? 0 };
  }

  enqueue(q: QueueRef, message: Message, done: (outcome: EnqueueOutcome, backlogged: boolean) => void): void {
    const t = this.target(q);
    const p = message.properties;
    const item: EnqueueItem = {
      vhost: q.vhost, queues: [q.name], exchange: message.exchange, routingKey: message.routingKey,
      header: message.header ?? encodeContentHeader(p, message.body.byteLength), body: message.body, session: this.opts.session,
      // Per partition, in the order sent: the partition's deduplication needs no more (transient queues have none).
      seq: t.partition === 0 ? 0 : this.nextSeq(t.partition),
      ...(p.priority !== undefined ? { priority: p.priority } : {}),
    };
    const expirationMs = p.expiration === undefined ? undefined : parseExpirationMs(p.expiration);
    if (expirationMs !== undefined) item.expirationMs = expirationMs;
    const o = this.tracked(t);
    o.add();
    this.enqueuePipe(t).push(item, (r) => {
      o.done();
      done(r.outcome, r.backlogged);
    });
  }

  private nextSeq(partition: number): number {
    const s = (this.seqs.get(partition) ?? 0) + 1;
    this.seqs.set(partition, s);
    return s;
  }

  /**
   * How a batch pipeline retries: retryable failures, learning the leader, until the retry time is
   * up — or, `untilClosed`, for as long as this client runs (a warning every retry period says so).
   */
  private retryPolicy(t: Target, what: string, untilClosed = false): (err: Error, firstSentAtMs: number) => number | undefined {
    let warnedAt = 0;
    return (err, firstSentAtMs) => {
      const overdue = Date.now() - firstSentAtMs >= this.retryMs;
      if (!RemoteOwner.retryable(err) || (overdue && !untilClosed) || this.closed) {
        this.opts.log.warn({ err, partition: t.partition }, what);
        return undefined;
      }
      if (overdue && Date.now() - warnedAt >= this.retryMs) {
        warnedAt = Date.now();
        this.opts.log.warn({ err, partition: t.partition, sinceMs: Date.now() - firstSentAtMs }, `${what}: still retrying`);
      }
      this.learn(t, err);
      return this.delay(err);
    };
  }

  private enqueuePipe(t: Target): BatchPipeline<EnqueueItem, EnqueueResult> {
    let pipe = this.enqueuePipes.get(t.key);
    if (pipe !== undefined) return pipe;
    pipe = new BatchPipeline<EnqueueItem, EnqueueResult>({
      maxInFlight: ENQUEUE_BATCHES_IN_FLIGHT, maxBatchItems: MAX_BATCH_ITEMS, failed: REJECTED,
      route: () => this.ownerFor(t), retry: this.retryPolicy(t, 'enqueue failed'),
      send: (items, answer) => {
        this.ownerFor(t).enqueue(t.partition, [...items], (r) => {
          if (r instanceof Error) return answer(r);
          const err = fromWire(r.error);
          if (err !== undefined) return answer(err);
          const results = r.results ?? [];
          answer(items.map((_, i) => ({
            outcome: OUTCOMES[results[i]?.outcomes?.[0] ?? 1] ?? 'accepted', backlogged: results[i]?.backlogged?.[0] ?? false,
          })));
        });
      },
    });
    this.enqueuePipes.set(t.key, pipe);
    return pipe;
  }

  private settlePipe(t: Target): BatchPipeline<SettleItem, boolean> {
    let pipe = this.settlePipes.get(t.key);
    if (pipe !== undefined) return pipe;
    // Settlements are retried for as long as the partition cannot take them (they are idempotent):
    // one given up would leave its messages checked out to a consumer whose client acked them, and
    // once that is its whole prefetch the consumer gets nothing more while its session lives. An
    // enqueue, by contrast, has a client-visible failure (the publisher's nack) and gives up.
    pipe = new BatchPipeline<SettleItem, boolean>({
      maxInFlight: SETTLE_BATCHES_IN_FLIGHT, maxBatchItems: MAX_BATCH_ITEMS, failed: false,
      route: () => this.ownerFor(t), retry: this.retryPolicy(t, 'settle failed', true),
      send: (items, answer) => {
        this.ownerFor(t).settle(t.partition, mergeSettlements(items), (r) => {
          const err = r instanceof Error ? r : fromWire(r.error);
          answer(err ?? items.map(() => true));
        });
      },
    });
    this.settlePipes.set(t.key, pipe);
    return pipe;
  }

  /** One consumer change on an owner's Consume stream; resolves with its Done. */
  private static controlOnce(link: OwnerLink, make: (requestId: number) => warren.v1.ConsumeRequest.$Properties): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      link.control(make, (r) => {
        const err = r instanceof Error ? r : fromWire(r.done?.error);
        if (err === undefined) resolve();
        else reject(err);
      });
    });
  }

  /** A consumer change, retried like the rest, after the target's earlier work. */
  private control(t: Target, what: string, make: (requestId: number) => warren.v1.ConsumeRequest.$Properties): Promise<void> {
    return this.call(t, what, (link) => RemoteOwner.controlOnce(link, make));
  }

  async consume(q: QueueRef, consumerId: string, opts: ConsumeOptions, sink: ConsumerSink): Promise<void> {
    const t = this.target(q);
    const c: Consumer = { q, target: t, sink, noAck: opts.noAck, unsettled: new Set(), settling: new Set() };
    this.consumers.set(consumerId, c);
    try {
      await this.control(t, `basic.consume on '${q.name}'`, (requestId) => ({
        subscribe: {
          requestId, queue: this.wireQueue(q, t), consumer: consumerId, prefetch: opts.prefetch, priority: opts.priority,
          noAck: opts.noAck, exclusive: opts.exclusive,
        },
      }));
    } catch (err) {
      if (this.consumers.get(consumerId) === c) this.consumers.delete(consumerId);
      throw err;
    }
  }

  cancel(q: QueueRef, consumerId: string): void {
    const t = this.target(q);
    const c = this.consumers.get(consumerId);
    if (c !== undefined) {
      c.sink = undefined;
      setTimeout(() => {
        if (this.consumers.get(consumerId) === c) this.consumers.delete(consumerId);
      }, CANCELLED_MEMORY_MS).unref?.();
    }
    this.background(t, `basic.cancel on '${q.name}'`, (requestId) => ({ cancel: { requestId, queue: this.wireQueue(q, t), consumer: consumerId } }));
  }

  setFlow(q: QueueRef, consumerId: string, active: boolean): void {
    const t = this.target(q);
    this.background(t, 'consumer flow', (requestId) => ({ flow: { requestId, queue: this.wireQueue(q, t), consumer: consumerId, active } }));
  }

  /** A consumer change nobody waits for, counted so later synchronous calls on the target come after it. */
  private background(t: Target, what: string, make: (requestId: number) => warren.v1.ConsumeRequest.$Properties): void {
    const o = this.tracked(t);
    o.add();
    // Sent at once, not after earlier work drains (that would wait for itself).
    this.call(t, what, (link) => RemoteOwner.controlOnce(link, make), false)
      .catch((err: unknown) => {
        if (!this.closed) this.opts.log.warn({ err }, `${what} failed`);
      })
      .finally(() => o.done());
  }

  settle(q: QueueRef, consumerId: string, msgIds: readonly number[], how: Settlement, done?: () => void): void {
    const t = this.target(q);
    const c = this.consumers.get(consumerId);
    if (c !== undefined) {
      for (const id of msgIds) {
        c.unsettled.delete(id);
        // A requeued message comes back to this consumer under the same msgId: never drop that one.
        if (how !== 'requeue') c.settling.add(id);
      }
    }
    const o = this.tracked(t);
    o.add();
    this.settlePipe(t).push(
      { vhost: q.vhost, queue: q.name, session: this.opts.session, consumer: consumerId, kind: SETTLE_KIND[how], msgIds: [...msgIds] },
      () => {
        if (c !== undefined) for (const id of msgIds) c.settling.delete(id);
        o.done();
        done?.();
      },
    );
  }

  async get(q: QueueRef, getterId: string, noAck: boolean): Promise<GetResult | undefined> {
    const t = this.target(q);
    const r = await this.unary(t, `basic.get on '${q.name}'`, OWNER.get, {
      queue: this.wireQueue(q, t), session: this.opts.session, getter: getterId, noAck,
    });
    const d = r.delivery;
    if (d === null || d === undefined) return undefined;
    return {
      delivery: {
        queue: d.queue ?? q.name, msgId: u64(d.msgId), redelivered: d.redelivered ?? false,
        message: publishedMessage(d.exchange ?? '', d.routingKey ?? '', d.header ?? new Uint8Array(), d.body ?? new Uint8Array()),
      },
      messageCount: r.messageCount ?? 0,
    };
  }

  async purge(q: QueueRef): Promise<number> {
    const t = this.target(q);
    const r = await this.unary(t, `queue.purge '${q.name}'`, OWNER.purge, { queue: this.wireQueue(q, t) });
    return r.messageCount ?? 0;
  }

  async deleteQueue(q: QueueRef, conditions?: DeleteConditions): Promise<number> {
    const t = this.target(q);
    const r = await this.unary(t, `queue.delete '${q.name}'`, OWNER.deleteQueue, {
      queue: this.wireQueue(q, t), ifUnused: conditions?.ifUnused ?? false, ifEmpty: conditions?.ifEmpty ?? false,
    });
    return r.messageCount ?? 0;
  }

  // ---- what owners push ----------------------------------------------------------------------

  private onEvent(ev: ConsumeEvent): void {
    if (ev.deliveries) {
      for (const d of ev.deliveries.deliveries ?? []) {
        const consumer = d.consumer ?? '';
        const c = this.consumers.get(consumer);
        const msgId = u64(d.msgId);
        if (c?.sink === undefined) {
          // Decided before this frontend's cancel reached the queue: it goes back, as the embedded owner does.
          if (c !== undefined) this.settle(c.q, consumer, [msgId], 'requeue');
          continue;
        }
        const term = u64(d.term);
        const newest = this.deliveryTerms.get(c.target.partition) ?? 0;
        if (term > newest) this.deliveryTerms.set(c.target.partition, term);
        if (!c.noAck) {
          // Decided by a leader of an earlier term than one already heard from: a deposed leader
          // that woke up (a frozen process) still sending what it decided before. The new leader
          // has re-sent what is checked out, and the client may have acked it already. (A noAck
          // delivery is not re-sent by a new leader: that copy is the only one, and goes through.)
          if (term < newest) continue;
          if (c.unsettled.has(msgId) || c.settling.has(msgId)) continue; // re-sent by a new leader: the client has (or had) it
          c.unsettled.add(msgId);
        }
        try {
          c.sink.deliver({
            queue: d.queue ?? c.q.name, msgId, redelivered: d.redelivered ?? false,
            message: publishedMessage(d.exchange ?? '', d.routingKey ?? '', d.header ?? new Uint8Array(), d.body ?? new Uint8Array()),
          });
        } catch (err) {
          this.opts.log.error({ err, consumer }, 'delivery failed');
        }
      }
    } else if (ev.cancelled) {
      const consumer = ev.cancelled.consumer ?? '';
      const c = this.consumers.get(consumer);
      if (c === undefined) return;
      this.consumers.delete(consumer);
      c.sink?.cancelled();
    }
  }

  close(): void {
    this.closed = true;
    for (const l of this.links.values()) l.close();
  }
}
