// Partition commands <-> the log entry bytes (proto/warren/v1/partition.proto PartitionBatch), and
// the stored message record. An enqueue travels as an embedded bytes field holding an encoded
// Enqueue, so the machine can store those exact bytes as the record (no re-encoding, no copy).
// Enqueues and the batch around them are encoded and decoded by hand (the same wire format): they
// are per message, on every replica, and protobufjs's writer, reader and Long objects were a
// visible share of an owner's CPU; the other commands go through protobufjs.
import { warren } from '../proto/partition.js';
import { EMPTY_BYTES, fieldSize, LastString, LEN, VARINT, varintSize, WireReader, WireWriter } from '../util/protowire.js';
import type { EnqueueCmd, PartitionCommand } from './types.js';

const pb = warren.v1;
type PbCommand = warren.v1.PartitionCommand.$Properties;

/** The fields of a stored message record (an encoded Enqueue). */
export interface MessageRecord {
  readonly exchange: string;
  readonly routingKey: string;
  readonly header: Uint8Array;
  readonly body: Uint8Array;
  readonly priority?: number | undefined;
  readonly expirationMs?: number | undefined;
  /** When it was enqueued (the proposer's clock); its TTL counts from here. */
  readonly nowMs: number;
}

export function encodeEnqueue(c: Omit<EnqueueCmd, 'kind' | 'record'>): Uint8Array {
  const exchange = Buffer.byteLength(c.exchange);
  const routingKey = Buffer.byteLength(c.routingKey);
  const session = Buffer.byteLength(c.session);
  let queues = 0;
  for (const q of c.queues) queues += varintSize(q);
  const size = (queues > 0 ? 1 + varintSize(queues) + queues : 0)
    + fieldSize(exchange) + fieldSize(routingKey) + fieldSize(c.header.byteLength) + fieldSize(c.body.byteLength) + fieldSize(session)
    + 1 + varintSize(c.seq) + (c.priority !== undefined ? 1 + varintSize(c.priority) : 0)
    + (c.expirationMs !== undefined ? 1 + varintSize(c.expirationMs) : 0) + 1 + varintSize(c.nowMs);
  const w = new WireWriter(size);
  if (queues > 0) {
    w.tag(1, LEN).varint(queues);
    for (const q of c.queues) w.varint(q);
  }
  w.tag(2, LEN).string(c.exchange, exchange).tag(3, LEN).string(c.routingKey, routingKey)
    .tag(4, LEN).bytes(c.header).tag(5, LEN).bytes(c.body).tag(6, LEN).string(c.session, session)
    .tag(7, VARINT).varint(c.seq);
  if (c.priority !== undefined) w.tag(8, VARINT).varint(c.priority);
  if (c.expirationMs !== undefined) w.tag(9, VARINT).varint(c.expirationMs);
  return w.tag(10, VARINT).varint(c.nowMs).done();
}

/** Decodes an encoded Enqueue (a log command or a stored record). Byte fields are views of `bytes`. */
export function decodeEnqueue(bytes: Uint8Array): EnqueueCmd {
  return readEnqueue(new WireReader(bytes, 0, bytes.length), bytes, new EnqueueStrings());
}

/**
 * The string fields last read by the enqueues of one entry (see LastString): a proposer's turn
 * usually repeats one publisher's exchange, routing key and session, each decoded once then.
 */
class EnqueueStrings {
  readonly exchange = new LastString();
  readonly routingKey = new LastString();
  readonly session = new LastString();
}

/** Appends v to a list made on first use, a literal of one (a first push() into [] reserves 17 slots). */
function pushTo(list: number[] | undefined, v: number): number[] {
  if (list === undefined) return [v];
  list.push(v);
  return list;
}

