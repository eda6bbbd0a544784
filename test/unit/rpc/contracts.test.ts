// The cluster contracts (proto/warren/v1/owner.proto, meta.proto, common.proto; src/rpc/contracts.ts).
// Round trips through the generated codecs, and the wire itself read by an independent decoder
// below, so a changed field number or type (which would break a mixed-version cluster) fails here
// even though the generated code would still agree with itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { AmqpError } from '../../../src/amqp/errors.js';
import { decodeMeta, encodeMeta } from '../../../src/meta/codec.js';
import type { MetaCommand } from '../../../src/meta/types.js';
import { u64 } from '../../../src/partition/codec.js';
import { warren as ownerPb } from '../../../src/proto/owner.js';
import type { warren } from '../../../src/proto/meta.js';
import { META, OWNER, type RpcMethod } from '../../../src/rpc/contracts.js';

const o = ownerPb.v1;
const root = join(import.meta.dirname, '../../..');
// 2^53 - 1: the largest 64-bit value a JS number carries exactly. The generated .d.ts types 64-bit
// fields as number (--force-number), but decoding yields a Long for them: read them through u64().
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const u64s = (v: readonly unknown[] | null | undefined): number[] => (v ?? []).map(u64);

// ---- an independent protobuf wire reader --------------------------------------------------------

type WireValue = bigint | Uint8Array;
interface WireField { readonly field: number; readonly wire: number; readonly value: WireValue }

function readVarint(b: Uint8Array, at: { pos: number }): bigint {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const byte = b[at.pos++];
    assert.ok(byte !== undefined, 'truncated varint');
    v |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return v;
  }
}

/** The top-level fields of an encoded message, in wire order. */
function fields(b: Uint8Array): WireField[] {
  const out: WireField[] = [];
  const at = { pos: 0 };
  while (at.pos < b.length) {
    const key = Number(readVarint(b, at));
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: readVarint(b, at) });
    else if (wire === 2) {
      const len = Number(readVarint(b, at));
      out.push({ field, wire, value: b.subarray(at.pos, at.pos + len) });
      at.pos += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      out.push({ field, wire, value: b.subarray(at.pos, at.pos + len) });
      at.pos += len;
    } else assert.fail(`unexpected wire type ${wire}`);
  }
  return out;
}

/** The single field numbered `n`: its wire type must be `wire`. */
function one(b: Uint8Array, n: number, wire: 0 | 2): WireValue {
  const found = fields(b).filter((f) => f.field === n);
  assert.equal(found.length, 1, `field ${n} occurs ${found.length} times`);
  assert.equal(found[0]!.wire, wire, `field ${n} has wire type ${found[0]!.wire}, not ${wire}`);
  return found[0]!.value;
}
const varint = (b: Uint8Array, n: number): bigint => one(b, n, 0) as bigint;
const bytes = (b: Uint8Array, n: number): Uint8Array => one(b, n, 2) as Uint8Array;
const text = (b: Uint8Array, n: number): string => Buffer.from(bytes(b, n)).toString('utf8');
/** A packed repeated varint field. */
function packed(b: Uint8Array, n: number): bigint[] {
  const body = bytes(b, n);
  const at = { pos: 0 };
  const out: bigint[] = [];
  while (at.pos < body.length) out.push(readVarint(body, at));
  return out;
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >>> 8)) & 0xff;
  return out;
}

// ---- the method table against the .proto service blocks ----------------------------------------

