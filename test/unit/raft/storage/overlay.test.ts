// The write-behind overlay (appkv.ts Overlay): staged writes coalesce per key, a fresh put deleted
// before it is taken is never written, and reads through the overlay over the database always see
// the latest write, whatever the interleaving of staging, taking and completed writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferedBatch, Overlay, fromLatin1, toLatin1 } from '../../../../src/raft/storage/appkv.js';
import type { AppOp } from '../../../../src/raft/storage/store.js';

const key = (k: number): Uint8Array => Uint8Array.of(k);
const val = (v: number): Uint8Array => Uint8Array.of(v, v);
const id = (k: number): string => String.fromCharCode(k);
/** take()'s ops as "put k=v" / "del k" (one-byte keys and values). */
const show = (ops: readonly AppOp[]): string[] => ops.map((op) => `${op.type} ${op.key[0]}${op.value !== undefined ? `=${op.value[0]}` : ''}`);

test('toLatin1: one char per byte, for every byte value and on both sides of the short-key path; fromLatin1 inverts it', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(8), (bytes, offset) => {
    const inner = new Uint8Array(offset + bytes.length);
    inner.set(bytes, offset);
    const view = inner.subarray(offset); // a view into a larger buffer
    const s = toLatin1(view);
    assert.equal(s, Buffer.from(bytes).toString('latin1'));
    assert.equal(s.length, bytes.length);
    assert.deepEqual(new Uint8Array(fromLatin1(s)), bytes);
  }), { numRuns: 500 });
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const n of [0, 1, 31, 32, 33, 256]) assert.equal(toLatin1(all.subarray(0, n)), Buffer.from(all.subarray(0, n)).toString('latin1'));
});

test('a fresh put deleted before it is taken is never written; a delete of an older key is', () => {
  const o = new Overlay();
  o.stage([{ type: 'put', key: key(1), value: val(1), fresh: true }, { type: 'put', key: key(2), value: val(2) }]);
  assert.equal(o.stagedCount, 2);
  o.stage([{ type: 'del', key: key(1) }, { type: 'del', key: key(2) }]);
  assert.equal(o.get(key(1)), undefined, 'nothing of key 1 is left: the database never had it');
  assert.deepEqual(o.get(key(2)), { value: undefined }, 'key 2 reads as deleted');
  const { ops } = o.take();
  assert.deepEqual(ops, [{ type: 'del', key: key(2), id: '\x02' }]);
  assert.equal(o.stagedBytes, 0);
});

test('a fresh put taken (on its way to disk) and then deleted: the delete is written', () => {
  const o = new Overlay();
  o.stage([{ type: 'put', key: key(1), value: val(1), fresh: true }]);
  const first = o.take();
  o.stage([{ type: 'del', key: key(1) }]);
  assert.deepEqual(o.get(key(1)), { value: undefined });
  o.written(first.token, first.ops);
  assert.deepEqual(o.get(key(1)), { value: undefined }, 'the later delete still hides the written put');
  assert.deepEqual(o.take().ops, [{ type: 'del', key: key(1), id: '\x01' }]);
});

type Step =
  | { readonly kind: 'put'; readonly k: number; readonly v: number; readonly fresh: boolean }
  | { readonly kind: 'del'; readonly k: number }
  | { readonly kind: 'take' }
  | { readonly kind: 'complete' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), k: fc.integer({ min: 0, max: 7 }), v: fc.integer({ min: 0, max: 255 }), fresh: fc.boolean() }),
  fc.record({ kind: fc.constant('del' as const), k: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('take' as const) }),
  fc.record({ kind: fc.constant('complete' as const) }),
);

