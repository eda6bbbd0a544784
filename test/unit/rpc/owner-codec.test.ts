// The hand-written Owner codecs (src/rpc/owner-codec.ts) against protobufjs, the reference, for
// EnqueueBatch, EnqueueAck, ConsumeEvent and SettleBatch (fast-check):
//  - hand encoding writes the bytes protobufjs writes, and protobufjs decodes them to the input;
//  - what protobufjs writes, the hand decoder reads as protobufjs does (normalised: u64() numbers,
//    proto3 defaults, bytes as hex), also with unknown fields inserted at every level;
//  - corrupted (cut at every byte, an embedded length off by a few bytes, bytes changed anywhere),
//    both decoders fail, or both read the same message.
// Then the details the hand codecs exist for: bytes stay views, a repeated string is decoded and
// encoded once, and the decoded objects have every field set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { u64 } from '../../../src/partition/codec.js';
import { warren } from '../../../src/proto/owner.js';
import {
  decodeConsumeEvent, decodeEnqueueAck, decodeEnqueueBatch, decodeSettleBatch, encodeConsumeEvent, encodeEnqueueAck,
  encodeEnqueueBatch, encodeSettleBatch,
} from '../../../src/rpc/owner-codec.js';

const pb = warren.v1;
type Batch = warren.v1.EnqueueBatch.$Properties;
type Item = warren.v1.EnqueueItem.$Properties;
type Ack = warren.v1.EnqueueAck.$Properties;
type Event = warren.v1.ConsumeEvent.$Properties;
type Delivery = warren.v1.Delivery.$Properties;
type Settle = warren.v1.SettleBatch.$Properties;
type Settlement = warren.v1.Settlement.$Properties;

const RUNS = Number(process.env['OWNER_CODEC_RUNS'] ?? 200);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---- arbitraries ---------------------------------------------------------------------------------

const u64Arb = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 32, 2 ** 40 + 1, MAX_SAFE), fc.nat(100_000), fc.maxSafeNat());
const u32Arb = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1), fc.nat(1_000), fc.nat());
/** Enum values: the known ones, and any int32 (a newer peer's, or negative: ten bytes on the wire). */
const enumArb = fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const bytesArb = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 100, maxLength: 1500 }));
/** Strings: empty, ASCII, non-ASCII (2-, 3- and 4-byte UTF-8, U+FFFD itself), and over 127 bytes (a two-byte length). */
const textArb = fc.oneof(
  fc.constantFrom('', '/', 'q', 'amq.ctag-1', 'orders.eu', 'ключ', '队列', '🐇', '\uFFFD', 'é'.repeat(100)),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
/** A few strings per message, which items pick from: runs of equal values and changes, as in real batches. */
const poolArb = fc.array(textArb, { minLength: 1, maxLength: 3 });
const itemCount = { maxLength: 64, size: 'large' } as const;

const enqueueBatchArb: fc.Arbitrary<Batch> = poolArb.chain((pool) => {
  const s = fc.option(fc.constantFrom(...pool), { nil: null });
  const item: fc.Arbitrary<Item> = fc.record({
    vhost: s, queues: fc.array(fc.constantFrom(...pool), { maxLength: 3 }), exchange: s, routingKey: s,
    header: bytesArb, body: bytesArb, session: s, seq: u64Arb,
    priority: fc.option(u32Arb, { nil: null }), expirationMs: fc.option(u64Arb, { nil: null }),
  }, { requiredKeys: [] });
  return fc.record({ batchId: u64Arb, partition: u32Arb, items: fc.array(item, itemCount) }, { requiredKeys: [] });
});

const notLeaderArb = fc.record({ group: u32Arb, leaderId: textArb, leaderAddress: textArb, term: u64Arb }, { requiredKeys: [] });
const errorArb: fc.Arbitrary<warren.v1.Error.$Properties> = fc.oneof(
  fc.record({ amqp: fc.record({ replyCode: u32Arb, detail: textArb, classId: u32Arb, methodId: u32Arb }, { requiredKeys: [] }) }),
  fc.record({ notLeader: notLeaderArb }),
  fc.record({ unavailable: fc.record({ detail: textArb }, { requiredKeys: [] }) }),
);

const enqueueAckArb: fc.Arbitrary<Ack> = fc.record({
  batchId: u64Arb,
  error: fc.option(errorArb, { nil: null }),
  results: fc.array(fc.record({
    outcomes: fc.array(enumArb, { maxLength: 4 }), backlogged: fc.array(fc.boolean(), { maxLength: 4 }), duplicate: fc.boolean(),
  }, { requiredKeys: [] }), itemCount),
}, { requiredKeys: [] });

const deliveriesArb: fc.Arbitrary<Event> = poolArb.chain((pool) => {
  const s = fc.option(fc.constantFrom(...pool), { nil: null });
  const delivery: fc.Arbitrary<Delivery> = fc.record({
    consumer: s, queue: s, msgId: u64Arb, deliveryCount: u32Arb, redelivered: fc.boolean(), exchange: s, routingKey: s,
    header: bytesArb, body: bytesArb, term: u64Arb,
  }, { requiredKeys: [] });
  return fc.record({ deliveries: fc.record({ deliveries: fc.array(delivery, itemCount) }, { requiredKeys: [] }) });
});
const queueRefArb = fc.record({ vhost: textArb, name: textArb, partition: u32Arb }, { requiredKeys: [] });
/** Every kind of event, the empty one included (no oneof member set). */
const consumeEventArb: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: deliveriesArb, weight: 4 },
  fc.record({ done: fc.record({ requestId: u64Arb, error: fc.option(errorArb, { nil: null }) }, { requiredKeys: [] }) }),
  fc.record({ cancelled: fc.record({ queue: queueRefArb, consumer: textArb }, { requiredKeys: [] }) }),
  fc.record({ leaderLost: fc.record({ notLeader: notLeaderArb }, { requiredKeys: [] }) }),
  fc.constant({}),
);

