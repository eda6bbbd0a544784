// The partition's keys, relative to its group prefix (src/raft/node/app.ts). Integers are big-endian
// so bytewise key order is numeric order: a queue's messages iterate in msgId order, and a
// message's state key sorts right after its record.
//
//   m/partition                    PartitionRecord (next queue id)
//   m/queue/<u32 id>               QueueRecord (vhost, name, arguments, declared at)
//   m/qstate/<u32 id>              QueueStateRecord (clock, x-expires, next msg id, consumers)
//   m/dedupe/<session utf-8>       DedupeRecord (highest enqueue seq applied)
//   q/<u32 id>/<u64 msg id>        the message record: the encoded Enqueue as proposed
//   q/<u32 id>/<u64 msg id>/s      MessageStateRecord, only while not "ready, never delivered"

const enc = new TextEncoder();
const dec = new TextDecoder();

export const PARTITION_KEY = enc.encode('m/partition');
const QUEUE = enc.encode('m/queue/');
const QSTATE = enc.encode('m/qstate/');
const DEDUPE = enc.encode('m/dedupe/');
const MSG = enc.encode('q/');
const SLASH = 0x2f;
const STATE_SUFFIX = enc.encode('/s');

/** Record key length: 'q/' + u32 + '/' + u64. */
export const RECORD_KEY_BYTES = 15;

// Keys are built on hot paths (a record read per delivery): Buffer.allocUnsafe takes them from
// Node's pool, and bytes are written by hand (a DataView per key costs more than the rest together).
// Writes name their keys as latin1 strings instead (below).
function writeU32(k: Uint8Array, o: number, v: number): void {
  k[o] = v >>> 24;
  k[o + 1] = (v >>> 16) & 0xff;
  k[o + 2] = (v >>> 8) & 0xff;
  k[o + 3] = v & 0xff;
}

function withU32(prefix: Uint8Array, id: number, extra: number): Uint8Array {
  const k = Buffer.allocUnsafe(prefix.length + 4 + extra);
  k.set(prefix, 0);
  writeU32(k, prefix.length, id);
  return k;
}

export const queueKey = (id: number): Uint8Array => withU32(QUEUE, id, 0);
export const queueStateKey = (id: number): Uint8Array => withU32(QSTATE, id, 0);
export const dedupeKey = (session: string): Uint8Array => concat(DEDUPE, enc.encode(session));

function messageKey(queue: number, msgId: number, bytes: number): Uint8Array {
  const k = Buffer.allocUnsafe(bytes);
  k[0] = MSG[0] as number;
  k[1] = MSG[1] as number;
  writeU32(k, 2, queue);
  k[6] = SLASH;
  writeU32(k, 7, Math.floor(msgId / 0x1_0000_0000));
  writeU32(k, 11, msgId >>> 0);
  return k;
}

/** q/<queue>/<msgId>. */
export function recordKey(queue: number, msgId: number): Uint8Array {
  return messageKey(queue, msgId, RECORD_KEY_BYTES);
}

/** q/<queue>/<msgId>/s. */
export function stateKey(queue: number, msgId: number): Uint8Array {
  const k = messageKey(queue, msgId, RECORD_KEY_BYTES + STATE_SUFFIX.length);
  k.set(STATE_SUFFIX, RECORD_KEY_BYTES);
  return k;
}

// The same keys as latin1 strings, one char per byte (ApplyBatch.putLatin1), made from the numbers
// without building the bytes: most message writes are cancelled before they reach the store, and
// then neither the bytes nor a conversion is ever needed. One fromCharCode call per key: a
// concatenation of 15 chars or more makes a cons string, which a Map lookup copies flat again.
const Q = MSG[0] as number;
const S = STATE_SUFFIX[1] as number;

/** recordKey(queue, msgId) as a latin1 string. */
export function recordKeyLatin1(queue: number, msgId: number): string {
  const hi = Math.floor(msgId / 0x1_0000_0000);
  const lo = msgId >>> 0;
  return String.fromCharCode(
    Q, SLASH, queue >>> 24, (queue >>> 16) & 0xff, (queue >>> 8) & 0xff, queue & 0xff,
    SLASH, hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff,
  );
}

/** stateKey(queue, msgId) as a latin1 string. */
export function stateKeyLatin1(queue: number, msgId: number): string {
  const hi = Math.floor(msgId / 0x1_0000_0000);
  const lo = msgId >>> 0;
  return String.fromCharCode(
    Q, SLASH, queue >>> 24, (queue >>> 16) & 0xff, (queue >>> 8) & 0xff, queue & 0xff,
    SLASH, hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff,
    SLASH, S,
  );
}

/** The range of a prefix: [prefix, prefix + 0xff...) as gte/lt bounds. */
export function prefixRange(prefix: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  const lt = prefix.slice();
  let i = lt.length - 1;
  while (i >= 0 && lt[i] === 0xff) i--;
  if (i < 0) throw new Error('partition: prefix has no upper bound');
  lt[i] = (lt[i] as number) + 1;
  return { gte: prefix, lt: lt.subarray(0, i + 1) };
}

export const RANGES = {
  queues: prefixRange(QUEUE),
  queueStates: prefixRange(QSTATE),
  dedupe: prefixRange(DEDUPE),
  messages: prefixRange(MSG),
} as const;

export const queueIdOf = (key: Uint8Array, prefixBytes: number): number =>
  new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(prefixBytes);

export const QUEUE_PREFIX_BYTES = QUEUE.length;
export const QSTATE_PREFIX_BYTES = QSTATE.length;

export function sessionOfDedupeKey(key: Uint8Array): string {
  return dec.decode(key.subarray(DEDUPE.length));
}

/** A message key (record or state) taken apart; undefined if it is not one. */
export function parseMessageKey(key: Uint8Array): { queue: number; msgId: number; isState: boolean } | undefined {
  if (key.length !== RECORD_KEY_BYTES && key.length !== RECORD_KEY_BYTES + STATE_SUFFIX.length) return undefined;
  if (key[0] !== MSG[0] || key[1] !== MSG[1] || key[6] !== SLASH) return undefined;
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return {
    queue: v.getUint32(2),
    msgId: v.getUint32(7) * 0x1_0000_0000 + v.getUint32(11),
    isState: key.length !== RECORD_KEY_BYTES,
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const k = new Uint8Array(a.length + b.length);
  k.set(a, 0);
  k.set(b, a.length);
  return k;
}
