// Plain-data types of the queue state machine (DESIGN.md §5). Commands and effects are serialisable
// values (no functions, no class instances except Uint8Array) so that later they can travel through
// a Raft log and be applied identically on every replica.
//
// The AMQP codec is not imported here on purpose (src/queue imports nothing of the cluster or the
// wire layer): message properties are described structurally and otherwise passed through opaque.

/**
 * Basic-class content properties, structurally. The machine reads `expiration`, `priority` and
 * `headers`; every other field is carried through untouched at run time (dead-lettering copies the
 * object with a spread). No index signature on purpose, so the codec's BasicProperties interface
 * is assignable to it. Server-typed table values use the codec's `{ $type, value }` wrapper
 * (e.g. `{ $type: 'l', value: 3 }` for a long).
 */
export interface MessageProperties {
  readonly expiration?: string | undefined;
  readonly priority?: number | undefined;
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
}

/** A message as enqueued; immutable once enqueued (the machine never mutates it). */
export interface QueueMessage<P extends MessageProperties = MessageProperties> {
  readonly exchange: string;
  readonly routingKey: string;
  /** The codec's BasicProperties for the broker's own messages (P), structurally MessageProperties here. */
  readonly properties: P;
  /** Raw content-header payload for byte-exact redelivery; absent on messages rewritten by dead-lettering. */
  readonly header?: Uint8Array | undefined;
  readonly body: Uint8Array;
}

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** Queue arguments after validation (see parseQueueArgs). */
export interface QueueArgs {
  readonly messageTtlMs?: number;
  readonly expiresMs?: number;
  readonly maxLength?: number;
  readonly maxLengthBytes?: number;
  readonly overflow: Overflow;
  readonly deadLetterExchange?: string;
  readonly deadLetterRoutingKey?: string;
  readonly maxPriority?: number;
  readonly singleActiveConsumer: boolean;
  readonly deliveryLimit?: number;
}

export type DeadLetterReason = 'expired' | 'maxlen' | 'rejected' | 'delivery_limit';

// ---- message models -------------------------------------------------------------------------
// The machine is generic in what it holds per message (M). QueueMachine holds whole QueueMessages
// (the embedded in-memory path). The partition machine (src/partition) holds a small stub and keeps
// bodies in its store; it learns what happened to each message through a MessageObserver.

/** What the machine needs to know about a message of type M. Pure functions. */
export interface MessageModel<M> {
  /** What x-max-length-bytes counts: the body size. */
  bodyBytes(m: M): number;
  /** The basic.priority property, if any. */
  priority(m: M): number | undefined;
  /** Absolute expiry (ms): the smaller of x-message-ttl and the message's own TTL; Infinity if none. */
  expiresAtMs(m: M, args: QueueArgs, clockMs: number): number;
  /** The message and routing of a dead-letter effect (QueueMachine: RabbitMQ's x-death rewrite). */
  deadLetter(m: M, args: QueueArgs, input: DeadLetterInput): { message: M; exchange: string; routingKey: string };
}

export interface DeadLetterInput {
  readonly queue: string;
  readonly reason: DeadLetterReason;
  readonly nowMs: number;
}

/** A message held by the machine, as observers see it (read-only; valid during the callback). */
export interface MessageView<M> {
  readonly msgId: number;
  readonly message: M;
  readonly bytes: number;
  readonly expiresAtMs: number;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** Consumer or getter holding it while checked out ('' when ready). */
  readonly ownerId: string;
  /** Registration number of the consumer incarnation holding it; undefined for getters and when ready. */
  readonly ownerSeq: number | undefined;
}

/** How a message left the queue. */
export type MessageEnd = 'settled' | 'autoAcked' | 'deadLettered' | 'dropped' | 'purged' | 'deleted';

/**
 * Told about every change to a message's life, synchronously, during apply(): a message is stored
 * (given its id), checked out, requeued (ready again, deliveryCount/redelivered changed) and ends
 * exactly once. A message stored and refused at once (reject-publish-dlx) is stored then ended.
 */
export interface MessageObserver<M> {
  stored(m: MessageView<M>): void;
  checkedOut(m: MessageView<M>): void;
  requeued(m: MessageView<M>): void;
  /** reason: for deadLettered and dropped (expired, maxlen, rejected, delivery_limit). */
  ended(m: MessageView<M>, end: MessageEnd, reason?: DeadLetterReason): void;
}

// ---- commands -------------------------------------------------------------------------------
// Every command that can move time carries nowMs (the proposer's clock). The machine keeps the
// largest nowMs seen so far as its clock, so commands without nowMs (settle, cancel) are still
// deterministic.

