// Hand-written codecs for the Owner service's per-message traffic (proto/warren/v1/owner.proto):
// EnqueueBatch, EnqueueAck, ConsumeEvent carrying deliveries, SettleBatch. Every published message
// crosses the first two, every delivery the third, every ack the fourth. With protobufjs, their
// per-item strings, uint64 fields (Long objects on decode, LongBits on encode) and per-item objects
// were a visible share of the cluster's CPU and garbage: encode and decode ≈ 6% of a partition
// leader's main thread, and Delivery decoding (a UTF-8 string per field per delivery, Longs) the
// largest allocation site of a consumer's frontend.
//
// The bytes are those protobufjs writes, and anything protobufjs writes decodes here the same way
// (test/unit/rpc/owner-codec.test.ts checks both directions): the generated code stays the reference,
// and what is rare goes through it (the Error envelope; ConsumeEvent's done, cancelled, leader_lost).
// Decoding differs only where it saves work: uint64 fields are numbers (exact below 2^53, read through
// u64() like Longs), messages are plain objects with every field set (proto3 defaults when absent),
// a string repeated across items is decoded once (LastString), and bytes are views of the input.
import { warren } from '../proto/owner.js';
import {
  bytesSize, EMPTY_BYTES, enumSize, fieldSize, has, int32Size, LastString, LEN, type Maybe, putBytes, putEnum, putU32, putU64,
  StringRun, u32Size, u64Size, varintSize, VARINT, WireReader, WireWriter,
} from '../util/protowire.js';

const pb = warren.v1;
type Batch = warren.v1.EnqueueBatch.$Properties;
type Item = warren.v1.EnqueueItem.$Properties;
type Ack = warren.v1.EnqueueAck.$Properties;
type Result = warren.v1.EnqueueResult.$Properties;
type Event = warren.v1.ConsumeEvent.$Properties;
type Delivery = warren.v1.Delivery.$Properties;
type Settle = warren.v1.SettleBatch.$Properties;
type Settlement = warren.v1.Settlement.$Properties;

// The decoded types are those of the generated decoders, so callers see no difference.
type DecodedBatch = ReturnType<typeof pb.EnqueueBatch.decode>;
type DecodedItem = warren.v1.EnqueueItem;
type DecodedAck = ReturnType<typeof pb.EnqueueAck.decode>;
type DecodedResult = warren.v1.EnqueueResult;
type DecodedEvent = ReturnType<typeof pb.ConsumeEvent.decode>;
type DecodedDelivery = warren.v1.Delivery;
type DecodedSettle = ReturnType<typeof pb.SettleBatch.decode>;
type DecodedSettlement = warren.v1.Settlement;

function putString(w: WireWriter, field: number, run: StringRun, s: Maybe<string>): void {
  if (has(s)) run.write(w.tag(field, LEN), s);
}

// ---- EnqueueBatch and SettleBatch share their envelope: batch_id = 1, partition = 2, items = 3 -----

interface ItemBatch<I> {
  batchId?: Maybe<number>;
  partition?: Maybe<number>;
  items?: Maybe<I[]>;
}

/** An envelope of items, each sized first (with the strings it shares with the others), then written. */
function encodeItemBatch<I, S>(
  m: ItemBatch<I>, strings: S, sizeOf: (item: I, strings: S) => number, write: (w: WireWriter, item: I, strings: S) => void,
): Uint8Array {
  const items = m.items ?? [];
  const sizes = new Array<number>(items.length);
  let size = u64Size(m.batchId) + u32Size(m.partition);
  for (let i = 0; i < items.length; i++) {
    sizes[i] = sizeOf(items[i]!, strings);
    size += fieldSize(sizes[i]!);
  }
  const w = new WireWriter(size);
  putU64(w, 1, m.batchId);
  putU32(w, 2, m.partition);
  for (let i = 0; i < items.length; i++) write(w.tag(3, LEN).varint(sizes[i]!), items[i]!, strings);
  return w.done();
}

