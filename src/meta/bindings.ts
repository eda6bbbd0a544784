// queue.bind / exchange.bind and their unbinds, as rabbit_channel:binding_action and rabbit_binding:
//   - the default exchange can be neither source nor destination (403);
//   - bind: a missing source, then a missing destination, is 404; a headers binding with a bad x-match
//     is 406; an exclusive queue of another connection is 405; rebinding is a no-op;
//   - unbind is idempotent: a missing binding, source or destination is fine (RabbitMQ 3.x), and
//     removing the last binding of an auto-delete source deletes it.

import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { validateHeadersBinding } from '../routing/headers.js';
import { defaultExchangeRefused, notFound } from './errors.js';
import { checkExclusiveAccess } from './queues.js';
import type { BindingCommand, BindingRecord, MetaResult } from './types.js';
import type { Removed, VhostState } from './vhost.js';

function recordOf(c: BindingCommand): BindingRecord {
  return {
    vhost: c.vhost, source: c.source, destinationKind: c.destinationKind, destination: c.destination,
    routingKey: c.routingKey, arguments: c.arguments,
  };
}

function destinationExists(v: VhostState, c: BindingCommand): boolean {
  return c.destinationKind === 'queue' ? v.queues.has(c.destination) : v.exchanges.has(c.destination);
}

function checkNotDefault(c: BindingCommand): void {
  if (c.source === '' || (c.destinationKind === 'exchange' && c.destination === '')) throw defaultExchangeRefused();
}

export function addBinding(v: VhostState, c: BindingCommand): MetaResult {
  checkNotDefault(c);
  const source = v.exchanges.get(c.source);
  if (source === undefined) throw notFound('exchange', c.source, v.name);
  if (!destinationExists(v, c)) throw notFound(c.destinationKind, c.destination, v.name);
  if (source.record.type === 'headers') {
    const invalid = validateHeadersBinding(c.arguments);
    if (invalid !== undefined) throw new AmqpError(ReplyCode.PreconditionFailed, invalid);
  }
  if (c.destinationKind === 'queue' && c.connection !== undefined) {
    checkExclusiveAccess(v.queues.get(c.destination)!, c.connection, 'lax');
  }
  return { created: v.addBinding(recordOf(c)) };
}

export function removeBinding(v: VhostState, c: BindingCommand): MetaResult {
  checkNotDefault(c);
  const b = recordOf(c);
  if (v.findBinding(b) === undefined) return { deletedExchanges: [] };
  if (c.destinationKind === 'queue' && c.connection !== undefined) {
    checkExclusiveAccess(v.queues.get(c.destination)!, c.connection, 'lax');
  }
  const removed: Removed = { queues: [], exchanges: [] };
  v.removeBinding(b, removed);
  return { deletedExchanges: removed.exchanges };
}