test('property: reads over the overlay see the latest write; once everything is written, the database holds exactly it', () => {
  fc.assert(fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
    const o = new Overlay();
    const db = new Map<number, number>();
    const truth = new Map<number, number>();
    const inFlight: Array<{ token: number; ops: AppOp[] }> = [];
    const complete = (): void => {
      const w = inFlight.shift();
      if (w === undefined) return;
      for (const op of w.ops) {
        if (op.type === 'put') db.set(op.key[0]!, op.value![0]!);
        else db.delete(op.key[0]!);
      }
      o.written(w.token, w.ops);
    };
    for (const s of steps) {
      if (s.kind === 'put') {
        // `fresh` promises the key exists nowhere: only when it is absent from what reads see and
        // from the database (a key deleted but not yet written away is not fresh).
        const fresh = s.fresh && !truth.has(s.k) && !db.has(s.k) && !inFlight.some((w) => w.ops.some((op) => op.key[0] === s.k));
        o.stage([{ type: 'put', key: key(s.k), value: val(s.v), ...(fresh ? { fresh: true } : {}) }]);
        truth.set(s.k, s.v);
      } else if (s.kind === 'del') {
        o.stage([{ type: 'del', key: key(s.k) }]);
        truth.delete(s.k);
      } else if (s.kind === 'take') {
        inFlight.push(o.take());
      } else {
        complete();
      }
      for (let k = 0; k < 8; k++) {
        const over = o.get(key(k));
        const seen = over !== undefined ? over.value?.[0] : db.get(k);
        assert.equal(seen, truth.get(k), `key ${k} after ${JSON.stringify(s)}`);
      }
    }
    inFlight.push(o.take());
    while (inFlight.length > 0) complete();
    assert.deepEqual([...db.entries()].sort(), [...truth.entries()].sort());
    for (let k = 0; k < 8; k++) assert.equal(o.get(key(k)), undefined, 'the overlay is empty once everything is written');
  }), { numRuns: 2000 });
});

test('a key given as bytes or as its latin1 string is one key: either form coalesces, cancels and reads the other', () => {
  const o = new Overlay();
  o.stage([{ type: 'put', id: id(1), value: val(1), fresh: true }, { type: 'put', key: key(2), value: val(2) }]);
  assert.deepEqual(o.get(key(1)), { value: val(1) });
  o.stage([{ type: 'del', key: key(1) }, { type: 'put', id: id(2), value: val(3) }]);
  assert.equal(o.get(key(1)), undefined, 'the fresh put given by its string was cancelled by a delete given by its bytes');
  assert.equal(o.stagedCount, 1);
  const { ops, token } = o.take();
  assert.deepEqual(ops, [{ type: 'put', key: key(2), id: id(2), value: val(3) }], 'bytes built or kept, string attached');
  o.written(token, [{ type: 'put', id: id(2), value: val(3) }]);
  assert.equal(o.get(key(2)), undefined, 'written() finds the entry by either form');
});

test('take(): staged writes in staging order, cancelled ones skipped; a key staged again after its cancel is staged anew, at the end', () => {
  const o = new Overlay();
  for (const k of [1, 2, 3, 4]) o.stage([{ type: 'put', id: id(k), value: val(k), fresh: true }]);
  o.stage([{ type: 'del', id: id(2) }, { type: 'put', id: id(3), value: val(30) }, { type: 'del', id: id(1) }]);
  o.stage([{ type: 'put', id: id(2), value: val(20), fresh: true }]);
  assert.equal(o.stagedCount, 3);
  assert.equal(o.stagedBytes, 3 * (1 + 2));
  const { ops } = o.take();
  assert.deepEqual(show(ops), ['put 3=30', 'put 4=4', 'put 2=20']);
  assert.deepEqual([o.stagedCount, o.stagedBytes], [0, 0]);
  assert.deepEqual(o.take().ops, [], 'what was taken is not taken again');
});