function decodeItemBatch<D, T>(
  buf: Uint8Array, texts: T, read: (r: WireReader, texts: T) => D,
): { batchId: number; partition: number; items: D[] } {
  const r = new WireReader(buf, 0, buf.length);
  let batchId = 0;
  let partition = 0;
  const items: D[] = [];
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | VARINT: batchId = r.varint(); break;
      case 2 << 3 | VARINT: partition = r.uint32(); break;
      case 3 << 3 | LEN: {
        const outer = r.enter();
        items.push(read(r, texts));
        r.leave(outer);
        break;
      }
      default: r.skip(tag);
    }
  }
  return { batchId, partition, items };
}

// ---- EnqueueBatch (frontend → owner) -------------------------------------------------------------

class ItemStrings {
  readonly vhost = new StringRun();
  readonly queue = new StringRun();
  readonly exchange = new StringRun();
  readonly routingKey = new StringRun();
  readonly session = new StringRun();
}

function itemSize(m: Item, s: ItemStrings): number {
  let n = u64Size(m.seq) + bytesSize(m.header) + bytesSize(m.body);
  if (has(m.vhost)) n += 1 + s.vhost.measure(m.vhost);
  for (const q of m.queues ?? []) n += 1 + s.queue.measure(q);
  if (has(m.exchange)) n += 1 + s.exchange.measure(m.exchange);
  if (has(m.routingKey)) n += 1 + s.routingKey.measure(m.routingKey);
  if (has(m.session)) n += 1 + s.session.measure(m.session);
  if (m.priority != null) n += 1 + varintSize(m.priority >>> 0);
  if (m.expirationMs != null) n += 1 + varintSize(m.expirationMs);
  return n;
}

function writeItem(w: WireWriter, m: Item, s: ItemStrings): void {
  putString(w, 1, s.vhost, m.vhost);
  for (const q of m.queues ?? []) s.queue.write(w.tag(2, LEN), q);
  putString(w, 3, s.exchange, m.exchange);
  putString(w, 4, s.routingKey, m.routingKey);
  putBytes(w, 5, m.header);
  putBytes(w, 6, m.body);
  putString(w, 7, s.session, m.session);
  putU64(w, 8, m.seq);
  // proto3 `optional`: present even when 0.
  if (m.priority != null) w.tag(9, VARINT).varint(m.priority >>> 0);
  if (m.expirationMs != null) w.tag(10, VARINT).varint(m.expirationMs);
}

export function encodeEnqueueBatch(m: Batch): Uint8Array {
  return encodeItemBatch(m, new ItemStrings(), itemSize, writeItem);
}

class ItemTexts {
  readonly vhost = new LastString();
  readonly queue = new LastString();
  readonly exchange = new LastString();
  readonly routingKey = new LastString();
  readonly session = new LastString();
}

function readItem(r: WireReader, t: ItemTexts): DecodedItem {
  let vhost = '';
  const queues: string[] = [];
  let exchange = '';
  let routingKey = '';
  let header = EMPTY_BYTES;
  let body = EMPTY_BYTES;
  let session = '';
  let seq = 0;
  let priority: number | null = null;
  let expirationMs: number | null = null;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | LEN: vhost = r.text(t.vhost); break;
      case 2 << 3 | LEN: queues.push(r.text(t.queue)); break;
      case 3 << 3 | LEN: exchange = r.text(t.exchange); break;
      case 4 << 3 | LEN: routingKey = r.text(t.routingKey); break;
      case 5 << 3 | LEN: header = r.bytes(); break;
      case 6 << 3 | LEN: body = r.bytes(); break;
      case 7 << 3 | LEN: session = r.text(t.session); break;
      case 8 << 3 | VARINT: seq = r.varint(); break;
      case 9 << 3 | VARINT: priority = r.uint32(); break;
      case 10 << 3 | VARINT: expirationMs = r.varint(); break;
      default: r.skip(tag);
    }
  }
  return { vhost, queues, exchange, routingKey, header, body, session, seq, priority, expirationMs };
}

