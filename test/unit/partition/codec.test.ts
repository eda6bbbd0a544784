// The log entry format (PartitionBatch) and the key layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBatch, decodeEnqueue, decodeRecord, encodeBatch } from '../../../src/partition/codec.js';
import { parseMessageKey, recordKey, stateKey, RANGES, queueKey } from '../../../src/partition/keys.js';
import type { PartitionCommand } from '../../../src/partition/types.js';
import { declare, enqueue, header, text } from './helpers.js';

const every: PartitionCommand[] = [
  declare('q', { 'x-max-length': 10 }, 5),
  { kind: 'delete', queue: 3, nowMs: 6 },
  enqueue([1, 2], 'body', { session: 'pub', seq: 2 ** 40, priority: 4, expirationMs: 0, nowMs: 1_700_000_000_000, header: header({ priority: 4 }) }),
  enqueue(1, ''),
  { kind: 'checkout', queue: 1, session: 's', consumer: 'c', prefetch: 200, priority: -2, noAck: true, nowMs: 7 },
  { kind: 'settle', queue: 1, session: 's', consumer: 'c', msgIds: [1, 2 ** 33 + 5], nowMs: 0 },
  { kind: 'return', queue: 1, session: 's', consumer: 'c', msgIds: [3], nowMs: 8 },
  { kind: 'discard', queue: 1, session: 's', consumer: 'c', msgIds: [], nowMs: 9 },
  { kind: 'cancel', queue: 1, session: 's', consumer: 'c', nowMs: 10 },
  { kind: 'recover', queue: 1, session: 's', consumer: 'c', nowMs: 11 },
  { kind: 'down', queue: 0, session: 's', consumers: ['a', 'b'], nowMs: 12 },
  { kind: 'get', queue: 2, session: 's', consumer: 'g', noAck: false, nowMs: 13 },
  { kind: 'purge', queue: 2, nowMs: 14 },
  { kind: 'touch', queue: 2, nowMs: 15 },
  { kind: 'flow', queue: 2, session: 's', consumer: 'c', active: false, nowMs: 16 },
  { kind: 'tick', nowMs: 17 },
  { kind: 'sessionDown', session: 's', nowMs: 18 },
  { kind: 'deadLettered', queue: 2, msgIds: [9, 10], nowMs: 19 },
];

test('every command survives encodeBatch → decodeBatch', () => {
  const decoded = decodeBatch(encodeBatch(every));
  assert.equal(decoded.length, every.length);
  for (const [i, d] of decoded.entries()) {
    const want = every[i] as PartitionCommand;
    if (d.kind === 'enqueue' && want.kind === 'enqueue') {
      const { record, ...fields } = d;
      assert.ok(record !== undefined);
      assert.deepEqual({ ...fields, header: Buffer.from(fields.header), body: Buffer.from(fields.body) },
        { ...want, header: Buffer.from(want.header), body: Buffer.from(want.body) });
    } else if (d.kind === 'declare' && want.kind === 'declare') {
      assert.deepEqual({ ...d, arguments: Buffer.from(d.arguments) }, { ...want, arguments: Buffer.from(want.arguments) });
    } else {
      assert.deepEqual(d, want);
    }
  }
});

test('an enqueue\'s record is a view of the entry bytes (no copy) and decodes to the message', () => {
  const data = encodeBatch([enqueue(1, 'payload', { exchange: 'x', routingKey: 'k', nowMs: 42 })]);
  const [e] = decodeBatch(data);
  assert.ok(e?.kind === 'enqueue' && e.record !== undefined);
  assert.equal(e.record.buffer, data.buffer);
  const r = decodeRecord(e.record);
  assert.deepEqual([r.exchange, r.routingKey, new TextDecoder().decode(r.body), r.nowMs, r.priority, r.expirationMs], ['x', 'k', 'payload', 42, undefined, undefined]);
  assert.deepEqual(decodeBatch(new Uint8Array(0)), []);
  assert.equal(text('a').length, 1);
});

