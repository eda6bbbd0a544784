// exchange.declare / exchange.delete, in the order RabbitMQ's rabbit_channel checks things
// (permission checks are the caller's, before these run).

import { isExchangeType } from '../routing/types.js';
import {
  defaultExchangeRefused, inequivalent, inUse, invalidArgType, notFound, reservedName,
  systemExchangeDeletion, unknownExchangeType,
} from './errors.js';
import { assertExchangeArgsEquivalent } from './queue-args.js';
import type { ExchangeDeclareCommand, ExchangeRecord, MetaResult } from './types.js';
import type { Removed, VhostState } from './vhost.js';

function assertEquivalent(x: ExchangeRecord, c: ExchangeDeclareCommand): void {
  const fields: ReadonlyArray<readonly [string, unknown, unknown]> = [
    ['type', x.type, c.exchangeType],
    ['durable', x.durable, c.durable],
    ['auto_delete', x.autoDelete, c.autoDelete],
    ['internal', x.internal, c.internal],
  ];
  for (const [key, current, received] of fields) {
    if (current !== received) throw inequivalent('exchange', x.name, x.vhost, key, received, current, false);
  }
  assertExchangeArgsEquivalent(x.name, x.vhost, x.arguments, c.arguments);
}

export function declareExchange(v: VhostState, c: ExchangeDeclareCommand): MetaResult {
  if (c.passive) {
    if (c.name === '') throw defaultExchangeRefused();
    if (!v.exchanges.has(c.name)) throw notFound('exchange', c.name, v.name);
    return { created: false };
  }
  if (!isExchangeType(c.exchangeType)) throw unknownExchangeType(c.exchangeType);
  if (c.name === '') throw defaultExchangeRefused();
  const existing = v.exchanges.get(c.name);
  if (existing !== undefined) {
    assertEquivalent(existing.record, c);
    return { created: false };
  }
  // The reserved prefix applies to creation only: redeclaring amq.direct equivalently is fine.
  if (c.name.startsWith('amq.')) throw reservedName('exchange', c.name);
  const ae = c.arguments['alternate-exchange'];
  if (ae !== undefined && typeof ae !== 'string') throw invalidArgType('alternate-exchange', ae, 'exchange', c.name, v.name);
  v.putExchange({
    vhost: v.name, name: c.name, type: c.exchangeType, durable: c.durable, autoDelete: c.autoDelete,
    internal: c.internal, arguments: c.arguments,
  });
  return { created: true };
}

export function deleteExchange(v: VhostState, name: string, ifUnused: boolean): MetaResult {
  if (name === '') throw defaultExchangeRefused();
  if (name.startsWith('amq.')) throw systemExchangeDeletion(name, v.name);
  const x = v.exchanges.get(name);
  if (x === undefined) return { deletedExchanges: [] }; // idempotent, as RabbitMQ 3.x
  if (ifUnused && x.bindings.size > 0) throw inUse('exchange', name, v.name);
  const removed: Removed = { queues: [], exchanges: [] };
  v.deleteExchange(name, removed);
  return { deletedExchanges: removed.exchanges };
}