test('every method in src/rpc/contracts.ts is the .proto service method of that path, kind and types', () => {
  const pbRoot = new protobuf.Root();
  pbRoot.resolvePath = (_origin, target) => (target.startsWith('warren/') ? join(root, 'proto', target) : target);
  pbRoot.loadSync(['warren/v1/owner.proto', 'warren/v1/meta.proto']);
  const table: Record<string, RpcMethod<unknown, unknown, unknown, unknown>> = {};
  for (const md of [...Object.values(OWNER), ...Object.values(META)]) table[md.path] = md;
  let seen = 0;
  for (const service of ['Owner', 'Meta']) {
    const svc = pbRoot.lookupService(`warren.v1.${service}`);
    for (const method of svc.methodsArray) {
      const path = `/warren.v1.${service}/${method.name}`;
      const md = table[path];
      assert.ok(md, `${path} is missing from src/rpc/contracts.ts`);
      seen++;
      const kind = method.requestStream ? (method.responseStream ? 'bidi' : 'clientStream') : method.responseStream ? 'serverStream' : 'unary';
      assert.equal(md.kind, kind, path);
      assert.equal(md.requestType, method.requestType, path);
      assert.equal(md.responseType, method.responseType, path);
    }
  }
  assert.equal(seen, Object.keys(table).length, 'contracts.ts lists a method the .proto services do not have');
});

// ---- Owner: enqueue ------------------------------------------------------------------------------

test('EnqueueBatch: a 4 MiB body and the raw header survive byte-exact; (session, seq) is 64-bit', () => {
  const body = pattern(4 * 1024 * 1024);
  const header = Uint8Array.of(0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0x98, 0x00, 2);
  const batch = {
    batchId: MAX_SAFE, partition: 7,
    items: [
      { vhost: '/', queues: ['a', 'b'], exchange: 'x', routingKey: 'rk', header, body, session: '4294967297', seq: MAX_SAFE, priority: 0, expirationMs: 2 ** 40 },
      { vhost: '/', queues: ['c'], exchange: '', routingKey: 'c', header, body: new Uint8Array(0), session: '', seq: 0 },
    ],
  };
  const wire = OWNER.enqueue.encodeRequest(batch);
  const back = OWNER.enqueue.decodeRequest(wire);
  assert.equal(u64(back.batchId), MAX_SAFE);
  assert.equal(back.partition, 7);
  const [a, b] = back.items;
  assert.ok(a && b);
  assert.deepEqual(a.queues, ['a', 'b']);
  assert.equal(Buffer.compare(Buffer.from(a.body!), Buffer.from(body)), 0);
  assert.deepEqual([...a.header!], [...header]);
  assert.equal(u64(a.seq), MAX_SAFE);
  assert.equal(a.session, '4294967297');
  // Present-but-zero priority stays present; absent optionals stay absent.
  assert.equal(a.priority, 0);
  assert.equal(u64(a.expirationMs), 2 ** 40);
  assert.equal(b.priority ?? undefined, undefined);
  assert.equal(b.expirationMs ?? undefined, undefined);
  assert.equal(b.body?.length, 0);

  // The wire: batch_id 1 varint, partition 2, items 3; in an item, seq 8 as a full 64-bit varint.
  assert.equal(varint(wire, 1), BigInt(MAX_SAFE));
  assert.equal(varint(wire, 2), 7n);
  const item = fields(wire).filter((f) => f.field === 3)[0]!.value as Uint8Array;
  assert.equal(text(item, 1), '/');
  assert.deepEqual(fields(item).filter((f) => f.field === 2).map((f) => Buffer.from(f.value as Uint8Array).toString()), ['a', 'b']);
  assert.equal(text(item, 3), 'x');
  assert.equal(text(item, 4), 'rk');
  assert.deepEqual([...bytes(item, 5)], [...header]);
  assert.equal(bytes(item, 6).length, body.length);
  assert.equal(text(item, 7), '4294967297');
  assert.equal(varint(item, 8), BigInt(MAX_SAFE));
  assert.equal(varint(item, 9), 0n); // proto3 optional: zero is sent
  assert.equal(varint(item, 10), 2n ** 40n);
});

