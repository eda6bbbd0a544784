// Carrying out a DeadLetterEffect (leader side): the copy to publish, rebuilt from the stored record
// with RabbitMQ's x-death rewrite (src/queue/deadletter.ts), and the dedupe session under which it
// is enqueued in its targets. The effect says where and why; the record holds the message.
import { decodeContentProperties } from '../amqp/content.js';
import type { BasicProperties } from '../amqp/generated.js';
import { deadLetter } from '../queue/deadletter.js';
import type { QueueArgs, QueueMessage } from '../queue/types.js';
import { decodeRecord } from './codec.js';
import type { DeadLetterEffect } from './types.js';

/** The message as stored: properties decoded from the raw header (which it keeps, for the record). */
export function storedMessage(record: Uint8Array): QueueMessage<BasicProperties> {
  const r = decodeRecord(record);
  return publishedMessage(r.exchange, r.routingKey, r.header, r.body);
}

/** A message from its routing and raw content (header payload and body), the raw header kept for byte-exact delivery. */
export function publishedMessage(exchange: string, routingKey: string, header: Uint8Array, body: Uint8Array): QueueMessage<BasicProperties> {
  return { exchange, routingKey, properties: decodeContentProperties(header), header, body };
}

/**
 * The dead-lettered copy of `record` and its routing: to e.exchange with e.routingKey, or with the
 * copy's routingKey plus its CC header when the queue has no x-dead-letter-routing-key.
 */
export function deadLetterMessage(record: Uint8Array, e: DeadLetterEffect): {
  message: QueueMessage<BasicProperties>; exchange: string; routingKey: string;
} {
  const args: QueueArgs = {
    overflow: 'drop-head', singleActiveConsumer: false, deadLetterExchange: e.exchange,
    ...(e.routingKey === undefined ? {} : { deadLetterRoutingKey: e.routingKey }),
  };
  return deadLetter(storedMessage(record), args, { queue: e.queueName, reason: e.reason, nowMs: e.atMs });
}

/**
 * The publisher session under which a queue's dead-letters are enqueued in their targets, with
 * seq = DeadLetterEffect.seq: increasing per queue, so a re-issue after a leader change is a
 * duplicate there. Issue them in seq order per target partition.
 */
export function deadLetterSession(partition: number, queue: number): string {
  return `dlx/${partition}/${queue}`;
}