test('the enqueues of one entry decode their strings as one enqueue alone does: repeated, changed, invalid UTF-8', () => {
  const cmds = [
    enqueue(1, 'a', { exchange: 'ab', routingKey: 'k1', session: 'p', seq: 1 }),
    enqueue(1, 'b', { exchange: 'ab', routingKey: 'k2', session: 'p', seq: 2 }),
    enqueue(2, 'c', { exchange: 'cd', routingKey: 'k2', session: 'q', seq: 3 }),
    enqueue(2, 'd', { exchange: 'zz', routingKey: 'k2', session: 'q', seq: 4 }),
    enqueue(2, 'e', { exchange: 'cd', routingKey: '', session: '', seq: 5 }),
  ];
  const data = Buffer.from(encodeBatch(cmds));
  // The fourth exchange's bytes become 0xff 0xfe: decoded leniently (U+FFFD), as a lone record is.
  const at = data.indexOf('zz');
  data[at] = 0xff;
  data[at + 1] = 0xfe;
  const decoded = decodeBatch(data);
  assert.equal(decoded.length, cmds.length);
  for (const d of decoded) {
    assert.ok(d.kind === 'enqueue' && d.record !== undefined);
    const alone = decodeEnqueue(Buffer.from(d.record));
    assert.deepEqual([d.exchange, d.routingKey, d.session], [alone.exchange, alone.routingKey, alone.session]);
  }
  assert.deepEqual(decoded.map((d) => (d.kind === 'enqueue' ? [d.exchange, d.routingKey, d.session] : [])), [
    ['ab', 'k1', 'p'], ['ab', 'k2', 'p'], ['cd', 'k2', 'q'], ['\uFFFD\uFFFD', 'k2', 'q'], ['cd', '', ''],
  ]);
});

test('keys: messages of a queue sort by msgId, each state key right after its record, all inside the messages range', () => {
  const keys = [recordKey(1, 2 ** 32), stateKey(1, 255), recordKey(1, 256), recordKey(1, 255), recordKey(2, 1), stateKey(1, 2 ** 32)];
  const sorted = keys.map((k) => Buffer.from(k)).sort(Buffer.compare).map((k) => parseMessageKey(k));
  assert.deepEqual(sorted, [
    { queue: 1, msgId: 255, isState: false }, { queue: 1, msgId: 255, isState: true }, { queue: 1, msgId: 256, isState: false },
    { queue: 1, msgId: 2 ** 32, isState: false }, { queue: 1, msgId: 2 ** 32, isState: true }, { queue: 2, msgId: 1, isState: false },
  ]);
  const { gte, lt } = RANGES.messages;
  for (const k of keys) assert.ok(Buffer.compare(Buffer.from(k), Buffer.from(gte)) >= 0 && Buffer.compare(Buffer.from(k), Buffer.from(lt)) < 0);
  assert.equal(Buffer.from(recordKey(7, 9)).toString('hex'), '712f000000072f0000000000000009');
  assert.equal(parseMessageKey(queueKey(1)), undefined);
});