test('EnqueueAck: per-queue outcomes and backlog flags, duplicates, and a batch-level NotLeader', () => {
  const ack = {
    batchId: 3,
    results: [
      { outcomes: [o.EnqueueOutcome.ENQUEUE_ACCEPTED, o.EnqueueOutcome.ENQUEUE_REJECTED, o.EnqueueOutcome.ENQUEUE_NO_QUEUE], backlogged: [false, true, false] },
      { outcomes: [o.EnqueueOutcome.ENQUEUE_ACCEPTED], backlogged: [false], duplicate: true },
    ],
  };
  const wire = OWNER.enqueue.encodeResponse(ack);
  const back = OWNER.enqueue.decodeResponse(wire);
  assert.equal(u64(back.batchId), 3);
  assert.equal(back.error ?? undefined, undefined);
  assert.deepEqual(back.results.map((r) => [r.outcomes, r.backlogged, r.duplicate ?? false]), [
    [[1, 2, 3], [false, true, false], false],
    [[1], [false], true],
  ]);
  // Enum numbers are the contract: 0 is never sent, so a missing outcome cannot read as accepted.
  assert.equal(o.EnqueueOutcome.ENQUEUE_OUTCOME_UNSPECIFIED, 0);
  const first = fields(wire).filter((f) => f.field === 3)[0]!.value as Uint8Array;
  assert.deepEqual(packed(first, 1), [1n, 2n, 3n]);
  assert.deepEqual(packed(first, 2), [0n, 1n, 0n]);

  const refused = OWNER.enqueue.encodeResponse({
    batchId: 4, error: { notLeader: { group: 7, leaderId: 'owner-2', leaderAddress: '10.0.0.2:7000', term: 2 ** 33 } },
  });
  const nl = OWNER.enqueue.decodeResponse(refused);
  assert.equal(nl.results.length, 0);
  assert.equal(nl.error?.kind, 'notLeader');
  const hint = nl.error!.notLeader!;
  assert.deepEqual([hint.group, hint.leaderId, hint.leaderAddress, u64(hint.term)], [7, 'owner-2', '10.0.0.2:7000', 2 ** 33]);
  // error = field 2 of the ack; not_leader = field 2 of Error; term = field 4, 64-bit.
  const err = bytes(refused, 2);
  const nlWire = bytes(err, 2);
  assert.equal(varint(nlWire, 1), 7n);
  assert.equal(text(nlWire, 2), 'owner-2');
  assert.equal(text(nlWire, 3), '10.0.0.2:7000');
  assert.equal(varint(nlWire, 4), 2n ** 33n);
});

// ---- errors --------------------------------------------------------------------------------------

test('an AmqpError crosses the wire and is rebuilt with the same reply text, class and method', () => {
  const original = new AmqpError(406, "inequivalent arg 'durable' for queue 'q' in vhost '/'", 50, 10);
  const wire = OWNER.declareQueue.encodeResponse({
    error: { amqp: { replyCode: original.replyCode, detail: "inequivalent arg 'durable' for queue 'q' in vhost '/'", classId: 50, methodId: 10 } },
  });
  const back = OWNER.declareQueue.decodeResponse(wire);
  assert.equal(back.error?.kind, 'amqp');
  const e = back.error!.amqp!;
  const rebuilt = new AmqpError(e.replyCode ?? 0, e.detail ?? '', e.classId ?? 0, e.methodId ?? 0);
  assert.deepEqual(rebuilt.closeArgs(), original.closeArgs());
  assert.equal(rebuilt.hard, false);
  const amqp = bytes(bytes(wire, 1), 1);
  assert.equal(varint(amqp, 1), 406n);
  assert.equal(text(amqp, 2), "inequivalent arg 'durable' for queue 'q' in vhost '/'");
  assert.equal(varint(amqp, 3), 50n);
  assert.equal(varint(amqp, 4), 10n);

  const unavailable = OWNER.purge.decodeResponse(OWNER.purge.encodeResponse({ error: { unavailable: { detail: 'draining' } } }));
  assert.equal(unavailable.error?.kind, 'unavailable');
  assert.equal(unavailable.error?.unavailable?.detail, 'draining');
  // Unavailable is Error field 3, sent even when empty: a set oneof member is always on the wire.
  const emptyUnavailable = bytes(OWNER.purge.encodeResponse({ error: { unavailable: {} } }), 1);
  assert.deepEqual(fields(emptyUnavailable).map((f) => [f.field, f.wire]), [[3, 2]]);
});

