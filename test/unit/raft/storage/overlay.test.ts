// The write-behind overlay (appkv.ts Overlay): staged writes coalesce per key, a fresh put deleted
// before it is taken is never written, and reads through the overlay over the database always see
// the latest write, whatever the interleaving of staging, taking and completed writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Overlay } from '../../../../src/raft/storage/appkv.js';
import type { AppOp } from '../../../../src/raft/storage/store.js';

const key = (k: number): Uint8Array => Uint8Array.of(k);
const val = (v: number): Uint8Array => Uint8Array.of(v, v);

test('a fresh put deleted before it is taken is never written; a delete of an older key is', () => {
  const o = new Overlay();
  o.stage([{ type: 'put', key: key(1), value: val(1), fresh: true }, { type: 'put', key: key(2), value: val(2) }]);
  assert.equal(o.stagedCount, 2);
  o.stage([{ type: 'del', key: key(1) }, { type: 'del', key: key(2) }]);
  assert.equal(o.get(key(1)), undefined, 'nothing of key 1 is left: the database never had it');
  assert.deepEqual(o.get(key(2)), { value: undefined }, 'key 2 reads as deleted');
  const { ops } = o.take();
  assert.deepEqual(ops, [{ type: 'del', key: key(2) }]);
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
  assert.deepEqual(o.take().ops, [{ type: 'del', key: key(1) }]);
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
