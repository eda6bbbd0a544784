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
export interface QueueMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: MessageProperties;
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

// ---- commands -------------------------------------------------------------------------------
// Every command that can move time carries nowMs (the proposer's clock). The machine keeps the
// largest nowMs seen so far as its clock, so commands without nowMs (settle, cancel) are still
// deterministic.

export interface EnqueueCmd { readonly kind: 'enqueue'; readonly message: QueueMessage; readonly nowMs: number }
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

export type QueueCommand =
  | EnqueueCmd | CheckoutCmd | SettleCmd | ReturnCmd | DiscardCmd | CancelCmd | DownCmd | ReturnAllCmd
  | GetCmd | PurgeCmd | DeleteCmd | TickCmd | TouchCmd | FlowCmd;

// ---- effects --------------------------------------------------------------------------------
// Effects are what the leader must do after applying a command; followers drop them.

export interface DeliverEffect {
  readonly kind: 'deliver';
  readonly consumerId: string;
  readonly msgId: number;
  readonly message: QueueMessage;
  readonly redelivered: boolean;
  /** Times this message was returned before (RabbitMQ's x-delivery-count); 0 on first delivery. */
  readonly deliveryCount: number;
}
export interface DeadLetterEffect {
  readonly kind: 'deadLetter';
  /** The rewritten message (x-death headers, no expiration, no raw header). */
  readonly message: QueueMessage;
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

export type Effect =
  | DeliverEffect | DeadLetterEffect | QueueExpiredEffect | ConsumerActivatedEffect | ConsumerCancelledEffect;

// ---- replies --------------------------------------------------------------------------------

export type EnqueueReply = 'accepted' | 'rejected';
export type GetReply =
  | { readonly kind: 'empty' }
  | {
      readonly kind: 'message';
      readonly msgId: number;
      readonly message: QueueMessage;
      readonly redelivered: boolean;
      readonly deliveryCount: number;
      /** Ready messages left after this one (basic.get-ok message-count). */
      readonly messageCount: number;
    };

export type QueueReply = EnqueueReply | GetReply | number | undefined;

/** reply: EnqueueReply for enqueue, GetReply for get, a message count for purge/delete, else undefined. */
export interface QueueResult<R extends QueueReply = QueueReply> {
  readonly reply: R;
  readonly effects: Effect[];
}