const settleBatchArb: fc.Arbitrary<Settle> = poolArb.chain((pool) => {
  const s = fc.option(fc.constantFrom(...pool), { nil: null });
  const item: fc.Arbitrary<Settlement> = fc.record({
    vhost: s, queue: s, session: s, consumer: s, kind: enumArb, msgIds: fc.array(u64Arb, { maxLength: 20 }),
  }, { requiredKeys: [] });
  return fc.record({ batchId: u64Arb, partition: u32Arb, items: fc.array(item, itemCount) }, { requiredKeys: [] });
});

// ---- normal forms: what a caller reads, the same from either decoder and from the input ------------

const hex = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString('hex');
/** A 64-bit field; above 2^53 (only in corrupted input) the two decoders may round differently. */
const n64 = (v: unknown): number | 'unsafe' => {
  const n = u64(v);
  return Number.isSafeInteger(n) ? n : 'unsafe';
};
const errorForm = (e: warren.v1.Error.$Properties | null | undefined): string | null => (e == null ? null : hex(pb.Error.encode(e).finish()));

function batchForm(m: Batch): unknown {
  return {
    batchId: n64(m.batchId), partition: m.partition ?? 0,
    items: (m.items ?? []).map((i) => ({
      vhost: i.vhost ?? '', queues: [...i.queues ?? []], exchange: i.exchange ?? '', routingKey: i.routingKey ?? '',
      header: hex(i.header), body: hex(i.body), session: i.session ?? '', seq: n64(i.seq),
      priority: i.priority ?? null, expirationMs: i.expirationMs == null ? null : n64(i.expirationMs),
    })),
  };
}

function ackForm(m: Ack): unknown {
  return {
    batchId: n64(m.batchId), error: errorForm(m.error),
    results: (m.results ?? []).map((r) => ({
      outcomes: [...r.outcomes ?? []], backlogged: [...r.backlogged ?? []], duplicate: r.duplicate ?? false,
    })),
  };
}