test('a successful answer carries no error at all, and counts are in their fields', () => {
  const wire = OWNER.declareQueue.encodeResponse({ messageCount: 4_000_000_000, consumerCount: 2 });
  assert.equal(fields(wire).some((f) => f.field === 1), false);
  assert.equal(varint(wire, 2), 4_000_000_000n);
  assert.equal(varint(wire, 3), 2n);
  const back = OWNER.declareQueue.decodeResponse(wire);
  assert.equal(back.error ?? undefined, undefined);
  assert.equal(back.messageCount, 4_000_000_000);
});

// ---- Owner: consume, settle, get, stats ----------------------------------------------------------

test('ConsumeRequest: open, attach, subscribe, cancel and flow are distinct oneof members', () => {
  const q = { vhost: 'v', name: 'q', partition: 12 };
  const cases = [
    { msg: { open: { session: '42' } }, kind: 'open', field: 1 },
    { msg: { attach: { requestId: 1, partition: 12 } }, kind: 'attach', field: 2 },
    { msg: { subscribe: { requestId: 2, queue: q, consumer: 'c1', prefetch: 100, priority: -5, noAck: false, exclusive: true } }, kind: 'subscribe', field: 3 },
    { msg: { cancel: { requestId: 3, queue: q, consumer: 'c1' } }, kind: 'cancel', field: 4 },
    { msg: { flow: { requestId: 4, queue: q, consumer: 'c1', active: false } }, kind: 'flow', field: 5 },
  ] as const;
  for (const c of cases) {
    const wire = OWNER.consume.encodeRequest(c.msg);
    assert.deepEqual(fields(wire).map((f) => f.field), [c.field], c.kind);
    assert.equal(OWNER.consume.decodeRequest(wire).kind, c.kind);
  }
  const sub = OWNER.consume.decodeRequest(OWNER.consume.encodeRequest(cases[2].msg)).subscribe!;
  assert.deepEqual({ ...sub.queue }, q);
  assert.equal(sub.priority, -5);
  assert.equal(sub.prefetch, 100);
  assert.equal(sub.exclusive, true);
  // priority is int32: -5 is a 10-byte two's-complement varint (sint32 would zigzag it to 9).
  const subWire = bytes(OWNER.consume.encodeRequest(cases[2].msg), 3);
  assert.equal(varint(subWire, 5), 2n ** 64n - 5n);
});

test('ConsumeEvent: deliveries keep msg id, count, redelivered and the exact header and body bytes', () => {
  const body = pattern(1024 * 1024 + 3);
  const header = Uint8Array.of(0, 60, 0, 0, 0, 0, 0, 0, 0, 3, 0x10, 0x00, 1);
  const d = {
    consumer: 'amq.ctag-1', queue: 'q', msgId: MAX_SAFE, deliveryCount: 3, redelivered: true,
    exchange: 'x', routingKey: 'k', header, body,
  };
  const wire = OWNER.consume.encodeResponse({ deliveries: { deliveries: [d, { ...d, msgId: 1, redelivered: false, deliveryCount: 1 }] } });
  const back = OWNER.consume.decodeResponse(wire);
  assert.equal(back.kind, 'deliveries');
  const [first, second] = back.deliveries?.deliveries ?? [];
  assert.ok(first && second);
  assert.equal(u64(first.msgId), MAX_SAFE);
  assert.equal(first.deliveryCount, 3);
  assert.equal(first.redelivered, true);
  assert.equal(Buffer.compare(Buffer.from(first.body!), Buffer.from(body)), 0);
  assert.deepEqual([...first.header!], [...header]);
  assert.equal(u64(second.msgId), 1);

  const dw = fields(bytes(wire, 2)).filter((f) => f.field === 1)[0]!.value as Uint8Array;
  assert.equal(text(dw, 1), 'amq.ctag-1');
  assert.equal(text(dw, 2), 'q');
  assert.equal(varint(dw, 3), BigInt(MAX_SAFE));
  assert.equal(varint(dw, 4), 3n);
  assert.equal(varint(dw, 5), 1n);
  assert.equal(text(dw, 6), 'x');
  assert.equal(text(dw, 7), 'k');
  assert.deepEqual([...bytes(dw, 8)], [...header]);
  assert.equal(bytes(dw, 9).length, body.length);

  const lost = OWNER.consume.decodeResponse(OWNER.consume.encodeResponse({ leaderLost: { notLeader: { group: 3, leaderId: 'o1', leaderAddress: 'o1:7000', term: 9 } } }));
  assert.equal(lost.kind, 'leaderLost');
  assert.equal(lost.leaderLost?.notLeader?.leaderAddress, 'o1:7000');
  const done = OWNER.consume.decodeResponse(OWNER.consume.encodeResponse({ done: { requestId: 2 ** 40, error: { amqp: { replyCode: 403, detail: "queue 'q' in vhost '/' in exclusive use" } } } }));
  assert.equal(u64(done.done?.requestId), 2 ** 40);
  assert.equal(done.done?.error?.amqp?.replyCode, 403);
  const cancelled = OWNER.consume.decodeResponse(OWNER.consume.encodeResponse({ cancelled: { queue: { vhost: '/', name: 'q' }, consumer: 'c' } }));
  assert.equal(cancelled.kind, 'cancelled');
  assert.equal(cancelled.cancelled?.queue?.partition, 0);
});

