// Partition commands <-> the log entry bytes (proto/warren/v1/partition.proto PartitionBatch), and
// the stored message record. An enqueue travels as an embedded bytes field holding an encoded
// Enqueue, so the machine can store those exact bytes as the record (no re-encoding, no copy).
import { warren } from '../proto/partition.js';
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
  const p: warren.v1.Enqueue.$Properties = {
    queues: [...c.queues], exchange: c.exchange, routingKey: c.routingKey, header: c.header, body: c.body,
    session: c.session, seq: c.seq, nowMs: c.nowMs,
  };
  if (c.priority !== undefined) p.priority = c.priority;
  if (c.expirationMs !== undefined) p.expirationMs = c.expirationMs;
  return pb.Enqueue.encode(p).finish();
}

/** Decodes an encoded Enqueue (a log command or a stored record). Byte fields are views of `bytes`. */
export function decodeEnqueue(bytes: Uint8Array): EnqueueCmd {
  const e = pb.Enqueue.decode(bytes);
  return {
    kind: 'enqueue', queues: e.queues, exchange: e.exchange, routingKey: e.routingKey, header: e.header,
    body: e.body, session: e.session, seq: u64(e.seq), priority: e.priority ?? undefined,
    expirationMs: e.expirationMs === null || e.expirationMs === undefined ? undefined : u64(e.expirationMs),
    nowMs: u64(e.nowMs), record: bytes,
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

/** One Raft entry's data: the commands of one proposer turn. */
export function encodeBatch(commands: readonly PartitionCommand[]): Uint8Array {
  return pb.PartitionBatch.encode({ commands: commands.map(toPb) }).finish();
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
      const k = c.checkout 
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
      const d = c.down 
      return { kind: 'down', queue: num(d.queue), session: str(d.session), consumers: d.consumers ?? [], nowMs: u64(d.nowMs) };
    }
    case 'get': {
      const g = c.get 
      return {
        kind: 'get', queue: num(g.queue), session: str(g.session), consumer: str(g.consumer), noAck: bool(g.noAck),
        nowMs: u64(g.nowMs),
      };
    }
    case 'purge': return { kind: 'purge', queue: num(c.purge.queue), nowMs: u64(c.purge.nowMs) };
    case 'touch': return { kind: 'touch', queue: num(c.touch.queue), nowMs: u64(c.touch.nowMs) };
    case 'flow': {
      const f = c.flow 
      return {
        kind: 'flow', queue: num(f.queue), session: str(f.session), consumer: str(f.consumer), active: bool(f.active),
        nowMs: u64(f.nowMs),
      };
    }
    case 'tick': return { kind: 'tick', nowMs: u64(c.tick.nowMs) };
    case 'sessionDown': return { kind: 'sessionDown', session: str(c.sessionDown.session), nowMs: u64(c.sessionDown.nowMs) };
    case 'deadLettered': {
      const d = c.deadLettered 
      return { kind: 'deadLettered', queue: num(d.queue), msgIds: u64s(d.msgIds), nowMs: u64(d.nowMs) };
    }
    default: throw new Error(`partition: entry holds an unknown command (${String(c.cmd)})`);
  }
}

/** The commands of one entry. Throws on bytes that are not a PartitionBatch (a storage bug). */
export function decodeBatch(data: Uint8Array): PartitionCommand[] {
  return (pb.PartitionBatch.decode(data).commands ?? []).map(fromPb);
}