function eventForm(m: Event): unknown {
  if (m.deliveries == null || m.done != null || m.cancelled != null || m.leaderLost != null) {
    return { other: hex(pb.ConsumeEvent.encode(m).finish()) };
  }
  return {
    deliveries: (m.deliveries.deliveries ?? []).map((d) => ({
      consumer: d.consumer ?? '', queue: d.queue ?? '', msgId: n64(d.msgId), deliveryCount: d.deliveryCount ?? 0,
      redelivered: d.redelivered ?? false, exchange: d.exchange ?? '', routingKey: d.routingKey ?? '',
      header: hex(d.header), body: hex(d.body), term: n64(d.term),
    })),
  };
}

function settleForm(m: Settle): unknown {
  return {
    batchId: n64(m.batchId), partition: m.partition ?? 0,
    items: (m.items ?? []).map((s) => ({
      vhost: s.vhost ?? '', queue: s.queue ?? '', session: s.session ?? '', consumer: s.consumer ?? '', kind: s.kind ?? 0,
      msgIds: (s.msgIds ?? []).map(n64),
    })),
  };
}

// ---- raw wire, to insert unknown fields ----------------------------------------------------------

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function readVarint(b: Uint8Array, at: { pos: number }): number {
  let v = 0;
  for (let scale = 1; ; scale *= 128) {
    const byte = b[at.pos++]!;
    v += (byte & 0x7f) * scale;
    if (byte < 0x80) return v;
  }
}

interface RawField { readonly key: number; readonly raw: Uint8Array; readonly payload?: Uint8Array }

/** The top-level fields of a message protobufjs wrote (no groups). */
function rawFields(b: Uint8Array): RawField[] {
  const out: RawField[] = [];
  const at = { pos: 0 };
  while (at.pos < b.length) {
    const start = at.pos;
    const key = readVarint(b, at);
    const wire = key & 7;
    if (wire === 2) {
      const len = readVarint(b, at);
      const payload = b.subarray(at.pos, at.pos + len);
      at.pos += len;
      out.push({ key, raw: b.subarray(start, at.pos), payload });
      continue;
    }
    if (wire === 0) readVarint(b, at);
    else at.pos += wire === 1 ? 8 : 4;
    out.push({ key, raw: b.subarray(start, at.pos) });
  }
  return out;
}

/** Which length-delimited fields hold embedded messages (to recurse into), by field number. */
interface Nesting { readonly [field: number]: Nesting }

const NESTING = {
  batch: { 3: {} },
  ack: { 2: { 1: {}, 2: {}, 3: {} }, 3: {} },
  event: { 1: { 2: {} }, 2: { 1: {} }, 3: { 1: {} }, 4: { 1: {} } },
  settle: { 3: {} },
} satisfies Record<string, Nesting>;

/** An unknown field (number 11 and up: unknown in every message here), of each wire type, groups included. */
const unknownFieldArb: fc.Arbitrary<Uint8Array> = fc.integer({ min: 11, max: 5_000 }).chain((field) => fc.oneof(
  u64Arb.map((v) => [...varint(field * 8), ...varint(v)]),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => [...varint(field * 8 + 1), ...b]),
  fc.uint8Array({ maxLength: 20 }).map((b) => [...varint(field * 8 + 2), ...varint(b.length), ...b]),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => [...varint(field * 8 + 5), ...b]),
  u64Arb.map((v) => [...varint(field * 8 + 3), ...varint(12 * 8), ...varint(v), ...varint(field * 8 + 4)]),
).map((bytes) => Uint8Array.from(bytes)));

const junkArb = fc.record({
  fields: fc.array(unknownFieldArb, { minLength: 1, maxLength: 5 }), where: fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
});