test('SettleBatch: msg ids per (queue, session, consumer) are packed 64-bit, the kind an enum', () => {
  const batch = {
    batchId: 9, partition: 2,
    items: [
      { vhost: '/', queue: 'q', session: '7', consumer: 'c', kind: o.SettleKind.SETTLE_ACK, msgIds: [1, 2, MAX_SAFE] },
      { vhost: '/', queue: 'q', session: '7', consumer: 'get-1', kind: o.SettleKind.SETTLE_DISCARD, msgIds: [5] },
    ],
  };
  const wire = OWNER.settle.encodeRequest(batch);
  const back = OWNER.settle.decodeRequest(wire);
  assert.deepEqual(back.items.map((s) => [s.consumer, s.kind, u64s(s.msgIds)]), [['c', 1, [1, 2, MAX_SAFE]], ['get-1', 3, [5]]]);
  assert.deepEqual([o.SettleKind.SETTLE_ACK, o.SettleKind.SETTLE_REQUEUE, o.SettleKind.SETTLE_DISCARD], [1, 2, 3]);
  const item = fields(wire).filter((f) => f.field === 3)[0]!.value as Uint8Array;
  assert.equal(text(item, 4), 'c');
  assert.equal(varint(item, 5), 1n);
  assert.deepEqual(packed(item, 6), [1n, 2n, BigInt(MAX_SAFE)]);
  const ack = OWNER.settle.decodeResponse(OWNER.settle.encodeResponse({ batchId: 9 }));
  assert.equal(u64(ack.batchId), 9);
  assert.equal(ack.error ?? undefined, undefined);
});