export function decodeEnqueueBatch(buf: Uint8Array): DecodedBatch {
  return decodeItemBatch(buf, new ItemTexts(), readItem);
}

// ---- EnqueueAck (owner → frontend) ---------------------------------------------------------------

/** Bytes of a packed array of enum values, without tag and length. */
function enumsSize(values: readonly number[]): number {
  let n = 0;
  for (const v of values) n += int32Size(v);
  return n;
}

function resultSize(m: Result): number {
  const outcomes = m.outcomes ?? [];
  const backlogged = m.backlogged ?? [];
  return (outcomes.length > 0 ? fieldSize(enumsSize(outcomes)) : 0) + (backlogged.length > 0 ? fieldSize(backlogged.length) : 0)
    + (m.duplicate === true ? 2 : 0);
}

function writeResult(w: WireWriter, m: Result): void {
  const outcomes = m.outcomes ?? [];
  const backlogged = m.backlogged ?? [];
  if (outcomes.length > 0) {
    w.tag(1, LEN).varint(enumsSize(outcomes));
    for (const v of outcomes) w.int32(v);
  }
  if (backlogged.length > 0) {
    w.tag(2, LEN).varint(backlogged.length);
    for (const b of backlogged) w.varint(b ? 1 : 0);
  }
  if (m.duplicate === true) w.tag(3, VARINT).varint(1);
}

export function encodeEnqueueAck(m: Ack): Uint8Array {
  const results = m.results ?? [];
  // The error envelope is rare (a refused batch): protobufjs writes it.
  const error = m.error == null ? undefined : pb.Error.encode(m.error).finish();
  let size = u64Size(m.batchId) + (error === undefined ? 0 : fieldSize(error.length));
  for (const res of results) size += fieldSize(resultSize(res));
  const w = new WireWriter(size);
  putU64(w, 1, m.batchId);
  if (error !== undefined) w.tag(2, LEN).bytes(error);
  for (const res of results) writeResult(w.tag(3, LEN).varint(resultSize(res)), res);
  return w.done();
}

function readResult(r: WireReader): DecodedResult {
  const outcomes: number[] = [];
  const backlogged: boolean[] = [];
  let duplicate = false;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | LEN: {
        const outer = r.enter();
        while (r.at < r.end) outcomes.push(r.int32());
        r.leave(outer);
        break;
      }
      case 1 << 3 | VARINT: outcomes.push(r.int32()); break;
      case 2 << 3 | LEN: {
        const outer = r.enter();
        while (r.at < r.end) backlogged.push(r.bool());
        r.leave(outer);
        break;
      }
      case 2 << 3 | VARINT: backlogged.push(r.bool()); break;
      case 3 << 3 | VARINT: duplicate = r.bool(); break;
      default: r.skip(tag);
    }
  }
  return { outcomes, backlogged, duplicate };
}

export function decodeEnqueueAck(buf: Uint8Array): DecodedAck {
  const r = new WireReader(buf, 0, buf.length);
  let batchId = 0;
  let error: DecodedAck['error'] = null;
  let errorBytes: Uint8Array | undefined;
  const results: DecodedResult[] = [];
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | VARINT: batchId = r.varint(); break;
      case 2 << 3 | LEN: {
        // Each occurrence must decode on its own; a second one is merged into the first, which is
        // what decoding the two concatenated does.
        const part = r.bytes();
        error = pb.Error.decode(part);
        if (errorBytes !== undefined) {
          errorBytes = Buffer.concat([errorBytes, part]);
          error = pb.Error.decode(errorBytes);
        } else errorBytes = part;
        break;
      }
      case 3 << 3 | LEN: {
        const outer = r.enter();
        results.push(readResult(r));
        r.leave(outer);
        break;
      }
      default: r.skip(tag);
    }
  }
  return { batchId, error, results };
}

// ---- ConsumeEvent (owner → frontend) -------------------------------------------------------------