/** The Enqueue that is the rest of `r` (whose bytes are `record`). */
function readEnqueue(r: WireReader, record: Uint8Array, strings: EnqueueStrings): EnqueueCmd {
  let queues: number[] | undefined;
  let exchange = '';
  let routingKey = '';
  let header: Uint8Array = EMPTY_BYTES;
  let body: Uint8Array = EMPTY_BYTES;
  let session = '';
  let seq = 0;
  let priority: number | undefined;
  let expirationMs: number | undefined;
  let nowMs = 0;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | LEN: {
        const end = r.length();
        while (r.at < end) queues = pushTo(queues, r.varint() >>> 0);
        break;
      }
      case 1 << 3 | VARINT: queues = pushTo(queues, r.varint() >>> 0); break;
      case 2 << 3 | LEN: exchange = r.text(strings.exchange, false); break;
      case 3 << 3 | LEN: routingKey = r.text(strings.routingKey, false); break;
      case 4 << 3 | LEN: header = r.bytes(); break;
      case 5 << 3 | LEN: body = r.bytes(); break;
      case 6 << 3 | LEN: session = r.text(strings.session, false); break;
      case 7 << 3 | VARINT: seq = r.varint(); break;
      case 8 << 3 | VARINT: priority = r.varint() >>> 0; break;
      case 9 << 3 | VARINT: expirationMs = r.varint(); break;
      case 10 << 3 | VARINT: nowMs = r.varint(); break;
      default: r.skip(tag);
    }
  }
  return {
    kind: 'enqueue', queues: queues ?? [], exchange, routingKey, header, body, session, seq, priority, expirationMs, nowMs, record,
  };
}

/** A stored record's fields (views of `bytes`). */
export const decodeRecord: (bytes: Uint8Array) => MessageRecord = decodeEnqueue;

function toPb(c: PartitionCommand): PbCommand {
  switch (c.kind) {
    case 'declare': return { declare: { vhost: c.vhost, name: c.name, arguments: c.arguments, nowMs: c.nowMs } };
    case 'delete': return { delete: { queue: c.queue, nowMs: c.nowMs } };
    case 'enqueue': return { enqueue: c.record ?? encodeEnqueue(c) };
    case 'checkout': return {
      checkout: {
        queue: c.queue, session: c.session, consumer: c.consumer, prefetch: c.prefetch, priority: c.priority,
        noAck: c.noAck, nowMs: c.nowMs,
      },
    };
    case 'settle': case 'return': case 'discard': {
      const s = { queue: c.queue, session: c.session, consumer: c.consumer, msgIds: [...c.msgIds], nowMs: c.nowMs };
      return c.kind === 'settle' ? { settle: s } : c.kind === 'return' ? { return: s } : { discard: s };
    }
    case 'cancel': case 'recover': {
      const r = { queue: c.queue, session: c.session, consumer: c.consumer, nowMs: c.nowMs };
      return c.kind === 'cancel' ? { cancel: r } : { recover: r };
    }
    case 'down': return { down: { queue: c.queue, session: c.session, consumers: [...c.consumers], nowMs: c.nowMs } };
    case 'get': return { get: { queue: c.queue, session: c.session, consumer: c.consumer, noAck: c.noAck, nowMs: c.nowMs } };
    case 'purge': return { purge: { queue: c.queue, nowMs: c.nowMs } };
    case 'touch': return { touch: { queue: c.queue, nowMs: c.nowMs } };
    case 'flow': return {
      flow: { queue: c.queue, session: c.session, consumer: c.consumer, active: c.active, nowMs: c.nowMs },
    };
    case 'tick': return { tick: { nowMs: c.nowMs } };
    case 'sessionDown': return { sessionDown: { session: c.session, nowMs: c.nowMs } };
    case 'deadLettered': return { deadLettered: { queue: c.queue, msgIds: [...c.msgIds], nowMs: c.nowMs } };
    default: {
      const never: never = c;
      throw new Error(`partition: unknown command ${JSON.stringify(never)}`);
    }
  }
}

