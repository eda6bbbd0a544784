// The in-process owner of the embedded broker: hosts one deterministic QueueMachine per queue and
// carries out their effects (deliveries to consumer sinks, dead-lettering through the router,
// queue expiry, consumer cancellation). It is the "process" around the pure machine (Ra's pattern):
// the clock enters here, as `nowMs` on commands, and timers drive `tick` for TTL and x-expires.
//
// With replication, the same commands will be proposed to a partition's Raft group and applied on
// commit; the effects are then carried out by the leader only.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { BasicProperties } from '../amqp/generated.js';
import { parseQueueArgs } from '../queue/args.js';
import { publishedRoutingKeys } from '../queue/deadletter.js';
import { QueueCore, wholeMessageModel } from '../queue/machine.js';
import { attempt } from '../util/settle.js';
import { DeadlineTimer } from './deadline.js';
import { deadLetterPublisher, type DeadLetterEnqueue, type DeadLetterPublish, type DeadLetterRouter } from './dead-letter.js';
import type { Effect, GetReply, QueueCommand } from '../queue/types.js';
import type {
  ConsumeOptions, ConsumerSink, DeclareCounts, DeleteConditions, EnqueueOutcome, GetResult, Message, OwnerClient, QueueRef,
  QueueSpec, QueueStats, Settlement,
} from './api.js';
import { vhostNameKey } from '../util/names.js';

export interface LocalOwnerOptions {
  /** Where dead-lettered messages go: the metadata layer's router (queue names in the vhost). */
  readonly route: DeadLetterRouter;
  /** The owner removed a queue on its own (x-expires, auto-delete): remove its metadata record. */
  readonly onQueueDeleted: (q: QueueRef) => void;
  readonly nowMs?: () => number;
  /**
   * Where dead-lettered copies are enqueued (the node's owner, which may place the target in a
   * partition); default: this owner.
   */
  readonly enqueue?: DeadLetterEnqueue;
  /** An effect threw while being carried out (logged by the host). */
  readonly onEffectError?: (err: unknown, effect: Effect['kind']) => void;
}

interface Hosted {
  readonly ref: QueueRef;
  readonly machine: QueueCore<Message>;
  readonly sinks: Map<string, ConsumerSink>;
  readonly autoDelete: boolean;
  hadConsumer: boolean;
  exclusiveConsumer: string | undefined;
  readonly deadline: DeadlineTimer;
}

/**
 * Ready messages above which a queue with consumers asks its publishers to yield (flow). Queues
 * without consumers are not throttled: they buffer, as RabbitMQ's do, up to the memory alarm.
 */
const FLOW_BACKLOG_MESSAGES = 300;

/** Whole messages in memory, with the codec's properties. */
const MESSAGE_MODEL = wholeMessageModel<BasicProperties>();

export class LocalOwner implements OwnerClient {
  private readonly queues = new Map<string, Hosted>();
  private readonly now: () => number;
  private readonly effects: Effect<Message>[] = [];
  /** Nothing waits for a transient queue's dead-letters: the message is gone from it already. */
  private readonly deadLetter: DeadLetterPublish;

  constructor(private readonly opts: LocalOwnerOptions) {
    this.now = opts.nowMs ?? Date.now;
    this.deadLetter = deadLetterPublisher(opts.route, opts.enqueue ?? ((q, m, done) => this.enqueue(q, m, done)));
  }

  private key(q: QueueRef): string {
    return vhostNameKey(q.vhost, q.name);
  }

  /** Whether the queue is in this owner's memory. */
  hosts(q: QueueRef): boolean {
    return this.queues.has(this.key(q));
  }

  private hosted(q: QueueRef): Hosted | undefined {
    return this.queues.get(this.key(q));
  }

  /** The queue or 404, for operations on a queue the metadata layer said exists. */
  private must(q: QueueRef): Hosted {
    const h = this.queues.get(this.key(q));
    if (h === undefined) throw new AmqpError(ReplyCode.NotFound, `no queue '${q.name}' in vhost '${q.vhost}'`);
    return h;
  }

  declareQueue(q: QueueRef, spec: QueueSpec): Promise<DeclareCounts> {
    return attempt(() => {
      let h = spec.passive === true ? this.must(q) : this.hosted(q);
      if (h !== undefined) {
        this.run(h, { kind: 'touch', nowMs: this.now() });
      } else {
        const parsed = parseQueueArgs(spec.arguments);
        const hosted: Hosted = {
          ref: q, machine: new QueueCore(q.name, parsed, this.now(), MESSAGE_MODEL), sinks: new Map(), autoDelete: spec.autoDelete,
          hadConsumer: false, exclusiveConsumer: undefined,
          deadline: new DeadlineTimer(this.now, () => {
            if (this.queues.get(this.key(q)) === hosted) this.run(hosted, { kind: 'tick', nowMs: this.now() });
          }),
        };
        h = hosted;
        this.queues.set(this.key(q), h);
        this.schedule(h);
      }
      return { messages: h.machine.messageCount, consumers: h.machine.consumerCount };
    });
  }