class DeliveryStrings {
  readonly consumer = new StringRun();
  readonly queue = new StringRun();
  readonly exchange = new StringRun();
  readonly routingKey = new StringRun();
}

function deliverySize(m: Delivery, s: DeliveryStrings): number {
  let n = u64Size(m.msgId) + u32Size(m.deliveryCount) + (m.redelivered === true ? 2 : 0)
    + bytesSize(m.header) + bytesSize(m.body) + u64Size(m.term);
  if (has(m.consumer)) n += 1 + s.consumer.measure(m.consumer);
  if (has(m.queue)) n += 1 + s.queue.measure(m.queue);
  if (has(m.exchange)) n += 1 + s.exchange.measure(m.exchange);
  if (has(m.routingKey)) n += 1 + s.routingKey.measure(m.routingKey);
  return n;
}

function writeDelivery(w: WireWriter, m: Delivery, s: DeliveryStrings): void {
  putString(w, 1, s.consumer, m.consumer);
  putString(w, 2, s.queue, m.queue);
  putU64(w, 3, m.msgId);
  putU32(w, 4, m.deliveryCount);
  if (m.redelivered === true) w.tag(5, VARINT).varint(1);
  putString(w, 6, s.exchange, m.exchange);
  putString(w, 7, s.routingKey, m.routingKey);
  putBytes(w, 8, m.header);
  putBytes(w, 9, m.body);
  putU64(w, 10, m.term);
}

/** Deliveries by hand; the other kinds of event (one per consumer change) through protobufjs. */
export function encodeConsumeEvent(m: Event): Uint8Array {
  if (m.deliveries == null || m.done != null || m.cancelled != null || m.leaderLost != null) return pb.ConsumeEvent.encode(m).finish();
  const deliveries = m.deliveries.deliveries ?? [];
  const strings = new DeliveryStrings();
  const sizes = new Array<number>(deliveries.length);
  let inner = 0;
  for (let i = 0; i < deliveries.length; i++) {
    sizes[i] = deliverySize(deliveries[i]!, strings);
    inner += fieldSize(sizes[i]!);
  }
  const w = new WireWriter(fieldSize(inner));
  w.tag(2, LEN).varint(inner);
  for (let i = 0; i < deliveries.length; i++) writeDelivery(w.tag(1, LEN).varint(sizes[i]!), deliveries[i]!, strings);
  return w.done();
}

class DeliveryTexts {
  readonly consumer = new LastString();
  readonly queue = new LastString();
  readonly exchange = new LastString();
  readonly routingKey = new LastString();
}

function readDelivery(r: WireReader, t: DeliveryTexts): DecodedDelivery {
  let consumer = '';
  let queue = '';
  let msgId = 0;
  let deliveryCount = 0;
  let redelivered = false;
  let exchange = '';
  let routingKey = '';
  let header = EMPTY_BYTES;
  let body = EMPTY_BYTES;
  let term = 0;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | LEN: consumer = r.text(t.consumer); break;
      case 2 << 3 | LEN: queue = r.text(t.queue); break;
      case 3 << 3 | VARINT: msgId = r.varint(); break;
      case 4 << 3 | VARINT: deliveryCount = r.uint32(); break;
      case 5 << 3 | VARINT: redelivered = r.bool(); break;
      case 6 << 3 | LEN: exchange = r.text(t.exchange); break;
      case 7 << 3 | LEN: routingKey = r.text(t.routingKey); break;
      case 8 << 3 | LEN: header = r.bytes(); break;
      case 9 << 3 | LEN: body = r.bytes(); break;
      case 10 << 3 | VARINT: term = r.varint(); break;
      default: r.skip(tag);
    }
  }
  return { consumer, queue, msgId, deliveryCount, redelivered, exchange, routingKey, header, body, term };
}

/** Appends the deliveries of an encoded Deliveries message (the reader limited to it). */
function readDeliveries(r: WireReader, t: DeliveryTexts, out: DecodedDelivery[]): void {
  while (r.at < r.end) {
    const tag = r.tag();
    if (tag !== (1 << 3 | LEN)) {
      r.skip(tag);
      continue;
    }
    const outer = r.enter();
    out.push(readDelivery(r, t));
    r.leave(outer);
  }
}

