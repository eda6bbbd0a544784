// Commands, results and effects of the partition machine (docs/partitions.md). Plain data: commands
// travel through the Raft log as proto/warren/v1/partition.proto PartitionBatch (codec.ts), results
// go back to the proposer, effects are carried out by the leader only.
//
// Identities: a queue is its partition-assigned id (u32, never reused); a consumer or getter is
// (session, consumer), the frontend session owning it and an id unique within that session.

import type { DeadLetterReason } from '../queue/types.js';

// ---- commands -------------------------------------------------------------------------------
// nowMs: the proposer's clock (the leader's); every queue keeps the largest value it has seen, so
// a command without time (0) moves nothing. Enqueue must carry it: the message's TTL counts from it.

export interface DeclareCmd {
  readonly kind: 'declare';
  readonly vhost: string;
  readonly name: string;
  /** queue.declare arguments as an encoded AMQP field table (src/amqp/table.ts); empty = none. */
  readonly arguments: Uint8Array;
  readonly nowMs: number;
}
export interface DeleteCmd { readonly kind: 'delete'; readonly queue: number; readonly nowMs: number }
export interface EnqueueCmd {
  readonly kind: 'enqueue';
  /** Target queues of this partition (one publish routed to several queues is one command). */
  readonly queues: readonly number[];
  readonly exchange: string;
  readonly routingKey: string;
  /** Raw content-header payload (class-id .. properties). */
  readonly header: Uint8Array;
  readonly body: Uint8Array;
  /** Publisher session for deduplication ('' = none) and its sequence number (> 0). */
  readonly session: string;
  readonly seq: number;
  /** basic.priority and the expiration as a TTL in ms, as decoded from `header` by the frontend. */
  readonly priority?: number | undefined;
  readonly expirationMs?: number | undefined;
  readonly nowMs: number;
  /** The encoded Enqueue these fields came from (set by decodeBatch); the stored record. */
  readonly record?: Uint8Array | undefined;
}
export interface CheckoutCmd {
  readonly kind: 'checkout';
  readonly queue: number;
  readonly session: string;
  readonly consumer: string;
  /** Max unacked deliveries; 0 = unlimited; ignored for noAck. */
  readonly prefetch: number;
  readonly priority: number;
  readonly noAck: boolean;
  readonly nowMs: number;
}
/** settle = ack; return = requeue (redelivered, deliveryCount+1); discard = dead-letter or drop. */
export interface SettlementCmd {
  readonly kind: 'settle' | 'return' | 'discard';
  readonly queue: number;
  readonly session: string;
  readonly consumer: string;
  readonly msgIds: readonly number[];
  readonly nowMs: number;
}
/** cancel = basic.cancel (held messages stay checked out); recover = return everything held. */
export interface ConsumerCmd {
  readonly kind: 'cancel' | 'recover';
  readonly queue: number;
  readonly session: string;
  readonly consumer: string;
  readonly nowMs: number;
}
/** Channel gone: cancel these consumers/getters of `session`, return what they hold. queue 0 = every queue. */
export interface DownCmd {
  readonly kind: 'down';
  readonly queue: number;
  readonly session: string;
  readonly consumers: readonly string[];
  readonly nowMs: number;
}
export interface GetCmd {
  readonly kind: 'get';
  readonly queue: number;
  readonly session: string;
  readonly consumer: string;
  readonly noAck: boolean;
  readonly nowMs: number;
}
/** purge: drop the ready messages; touch: a redeclare (counts as use for x-expires), answers counts. */
export interface QueueCmd { readonly kind: 'purge' | 'touch'; readonly queue: number; readonly nowMs: number }
export interface FlowCmd {
  readonly kind: 'flow';
  readonly queue: number;
  readonly session: string;
  readonly consumer: string;
  readonly active: boolean;
  readonly nowMs: number;
}
/** Time passes for every queue of the partition. */
export interface TickCmd { readonly kind: 'tick'; readonly nowMs: number }
/** Frontend session gone: all its consumers/getters everywhere, and its deduplication entry. */
export interface SessionDownCmd { readonly kind: 'sessionDown'; readonly session: string; readonly nowMs: number }
/** The dead-lettered copies of these messages are committed in their targets: forget the sources. */
export interface DeadLetteredCmd {
  readonly kind: 'deadLettered';
  readonly queue: number;
  readonly msgIds: readonly number[];
  readonly nowMs: number;
}

export type PartitionCommand =
  | DeclareCmd | DeleteCmd | EnqueueCmd | CheckoutCmd | SettlementCmd | ConsumerCmd | DownCmd | GetCmd
  | QueueCmd | FlowCmd | TickCmd | SessionDownCmd | DeadLetteredCmd;