/** `msg` with unknown fields inserted before fields and at the end, in embedded messages too (`where` says at which gaps). */
function withUnknowns(msg: Uint8Array, nesting: Nesting, junk: { fields: readonly Uint8Array[]; where: readonly boolean[] }): Uint8Array {
  let gap = 0;
  const insert = (parts: Uint8Array[]): void => {
    if (junk.where[gap % junk.where.length]) parts.push(junk.fields[gap % junk.fields.length]!);
    gap++;
  };
  const walk = (b: Uint8Array, n: Nesting): Uint8Array => {
    const parts: Uint8Array[] = [];
    for (const f of rawFields(b)) {
      insert(parts);
      const inner = f.payload === undefined ? undefined : n[Math.floor(f.key / 8)];
      if (inner === undefined) parts.push(f.raw);
      else {
        const payload = walk(f.payload!, inner);
        parts.push(Uint8Array.from([...varint(f.key), ...varint(payload.length)]), payload);
      }
    }
    insert(parts);
    return Buffer.concat(parts);
  };
  return walk(msg, nesting);
}

// ---- the properties, per message -----------------------------------------------------------------

interface MessageCase<M> {
  readonly name: string;
  readonly arb: fc.Arbitrary<M>;
  readonly hand: { encode(m: M): Uint8Array; decode(b: Uint8Array): M };
  readonly pb: { encode(m: M): { finish(): Uint8Array }; decode(b: Uint8Array): M };
  readonly form: (m: M) => unknown;
  readonly nesting: Nesting;
}

function properties<M>(c: MessageCase<M>): void {
  test(`${c.name}: hand encoding writes protobufjs's bytes, which protobufjs decodes to the input`, () => {
    fc.assert(fc.property(c.arb, (m) => {
      const mine = c.hand.encode(m);
      assert.deepEqual(Buffer.from(mine), Buffer.from(c.pb.encode(m).finish()));
      assert.deepEqual(c.form(c.pb.decode(mine)), c.form(m));
    }), { numRuns: RUNS });
  });

  test(`${c.name}: what protobufjs writes, with unknown fields anywhere, decodes by hand as protobufjs decodes it`, () => {
    fc.assert(fc.property(c.arb, junkArb, (m, junk) => {
      const theirs = c.pb.encode(m).finish();
      assert.deepEqual(c.form(c.hand.decode(theirs)), c.form(c.pb.decode(theirs)));
      const noisy = withUnknowns(theirs, c.nesting, junk);
      assert.deepEqual(c.form(c.hand.decode(noisy)), c.form(c.pb.decode(noisy)));
      assert.deepEqual(c.form(c.hand.decode(noisy)), c.form(m));
    }), { numRuns: RUNS });
  });

  const outcome = (decode: () => M): unknown => {
    try {
      return c.form(decode());
    } catch {
      return 'throws';
    }
  };
  const agree = (wire: Uint8Array, what: string): void => {
    assert.deepEqual(outcome(() => c.hand.decode(wire)), outcome(() => c.pb.decode(wire)), what);
  };

  test(`${c.name}: cut at any byte, both decoders fail or both read the same shorter message`, () => {
    fc.assert(fc.property(c.arb, (m) => {
      const wire = c.pb.encode(m).finish();
      for (let n = 0; n < Math.min(wire.length, 400); n++) agree(wire.subarray(0, n), `cut at ${n}`);
    }), { numRuns: 40 });
  });

  test(`${c.name}: a few bytes changed anywhere: both decoders fail or agree`, () => {
    const edits = fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { minLength: 1, maxLength: 3 });
    fc.assert(fc.property(c.arb, edits, (m, changes) => {
      const wire = Buffer.from(c.pb.encode(m).finish());
      if (wire.length === 0) return;
      for (const { at, value } of changes) wire[at % wire.length] = value;
      agree(wire, 'changed');
    }), { numRuns: RUNS * 5 });
  });

  test(`${c.name}: an embedded message's length off by a few bytes: both decoders fail or agree`, () => {
    fc.assert(fc.property(c.arb, (m) => {
      const fields = rawFields(c.pb.encode(m).finish());
      const raw = (from: number, to?: number): Uint8Array[] => fields.slice(from, to).map((x) => x.raw);
      fields.forEach((f, i) => {
        if (f.payload === undefined || c.nesting[Math.floor(f.key / 8)] === undefined) return;
        for (const delta of [-3, -2, -1, 1, 2, 3]) {
          if (f.payload.length + delta < 0) continue;
          const wrong = Uint8Array.from([...varint(f.key), ...varint(f.payload.length + delta)]);
          agree(Buffer.concat([...raw(0, i), wrong, f.payload, ...raw(i + 1)]), `field ${i}, length ${delta}`);
        }
      });
    }), { numRuns: 40 });
  });
}

