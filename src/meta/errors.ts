// RabbitMQ's reply texts for metadata operations, in one place so clients and people can grep for them.
// Sources: rabbit_channel.erl, rabbit_exchange.erl, rabbit_amqqueue.erl, rabbit_binding.erl,
// rabbit_access_control.erl, rabbit_misc.erl (rs/1: "<kind> '<name>' in vhost '<vhost>'").

import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { amqpTypeName, isTypedValue } from '../routing/values.js';

export type ResourceKind = 'queue' | 'exchange';

/** rabbit_misc:rs/1. */
export function rs(kind: ResourceKind, name: string, vhost: string): string {
  return `${kind} '${name}' in vhost '${vhost}'`;
}

export function notFound(kind: ResourceKind, name: string, vhost: string): AmqpError {
  return new AmqpError(ReplyCode.NotFound, `no ${rs(kind, name, vhost)}`);
}

export function defaultExchangeRefused(): AmqpError {
  return new AmqpError(ReplyCode.AccessRefused, 'operation not permitted on the default exchange');
}

export function reservedName(kind: ResourceKind, name: string): AmqpError {
  return new AmqpError(ReplyCode.AccessRefused, `${kind} name '${name}' contains reserved prefix 'amq.*'`);
}

export function systemExchangeDeletion(name: string, vhost: string): AmqpError {
  return new AmqpError(ReplyCode.AccessRefused, `deletion of system ${rs('exchange', name, vhost)} not allowed`);
}

export function internalExchange(name: string, vhost: string): AmqpError {
  return new AmqpError(ReplyCode.AccessRefused, `cannot publish to internal ${rs('exchange', name, vhost)}`);
}

export function unknownExchangeType(type: string): AmqpError {
  return new AmqpError(ReplyCode.CommandInvalid, `unknown exchange type '${type}'`);
}

export function inUse(kind: ResourceKind, name: string, vhost: string): AmqpError {
  return new AmqpError(ReplyCode.PreconditionFailed, `${rs(kind, name, vhost)} in use`);
}

export function notEmpty(name: string, vhost: string): AmqpError {
  return new AmqpError(ReplyCode.PreconditionFailed, `${rs('queue', name, vhost)} not empty`);
}

export function exclusiveLocked(name: string, vhost: string): AmqpError {
  return new AmqpError(ReplyCode.ResourceLocked,
    `cannot obtain exclusive access to locked ${rs('queue', name, vhost)}. It could be originally declared ` +
    'on another connection or the exclusive property value does not match that of the original declaration.');
}

export function resourceAccessRefused(kind: ResourceKind, name: string, vhost: string, user: string): AmqpError {
  return new AmqpError(ReplyCode.AccessRefused, `access to ${rs(kind, name, vhost)} refused for user '${user}'`);
}

export function vhostAccessRefused(vhost: string, user: string): AmqpError {
  return new AmqpError(ReplyCode.NotAllowed, `access to vhost '${vhost}' refused for user '${user}'`);
}

/** rabbit_misc:val/1: how equivalence failures print a value ("none" when absent). */
export function equivalenceValue(v: unknown, typed: boolean): string {
  if (v === undefined) return 'none';
  const plain = isTypedValue(v) ? v.value : v;
  const text = typeof plain === 'string' ? plain : Buffer.isBuffer(plain) ? plain.toString('utf8') : String(plain);
  return typed ? `the value '${text}' of type '${amqpTypeName(v)}'` : `'${text}'`;
}

/**
 * rabbit_misc:equivalence_fail/4. `typed` for table arguments, plain for fields (durable, type, ...).
 * RabbitMQ compares numeric x-arguments by value whatever their integer width, and then prints the bare
 * values ("received '2000' but current is '1000'"); other arguments, and a side that is "none", print typed.
 */
export function inequivalent(kind: ResourceKind, name: string, vhost: string, key: string,
  received: unknown, current: unknown, typedArg: boolean): AmqpError {
  const typed = typedArg && !(isNumeric(received) && isNumeric(current));
  return new AmqpError(ReplyCode.PreconditionFailed,
    `inequivalent arg '${key}' for ${rs(kind, name, vhost)}: received ${equivalenceValue(received, typed)} ` +
    `but current is ${equivalenceValue(current, typed)}`);
}

/** rabbit_misc:r_arg/4 failure: a resource-name argument (alternate-exchange, x-dead-letter-exchange) that is not a string. */
export function invalidArgType(argKey: string, value: unknown, kind: ResourceKind, name: string, vhost: string): AmqpError {
  return new AmqpError(ReplyCode.PreconditionFailed,
    `invalid type '${amqpTypeName(value)}' for arg '${argKey}' in ${rs(kind, name, vhost)}`);
}

function isNumeric(v: unknown): boolean {
  const plain = isTypedValue(v) ? v.value : v;
  return typeof plain === 'number' || typeof plain === 'bigint';
}
