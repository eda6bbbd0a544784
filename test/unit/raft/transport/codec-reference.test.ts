// The hand-coded RaftBatch codec (src/raft/transport/codec.ts) and RaftEntry codec
// (src/raft/storage/codec.ts) against protobufjs, the reference (fast-check):
//  - hand encoding writes the bytes protobufjs writes for the same batch;
//  - the hand decoder reads those bytes back to the input, and reads what protobufjs writes as the
//    generated decoder does, unknown fields included;
//  - cut or changed anywhere, both decoders fail or both read the same batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { warren } from '../../../../src/proto/raft.js';
import type { Entry, EntryType, Message, MessageType } from '../../../../src/raft/core/types.js';
import { decodeEntry, encodeEntry, snapMetaFromPb, snapMetaToPb, toNum } from '../../../../src/raft/storage/codec.js';
import type { Batch } from '../../../../src/raft/transport/codec.js';
import { decodeBatch, encodeBatch } from '../../../../src/raft/transport/codec.js';
import { coalesce } from '../../../../src/raft/transport/coalesce.js';
import { norm } from './helpers.js';

const pb = warren.v1;
const RUNS = Number(process.env['RAFT_CODEC_RUNS'] ?? 200);

// ---- the reference: the generated code, through the field mapping the transport used before -------

function entryToPb(e: Entry): warren.v1.RaftEntry.$Properties {
  return { term: e.term, index: e.index, type: e.type, data: e.data };
}

function entryFromPb(p: warren.v1.RaftEntry.$Properties): Entry {
  return { term: toNum(p.term), index: toNum(p.index), type: (p.type ?? 0) as EntryType, data: p.data ?? new Uint8Array(0) };
}

function messageToPb(m: Message): warren.v1.RaftMessage.$Properties {
  const p: warren.v1.RaftMessage.$Properties = {
    type: m.type, from: m.from, to: m.to, term: m.term, logTerm: m.logTerm, index: m.index,
    entries: m.entries.map(entryToPb), commit: m.commit, reject: m.reject, rejectHint: m.rejectHint,
  };
  if (m.snapshot) p.snapshot = { meta: snapMetaToPb(m.snapshot.meta), data: m.snapshot.data };
  if (m.snapOffset !== undefined) p.snapOffset = m.snapOffset;
  if (m.snapDone !== undefined) p.snapDone = m.snapDone;
  if (m.context !== undefined) p.context = m.context;
  return p;
}

function messageFromPb(p: warren.v1.RaftMessage.$Properties): Message {
  return {
    type: (p.type ?? 0) as MessageType, from: p.from ?? 0, to: p.to ?? 0, term: toNum(p.term), logTerm: toNum(p.logTerm),
    index: toNum(p.index), entries: (p.entries ?? []).map(entryFromPb), commit: toNum(p.commit),
    reject: p.reject ?? false, rejectHint: toNum(p.rejectHint),
    ...(p.snapshot ? { snapshot: { meta: snapMetaFromPb(p.snapshot.meta), data: p.snapshot.data ?? new Uint8Array(0) } } : {}),
    ...(p.snapOffset != null ? { snapOffset: toNum(p.snapOffset) } : {}),
    ...(p.snapDone != null ? { snapDone: p.snapDone } : {}),
    ...(p.context != null ? { context: p.context } : {}),
  };
}

/** The envelopes through protobufjs; the heartbeat columns are the same code on both sides. */
function pbEncode(b: Batch): Uint8Array {
  const hand = pb.RaftBatch.decode(encodeBatch(b));
  return pb.RaftBatch.encode({
    fromNode: b.fromNode, toNode: b.toNode,
    envelopes: b.envelopes.map((e) => ({ group: e.group, message: messageToPb(e.message) })),
    ...(hand.heartbeats ? { heartbeats: hand.heartbeats } : {}),
    ...(hand.heartbeatResps ? { heartbeatResps: hand.heartbeatResps } : {}),
  }).finish();
}

function pbDecodeEnvelopes(bytes: Uint8Array): unknown {
  const p = pb.RaftBatch.decode(bytes);
  return {
    fromNode: p.fromNode ?? 0, toNode: p.toNode ?? 0,
    envelopes: (p.envelopes ?? []).map((e) => ({ group: e.group ?? 0, message: messageFromPb(e.message ?? {}) })),
  };
}

function handDecodeEnvelopes(bytes: Uint8Array): unknown {
  const b = decodeBatch(bytes);
  return { fromNode: b.fromNode, toNode: b.toNode, envelopes: b.envelopes };
}

// ---- arbitraries ---------------------------------------------------------------------------------

