// Queue argument validation and equivalence, as rabbit_amqqueue:declare_args/0 (RabbitMQ 3.10+).
//
// Validation runs only when a queue is created; a failing argument gives
//   406 "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"
// where the last part is the Erlang error term RabbitMQ prints. Equivalence runs on redeclaration over
// the same keys, with rabbit_misc:assert_args_equivalence's rules: integer types are one class (a
// signedint 5 equals a long 5), and a missing x-queue-type equals 'classic'.

import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { wireTag, type FieldTable, type FieldValue } from '../amqp/table.js';
import { amqpTypeName, canonical, isIntegerValue, isTypedValue } from '../routing/values.js';
import { inequivalent, rs } from './errors.js';
import { MAX_EXPIRY_MS } from '../queue/args.js';

export { MAX_SUPPORTED_PRIORITY } from '../queue/args.js';
import { MAX_SUPPORTED_PRIORITY } from '../queue/args.js';

/** Returns undefined when valid, else the Erlang error term as RabbitMQ prints it. */
type Check = (v: FieldValue, args: FieldTable) => string | undefined;

/** A number, or a typed number from the codec ({ $type: 'l', value }), as a plain number. */
function num(v: FieldValue): number | bigint | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (isTypedValue(v) && v.$type !== 'D' && (typeof v.value === 'number' || typeof v.value === 'bigint')) return v.value;
  return undefined;
}

const unacceptable = (v: FieldValue): string => `{unacceptable_type,${amqpTypeName(v)}}`;

const intArg: Check = (v) => (isIntegerValue(num(v)) ? undefined : `"expected integer, got ${amqpTypeName(v)}"`);

const nonNegInt: Check = (v, a) => intArg(v, a) ?? (num(v)! < 0 ? `{value_negative,${String(num(v))}}` : undefined);

/** RabbitMQ's ?MAX_EXPIRY_TIMER: the largest TTL / expiry in ms it accepts. */
const tooLarge = (v: FieldValue): string | undefined =>
  (Number(num(v)) > MAX_EXPIRY_MS ? `{value_too_large,${String(num(v))},${MAX_EXPIRY_MS}}` : undefined);

const messageTtl: Check = (v, a) => nonNegInt(v, a) ?? tooLarge(v);

const expires: Check = (v, a) => nonNegInt(v, a) ?? (Number(num(v)) === 0 ? '{value_zero,0}' : tooLarge(v));

const longstr: Check = (v) => (typeof v === 'string' ? undefined : unacceptable(v));

const bool: Check = (v) => (typeof v === 'boolean' ? undefined : unacceptable(v));

/**
 * A dead-letter routing key becomes the routing-key shortstr of basic.deliver / get-ok, so it
 * must fit 255 bytes (RabbitMQ accepts longer ones and then fails to dead-letter with them).
 */
const dlxRoutingKey: Check = (v, a) => {
  if (typeof v !== 'string') return unacceptable(v);
  if (Buffer.byteLength(v) > SHORTSTR_MAX_BYTES) return `{routing_key_too_long,${Buffer.byteLength(v)}}`;
  return a['x-dead-letter-exchange'] === undefined ? 'routing_key_but_no_dlx_defined' : undefined;
};

/** Exchange names are shortstrs: a longer dead-letter exchange name could never be declared. */
const dlxName: Check = (v) => {
  if (typeof v !== 'string') return unacceptable(v);
  return Buffer.byteLength(v) > SHORTSTR_MAX_BYTES ? `{exchange_name_too_long,${Buffer.byteLength(v)}}` : undefined;
};

const SHORTSTR_MAX_BYTES = 255;

const maxPriority: Check = (v, a) =>
  nonNegInt(v, a) ?? (Number(num(v)) > MAX_SUPPORTED_PRIORITY ? `{max_value_exceeded,${String(num(v))}}` : undefined);

function oneOf(values: readonly string[], error: string): Check {
  return (v) => (typeof v !== 'string' ? unacceptable(v) : values.includes(v) ? undefined : error);
}

/** RabbitMQ 3.10 prints these failures as Erlang strings: "unsupported queue type 'lazy'". */
function supported(what: string, values: readonly string[]): Check {
  return (v) => (typeof v !== 'string' ? unacceptable(v) : values.includes(v) ? undefined : `"unsupported ${what} '${v}'"`);
}

const queueVersion: Check = (v, a) =>
  intArg(v, a) ?? (Number(num(v)) === 1 || Number(num(v)) === 2 ? undefined : `"unsupported queue version '${String(num(v))}'"`);

const positiveInt: Check = (v, a) => nonNegInt(v, a) ?? (Number(num(v)) === 0 ? '{value_zero,0}' : undefined);

const maxAge: Check = (v) => {
  if (typeof v !== 'string') return unacceptable(v);
  return /^[0-9]+(Y|M|D|h|m|s)$/.test(v) ? undefined : 'invalid_max_age';
};