test('GetResponse: empty (no delivery) differs from a message; stats carry 64-bit figures', () => {
  const empty = OWNER.get.decodeResponse(OWNER.get.encodeResponse({ messageCount: 0 }));
  assert.equal(empty.delivery ?? undefined, undefined);
  const got = OWNER.get.decodeResponse(OWNER.get.encodeResponse({
    delivery: { consumer: 'g', queue: 'q', msgId: 8, deliveryCount: 1, body: Uint8Array.of(1, 2) }, messageCount: 5,
  }));
  assert.equal(u64(got.delivery?.msgId), 8);
  assert.equal(got.messageCount, 5);

  const req = OWNER.get.decodeRequest(OWNER.get.encodeRequest({ queue: { vhost: '/', name: 'q', partition: 1 }, session: 's', getter: 'g', noAck: true }));
  assert.equal(req.noAck, true);
  assert.equal(req.getter, 'g');

  const stats = { entries: [{ queue: { vhost: '/', name: 'q', partition: 3 }, messages: 2 ** 40, unacked: 17, consumers: 2, bytes: MAX_SAFE }] };
  const sw = OWNER.queueStats.encodeResponse(stats);
  const back = OWNER.queueStats.decodeResponse(sw);
  assert.deepEqual(back.entries.map((e) => [u64(e.messages), u64(e.unacked), e.consumers, u64(e.bytes)]), [[2 ** 40, 17, 2, MAX_SAFE]]);
  const entry = bytes(sw, 2);
  assert.equal(varint(entry, 2), 2n ** 40n);
  assert.equal(varint(entry, 5), BigInt(MAX_SAFE));

  const del = OWNER.deleteQueue.decodeRequest(OWNER.deleteQueue.encodeRequest({ queue: { vhost: '/', name: 'q' }, ifUnused: true }));
  assert.deepEqual([del.ifUnused, del.ifEmpty], [true, false]);
});

// ---- Meta ---------------------------------------------------------------------------------------

test('Propose carries a metadata command as its log bytes (encodeMeta), field tables included', () => {
  const cmd: MetaCommand = {
    type: 'queue.declare', vhost: '/', name: 'q', passive: false, durable: true, exclusive: false, autoDelete: false,
    arguments: { 'x-max-length': 10, 'x-queue-type': 'quorum' }, connection: '12.3', partition: 5,
  };
  const encoded = encodeMeta(cmd);
  const wire = META.propose.encodeRequest({ command: encoded });
  assert.deepEqual([...bytes(wire, 1)], [...encoded]);
  const back = decodeMeta<MetaCommand>(META.propose.decodeRequest(wire).command);
  assert.deepEqual(back, decodeMeta<MetaCommand>(encoded));
  assert.equal(back.type, 'queue.declare');

  const res = META.propose.decodeResponse(META.propose.encodeResponse({ result: encodeMeta({ created: true }), index: MAX_SAFE }));
  assert.deepEqual(decodeMeta(res.result), { created: true });
  assert.equal(u64(res.index), MAX_SAFE);
  const refused = META.propose.encodeResponse({ error: { amqp: { replyCode: 406, detail: 'x' } }, index: 12 });
  assert.equal(varint(bytes(bytes(refused, 1), 1), 1), 406n);
  assert.equal(varint(refused, 3), 12n);
  const nl = META.propose.decodeResponse(META.propose.encodeResponse({ error: { notLeader: { group: 0, leaderId: 'o3', leaderAddress: 'o3:7000' } } }));
  assert.equal(nl.error?.kind, 'notLeader');
  assert.equal(nl.error?.notLeader?.group, 0);
});