/**
 * Deliveries by hand. An event holding another oneof member (done, cancelled, leader_lost: the last
 * one on the wire wins), or none, is decoded by protobufjs.
 */
export function decodeConsumeEvent(buf: Uint8Array): DecodedEvent {
  const r = new WireReader(buf, 0, buf.length);
  const texts = new DeliveryTexts();
  let deliveries: DecodedDelivery[] | undefined;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 2 << 3 | LEN: {
        // Seen twice, the embedded Deliveries are merged: their repeated fields concatenate.
        deliveries ??= [];
        const outer = r.enter();
        readDeliveries(r, texts, deliveries);
        r.leave(outer);
        break;
      }
      case 1 << 3 | LEN: case 3 << 3 | LEN: case 4 << 3 | LEN: return pb.ConsumeEvent.decode(buf);
      default: r.skip(tag);
    }
  }
  return deliveries === undefined ? pb.ConsumeEvent.decode(buf) : { kind: 'deliveries', deliveries: { deliveries } };
}

// ---- SettleBatch (frontend → owner) --------------------------------------------------------------

class SettlementStrings {
  readonly vhost = new StringRun();
  readonly queue = new StringRun();
  readonly session = new StringRun();
  readonly consumer = new StringRun();
}

function msgIdsSize(ids: readonly number[]): number {
  let n = 0;
  for (const id of ids) n += varintSize(id);
  return n;
}

function settlementSize(m: Settlement, s: SettlementStrings): number {
  const ids = m.msgIds ?? [];
  let n = enumSize(m.kind) + (ids.length > 0 ? fieldSize(msgIdsSize(ids)) : 0);
  if (has(m.vhost)) n += 1 + s.vhost.measure(m.vhost);
  if (has(m.queue)) n += 1 + s.queue.measure(m.queue);
  if (has(m.session)) n += 1 + s.session.measure(m.session);
  if (has(m.consumer)) n += 1 + s.consumer.measure(m.consumer);
  return n;
}

function writeSettlement(w: WireWriter, m: Settlement, s: SettlementStrings): void {
  const ids = m.msgIds ?? [];
  putString(w, 1, s.vhost, m.vhost);
  putString(w, 2, s.queue, m.queue);
  putString(w, 3, s.session, m.session);
  putString(w, 4, s.consumer, m.consumer);
  putEnum(w, 5, m.kind);
  if (ids.length > 0) {
    w.tag(6, LEN).varint(msgIdsSize(ids));
    for (const id of ids) w.varint(id);
  }
}

export function encodeSettleBatch(m: Settle): Uint8Array {
  return encodeItemBatch(m, new SettlementStrings(), settlementSize, writeSettlement);
}

class SettlementTexts {
  readonly vhost = new LastString();
  readonly queue = new LastString();
  readonly session = new LastString();
  readonly consumer = new LastString();
}

function readSettlement(r: WireReader, t: SettlementTexts): DecodedSettlement {
  let vhost = '';
  let queue = '';
  let session = '';
  let consumer = '';
  let kind = 0;
  const msgIds: number[] = [];
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | LEN: vhost = r.text(t.vhost); break;
      case 2 << 3 | LEN: queue = r.text(t.queue); break;
      case 3 << 3 | LEN: session = r.text(t.session); break;
      case 4 << 3 | LEN: consumer = r.text(t.consumer); break;
      case 5 << 3 | VARINT: kind = r.int32(); break;
      case 6 << 3 | LEN: r.varints(msgIds); break;
      case 6 << 3 | VARINT: msgIds.push(r.varint()); break;
      default: r.skip(tag);
    }
  }
  return { vhost, queue, session, consumer, kind, msgIds };
}

export function decodeSettleBatch(buf: Uint8Array): DecodedSettle {
  return decodeItemBatch(buf, new SettlementTexts(), readSettlement);
}
