// Shared builders for the queue machine tests.
import { QueueMachine } from '../../../src/queue/machine.js';
import { parseQueueArgs } from '../../../src/queue/args.js';
import type { DeliverEffect, Effect, MessageProperties, QueueMessage } from '../../../src/queue/types.js';

export function msg(text: string, properties: MessageProperties = {}, routingKey = 'rk'): QueueMessage {
  return { exchange: 'ex', routingKey, properties, body: new TextEncoder().encode(text) };
}

export function machine(args: Record<string, unknown> = {}, nowMs = 0, name = 'q'): QueueMachine {
  return new QueueMachine(name, parseQueueArgs(args), nowMs);
}

export function bodyOf(m: QueueMessage): string {
  return new TextDecoder().decode(m.body);
}

export function deliveries(effects: readonly Effect[]): DeliverEffect[] {
  return effects.filter((e): e is DeliverEffect => e.kind === 'deliver');
}

/** "consumer:body" per delivery, in order. */
export function delivered(effects: readonly Effect[]): string[] {
  return deliveries(effects).map((d) => `${d.consumerId}:${bodyOf(d.message)}`);
}

export function enqueueAll(q: QueueMachine, texts: readonly string[], nowMs = 0, props: MessageProperties = {}): Effect[] {
  const effects: Effect[] = [];
  for (const t of texts) q.apply({ kind: 'enqueue', message: msg(t, props), nowMs }, effects);
  return effects;
}

export function checkout(q: QueueMachine, consumerId: string, prefetch = 0, opts: { priority?: number; noAck?: boolean; nowMs?: number } = {}): Effect[] {
  return q.apply({
    kind: 'checkout', consumerId, prefetch, priority: opts.priority ?? 0, noAck: opts.noAck ?? false, nowMs: opts.nowMs ?? 0,
  }).effects;
}