// ---- results (one per command, in order) ----------------------------------------------------

/** Per target queue: stored, refused by x-overflow reject-publish(-dlx), or no such queue (deleted). */
export type EnqueueOutcome = 'accepted' | 'rejected' | 'noQueue';

export type CommandResult =
  | { readonly kind: 'declared'; readonly queue: number; readonly created: boolean; readonly messageCount: number; readonly consumerCount: number }
  /** Arguments refused (the proposer should have validated them; the text is RabbitMQ's). */
  | { readonly kind: 'invalid'; readonly code: number; readonly text: string }
  /** The command names a queue id this partition does not have. */
  | { readonly kind: 'noQueue' }
  | { readonly kind: 'deleted'; readonly messageCount: number }
  /** outcomes[i] and msgIds[i] (0 unless accepted) for queues[i]. */
  | { readonly kind: 'enqueued'; readonly outcomes: readonly EnqueueOutcome[]; readonly msgIds: readonly number[] }
  /** (session, seq) was applied before: nothing changed; counts as accepted for confirms. */
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'got'; readonly message: GotMessage | undefined }
  | { readonly kind: 'purged'; readonly messageCount: number }
  | { readonly kind: 'counts'; readonly messageCount: number; readonly consumerCount: number }
  | { readonly kind: 'ok' };

export interface GotMessage {
  readonly queue: number;
  readonly msgId: number;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
  /** Ready messages left (basic.get-ok message-count). */
  readonly messageCount: number;
  /** The stored record (an encoded Enqueue; decodeRecord). Always set for noAck; else when at hand. */
  readonly record: Uint8Array | undefined;
}

// ---- effects (leader only) ------------------------------------------------------------------

export interface DeliverEffect {
  readonly kind: 'deliver';
  readonly queue: number;
  readonly session: string;
  readonly consumer: string;
  readonly msgId: number;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
  readonly noAck: boolean;
  /**
   * The record when at hand: always for noAck (it is deleted by this apply), and when the message
   * was enqueued by the same entry. Otherwise read it with readRecord(store, queue, msgId); absent
   * there only if the queue was deleted meanwhile (then drop the delivery).
   */
  readonly record: Uint8Array | undefined;
}
/**
 * A message to dead-letter, at least once: its record stays in the source until a deadLettered
 * command names it. Build the rewritten message with deadLetterMessage(); route it to `exchange`
 * with `routingKey`, or with its original routing keys (routing key + CC) when routingKey is
 * undefined; enqueue it with dedupe (session deadLetterSession(partition, queue), seq) so a
 * re-issue after a leader change is not stored twice; then propose deadLettered.
 */
export interface DeadLetterEffect {
  readonly kind: 'deadLetter';
  readonly queue: number;
  readonly vhost: string;
  readonly queueName: string;
  readonly msgId: number;
  /** Per queue, increasing in the order dead-letterings were applied. */
  readonly seq: number;
  readonly reason: DeadLetterReason;
  readonly atMs: number;
  readonly exchange: string;
  readonly routingKey: string | undefined;
  readonly record: Uint8Array | undefined;
}
export interface ConsumerCancelledEffect { readonly kind: 'consumerCancelled'; readonly queue: number; readonly session: string; readonly consumer: string }
export interface ConsumerActivatedEffect { readonly kind: 'consumerActivated'; readonly queue: number; readonly session: string; readonly consumer: string }
/** x-expires fired: the leader deletes the queue (metadata record, then a delete command here). */
export interface QueueExpiredEffect { readonly kind: 'queueExpired'; readonly queue: number; readonly vhost: string; readonly name: string }

export type PartitionEffect =
  | DeliverEffect | DeadLetterEffect | ConsumerCancelledEffect | ConsumerActivatedEffect | QueueExpiredEffect;

// ---- accounting (optional, for invariant checks) ----------------------------------------------

/** How a stored message ended; reported by apply() when the machine tracks outcomes. */
export interface MessageOutcome {
  readonly queue: number;
  readonly msgId: number;
  readonly end: 'settled' | 'autoAcked' | 'deadLettered' | 'dropped' | 'purged' | 'deleted';
  /** For deadLettered / dropped: expired, maxlen, rejected, delivery_limit. */
  readonly reason: DeadLetterReason | undefined;
}

export interface ApplyOutput {
  /** One list per entry (in order), one result per command of that entry. */
  readonly results: (readonly CommandResult[])[];
  readonly effects: PartitionEffect[];
  /** Stored messages (accepted or refused-to-DLX) of these entries, when tracking outcomes. */
  readonly stored: { readonly queue: number; readonly msgId: number }[];
  readonly outcomes: MessageOutcome[];
}
