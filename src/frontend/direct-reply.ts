// RabbitMQ's direct reply-to: a requester consumes from the pseudo-queue `amq.rabbitmq.reply-to`
// (no-ack), publishes requests with reply_to = that name, and the broker rewrites reply_to to a
// channel-specific name; replies published to the default exchange with that routing key go straight
// to the requester's channel, never through a queue.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { Message } from '../owner/api.js';
import type { Channel } from './channel.js';

export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
const PREFIX = `${DIRECT_REPLY_TO}.`;

/** Rewrites reply_to on a request published by a channel that consumes from the pseudo-queue. */
export function rewriteReplyTo(ch: Channel, message: Message): Message {
  const key = ch.consumers.directReplyKey;
  if (key === undefined) throw new AmqpError(ReplyCode.PreconditionFailed, 'fast reply consumer does not exist', 60, 40);
  const properties = { ...message.properties, replyTo: PREFIX + key };
  // The raw header no longer matches the properties; drop it so they are re-encoded.
  return { exchange: message.exchange, routingKey: message.routingKey, properties, body: message.body };
}

/** Whether a routing key (on the default exchange) addresses a requester: `amq.rabbitmq.reply-to.<key>`. */
export function isDirectReply(routingKey: string): boolean {
  return routingKey.startsWith(PREFIX);
}

/** Delivers a reply addressed to `amq.rabbitmq.reply-to.<key>` (isDirectReply); dropped when the requester is gone. */
export function routeDirectReply(ch: Channel, message: Message): void {
  const target = ch.ctx.directReply.get(message.routingKey.slice(PREFIX.length));
  if (target !== undefined) target(message);
}