/** rabbit_amqqueue:declare_args/0, in RabbitMQ's order: the first failing argument is the one reported. */
const DECLARE_ARGS: ReadonlyArray<readonly [string, Check]> = [
  ['x-expires', expires],
  ['x-message-ttl', messageTtl],
  ['x-dead-letter-exchange', dlxName],
  ['x-dead-letter-routing-key', dlxRoutingKey],
  ['x-max-length', nonNegInt],
  ['x-max-length-bytes', nonNegInt],
  ['x-max-in-memory-length', nonNegInt],
  ['x-max-in-memory-bytes', nonNegInt],
  ['x-max-priority', maxPriority],
  ['x-overflow', oneOf(['drop-head', 'reject-publish', 'reject-publish-dlx'], 'invalid_overflow')],
  ['x-queue-mode', supported('queue mode', ['default', 'lazy'])],
  ['x-queue-version', queueVersion],
  ['x-single-active-consumer', bool],
  // Streams are not implemented: refused like an unknown type rather than silently accepted.
  ['x-queue-type', supported('queue type', ['classic', 'quorum'])],
  ['x-quorum-initial-group-size', positiveInt],
  ['x-max-age', maxAge],
  ['x-stream-max-segment-size-bytes', nonNegInt],
  ['x-initial-cluster-size', positiveInt],
  ['x-queue-leader-locator', longstr],
  ['x-delivery-limit', nonNegInt],
];

/**
 * Arguments a queue type refuses (the invalid_arguments of each queue type's capabilities in RabbitMQ
 * 3.10, checked against a 3.10.8 broker), reported after the generic validation as
 * "invalid arg 'x-max-age' for queue 'q' in vhost '/' of queue type rabbit_classic_queue".
 */
const INVALID_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
  classic: [
    'x-max-in-memory-length', 'x-max-in-memory-bytes', 'x-quorum-initial-group-size', 'x-max-age',
    // x-delivery-limit is refused on classic queues by RabbitMQ 3.10, but every Warren queue is one
    // (replicated, quorum-like) implementation that honours it, so Warren accepts it on any queue.
    'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator',
    'x-dead-letter-strategy',
  ],
  quorum: [
    'x-max-priority', 'x-queue-mode', 'x-queue-version', 'x-max-age', 'x-stream-max-segment-size-bytes',
    'x-initial-cluster-size', 'x-queue-master-locator',
  ],
};

export const EQUIVALENCE_KEYS: readonly string[] = DECLARE_ARGS.map(([k]) => k);

function has(t: FieldTable, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(t, k);
}

/** Throws 406 for the first invalid argument (rabbit_amqqueue:check_arguments/3), then for an argument the queue type refuses. */
export function validateQueueArgs(name: string, vhost: string, args: FieldTable): void {
  for (const [key, check] of DECLARE_ARGS) {
    if (!has(args, key)) continue;
    const error = check(args[key]!, args);
    if (error !== undefined) {
      throw new AmqpError(ReplyCode.PreconditionFailed, `invalid arg '${key}' for ${rs('queue', name, vhost)}: ${error}`);
    }
  }
  const type = queueTypeOf(args);
  for (const key of INVALID_FOR_TYPE[type] ?? []) {
    if (has(args, key)) {
      throw new AmqpError(ReplyCode.PreconditionFailed,
        `invalid arg '${key}' for ${rs('queue', name, vhost)} of queue type rabbit_${type}_queue`);
    }
  }
}

/** The queue type an argument table asks for (classic when absent). */
export function queueTypeOf(args: FieldTable): string {
  const t = args['x-queue-type'];
  return typeof t === 'string' ? t : 'classic';
}

function argsEquivalent(key: string, current: FieldValue | undefined, received: FieldValue | undefined): boolean {
  if (key === 'x-queue-type') {
    current = current ?? 'classic';
    received = received ?? 'classic';
  }
  if (current === undefined || received === undefined) return current === received;
  const numC = num(current);
  const numR = num(received);
  if (numC !== undefined && numR !== undefined) {
    // Same type class (integers vs floats) and equal value.
    return isIntegerValue(numC) === isIntegerValue(numR) && Number(numC) === Number(numR);
  }
  return canonical(current) === canonical(received);
}

/** Throws 406 "inequivalent arg ..." for the first differing argument (rabbit_misc:assert_args_equivalence/4). */
export function assertQueueArgsEquivalent(name: string, vhost: string, current: FieldTable, received: FieldTable): void {
  for (const key of EQUIVALENCE_KEYS) {
    const c = has(current, key) ? current[key] : undefined;
    const r = has(received, key) ? received[key] : undefined;
    if (!argsEquivalent(key, c, r)) throw inequivalent('queue', name, vhost, key, asSent(received, key, r), asSent(current, key, c), true);
  }
}

/** A numeric argument with the wire type the client sent, so error texts name it as RabbitMQ does. */
function asSent(table: FieldTable, key: string, v: FieldValue | undefined): FieldValue | undefined {
  const tag = wireTag(table, key);
  return tag !== undefined && (typeof v === 'number' || typeof v === 'bigint') ? { $type: tag, value: v } : v;
}

/** Exchange arguments compared on redeclaration: only alternate-exchange (rabbit_exchange:assert_args_equivalence/2). */
export function assertExchangeArgsEquivalent(name: string, vhost: string, current: FieldTable, received: FieldTable): void {
  const key = 'alternate-exchange';
  const c = has(current, key) ? current[key] : undefined;
  const r = has(received, key) ? received[key] : undefined;
  if (!argsEquivalent(key, c, r)) throw inequivalent('exchange', name, vhost, key, r, c, true);
}
