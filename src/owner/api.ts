// The contract between frontends and queue owners (DESIGN.md §1, §3). Two implementations:
// in-process (embedded broker, src/owner/local.ts) and, with clustering, gRPC. Callback-based on the
// hot paths (enqueue, settle) so the in-process path costs no promise per message.
//
// Ownership: the owner holds queue state (ready + unacked messages, consumers). The frontend holds
// delivery tags and maps them to (queue, msgId); it never holds a message the owner has forgotten.

import type { BasicProperties } from '../amqp/generated.js';

/** A message as published: routing info, decoded properties, the raw header payload for byte-exact redelivery, the body. */
export interface Message {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: BasicProperties;
  /** Content-header frame payload as received; absent when the properties were rewritten (dead-lettering). */
  readonly header?: Uint8Array;
  readonly body: Uint8Array;
}

export interface QueueRef {
  readonly vhost: string;
  readonly name: string;
}

export interface Delivery {
  readonly queue: string;
  readonly msgId: number;
  readonly message: Message;
  readonly redelivered: boolean;
}

/** Frontend-side endpoint of one consumer. The owner calls it; it must not throw. */
export interface ConsumerSink {
  deliver(d: Delivery): void;
  /** The owner cancelled the consumer (queue deleted or expired): the frontend sends basic.cancel if the client supports it. */
  cancelled(): void;
}

export type EnqueueOutcome = 'accepted' | 'rejected';

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

export interface OwnerClient {
  /** Creates the queue's state machine if absent (args already validated by the metadata layer); counts as use for x-expires. */
  ensureQueue(q: QueueRef, args: Readonly<Record<string, unknown>>): void;
  /**
   * `backlogged` is the owner's flow signal (RabbitMQ's "flow" state): the queue has consumers and
   * a ready backlog they are not keeping up with; the publisher should yield before sending more.
   */
  enqueue(q: QueueRef, message: Message, done: (outcome: EnqueueOutcome, backlogged: boolean) => void): void;
  /** 403 ACCESS_REFUSED when an exclusive consumer is asked for a queue that has consumers, or the queue has an exclusive one. */
  checkConsume(q: QueueRef, exclusive: boolean): void;
  consume(q: QueueRef, consumerId: string, opts: ConsumeOptions, sink: ConsumerSink): void;
  /** Stops deliveries; the consumer's unacked messages stay checked out until settled or returned. */
  cancel(q: QueueRef, consumerId: string): void;
  /** Pauses (active=false) or resumes deliveries to a consumer: the frontend's socket is congested / drained. */
  setFlow(q: QueueRef, consumerId: string, active: boolean): void;
  settle(q: QueueRef, consumerId: string, msgIds: readonly number[]): void;
  /** Back to the queue (redelivered); nack/reject with requeue, recover, channel close. */
  requeue(q: QueueRef, consumerId: string, msgIds: readonly number[]): void;
  /** Dead-lettered or dropped; nack/reject without requeue. */
  discard(q: QueueRef, consumerId: string, msgIds: readonly number[]): void;
  get(q: QueueRef, getterId: string, noAck: boolean): GetResult | undefined;
  purge(q: QueueRef): number;
  /** Removes the queue and its messages, cancels its consumers (sink.cancelled); returns the message count. */
  deleteQueue(q: QueueRef): number;
  stats(q: QueueRef): QueueStats | undefined;
}