properties<Batch>({
  name: 'EnqueueBatch', arb: enqueueBatchArb, hand: { encode: encodeEnqueueBatch, decode: decodeEnqueueBatch },
  pb: pb.EnqueueBatch, form: batchForm, nesting: NESTING.batch,
});
properties<Ack>({
  name: 'EnqueueAck', arb: enqueueAckArb, hand: { encode: encodeEnqueueAck, decode: decodeEnqueueAck },
  pb: pb.EnqueueAck, form: ackForm, nesting: NESTING.ack,
});
properties<Event>({
  name: 'ConsumeEvent', arb: consumeEventArb, hand: { encode: encodeConsumeEvent, decode: decodeConsumeEvent },
  pb: pb.ConsumeEvent, form: eventForm, nesting: NESTING.event,
});
properties<Settle>({
  name: 'SettleBatch', arb: settleBatchArb, hand: { encode: encodeSettleBatch, decode: decodeSettleBatch },
  pb: pb.SettleBatch, form: settleForm, nesting: NESTING.settle,
});

// ---- what the hand codecs are for ------------------------------------------------------------------

/** Calls of obj[key] while `run` runs. */
function counting<T extends object>(obj: T, key: keyof T & string, run: () => void): number {
  const original = obj[key] as (...args: unknown[]) => unknown;
  let calls = 0;
  (obj as Record<string, unknown>)[key] = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    run();
  } finally {
    (obj as Record<string, unknown>)[key] = original;
  }
  return calls;
}

const body = Buffer.alloc(1024, 7);
const sameItems: Item[] = Array.from({ length: 64 }, (_, i) => ({
  vhost: '/', queues: ['очередь'], exchange: 'amq.direct', routingKey: 'orders.eu', header: Uint8Array.of(0, 60, 0, 0), body,
  session: '4294967297', seq: i + 1,
}));
const sameDeliveries: Delivery[] = Array.from({ length: 64 }, (_, i) => ({
  consumer: 'amq.ctag-1', queue: 'очередь', msgId: i + 1, redelivered: false, exchange: 'amq.direct', routingKey: 'orders.eu',
  header: Uint8Array.of(0, 60, 0, 0), body, term: 3,
}));

test('a string repeated across items is measured, encoded and decoded once per message', () => {
  const batch = { batchId: 1, partition: 2, items: sameItems };
  assert.equal(counting(Buffer, 'byteLength', () => encodeEnqueueBatch(batch)), 5);
  assert.equal(counting(Buffer.prototype, 'write', () => encodeEnqueueBatch(batch)), 5);
  const wire = encodeEnqueueBatch(batch);
  assert.equal(counting(Buffer.prototype, 'toString', () => decodeEnqueueBatch(wire)), 5);

  const event = { deliveries: { deliveries: sameDeliveries } };
  assert.equal(counting(Buffer.prototype, 'write', () => encodeConsumeEvent(event)), 4);
  const ev = encodeConsumeEvent(event);
  assert.equal(counting(Buffer.prototype, 'toString', () => decodeConsumeEvent(ev)), 4);
  // A change of value is noticed: alternating queues decode as they were sent.
  const alternating = sameItems.map((it, i) => ({ ...it, queues: [i % 2 === 0 ? 'a' : 'b'] }));
  assert.deepEqual(decodeEnqueueBatch(encodeEnqueueBatch({ items: alternating })).items.map((it) => it.queues?.[0]),
    alternating.map((it) => it.queues[0]));
});