/**
 * One Raft entry's data: the commands of one proposer turn. Written by hand for the common case,
 * an enqueue: its record goes in as it is (PartitionCommand field 3), with no protobufjs writer.
 * The bytes are the PartitionBatch protobufjs would write.
 */
export function encodeBatch(commands: readonly PartitionCommand[]): Uint8Array {
  const parts: Uint8Array[] = new Array(commands.length);
  let size = 0;
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i]!;
    let inner: number;
    if (c.kind === 'enqueue') {
      const record = c.record ?? encodeEnqueue(c);
      parts[i] = record;
      inner = fieldSize(record.byteLength);
    } else {
      const bytes = pb.PartitionCommand.encode(toPb(c)).finish();
      parts[i] = bytes;
      inner = bytes.byteLength;
    }
    size += 1 + varintSize(inner) + inner;
  }
  const w = new WireWriter(size);
  for (let i = 0; i < commands.length; i++) {
    const part = parts[i]!;
    if (commands[i]!.kind === 'enqueue') w.tag(1, LEN).varint(fieldSize(part.byteLength)).tag(3, LEN).bytes(part);
    else w.tag(1, LEN).bytes(part);
  }
  return w.done();
}

/**
 * A decoded 64-bit integer field. protobufjs decodes them to Long objects when the `long` package is
 * installed (the generated types say number regardless); our values stay below 2^53.
 */
export function u64(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return 0;
}
function u64s(v: readonly unknown[] | null | undefined): number[] { return v === null || v === undefined ? [] : v.map(u64); }
/** A decoded 32-bit field with proto3's default when absent. */
function num(v: number | null | undefined): number { return v ?? 0; }
function str(v: string | null | undefined): string { return v ?? ''; }
function bool(v: boolean | null | undefined): boolean { return v ?? false; }

type PbShape = warren.v1.PartitionCommand.$Shape;

function settlement(kind: 'settle' | 'return' | 'discard', s: warren.v1.Settlement.$Shape): PartitionCommand {
  return {
    kind, queue: num(s.queue), session: str(s.session), consumer: str(s.consumer), msgIds: u64s(s.msgIds),
    nowMs: u64(s.nowMs),
  };
}

function consumerRef(kind: 'cancel' | 'recover', r: warren.v1.ConsumerRef.$Shape): PartitionCommand {
  return { kind, queue: num(r.queue), session: str(r.session), consumer: str(r.consumer), nowMs: u64(r.nowMs) };
}

// Decoded messages carry proto3 defaults, but the generated types mark every field optional.
function fromPb(c: PbShape): PartitionCommand {
  switch (c.cmd) {
    case 'declare': {
      const d = c.declare;
      return {
        kind: 'declare', vhost: str(d.vhost), name: str(d.name), arguments: d.arguments ?? new Uint8Array(0),
        nowMs: u64(d.nowMs),
      };
    }
    case 'enqueue': return decodeEnqueue(c.enqueue);
    case 'delete': return { kind: 'delete', queue: num(c.delete.queue), nowMs: u64(c.delete.nowMs) };
    case 'checkout': {
      const k = c.checkout;
      return {
        kind: 'checkout', queue: num(k.queue), session: str(k.session), consumer: str(k.consumer),
        prefetch: num(k.prefetch), priority: num(k.priority), noAck: bool(k.noAck), nowMs: u64(k.nowMs),
      };
    }
    case 'settle': return settlement('settle', c.settle);
    case 'return': return settlement('return', c.return);
    case 'discard': return settlement('discard', c.discard);
    case 'cancel': return consumerRef('cancel', c.cancel);
    case 'recover': return consumerRef('recover', c.recover);
    case 'down': {
      const d = c.down;
      return { kind: 'down', queue: num(d.queue), session: str(d.session), consumers: d.consumers ?? [], nowMs: u64(d.nowMs) };
    }
    case 'get': {
      const g = c.get;
      return {
        kind: 'get', queue: num(g.queue), session: str(g.session), consumer: str(g.consumer), noAck: bool(g.noAck),
        nowMs: u64(g.nowMs),
      };
    }
    case 'purge': return { kind: 'purge', queue: num(c.purge.queue), nowMs: u64(c.purge.nowMs) };
    case 'touch': return { kind: 'touch', queue: num(c.touch.queue), nowMs: u64(c.touch.nowMs) };
    case 'flow': {
      const f = c.flow;
      return {
        kind: 'flow', queue: num(f.queue), session: str(f.session), consumer: str(f.consumer), active: bool(f.active),
        nowMs: u64(f.nowMs),
      };
    }
    case 'tick': return { kind: 'tick', nowMs: u64(c.tick.nowMs) };
    case 'sessionDown': return { kind: 'sessionDown', session: str(c.sessionDown.session), nowMs: u64(c.sessionDown.nowMs) };
    case 'deadLettered': {
      const d = c.deadLettered;
      return { kind: 'deadLettered', queue: num(d.queue), msgIds: u64s(d.msgIds), nowMs: u64(d.nowMs) };
    }
    default: throw new Error(`partition: entry holds an unknown command (${String(c.cmd)})`);
  }
}