  enqueue(q: QueueRef, message: Message, done: (outcome: EnqueueOutcome, backlogged: boolean) => void): void {
    const h = this.hosted(q);
    if (h === undefined) {
      done('accepted', false); // deleted between routing and enqueue: RabbitMQ drops it too
      return;
    }
    const reply = this.run(h, { kind: 'enqueue', message, nowMs: this.now() });
    const m = h.machine;
    done(reply === 'rejected' ? 'rejected' : 'accepted', m.messageCount > FLOW_BACKLOG_MESSAGES && m.consumerCount > 0);
  }

  consume(q: QueueRef, consumerId: string, opts: ConsumeOptions, sink: ConsumerSink): Promise<void> {
    return attempt(() => {
      const h = this.must(q);
      if (h.exclusiveConsumer !== undefined || (opts.exclusive && h.machine.consumerCount > 0)) {
        throw new AmqpError(ReplyCode.AccessRefused, `queue '${q.name}' in vhost '${q.vhost}' in exclusive use`, 60, 20);
      }
      h.sinks.set(consumerId, sink);
      h.hadConsumer = true;
      if (opts.exclusive) h.exclusiveConsumer = consumerId;
      this.run(h, {
        kind: 'checkout', consumerId, prefetch: opts.prefetch, priority: opts.priority, noAck: opts.noAck, nowMs: this.now(),
      });
    });
  }

  cancel(q: QueueRef, consumerId: string): void {
    const h = this.hosted(q);
    if (h === undefined) return;
    h.sinks.delete(consumerId);
    if (h.exclusiveConsumer === consumerId) h.exclusiveConsumer = undefined;
    this.run(h, { kind: 'cancel', consumerId, nowMs: this.now() });
    this.maybeAutoDelete(h);
  }

  /**
   * Consumers and getters whose ids start with `prefix` (a gone frontend session's) are cancelled
   * and what they held returns to its queues, redelivered: the transient side of a partition's
   * sessionDown. Returns how many consumers went.
   */
  downByPrefix(prefix: string): number {
    let n = 0;
    for (const h of [...this.queues.values()]) {
      const ids = [...h.machine.ownerIds()].filter((id) => id.startsWith(prefix)).sort();
      if (ids.length === 0) continue;
      for (const id of ids) {
        if (h.sinks.delete(id)) n++;
        if (h.exclusiveConsumer === id) h.exclusiveConsumer = undefined;
      }
      this.run(h, { kind: 'down', consumerIds: ids, nowMs: this.now() });
      this.maybeAutoDelete(h);
    }
    return n;
  }

  /** Consumer and getter ids holding messages or registered, over all transient queues here. */
  *ownerIds(): IterableIterator<string> {
    for (const h of this.queues.values()) yield* h.machine.ownerIds();
  }

  setFlow(q: QueueRef, consumerId: string, active: boolean): void {
    const h = this.hosted(q);
    if (h !== undefined) this.run(h, { kind: 'flow', consumerId, active, nowMs: this.now() });
  }

  settle(q: QueueRef, consumerId: string, msgIds: readonly number[], how: Settlement, done?: () => void): void {
    const h = this.hosted(q);
    if (h !== undefined) {
      const nowMs = this.now();
      if (how === 'ack') this.run(h, { kind: 'settle', consumerId, msgIds, nowMs });
      else if (how === 'requeue') this.run(h, { kind: 'return', consumerId, msgIds, nowMs });
      else this.run(h, { kind: 'discard', consumerId, msgIds, nowMs });
    }
    done?.();
  }

  get(q: QueueRef, getterId: string, noAck: boolean): Promise<GetResult | undefined> {
    return attempt(() => {
      const h = this.must(q);
      const reply = this.run(h, { kind: 'get', getterId, noAck, nowMs: this.now() }) as GetReply<Message>;
      if (reply.kind === 'empty') return undefined;
      return {
        delivery: { queue: q.name, msgId: reply.msgId, message: reply.message, redelivered: reply.redelivered },
        messageCount: reply.messageCount,
      };
    });
  }

  purge(q: QueueRef): Promise<number> {
    return attempt(() => this.run(this.must(q), { kind: 'purge', nowMs: this.now() }) as number);
  }