export interface EnqueueCmd<M = QueueMessage> { readonly kind: 'enqueue'; readonly message: M; readonly nowMs: number }
export interface CheckoutCmd {
  readonly kind: 'checkout';
  /** Opaque, unique per consumer; chosen by the frontend. */
  readonly consumerId: string;
  /** Max unacked deliveries; 0 = unlimited. Ignored for noAck consumers (AMQP: qos does not apply). */
  readonly prefetch: number;
  readonly priority: number;
  readonly noAck: boolean;
  readonly nowMs: number;
}
export interface SettleCmd { readonly kind: 'settle'; readonly consumerId: string; readonly msgIds: readonly number[]; readonly nowMs?: number }
export interface ReturnCmd { readonly kind: 'return'; readonly consumerId: string; readonly msgIds: readonly number[]; readonly nowMs: number }
export interface DiscardCmd { readonly kind: 'discard'; readonly consumerId: string; readonly msgIds: readonly number[]; readonly nowMs: number }
export interface CancelCmd { readonly kind: 'cancel'; readonly consumerId: string; readonly nowMs?: number }
/** Channel/connection gone: cancel these consumers (or getters) and return everything checked out to them. */
export interface DownCmd { readonly kind: 'down'; readonly consumerIds: readonly string[]; readonly nowMs: number }
export interface ReturnAllCmd { readonly kind: 'returnAll'; readonly consumerId: string; readonly nowMs: number }
export interface GetCmd { readonly kind: 'get'; readonly getterId: string; readonly noAck: boolean; readonly nowMs: number }
export interface PurgeCmd { readonly kind: 'purge'; readonly nowMs?: number }
/** Queue deleted: drops everything, cancels every live consumer (consumerCancelled effects). */
export interface DeleteCmd { readonly kind: 'delete'; readonly nowMs?: number }
export interface TickCmd { readonly kind: 'tick'; readonly nowMs: number }
/** queue.declare of an existing queue: counts as use for x-expires. */
export interface TouchCmd { readonly kind: 'touch'; readonly nowMs: number }
/**
 * Pauses or resumes deliveries to one consumer (the frontend's socket is congested / drained).
 * A paused consumer has no credit; resuming drains ready messages to it.
 */
export interface FlowCmd { readonly kind: 'flow'; readonly consumerId: string; readonly active: boolean; readonly nowMs?: number }

export type QueueCommand<M = QueueMessage> =
  | EnqueueCmd<M> | CheckoutCmd | SettleCmd | ReturnCmd | DiscardCmd | CancelCmd | DownCmd | ReturnAllCmd
  | GetCmd | PurgeCmd | DeleteCmd | TickCmd | TouchCmd | FlowCmd;

// ---- effects --------------------------------------------------------------------------------
// Effects are what the leader must do after applying a command; followers drop them.

export interface DeliverEffect<M = QueueMessage> {
  readonly kind: 'deliver';
  readonly consumerId: string;
  readonly msgId: number;
  readonly message: M;
  readonly redelivered: boolean;
  /** Times this message was returned before (RabbitMQ's x-delivery-count); 0 on first delivery. */
  readonly deliveryCount: number;
}
export interface DeadLetterEffect<M = QueueMessage> {
  readonly kind: 'deadLetter';
  /** The rewritten message (x-death headers, no expiration, no raw header). */
  readonly message: M;
  readonly reason: DeadLetterReason;
  /** Route the message to this exchange with this routing key (plus CC keys in its headers when no x-dead-letter-routing-key). */
  readonly exchange: string;
  readonly routingKey: string;
}
export interface QueueExpiredEffect { readonly kind: 'queueExpired' }
/** Single active consumer: this consumer now receives the queue's messages. */
export interface ConsumerActivatedEffect { readonly kind: 'consumerActivated'; readonly consumerId: string }
/** The queue cancelled this consumer (queue deleted): the frontend sends basic.cancel if supported. */
export interface ConsumerCancelledEffect { readonly kind: 'consumerCancelled'; readonly consumerId: string }

export type Effect<M = QueueMessage> =
  | DeliverEffect<M> | DeadLetterEffect<M> | QueueExpiredEffect | ConsumerActivatedEffect | ConsumerCancelledEffect;

// ---- replies --------------------------------------------------------------------------------

export type EnqueueReply = 'accepted' | 'rejected';
export type GetReply<M = QueueMessage> =
  | { readonly kind: 'empty' }
  | {
      readonly kind: 'message';
      readonly msgId: number;
      readonly message: M;
      readonly redelivered: boolean;
      readonly deliveryCount: number;
      /** Ready messages left after this one (basic.get-ok message-count). */
      readonly messageCount: number;
    };

export type QueueReply<M = QueueMessage> = EnqueueReply | GetReply<M> | number | undefined;

/** reply: EnqueueReply for enqueue, GetReply for get, a message count for purge/delete, else undefined. */
export interface QueueResult<R = QueueReply, M = QueueMessage> {
  readonly reply: R;
  readonly effects: Effect<M>[];
}

// ---- exported state (what a store must keep to rebuild a machine exactly) ----------------------

export interface ConsumerState {
  readonly id: string;
  readonly prefetch: number;
  readonly priority: number;
  readonly noAck: boolean;
  /** Registration number within the queue (incarnation; single-active-consumer tie-break). */
  readonly seq: number;
  readonly paused: boolean;
}

export interface ConsumerSetState {
  /** Live consumers in registration order. */
  readonly consumers: readonly ConsumerState[];
  /** Priority groups, highest first: member ids in rotation order and whose turn is next. */
  readonly groups: readonly { readonly priority: number; readonly members: readonly string[]; readonly cursor: number }[];
  readonly nextSeq: number;
  readonly activeId: string | undefined;
}

/** Everything of a machine except its messages. */
export interface QueueCoreState {
  readonly clockMs: number;
  readonly lastUsedMs: number;
  readonly expiredSignalled: boolean;
  readonly nextMsgId: number;
  readonly consumers: ConsumerSetState;
}

/** A message to restore, as it was when the state was exported. */
export interface RestoredMessage<M> {
  readonly msgId: number;
  readonly message: M;
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** Checked out to this consumer/getter; absent when ready. */
  readonly ownerId?: string | undefined;
  /** The consumer incarnation (ConsumerState.seq) holding it; absent for getters. */
  readonly ownerSeq?: number | undefined;
}
