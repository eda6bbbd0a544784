// The contract between frontends and queue owners (DESIGN.md §1, §3). Two implementations:
// in-process (embedded broker, src/owner/local.ts) and, with clustering, gRPC. Callback-based on the
// hot paths (enqueue, settle) so the in-process path costs no promise per message.
//
// Ownership: the owner holds queue state (ready + unacked messages, consumers). The frontend holds
// delivery tags and maps them to (queue, msgId); it never holds a message the owner has forgotten.

import type { BasicProperties } from '../amqp/generated.js';
import type { QueueMessage } from '../queue/types.js';

/**
 * A message as published: routing info, decoded properties, the raw header payload for byte-exact
 * redelivery (absent when the properties were rewritten: dead-lettering), the body. The queue
 * machine's message type with the codec's properties, so owners hold it without conversion.
 */
export type Message = QueueMessage<BasicProperties>;

export interface QueueRef {
  readonly vhost: string;
  readonly name: string;
}

export interface Delivery {
  readonly queue: string;
  readonly msgId: number;
  readonly message: Message;
  readonly redelivered: boolean;
  /** A durable queue's: the Raft term of the partition leader that decided it (carried to remote frontends). */
  readonly term?: number;
}

/** Frontend-side endpoint of one consumer. The owner calls it; it must not throw. */
export interface ConsumerSink {
  deliver(d: Delivery): void;
  /** The owner cancelled the consumer (queue deleted or expired): the frontend sends basic.cancel if the client supports it. */
  cancelled(): void;
}

export type EnqueueOutcome = 'accepted' | 'rejected';

/**
 * The one settlement vocabulary from the frontend to a queue: `ack` settles (basic.ack), `requeue`
 * returns the message redelivered (nack/reject with requeue, recover, channel close), `discard`
 * dead-letters or drops it (nack/reject without requeue).
 */
export type Settlement = 'ack' | 'requeue' | 'discard';

export interface ConsumeOptions {
  /** 0 = unlimited. */
  readonly prefetch: number;
  readonly priority: number;
  readonly noAck: boolean;
  readonly exclusive: boolean;
}

export interface GetResult {
  readonly delivery: Delivery;
  readonly messageCount: number;
}

export interface QueueStats {
  readonly messages: number;
  readonly unacked: number;
  readonly consumers: number;
  readonly bytes: number;
}

/** What queue.declare-ok reports. */
export interface DeclareCounts {
  readonly messages: number;
  readonly consumers: number;
}

/** A queue as the owner hosts it: its arguments and whether it goes when its last consumer does. */
export interface QueueSpec {
  readonly arguments: Readonly<Record<string, unknown>>;
  /** RabbitMQ's auto-delete: deleted by the owner once it had a consumer and the last one went away. */
  readonly autoDelete: boolean;
  /**
   * queue.declare's passive: only the counts. A transient queue its owner does not hold (the owner
   * restarted since the declare, and the record is about to go) is 404, not created anew.
   */
  readonly passive?: boolean;
}

/** queue.delete's conditions, checked by the owner atomically with the deletion. */
export interface DeleteConditions {
  readonly ifUnused: boolean;
  readonly ifEmpty: boolean;
}

/**
 * Every call may cross a Raft commit (and, in a cluster, the network): the synchronous AMQP
 * methods get promises, resolved once the owner applied the command; the hot paths (enqueue,
 * settle) take callbacks so the in-process owner costs no promise per message. Calls on one queue
 * are applied in the order they are made.
 */
export interface OwnerClient {
  /** Creates the queue if absent (args already validated by the metadata layer), else counts as use for x-expires. */
  declareQueue(q: QueueRef, spec: QueueSpec): Promise<DeclareCounts>;
  /**
   * `backlogged` is the owner's flow signal (RabbitMQ's "flow" state): the queue has consumers and
   * a ready backlog they are not keeping up with; the publisher should yield before sending more.
   */
  enqueue(q: QueueRef, message: Message, done: (outcome: EnqueueOutcome, backlogged: boolean) => void): void;
  /**
   * Registers a consumer; rejects with 403 ACCESS_REFUSED when an exclusive consumer is asked for a
   * queue that has consumers or the queue has an exclusive one, 404 when the queue is gone. The sink
   * may be called before the promise resolves (the caller holds such deliveries until consume-ok).
   */
  consume(q: QueueRef, consumerId: string, opts: ConsumeOptions, sink: ConsumerSink): Promise<void>;
  /** Stops deliveries; the consumer's unacked messages stay checked out until settled or returned. */
  cancel(q: QueueRef, consumerId: string): void;
  /** Pauses (active=false) or resumes deliveries to a consumer: the frontend's socket is congested / drained. */
  setFlow(q: QueueRef, consumerId: string, active: boolean): void;
  /** Settles checked-out messages; `done` runs once the owner applied it (tx.commit waits for it). */
  settle(q: QueueRef, consumerId: string, msgIds: readonly number[], how: Settlement, done?: () => void): void;
  get(q: QueueRef, getterId: string, noAck: boolean): Promise<GetResult | undefined>;
  purge(q: QueueRef): Promise<number>;
  /**
   * Removes the queue and its messages, cancels its consumers (sink.cancelled); resolves with the
   * message count. Rejects 406 when a condition does not hold. The caller removes the metadata record.
   */
  deleteQueue(q: QueueRef, conditions?: DeleteConditions): Promise<number>;
}