test('WatchEvent: snapshot chunks, the snapshot end with leases and placement, entries, sessions, progress', () => {
  const placement = {
    epoch: 2 ** 35,
    owners: [{ id: 'o1', address: 'o1:7000', metaVoter: true }, { id: 'o2', address: 'o2:7000' }],
    vnodes: 64, replicationFactor: 3,
    partitions: [{ partition: 1, replicas: ['o2', 'o1'] }],
  };
  const events: ReadonlyArray<readonly [warren.v1.WatchEvent.$Properties, string, number]> = [
    [{ snapshotChunk: { data: pattern(70_000) } }, 'snapshotChunk', 1],
    [{ snapshotDone: { index: MAX_SAFE, liveLeases: [1, 2 ** 40], placement } }, 'snapshotDone', 2],
    [{ entries: { entries: [{ index: 2 ** 40 + 1, command: encodeMeta({ type: 'vhost.add', name: 'v' }) }] } }, 'entries', 3],
    [{ placement: { index: 5, placement } }, 'placement', 4],
    [{ sessionEnded: { index: 6, leaseId: 2 ** 40, expired: true } }, 'sessionEnded', 5],
    [{ progress: { appliedIndex: 7 } }, 'progress', 6],
  ];
  for (const [ev, kind, field] of events) {
    const wire = META.watch.encodeResponse(ev);
    assert.deepEqual(fields(wire).map((f) => f.field), [field], kind);
    assert.equal(META.watch.decodeResponse(wire).kind, kind);
  }
  const done = META.watch.decodeResponse(META.watch.encodeResponse(events[1]![0])).snapshotDone!;
  assert.equal(u64(done.index), MAX_SAFE);
  assert.deepEqual(u64s(done.liveLeases), [1, 2 ** 40]);
  assert.equal(u64(done.placement?.epoch), 2 ** 35);
  assert.deepEqual(done.placement?.owners?.map((x) => [x.id, x.address, x.metaVoter ?? false]), [['o1', 'o1:7000', true], ['o2', 'o2:7000', false]]);
  assert.deepEqual([...(done.placement?.partitions?.[0]?.replicas ?? [])], ['o2', 'o1']);
  const entry = META.watch.decodeResponse(META.watch.encodeResponse(events[2]![0])).entries!.entries![0]!;
  assert.equal(u64(entry.index), 2 ** 40 + 1);
  assert.deepEqual(decodeMeta(entry.command!), { type: 'vhost.add', name: 'v' });
  const chunk = META.watch.decodeResponse(META.watch.encodeResponse(events[0]![0])).snapshotChunk!;
  assert.equal(Buffer.compare(Buffer.from(chunk.data!), Buffer.from(pattern(70_000))), 0);

  const doneWire = bytes(META.watch.encodeResponse(events[1]![0]), 2);
  assert.equal(varint(doneWire, 1), BigInt(MAX_SAFE));
  assert.deepEqual(packed(doneWire, 2), [1n, 2n ** 40n]);
  assert.equal(varint(bytes(doneWire, 3), 1), 2n ** 35n);

  const req = META.watch.encodeRequest({ fromIndex: 2 ** 40 });
  assert.equal(varint(req, 1), 2n ** 40n);
  assert.equal(u64(META.watch.decodeRequest(req).fromIndex), 2 ** 40);
});

test('sessions: lease ids are 64-bit, TTL and expiry are explicit', () => {
  const open = META.openSession.decodeRequest(META.openSession.encodeRequest({ frontend: 'fe-0' }));
  assert.equal(open.ttlMs, 0); // 0 = the default (10 s)
  const granted = META.openSession.encodeResponse({ leaseId: MAX_SAFE, ttlMs: 10_000, index: 33 });
  assert.equal(varint(granted, 2), BigInt(MAX_SAFE));
  assert.equal(varint(granted, 3), 10_000n);
  const g = META.openSession.decodeResponse(granted);
  assert.deepEqual([u64(g.leaseId), g.ttlMs, u64(g.index)], [MAX_SAFE, 10_000, 33]);

  const ka = META.keepAlive.encodeRequest({ leaseId: MAX_SAFE, appliedIndex: 2 ** 40 });
  assert.equal(varint(ka, 1), BigInt(MAX_SAFE));
  assert.equal(varint(ka, 2), 2n ** 40n); // the cache's applied index (cache-acks.ts)
  assert.equal(u64(META.keepAlive.decodeRequest(META.keepAlive.encodeRequest({ leaseId: 1 })).appliedIndex), 0, 'absent: 0, not said');
  const expired = META.keepAlive.decodeResponse(META.keepAlive.encodeResponse({ expired: true }));
  assert.deepEqual([expired.expired, expired.ttlMs], [true, 0]);
  const closed = META.closeSession.decodeResponse(META.closeSession.encodeResponse({ index: 2 ** 50 }));
  assert.equal(u64(closed.index), 2 ** 50);

  const pw = META.getPlacement.encodeResponse({ placement: { epoch: 3, owners: [], vnodes: 8, replicationFactor: 1, partitions: [] }, index: 4 });
  const p = META.getPlacement.decodeResponse(pw);
  assert.deepEqual([u64(p.placement?.epoch), p.placement?.vnodes, p.placement?.replicationFactor, u64(p.index)], [3, 8, 1, 4]);
});
