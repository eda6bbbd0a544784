// queue.declare / queue.delete and exclusive access, in the order RabbitMQ's rabbit_channel and
// rabbit_amqqueue check things (permission checks are the caller's, before these run).

import { AmqpError, ReplyCode } from '../amqp/errors.js';
import {
  exclusiveLocked, inequivalent, invalidArgType, inUse, notEmpty, notFound, reservedName, rs,
} from './errors.js';
import { assertQueueArgsEquivalent, queueTypeOf, validateQueueArgs } from './queue-args.js';
import type { MetaResult, QueueDeclareCommand, QueueDeleteCommand, QueueRecord } from './types.js';
import type { Removed, VhostState } from './vhost.js';

export const SERVER_NAMED_PREFIX = 'amq.gen-';

/**
 * rabbit_amqqueue:check_exclusive_access/3. 'lax' (use: consume, bind, delete, passive declare): a
 * non-exclusive queue is open to all. 'strict' (redeclare): the exclusive flag must match too, so
 * redeclaring an exclusive queue as non-exclusive, or the reverse, is locked.
 */
export function checkExclusiveAccess(q: QueueRecord, connection: string | undefined, mode: 'lax' | 'strict'): void {
  if (q.exclusiveOwner === connection) return;
  if (mode === 'lax' && q.exclusiveOwner === undefined) return;
  throw exclusiveLocked(q.name, q.vhost);
}

function assertEquivalent(q: QueueRecord, c: QueueDeclareCommand, durable: boolean, owner: string | undefined): void {
  checkExclusiveAccess(q, owner, 'strict');
  if (q.durable !== durable) throw inequivalent('queue', q.name, q.vhost, 'durable', durable, q.durable, false);
  if (q.autoDelete !== c.autoDelete) throw inequivalent('queue', q.name, q.vhost, 'auto_delete', c.autoDelete, q.autoDelete, false);
  assertQueueArgsEquivalent(q.name, q.vhost, q.arguments, c.arguments);
}

/** Quorum queues refuse properties they cannot honour (rabbit_quorum_queue:declare). */
function checkQueueTypeProperties(name: string, vhost: string, c: QueueDeclareCommand, durable: boolean): void {
  const type = queueTypeOf(c.arguments);
  if (type !== 'quorum') return;
  const invalid = c.autoDelete ? 'auto-delete' : c.exclusive ? 'exclusive-owner' : !durable ? 'non-durable' : undefined;
  if (invalid !== undefined) {
    throw new AmqpError(ReplyCode.PreconditionFailed, `invalid property '${invalid}' for ${rs('queue', name, vhost)}`);
  }
}

function resolveName(c: QueueDeclareCommand): string {
  if (c.name !== '') {
    if (c.name.startsWith('amq.')) throw reservedName('queue', c.name);
    return c.name;
  }
  if (c.nameSuffix === undefined || c.nameSuffix === '') {
    // A programming error of the proposer, not of the client.
    throw new AmqpError(ReplyCode.InternalError, 'server-named queue.declare without a name suffix');
  }
  return SERVER_NAMED_PREFIX + c.nameSuffix;
}

export function declareQueue(v: VhostState, c: QueueDeclareCommand): MetaResult {
  if (c.passive) {
    const q = v.queues.get(c.name);
    if (q === undefined) throw notFound('queue', c.name, v.name);
    checkExclusiveAccess(q, c.connection, 'lax');
    return { created: false, queue: q };
  }
  const durable = c.durable && !c.exclusive;
  const owner = c.exclusive ? c.connection : undefined;
  const name = resolveName(c);
  const existing = v.queues.get(name);
  if (existing !== undefined) {
    assertEquivalent(existing, c, durable, owner);
    return { created: false, queue: existing };
  }
  const dlx = c.arguments['x-dead-letter-exchange'];
  if (dlx !== undefined && typeof dlx !== 'string') throw invalidArgType('x-dead-letter-exchange', dlx, 'queue', name, v.name);
  validateQueueArgs(name, v.name, c.arguments);
  checkQueueTypeProperties(name, v.name, c, durable);
  const q: QueueRecord = {
    vhost: v.name, name, durable, autoDelete: c.autoDelete, exclusiveOwner: owner,
    arguments: c.arguments, partition: c.partition,
  };
  v.queues.set(name, q);
  return { created: true, queue: q };
}

export function deleteQueue(v: VhostState, c: QueueDeleteCommand): MetaResult {
  const q = v.queues.get(c.name);
  if (q === undefined) return { deletedQueues: [], deletedExchanges: [] }; // idempotent, as RabbitMQ
  if (c.connection !== undefined) checkExclusiveAccess(q, c.connection, 'lax');
  if (c.ifUnused === true && (c.consumerCount ?? 0) > 0) throw inUse('queue', q.name, v.name);
  if (c.ifEmpty === true && (c.messageCount ?? 0) > 0) throw notEmpty(q.name, v.name);
  const removed: Removed = { queues: [], exchanges: [] };
  v.deleteQueue(q.name, removed);
  return { deletedQueues: removed.queues, deletedExchanges: removed.exchanges };
}

/** Deletes every exclusive queue owned by a connection that has closed. */
export function dropConnection(v: VhostState, connection: string, removed: Removed): void {
  for (const q of [...v.queues.values()]) {
    if (q.exclusiveOwner === connection) v.deleteQueue(q.name, removed);
  }
}
