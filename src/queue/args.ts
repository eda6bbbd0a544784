// queue.declare x-arguments → QueueArgs. Validation (RabbitMQ's rules and 406 texts) happens once,
// in src/meta/queue-args.ts when the queue record is created; this reads what it accepted.
//
// Table values arrive decoded by src/amqp/table.ts (not imported: layering): plain numbers for every
// integer type (bigint when an int64 does not fit), strings for S, booleans, Buffers for x, or the
// typed wrapper { $type: '<field tag>', value }. A plain JS number that is an integer counts as an
// integer type (so an integral double like 5.0 is accepted, where RabbitMQ says "got double").

import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { QueueArgs } from './types.js';

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

/** An argument the metadata layer should have refused; reported against the argument, never expected. */
function invalid(key: string, t: Typed): never {
  throw new AmqpError(ReplyCode.PreconditionFailed, `invalid arg '${key}': unexpected ${t.type} (arguments are validated at declare)`);
}

function int(key: string, t: Typed): number {
  const n = typeof t.value === 'bigint' ? Number(t.value) : t.value;
  if (!INTEGER_TYPES.has(t.type) || typeof n !== 'number' || !Number.isInteger(n) || n < 0) invalid(key, t);
  return n;
}

function str(key: string, t: Typed): string {
  if (typeof t.value !== 'string') invalid(key, t);
  return t.value;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Reader = (key: string, t: Typed, out: Mutable<QueueArgs>) => void;

const READERS: Readonly<Record<string, Reader>> = {
  'x-expires': (k, t, o) => { o.expiresMs = int(k, t); },
  'x-message-ttl': (k, t, o) => { o.messageTtlMs = int(k, t); },
  'x-dead-letter-exchange': (k, t, o) => { o.deadLetterExchange = str(k, t); },
  'x-dead-letter-routing-key': (k, t, o) => { o.deadLetterRoutingKey = str(k, t); },
  'x-max-length': (k, t, o) => { o.maxLength = int(k, t); },
  'x-max-length-bytes': (k, t, o) => { o.maxLengthBytes = int(k, t); },
  'x-max-priority': (k, t, o) => { o.maxPriority = int(k, t); },
  'x-overflow': (k, t, o) => {
    const v = str(k, t);
    if (v !== 'drop-head' && v !== 'reject-publish' && v !== 'reject-publish-dlx') invalid(k, t);
    o.overflow = v;
  },
  'x-single-active-consumer': (k, t, o) => {
    if (typeof t.value !== 'boolean') invalid(k, t);
    o.singleActiveConsumer = t.value;
  },
  'x-delivery-limit': (k, t, o) => { o.deliveryLimit = int(k, t); },
};

/**
 * Reads queue.declare arguments into QueueArgs. They are VALIDATED in one place, when the metadata
 * layer creates the queue record (src/meta/queue-args.ts, RabbitMQ's rules and 406 texts); owners
 * and partitions read what it accepted. Unknown x-arguments are ignored, as RabbitMQ does.
 */
export function parseQueueArgs(args: Readonly<Record<string, unknown>> | undefined): QueueArgs {
  const out: Mutable<QueueArgs> = { overflow: 'drop-head', singleActiveConsumer: false };
  if (args === undefined) return out;
  for (const key of Object.keys(READERS)) {
    const raw = args[key];
    if (raw !== undefined) (READERS[key] as Reader)(key, typed(raw), out);
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
