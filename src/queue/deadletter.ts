// Dead-lettering: the message rewrite RabbitMQ does before republishing to a queue's DLX
// (rabbit_dead_letter / mc:record_death, 3.13+ AMQP 0-9-1 view):
//
//   headers['x-death']: array of tables, most recent first, one per {queue, reason}:
//       count (long), reason, queue, time (timestamp, seconds), exchange, routing-keys (array),
//       original-expiration (only if the message had an expiration).
//     An existing entry for the same queue+reason gets count+1 and moves to the front; its other
//     fields (time, exchange, routing-keys) keep their first values.
//   x-first-death-{reason,queue,exchange}: set on the first death only, never changed after.
//   x-last-death-{reason,queue,exchange}: set on every death.
//   expiration property removed (so the copy cannot expire again downstream).
//   With x-dead-letter-routing-key the CC header is removed (it was part of the old routing).
//
// Server-typed values use the codec's { $type, value } wrapper: counts 'l' (long), time 'T'.

import { parseExpirationMs } from './args.js';
import type { DeadLetterInput, MessageProperties, QueueArgs, QueueMessage } from './types.js';

export type { DeadLetterInput } from './types.js';

export interface TypedValue { readonly $type: string; readonly value: unknown }

const decoder = new TextDecoder();

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return decoder.decode(v);
  if (v !== null && typeof v === 'object' && '$type' in v) return asString((v as TypedValue).value);
  return undefined;
}

function asNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && '$type' in v) return asNumber((v as TypedValue).value);
  return 0;
}

function asArray(v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object' && '$type' in v) return asArray((v as TypedValue).value);
  return [];
}

function asTable(v: unknown): Readonly<Record<string, unknown>> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return undefined;
  if ('$type' in v) return asTable((v as TypedValue).value);
  return v as Record<string, unknown>;
}

/** Routing keys the message was published with: its routing key plus CC (BCC is stripped at publish). */
/** The routing key plus the CC header keys (sender-selected distribution): where the message was published to. */
export function publishedRoutingKeys(msg: QueueMessage): string[] {
  const keys = [msg.routingKey];
  for (const cc of asArray(msg.properties.headers?.['CC'])) {
    const k = asString(cc);
    if (k !== undefined) keys.push(k);
  }
  return keys;
}

/** The rewritten message and where to publish it. Caller checks a DLX is configured. */
export function deadLetter<P extends MessageProperties>(
  msg: QueueMessage<P>,
  args: QueueArgs,
  { queue, reason, nowMs }: DeadLetterInput,
): { message: QueueMessage<P>; exchange: string; routingKey: string } {
  const oldHeaders = msg.properties.headers ?? {};
  const headers: Record<string, unknown> = { ...oldHeaders };
  const deaths = asArray(oldHeaders['x-death']);
  let found: Record<string, unknown> | undefined;
  const rest: unknown[] = [];
  for (const d of deaths) {
    const t = asTable(d);
    if (found === undefined && t !== undefined && asString(t['queue']) === queue && asString(t['reason']) === reason) {
      found = { ...t, count: { $type: 'l', value: asNumber(t['count']) + 1 } };
    } else {
      rest.push(d);
    }
  }
  if (found === undefined) {
    found = {
      count: { $type: 'l', value: 1 },
      reason,
      queue,
      time: { $type: 'T', value: Math.floor(nowMs / 1000) },
      exchange: msg.exchange,
      'routing-keys': publishedRoutingKeys(msg),
    };
    const ttlMs = parseExpirationMs(msg.properties.expiration);
    if (ttlMs !== undefined) found['original-expiration'] = String(ttlMs);
  }
  headers['x-death'] = [found, ...rest];
  if (headers['x-first-death-reason'] === undefined) {
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-queue'] = queue;
    headers['x-first-death-exchange'] = msg.exchange;
  }
  headers['x-last-death-reason'] = reason;
  headers['x-last-death-queue'] = queue;
  headers['x-last-death-exchange'] = msg.exchange;
  if (args.deadLetterRoutingKey !== undefined) delete headers['CC'];

  const { expiration: _dropped, ...kept } = msg.properties;
  // The rewritten headers hold only values of the kinds the table codec decodes (tables, arrays,
  // strings, typed numbers), so they are the same kind of table as P's headers.
  const properties = { ...kept, headers } as P;
  const message: QueueMessage<P> = { exchange: msg.exchange, routingKey: msg.routingKey, properties, body: msg.body };
  return {
    message,
    exchange: args.deadLetterExchange ?? '',
    routingKey: args.deadLetterRoutingKey ?? msg.routingKey,
  };
}

/**
 * RabbitMQ's cycle check, for the router to call before enqueueing a dead-lettered message into
 * targetQueue: a cycle exists when the message already died in targetQueue and no death since
 * then (inclusive) was a client 'rejected'. Such a message is dropped, not enqueued.
 */
export function isDeathCycle(msg: QueueMessage, targetQueue: string): boolean {
  for (const d of asArray(msg.properties.headers?.['x-death'])) {
    const t = asTable(d);
    if (t === undefined) continue;
    if (asString(t['reason']) === 'rejected') return false;
    if (asString(t['queue']) === targetQueue) return true;
  }
  return false;
}