  deleteQueue(q: QueueRef, conditions?: DeleteConditions): Promise<number> {
    return attempt(() => {
      const h = this.hosted(q);
      if (h === undefined) return 0;
      if (conditions?.ifUnused && h.machine.consumerCount > 0) {
        throw new AmqpError(ReplyCode.PreconditionFailed, `queue '${q.name}' in vhost '${q.vhost}' in use`);
      }
      if (conditions?.ifEmpty && h.machine.messageCount > 0) {
        throw new AmqpError(ReplyCode.PreconditionFailed, `queue '${q.name}' in vhost '${q.vhost}' not empty`);
      }
      return this.remove(h);
    });
  }

  /** The one place a hosted queue goes: its consumers are cancelled (sinks told) and its messages dropped. */
  private remove(h: Hosted): number {
    const count = this.run(h, { kind: 'delete', nowMs: this.now() }) as number;
    this.queues.delete(this.key(h.ref));
    h.deadline.cancel();
    return count;
  }

  /** RabbitMQ's auto-delete: once the queue had a consumer, it goes with the last one. */
  private maybeAutoDelete(h: Hosted): void {
    if (!h.autoDelete || !h.hadConsumer || h.machine.consumerCount > 0 || this.queues.get(this.key(h.ref)) !== h) return;
    this.remove(h);
    this.opts.onQueueDeleted(h.ref);
  }

  stats(q: QueueRef): QueueStats | undefined {
    const h = this.hosted(q);
    if (h === undefined) return undefined;
    const m = h.machine;
    return { messages: m.messageCount, unacked: m.unackedCount, consumers: m.consumerCount, bytes: m.bytes };
  }

  /** Every hosted queue, for the management API and metrics. */
  *list(): IterableIterator<{ ref: QueueRef; stats: QueueStats }> {
    for (const h of this.queues.values()) {
      const m = h.machine;
      yield { ref: h.ref, stats: { messages: m.messageCount, unacked: m.unackedCount, consumers: m.consumerCount, bytes: m.bytes } };
    }
  }

  close(): void {
    for (const h of this.queues.values()) h.deadline.cancel();
    this.queues.clear();
  }

  // ---- applying commands and carrying out effects ---------------------------------------------

  private run(h: Hosted, cmd: QueueCommand<Message>): unknown {
    // One effects array is reused on the hot path. Performing effects can re-enter run() (a
    // dead-lettered message enqueued into another queue); the shared array is then non-empty,
    // so the nested call takes a fresh one.
    const effects = this.effects.length === 0 ? this.effects : [];
    try {
      const { reply } = h.machine.apply(cmd, effects);
      if (effects.length > 0) this.perform(h, effects);
      return reply;
    } finally {
      // Even if applying threw (a bug: the machine validates before it mutates), no stale effect
      // may stay in the shared array to be carried out again by the next command.
      effects.length = 0;
      this.schedule(h);
    }
  }

  /**
   * Carries out every effect of one command. One that fails (a bug, or a sink that cannot encode)
   * is logged and does not stop the others; a delivery that failed goes back to the queue, so no
   * message stays checked out to a consumer that never received it.
   */
  private perform(h: Hosted, effects: readonly Effect<Message>[]): void {
    for (const e of effects) {
      try {
        this.performOne(h, e);
      } catch (err) {
        this.opts.onEffectError?.(err, e.kind);
        if (e.kind === 'deliver') this.settle(h.ref, e.consumerId, [e.msgId], 'requeue');
      }
    }
  }

  private performOne(h: Hosted, e: Effect<Message>): void {
    switch (e.kind) {
      case 'deliver': {
        const sink = h.sinks.get(e.consumerId);
        if (sink !== undefined) {
          sink.deliver({ queue: h.ref.name, msgId: e.msgId, message: e.message, redelivered: e.redelivered });
        }
        break;
      }
      case 'deadLetter': {
        // Without x-dead-letter-routing-key, RabbitMQ routes by the original key and the CC keys too.
        const keys = h.machine.args.deadLetterRoutingKey === undefined ? publishedRoutingKeys(e.message) : [e.routingKey];
        this.deadLetter(h.ref.vhost, e.exchange, keys, e.message, ignore);
        break;
      }
      case 'consumerCancelled': {
        const sink = h.sinks.get(e.consumerId);
        h.sinks.delete(e.consumerId);
        sink?.cancelled();
        break;
      }
      case 'queueExpired':
        queueMicrotask(() => this.expire(h));
        break;
      case 'consumerActivated':
        break;
    }
  }

  private expire(h: Hosted): void {
    if (this.queues.get(this.key(h.ref)) !== h) return;
    this.remove(h);
    this.opts.onQueueDeleted(h.ref);
  }

  /** Keeps one timer per queue armed for the machine's next deadline (TTL or x-expires). */
  private schedule(h: Hosted): void {
    h.deadline.arm(h.machine.nextDeadlineMs());
  }
}

function ignore(): void {}