/**
 * The commands of one entry. Throws on bytes that are not a PartitionBatch (a storage bug). Read
 * by hand down to each command; an enqueue and a settlement (the per-message commands) by hand too,
 * the others by protobufjs.
 */
export function decodeBatch(data: Uint8Array): PartitionCommand[] {
  const r = new WireReader(data, 0, data.length);
  const out: PartitionCommand[] = [];
  const strings = new EnqueueStrings();
  while (r.at < r.end) {
    const tag = r.tag();
    if (tag !== (1 << 3 | LEN)) {
      r.skip(tag);
      continue;
    }
    const end = r.length();
    out.push(decodeCommand(data, r.at, end, strings));
    r.at = end;
  }
  return out;
}

/** PartitionCommand's oneof fields that hold a Settlement (settle, return, discard). */
const SETTLEMENT_FIELDS: Readonly<Record<number, 'settle' | 'return' | 'discard'>> = { 5: 'settle', 6: 'return', 7: 'discard' };

function decodeCommand(data: Uint8Array, start: number, end: number, strings: EnqueueStrings): PartitionCommand {
  // A command that is exactly one enqueue or settlement field (the two per-message commands); anything
  // else (or a repeated oneof: the last wins, merged) goes the long way.
  const r = new WireReader(data, start, end);
  if (r.at < end) {
    const tag = r.tag();
    if ((tag & 7) === LEN) {
      const fieldEnd = r.length();
      if (fieldEnd === end) {
        if (tag === (3 << 3 | LEN)) return readEnqueue(r, data.subarray(r.at, end), strings);
        const kind = SETTLEMENT_FIELDS[tag >>> 3];
        if (kind !== undefined) return decodeSettlement(kind, r);
      }
    }
  }
  return fromPb(pb.PartitionCommand.decode(data.subarray(start, end)));
}

/**
 * A Settlement (the reader at its first byte, its end the reader's): one per batch of acks on every
 * replica. By hand because protobufjs makes a Long of every msg id; the same values as fromPb.
 */
function decodeSettlement(kind: 'settle' | 'return' | 'discard', r: WireReader): PartitionCommand {
  let queue = 0;
  let session = '';
  let consumer = '';
  const msgIds: number[] = [];
  let nowMs = 0;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | VARINT: queue = r.uint32(); break;
      case 2 << 3 | LEN: session = r.string(); break;
      case 3 << 3 | LEN: consumer = r.string(); break;
      case 4 << 3 | LEN: r.varints(msgIds); break;
      case 4 << 3 | VARINT: msgIds.push(r.varint()); break;
      case 5 << 3 | VARINT: nowMs = r.varint(); break;
      default: r.skip(tag);
    }
  }
  return { kind, queue, session, consumer, msgIds, nowMs };
}