test('header and body are views of the received bytes, not copies', () => {
  const wire = Buffer.from(encodeEnqueueBatch({ items: sameItems.slice(0, 2) }));
  const item = decodeEnqueueBatch(wire).items[1]!;
  assert.equal(item.body!.buffer, wire.buffer);
  assert.equal(item.header!.buffer, wire.buffer);
  const ev = Buffer.from(encodeConsumeEvent({ deliveries: { deliveries: sameDeliveries.slice(0, 1) } }));
  assert.equal(decodeConsumeEvent(ev).deliveries!.deliveries![0]!.body!.buffer, ev.buffer);
});

test('decoded messages have every field, proto3 defaults when absent, 64-bit fields as numbers', () => {
  const batch = decodeEnqueueBatch(encodeEnqueueBatch({ items: [{}, { priority: 0, expirationMs: 0, seq: MAX_SAFE }] }));
  const empty = { vhost: '', queues: [], exchange: '', routingKey: '', header: Buffer.alloc(0), body: Buffer.alloc(0), session: '' };
  assert.deepEqual(batch, {
    batchId: 0, partition: 0,
    items: [{ ...empty, seq: 0, priority: null, expirationMs: null }, { ...empty, seq: MAX_SAFE, priority: 0, expirationMs: 0 }],
  });
  assert.deepEqual(decodeEnqueueAck(encodeEnqueueAck({ batchId: 4, results: [{}] })), {
    batchId: 4, error: null, results: [{ outcomes: [], backlogged: [], duplicate: false }],
  });
  const ev = decodeConsumeEvent(encodeConsumeEvent({ deliveries: { deliveries: [{ msgId: 2 ** 40 }] } }));
  assert.equal(ev.kind, 'deliveries');
  assert.equal(ev.done ?? undefined, undefined, 'no Done: owner-link matches answers by done.requestId');
  assert.deepEqual(ev.deliveries?.deliveries, [{
    consumer: '', queue: '', msgId: 2 ** 40, deliveryCount: 0, redelivered: false, exchange: '', routingKey: '',
    header: Buffer.alloc(0), body: Buffer.alloc(0), term: 0,
  }]);
  assert.deepEqual(decodeSettleBatch(encodeSettleBatch({ batchId: 9, items: [{ kind: 1, msgIds: [MAX_SAFE] }] })), {
    batchId: 9, partition: 0, items: [{ vhost: '', queue: '', session: '', consumer: '', kind: 1, msgIds: [MAX_SAFE] }],
  });
});

test('ConsumeEvent: done, cancelled and leader_lost go through protobufjs both ways', () => {
  const events: Event[] = [
    { done: { requestId: 2 ** 40, error: { amqp: { replyCode: 403, detail: 'exclusive' } } } },
    { cancelled: { queue: { vhost: '/', name: 'q' }, consumer: 'c' } },
    { leaderLost: { notLeader: { group: 3, leaderId: 'o1', leaderAddress: 'o1:7000', term: 9 } } },
  ];
  for (const ev of events) {
    const wire = encodeConsumeEvent(ev);
    assert.deepEqual(Buffer.from(wire), Buffer.from(pb.ConsumeEvent.encode(ev).finish()));
    const back = decodeConsumeEvent(wire);
    assert.ok(back instanceof pb.ConsumeEvent);
    assert.equal(back.kind, Object.keys(ev)[0]);
  }
  // Deliveries, then another member: the last one on the wire wins, as in protobufjs.
  const both = Buffer.concat([encodeConsumeEvent({ deliveries: { deliveries: [{ msgId: 1 }] } }), encodeConsumeEvent(events[0]!)]);
  assert.equal(decodeConsumeEvent(both).kind, 'done');
  assert.equal(u64(decodeConsumeEvent(both).done?.requestId), 2 ** 40);
});