test('the hand-written Enqueue and PartitionBatch codecs speak protobufjs\'s wire format both ways', async () => {
  const { warren } = await import('../../../src/proto/partition.js');
  const { decodeEnqueue, encodeEnqueue } = await import('../../../src/partition/codec.js');
  const u64 = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());
  const cases = [
    { queues: [1], exchange: '', routingKey: 'rk', header: new Uint8Array([0, 60, 0, 0]), body: new Uint8Array(1024).fill(7), session: 'fe-1-ab', seq: 1, nowMs: 1_700_000_000_123 },
    { queues: [3, 200, 70_000], exchange: 'x-é✓', routingKey: '', header: new Uint8Array(0), body: new Uint8Array(0), session: '', seq: 2 ** 52, priority: 9, expirationMs: 0, nowMs: 0 },
    { queues: [], exchange: 'e', routingKey: 'k'.repeat(300), header: new Uint8Array(200), body: new Uint8Array(5), session: 's', seq: 0, expirationMs: 2 ** 40, nowMs: 5 },
  ];
  for (const c of cases) {
    // Ours → protobufjs.
    const p = warren.v1.Enqueue.decode(encodeEnqueue(c));
    assert.deepEqual([[...p.queues], p.exchange, p.routingKey, Buffer.from(p.header), Buffer.from(p.body), p.session, u64(p.seq), p.priority ?? undefined,
      p.expirationMs == null ? undefined : u64(p.expirationMs), u64(p.nowMs)],
    [c.queues, c.exchange, c.routingKey, Buffer.from(c.header), Buffer.from(c.body), c.session, c.seq, c.priority, c.expirationMs, c.nowMs]);
    // protobufjs → ours (packed queues), and unpacked repeated queues too.
    const theirs = warren.v1.Enqueue.encode({ ...c }).finish();
    const d = decodeEnqueue(theirs);
    assert.deepEqual([d.queues, d.exchange, d.routingKey, Buffer.from(d.header), Buffer.from(d.body), d.session, d.seq, d.priority, d.expirationMs, d.nowMs],
      [c.queues, c.exchange, c.routingKey, Buffer.from(c.header), Buffer.from(c.body), c.session, c.seq, c.priority, c.expirationMs, c.nowMs]);
    const unpacked = Buffer.concat([...c.queues.map((q) => Buffer.from([0x08, ...varint(q)])), Buffer.from(encodeEnqueue({ ...c, queues: [] }))]);
    assert.deepEqual(decodeEnqueue(unpacked).queues, c.queues);
    // A whole batch, both ways: same bytes as protobufjs writes, and its batches decode.
    const batch = encodeBatch([{ kind: 'enqueue', ...c }, { kind: 'tick', nowMs: 3 }, { kind: 'enqueue', ...c }]);
    const pbBatch = warren.v1.PartitionBatch.encode({ commands: [{ enqueue: encodeEnqueue(c) }, { tick: { nowMs: 3 } }, { enqueue: encodeEnqueue(c) }] }).finish();
    assert.deepEqual(Buffer.from(batch), Buffer.from(pbBatch));
    assert.deepEqual(decodeBatch(pbBatch).map((x) => x.kind), ['enqueue', 'tick', 'enqueue']);
  }
  // Unknown fields are skipped; truncated input throws.
  const withUnknown = Buffer.concat([Buffer.from(encodeEnqueue(cases[0]!)), Buffer.from([0x98, 0x01, 0x05, 0xa2, 0x01, 0x02, 0x61, 0x62])]);
  assert.equal(decodeEnqueue(withUnknown).seq, 1);
  assert.throws(() => decodeEnqueue(Buffer.from(encodeEnqueue(cases[0]!)).subarray(0, 30)), RangeError);
});

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) { out.push((v % 128) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

test('settlement commands, decoded by hand, read what protobufjs writes: packed or not, unknown fields skipped', async () => {
  const fc = (await import('fast-check')).default;
  const { warren } = await import('../../../src/proto/partition.js');
  const kinds = ['settle', 'return', 'discard'] as const;
  fc.assert(fc.property(
    fc.constantFrom(...kinds), fc.nat(), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ maxLength: 20 }),
    fc.array(fc.maxSafeNat(), { maxLength: 40 }), fc.maxSafeNat(), fc.boolean(),
    (kind, queue, session, consumer, msgIds, nowMs, unpacked) => {
      const s = { queue: queue >>> 0, session, consumer, msgIds, nowMs };
      let bytes: Uint8Array;
      if (unpacked) {
        // msg_ids one field each (a writer may), then an unknown field.
        const body = Buffer.concat([
          warren.v1.Settlement.encode({ ...s, msgIds: [] }).finish(),
          ...msgIds.map((id) => Buffer.from([0x20, ...varint(id)])),
          Buffer.from([0x48, 0x01]),
        ]);
        bytes = Buffer.concat([Buffer.from([(kinds.indexOf(kind) + 5) << 3 | 2, ...varint(body.length)]), body]);
      } else {
        bytes = warren.v1.PartitionCommand.encode({ [kind]: s }).finish();
      }
      const entry = warren.v1.PartitionBatch.encode({ commands: [] }).finish();
      const batch = Buffer.concat([entry, Buffer.from([0x0a, ...varint(bytes.length)]), Buffer.from(bytes)]);
      assert.deepEqual(decodeBatch(batch), [{ kind, ...s }]);
    },
  ));
});