test('a put re-staged after its cancel is fresh only if nothing of the key is on its way', () => {
  const o = new Overlay();
  o.stage([{ type: 'put', id: id(1), value: val(1), fresh: true }]);
  const first = o.take();
  // On its way: a fresh put of the same key (after a delete) is not fresh, and its delete is written.
  o.stage([{ type: 'del', id: id(1) }, { type: 'put', id: id(1), value: val(2), fresh: true }, { type: 'del', id: id(1) }]);
  assert.deepEqual(show(o.take().ops), ['del 1']);
  o.written(first.token, first.ops);
  const o2 = new Overlay();
  o2.stage([{ type: 'put', id: id(1), value: val(1), fresh: true }, { type: 'del', id: id(1) }]);
  o2.stage([{ type: 'put', id: id(1), value: val(2), fresh: true }, { type: 'del', id: id(1) }]);
  assert.deepEqual(o2.take().ops, [], 'nothing on its way: both puts cancelled');
});

test('add() replaces a staged write of the same key: the staged one is not taken, nor counted', () => {
  const o = new Overlay();
  o.stage([{ type: 'put', id: id(1), value: val(1) }, { type: 'put', id: id(2), value: val(2) }]);
  const token = o.add([{ type: 'put', key: key(1), value: val(9) }]);
  assert.deepEqual([o.stagedCount, o.stagedBytes], [1, 3]);
  assert.deepEqual(o.get(key(1)), { value: val(9) });
  assert.deepEqual(show(o.take().ops), ['put 2=2']);
  o.written(token, [{ type: 'put', key: key(1), value: val(9) }]);
  assert.equal(o.get(key(1)), undefined);
});

test('heavy cancelling between takes: the staged list is swept, order and counts stay exact', () => {
  const o = new Overlay();
  const long = (n: number): string => `k${String(n).padStart(6, '0')}`;
  const kept: string[] = [];
  for (let n = 0; n < 20_000; n++) {
    o.stage([{ type: 'put', id: long(n), value: val(n & 0xff), fresh: true }]);
    if (n % 97 === 0) kept.push(long(n));
    else if (n % 5 !== 0) o.stage([{ type: 'del', id: long(n) }]);
  }
  // Every fifth is cancelled later, in reverse, so sweeps happen with live entries on both sides.
  for (let n = 20_000 - 1; n >= 0; n--) if (n % 5 === 0 && n % 97 !== 0) o.stage([{ type: 'del', id: long(n) }]);
  assert.equal(o.stagedCount, kept.length);
  assert.equal(o.stagedBytes, kept.length * (7 + 2));
  const { ops } = o.take();
  assert.deepEqual(ops.map((op) => op.id), kept);
  assert.deepEqual(ops.map((op) => toLatin1(op.key)), kept, 'key bytes built from the string');
});

test('slice(): a sorted copy with key bytes built, which later writes leave as it was', () => {
  const o = new Overlay();
  o.stage([{ type: 'put', id: id(3), value: val(3) }, { type: 'put', id: id(1), value: val(1) }, { type: 'del', id: id(2) }]);
  const before = o.slice({ gte: key(1), lt: key(3) });
  o.stage([{ type: 'put', id: id(1), value: val(7) }]);
  assert.deepEqual(before, [{ key: key(1), value: val(1) }, { key: key(2), value: undefined }]);
  assert.deepEqual(o.slice({ reverse: true }).map((e) => e.key[0]), [3, 2, 1]);
});

test('BufferedBatch: writes given by latin1 string are read back by key bytes, through get and iterate', async () => {
  const base = { get: async () => undefined, iterate: async function* () { /* empty */ } };
  const b = new BufferedBatch(base);
  b.putLatin1(id(1), val(1), true);
  b.put(key(2), val(2));
  assert.deepEqual(await b.get(key(1)), val(1));
  b.delLatin1(id(2));
  b.putLatin1(id(3), val(3));
  assert.equal(await b.get(key(2)), undefined);
  const seen: string[] = [];
  for await (const [k, v] of b.iterate()) seen.push(`${k[0]}=${v[0]}`);
  assert.deepEqual(seen, ['1=1', '3=3']);
  assert.deepEqual(b.ops.map((op) => [op.type, op.key?.[0] ?? op.id]), [['put', id(1)], ['put', 2], ['del', id(2)], ['put', id(3)]]);
});