test('a known field number with another wire type is skipped, as protobufjs skips it', () => {
  // batch_id as fixed32, partition as a length-delimited field, then the real ones.
  const wire = Uint8Array.from([0x0d, 1, 2, 3, 4, 0x12, 2, 0x61, 0x62, 0x08, 0x05, 0x10, 0x07]);
  assert.deepEqual(batchForm(decodeEnqueueBatch(wire)), batchForm(pb.EnqueueBatch.decode(wire)));
  assert.deepEqual(batchForm(decodeEnqueueBatch(wire)), { batchId: 5, partition: 7, items: [] });
  // A delivery's msg_id as fixed64 is not a msg_id.
  const fixed = Uint8Array.from([0x12, 11, 0x0a, 9, 0x19, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(eventForm(decodeConsumeEvent(fixed)), eventForm(pb.ConsumeEvent.decode(fixed)));
  assert.equal(u64(decodeConsumeEvent(fixed).deliveries?.deliveries?.[0]?.msgId), 0);
});

test('a string field that is not UTF-8 is refused, as protobufjs refuses it', () => {
  const wire = Uint8Array.from([0x1a, 3, 0x0a, 1, 0xff]); // items[0].vhost = 0xff
  assert.throws(() => pb.EnqueueBatch.decode(wire));
  assert.throws(() => decodeEnqueueBatch(wire), RangeError);
  const fffd = Uint8Array.from([0x1a, 5, 0x0a, 3, 0xef, 0xbf, 0xbd]); // U+FFFD, spelt correctly
  assert.equal(decodeEnqueueBatch(fffd).items[0]?.vhost, '\uFFFD');
});

test('an embedded message seen twice is merged, as protobufjs merges it', () => {
  const twice = Buffer.concat([
    encodeEnqueueAck({ batchId: 1, error: { amqp: { replyCode: 406 } } }),
    encodeEnqueueAck({ error: { amqp: { detail: 'inequivalent arg' } }, results: [{ outcomes: [1] }] }),
  ]);
  assert.deepEqual(ackForm(decodeEnqueueAck(twice)), ackForm(pb.EnqueueAck.decode(twice)));
  assert.deepEqual({ ...decodeEnqueueAck(twice).error?.amqp }, { replyCode: 406, detail: 'inequivalent arg' });
  // Regression (found by the length property): each occurrence must decode on its own. Here the first
  // error's Unavailable claims 2 bytes and holds 1; concatenated with the second error it would parse.
  const broken = Uint8Array.from([0x12, 3, 0x1a, 2, 0x0a, 0x12, 1, 0x00]);
  assert.throws(() => pb.EnqueueAck.decode(broken));
  assert.throws(() => decodeEnqueueAck(broken));
  const deliveries = Buffer.concat([
    encodeConsumeEvent({ deliveries: { deliveries: [{ msgId: 1 }] } }), encodeConsumeEvent({ deliveries: { deliveries: [{ msgId: 2 }] } }),
  ]);
  assert.deepEqual(eventForm(decodeConsumeEvent(deliveries)), eventForm(pb.ConsumeEvent.decode(deliveries)));
  assert.deepEqual(decodeConsumeEvent(deliveries).deliveries?.deliveries?.map((d) => d.msgId), [1, 2]);
});

test('a 32-bit field sent as a wider varint reads as its low 32 bits, as protobufjs reads it', () => {
  const wide = [0x87, 0x80, 0x80, 0x80, 0x10]; // 7 + 2^32 (a uint32 field written as 64-bit)
  const batch = Uint8Array.from([0x10, ...wide]);
  assert.equal(decodeEnqueueBatch(batch).partition, pb.EnqueueBatch.decode(batch).partition);
  assert.equal(decodeEnqueueBatch(batch).partition, 7);
  const event = Uint8Array.from([0x12, 8, 0x0a, 6, 0x20, ...wide]);
  assert.equal(decodeConsumeEvent(event).deliveries?.deliveries?.[0]?.deliveryCount, 7);
  assert.equal(pb.ConsumeEvent.decode(event).deliveries?.deliveries?.[0]?.deliveryCount, 7);
});