const u64Arb = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 32, 2 ** 40 + 1, Number.MAX_SAFE_INTEGER), fc.nat(100_000));
const u32Arb = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1), fc.nat(1_000));
const bytesArb = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 100, maxLength: 1500 }));
/** Entry types as numbers: the known ones and one a newer node might write. */
const entryArb = fc.record({ term: u64Arb, index: u64Arb, type: fc.constantFrom(0, 1, 2), data: bytesArb }) as fc.Arbitrary<Entry>;
const snapshotArb = fc.record({
  meta: fc.record({
    index: u64Arb, term: u64Arb,
    confState: fc.record({ voters: fc.array(u32Arb, { maxLength: 3 }), learners: fc.array(u32Arb, { maxLength: 2 }), votersOutgoing: fc.array(u32Arb, { maxLength: 2 }) }),
  }),
  data: bytesArb,
});
const messageArb: fc.Arbitrary<Message> = fc.record({
  type: fc.nat(20), from: u32Arb, to: u32Arb, term: u64Arb, logTerm: u64Arb, index: u64Arb,
  entries: fc.array(entryArb, { maxLength: 8 }), commit: u64Arb, reject: fc.boolean(), rejectHint: u64Arb,
  snapshot: snapshotArb, snapOffset: u64Arb, snapDone: fc.boolean(), context: bytesArb,
}, { requiredKeys: ['type', 'from', 'to', 'term', 'logTerm', 'index', 'entries', 'commit', 'reject', 'rejectHint'] }) as fc.Arbitrary<Message>;
/** Plain envelopes and heartbeats mixed, coalesced as the Peer does. */
const batchArb: fc.Arbitrary<Batch> = fc.record({
  fromNode: u32Arb, toNode: u32Arb,
  envelopes: fc.array(fc.record({ group: u32Arb, message: messageArb }), { maxLength: 6 }),
}).map(({ fromNode, toNode, envelopes }) => coalesce(fromNode, toNode, envelopes));

// ---- properties ----------------------------------------------------------------------------------

test('RaftEntry: the bytes protobufjs writes, read back as protobufjs reads them', () => {
  fc.assert(fc.property(entryArb, (e) => {
    const bytes = encodeEntry(e);
    assert.deepEqual([...bytes], [...pb.RaftEntry.encode(entryToPb(e)).finish()]);
    assert.deepEqual(norm(decodeEntry(bytes)), norm(e));
    assert.deepEqual(norm(decodeEntry(bytes)), norm(entryFromPb(pb.RaftEntry.decode(bytes))));
  }), { numRuns: RUNS });
});

test('RaftBatch: the bytes protobufjs writes, and the input read back', () => {
  fc.assert(fc.property(batchArb, (b) => {
    const bytes = encodeBatch(b);
    assert.deepEqual([...bytes], [...pbEncode(b)]);
    assert.deepEqual(norm(decodeBatch(bytes)), norm(b));
  }), { numRuns: RUNS });
});

test('RaftBatch: unknown fields at every level are skipped as protobufjs skips them', () => {
  const unknown = fc.constantFrom(
    new Uint8Array([15 << 3 | 0, 0x96, 0x01]), // varint field 15
    new Uint8Array([15 << 3 | 2, 2, 7, 7]), // bytes field 15
    new Uint8Array([15 << 3 | 5, 1, 2, 3, 4]), // fixed32 field 15
    new Uint8Array([1 << 3 | 2, 1, 0]), // field 1 with the wrong wire type
  );
  fc.assert(fc.property(messageArb, entryArb, unknown, (m, e, extra) => {
    const entry = Buffer.concat([extra, pb.RaftEntry.encode(entryToPb(e)).finish(), extra]);
    const mBytes = Buffer.concat([extra, pb.RaftMessage.encode(messageToPb({ ...m, entries: [] })).finish(), Buffer.from([7 << 3 | 2]), varint(entry.length), entry]);
    const env = Buffer.concat([extra, Buffer.from([2 << 3 | 2]), varint(mBytes.length), mBytes, extra]);
    const bytes = Buffer.concat([Buffer.from([2 << 3 | 2]), varint(env.length), env, extra]);
    assert.deepEqual(norm(handDecodeEnvelopes(bytes)), norm(pbDecodeEnvelopes(bytes)));
  }), { numRuns: RUNS });
});

test('RaftBatch: cut or changed, both decoders fail or both read the same', () => {
  fc.assert(fc.property(batchArb, fc.nat(), fc.nat(255), (b, at, value) => {
    const bytes = encodeBatch(b);
    if (bytes.length === 0) return;
    const cut = bytes.subarray(0, at % bytes.length);
    const changed = Buffer.from(bytes);
    changed[at % bytes.length] = value;
    for (const input of [cut, changed]) {
      const hand = attempt(() => handDecodeEnvelopes(input));
      const ref = attempt(() => pbDecodeEnvelopes(input));
      assert.equal(hand.ok, ref.ok, `hand ${hand.ok ? 'read' : 'failed'}, protobufjs ${ref.ok ? 'read' : 'failed'}`);
      if (hand.ok && ref.ok) assert.deepEqual(norm(hand.value), norm(ref.value));
    }
  }), { numRuns: RUNS });
});

test('an entry read from a batch is a view of the batch, not a copy', () => {
  const data = new Uint8Array(1024).fill(7);
  const m: Message = {
    type: 3, from: 1, to: 2, term: 1, logTerm: 1, index: 1, entries: [{ term: 1, index: 2, type: 0, data }],
    commit: 1, reject: false, rejectHint: 0,
  };
  const bytes = encodeBatch(coalesce(1, 2, [{ group: 1, message: m }]));
  const got = decodeBatch(bytes).envelopes[0]!.message.entries[0]!.data;
  assert.equal(got.buffer, bytes.buffer);
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: f() };
  } catch {
    return { ok: false };
  }
}
