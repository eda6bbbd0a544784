// queue.declare x-arguments → QueueArgs, validated as RabbitMQ's rabbit_amqqueue:check_arguments does,
// with the same 406 reply texts, e.g.
//   PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-1}
//
// Table values arrive decoded by src/amqp/table.ts (not imported: layering): plain numbers for every
// integer type (bigint when an int64 does not fit), strings for S, booleans, Buffers for x, or the
// typed wrapper { $type: '<field tag>', value }. A plain JS number that is an integer counts as an
// integer type (so an integral double like 5.0 is accepted, where RabbitMQ says "got double").

import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { Overflow, QueueArgs } from './types.js';

/** RabbitMQ's ?MAX_EXPIRY_TIMER: the largest TTL / expiry in ms it accepts. */
export const MAX_EXPIRY_MS = 4294967295;
/** RabbitMQ's ?MAX_SUPPORTED_PRIORITY. */
export const MAX_SUPPORTED_PRIORITY = 255;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint',
  i: 'unsignedint', l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', A: 'array',
  T: 'timestamp', F: 'table', V: 'void', x: 'binary',
};
const INTEGER_TYPES = new Set(['byte', 'short', 'signedint', 'long', 'unsignedbyte', 'unsignedshort', 'unsignedint']);

/** An argument value as RabbitMQ sees it: its AMQP type name and the JS value. */
interface Typed { readonly type: string; readonly value: unknown }

function typed(v: unknown): Typed {
  if (v !== null && typeof v === 'object' && '$type' in v && typeof (v as { $type: unknown }).$type === 'string') {
    const w = v as { $type: string; value?: unknown };
    return { type: TYPE_NAMES[w.$type] ?? w.$type, value: w.value };
  }
  switch (typeof v) {
    case 'string': return { type: 'longstr', value: v };
    case 'boolean': return { type: 'bool', value: v };
    case 'bigint': return { type: 'long', value: v };
    case 'number': return { type: Number.isInteger(v) ? 'long' : 'double', value: v };
    default: break;
  }
  if (v instanceof Uint8Array) return { type: 'binary', value: v }; // the codec decodes S as string, x as Buffer
  if (Array.isArray(v)) return { type: 'array', value: v };
  if (v === null || v === undefined) return { type: 'void', value: v };
  return { type: 'table', value: v };
}

/** A validation failure: the Erlang term RabbitMQ prints with ~p. */
class ArgError {
  constructor(readonly term: string) {}
}

function intValue(t: Typed): number {
  if (!INTEGER_TYPES.has(t.type)) throw new ArgError(`"expected integer, got ${t.type}"`);
  const n = typeof t.value === 'bigint' ? Number(t.value) : t.value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ArgError(`"expected integer, got ${t.type}"`);
  return n;
}

function nonNegInt(t: Typed): number {
  const n = intValue(t);
  if (n < 0) throw new ArgError(`{value_negative,${n}}`);
  return n;
}

function expiry(n: number): number {
  if (n < 0) throw new ArgError(`{value_negative,${n}}`);
  if (n > MAX_EXPIRY_MS) throw new ArgError(`{value_too_large,${n},${MAX_EXPIRY_MS}}`);
  return n;
}

function str(t: Typed): string {
  if (t.type !== 'longstr' || typeof t.value !== 'string') throw new ArgError(`{unacceptable_type,${t.type}}`);
  return t.value;
}

function bool(t: Typed): boolean {
  if (t.type !== 'bool' || typeof t.value !== 'boolean') throw new ArgError(`{unacceptable_type,${t.type}}`);
  return t.value;
}

const OVERFLOWS: readonly string[] = ['drop-head', 'reject-publish', 'reject-publish-dlx'];
const QUEUE_TYPES: readonly string[] = ['classic', 'quorum', 'stream'];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Validator = (t: Typed, out: Mutable<QueueArgs>, args: Readonly<Record<string, unknown>>) => void;

/** In RabbitMQ's declare_args() order, which decides which error is reported first. */
const VALIDATORS: ReadonlyArray<readonly [string, Validator]> = [
  ['x-expires', (t, o) => {
    const n = intValue(t);
    if (n === 0) throw new ArgError('{value_zero,0}');
    o.expiresMs = expiry(n);
  }],
  ['x-message-ttl', (t, o) => { o.messageTtlMs = expiry(intValue(t)); }],
  ['x-dead-letter-exchange', (t, o) => { o.deadLetterExchange = str(t); }],
  ['x-dead-letter-routing-key', (t, o, args) => {
    o.deadLetterRoutingKey = str(t);
    if (args['x-dead-letter-exchange'] === undefined) throw new ArgError('routing_key_but_no_dlx_defined');
  }],
  ['x-max-length', (t, o) => { o.maxLength = nonNegInt(t); }],
  ['x-max-length-bytes', (t, o) => { o.maxLengthBytes = nonNegInt(t); }],
  ['x-max-priority', (t, o) => {
    const n = nonNegInt(t);
    if (n > MAX_SUPPORTED_PRIORITY) throw new ArgError(`{max_value_exceeded,${n}}`);
    o.maxPriority = n;
  }],
  ['x-overflow', (t, o) => {
    const v = str(t);
    if (!OVERFLOWS.includes(v)) throw new ArgError('invalid_overflow');
    o.overflow = v as Overflow;
  }],
  ['x-single-active-consumer', (t, o) => { o.singleActiveConsumer = bool(t); }],
  ['x-queue-type', (t) => {
    const v = str(t);
    if (!QUEUE_TYPES.includes(v)) throw new ArgError(`"unsupported queue type '${v}'"`);
  }],
  ['x-delivery-limit', (t, o) => { o.deliveryLimit = nonNegInt(t); }],
];

/**
 * Validates and parses queue.declare arguments. Unknown x-arguments are ignored, as RabbitMQ does.
 * Throws AmqpError(406) with RabbitMQ's text; `queue`/`vhost` only feed that text.
 */
export function parseQueueArgs(
  args: Readonly<Record<string, unknown>> | undefined,
  queue = '',
  vhost = '/',
): QueueArgs {
  const out: Mutable<QueueArgs> = { overflow: 'drop-head', singleActiveConsumer: false };
  if (args === undefined) return out;
  for (const [key, validate] of VALIDATORS) {
    const raw = args[key];
    if (raw === undefined) continue;
    try {
      validate(typed(raw), out, args);
    } catch (e) {
      if (!(e instanceof ArgError)) throw e;
      throw new AmqpError(
        ReplyCode.PreconditionFailed,
        `invalid arg '${key}' for queue '${queue}' in vhost '${vhost}': ${e.term}`,
      );
    }
  }
  return out;
}

/**
 * Per-message TTL from the `expiration` property (a decimal string of ms), or undefined when
 * absent. RabbitMQ refuses a publish whose expiration is not a non-negative integer string; the
 * channel should check with this before enqueueing. The machine ignores an invalid one.
 */
export function parseExpirationMs(expiration: string | undefined): number | undefined {
  if (expiration === undefined) return undefined;
  if (!/^\d+$/.test(expiration)) return undefined;
  const n = Number(expiration);
  return n <= MAX_EXPIRY_MS ? n : undefined;
}
