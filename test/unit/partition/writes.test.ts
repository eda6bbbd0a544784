// The partition's key writes (writes.ts WriteSet): keys named by their latin1 strings, made from
// numbers for message keys, must be exactly the keys' bytes; coalescing and fresh puts per key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AppKeyRange, ApplyBatch } from '../../../src/raft/node/app.js';
import { fromLatin1, toLatin1 } from '../../../src/raft/storage/appkv.js';
import {
  PARTITION_KEY, dedupeKey, queueKey, queueStateKey, recordKey, recordKeyLatin1, stateKey, stateKeyLatin1,
} from '../../../src/partition/keys.js';
import { WriteSet } from '../../../src/partition/writes.js';

const U32_EDGES = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];
const MSG_EDGES = [0, 1, 0xff, 0x100, 0xffff_ffff, 0x1_0000_0000, 0x80_0000_0000, 2 ** 52, Number.MAX_SAFE_INTEGER];

test('message keys as latin1 strings are exactly the latin1 form of their bytes, for every queue and msgId shape', () => {
  const check = (queue: number, msgId: number): void => {
    assert.equal(recordKeyLatin1(queue, msgId), toLatin1(recordKey(queue, msgId)), `record ${queue}/${msgId}`);
    assert.equal(stateKeyLatin1(queue, msgId), toLatin1(stateKey(queue, msgId)), `state ${queue}/${msgId}`);
    assert.deepEqual(fromLatin1(stateKeyLatin1(queue, msgId)), new Uint8Array(stateKey(queue, msgId)));
  };
  for (const q of U32_EDGES) for (const m of MSG_EDGES) check(q, m);
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.maxSafeNat(), check), { numRuns: 2000 });
});

/** Records what a WriteSet hands over: "put <latin1 key> fresh?" / "del <latin1 key>". */
class RecordingBatch implements ApplyBatch {
  readonly ops: string[] = [];
  readonly values = new Map<string, Uint8Array>();
  put(key: Uint8Array, value: Uint8Array, fresh?: boolean): void { this.putLatin1(toLatin1(key), value, fresh); }
  del(key: Uint8Array): void { this.delLatin1(toLatin1(key)); }
  putLatin1(key: string, value: Uint8Array, fresh?: boolean): void {
    this.ops.push(`put ${key}${fresh === true ? ' fresh' : ''}`);
    this.values.set(key, value);
  }
  delLatin1(key: string): void { this.ops.push(`del ${key}`); }
  async get(): Promise<Uint8Array | undefined> { return undefined; }
  async *iterate(_range?: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> { /* empty */ }
}

const v = (n: number): Uint8Array => Uint8Array.of(n);
const r = (q: number, m: number): string => toLatin1(recordKey(q, m));
const s = (q: number, m: number): string => toLatin1(stateKey(q, m));

test('one op per key, named by the key\'s latin1 string; a fresh put deleted within the call is not handed over', () => {
  const w = new WriteSet();
  w.putRecord(1, 10, v(1));
  w.putState(1, 10, v(2)); // the message is new in this call: its state is fresh too
  w.putState(1, 11, v(3)); // an older message: its state key may exist
  w.putState(1, 12, v(4), true);
  w.delRecord(1, 12);
  w.delState(1, 12); // cancels the fresh state put
  w.putRecord(2, 20, v(5));
  w.delState(2, 20); // not put in this call: the delete is handed over
  w.delRecord(2, 20); // stored and ended in the same call: no record write at all
  w.put(queueStateKey(1), v(6));
  w.put(queueStateKey(1), v(7));
  w.del(queueKey(3));
  w.put(PARTITION_KEY, v(8));
  w.del(dedupeKey('a session with a long enough name to pass 32 bytes'));
  assert.deepEqual(w.recordValue(1, 10), v(1));
  assert.equal(w.recordValue(1, 12), null);
  assert.equal(w.recordValue(1, 99), undefined);
  const b = new RecordingBatch();
  w.flush(b);
  assert.deepEqual(b.ops.sort(), [
    `put ${r(1, 10)} fresh`, `put ${s(1, 10)} fresh`, `put ${s(1, 11)}`, `del ${r(1, 12)}`, `del ${s(2, 20)}`,
    `put ${toLatin1(queueStateKey(1))}`, `del ${toLatin1(queueKey(3))}`, `put ${toLatin1(PARTITION_KEY)}`,
    `del ${toLatin1(dedupeKey('a session with a long enough name to pass 32 bytes'))}`,
  ].sort());
  assert.deepEqual(b.values.get(toLatin1(queueStateKey(1))), v(7));
  assert.equal(w.size, 0, 'flush empties the set');
});

test('a key named by bytes through put() and by numbers is the same key', () => {
  const w = new WriteSet();
  w.put(recordKey(4, 40), v(1));
  w.delRecord(4, 40);
  const b = new RecordingBatch();
  w.flush(b);
  assert.deepEqual(b.ops, [`del ${r(4, 40)}`]);
});

/** The write set's contract with one op per key, as plainly as it can be written: the reference. */
class OneOpPerKey {
  readonly ops = new Map<string, { value: Uint8Array | null; fresh: boolean }>();
  set(key: string, value: Uint8Array, fresh: boolean): void {
    const op = this.ops.get(key);
    if (op === undefined) this.ops.set(key, { value, fresh });
    else op.value = value;
  }
  remove(key: string): void {
    const op = this.ops.get(key);
    if (op === undefined) this.ops.set(key, { value: null, fresh: false });
    else if (op.fresh) this.ops.delete(key);
    else op.value = null;
  }
  flush(batch: ApplyBatch): void {
    for (const [key, op] of this.ops) {
      if (op.value === null) batch.delLatin1(key);
      else batch.putLatin1(key, op.value, op.fresh);
    }
    this.ops.clear();
  }
}

type WriteOp =
  | { op: 'putRecord' | 'delRecord' | 'delState' | 'recordValue' | 'putBytes' | 'delBytes' | 'flush'; q: number; m: number; state: boolean; n: number }
  | { op: 'putState'; q: number; m: number; absent: boolean; n: number };

const writeOpArb: fc.Arbitrary<WriteOp> = fc.oneof(
  fc.record({
    op: fc.constantFrom('putRecord', 'delRecord', 'delState', 'recordValue', 'putBytes', 'delBytes', 'flush' as const),
    q: fc.integer({ min: 1, max: 2 }), m: fc.integer({ min: 1, max: 3 }), state: fc.boolean(), n: fc.nat(255),
  }),
  fc.record({ op: fc.constant('putState' as const), q: fc.integer({ min: 1, max: 2 }), m: fc.integer({ min: 1, max: 3 }), absent: fc.boolean(), n: fc.nat(255) }),
);

test('WriteSet hands over exactly what one op per key would, for any sequence of writes (message keys by numbers or bytes, other keys)', () => {
  fc.assert(fc.property(fc.array(writeOpArb, { maxLength: 40 }), (ops) => {
    const w = new WriteSet();
    const ref = new OneOpPerKey();
    const flushBoth = (): void => {
      const got = new RecordingBatch();
      const want = new RecordingBatch();
      w.flush(got);
      ref.flush(want);
      assert.deepEqual(got.ops.sort(), want.ops.sort());
      assert.deepEqual(new Map([...got.values].sort()), new Map([...want.values].sort()));
      assert.equal(w.size, 0);
    };
    for (const o of ops) {
      const rk = r(o.q, o.m);
      switch (o.op) {
        case 'putRecord': w.putRecord(o.q, o.m, v(o.n)); ref.set(rk, v(o.n), true); break;
        case 'delRecord': w.delRecord(o.q, o.m); ref.remove(rk); break;
        case 'putState': {
          const rec = o.absent ? undefined : ref.ops.get(rk);
          w.putState(o.q, o.m, v(o.n), o.absent);
          ref.set(s(o.q, o.m), v(o.n), o.absent || (rec !== undefined && rec.fresh));
          break;
        }
        case 'delState': w.delState(o.q, o.m); ref.remove(s(o.q, o.m)); break;
        case 'recordValue': assert.deepEqual(w.recordValue(o.q, o.m), ref.ops.get(rk)?.value); break;
        case 'putBytes': {
          const key = o.m === 3 ? queueStateKey(o.q) : o.state ? stateKey(o.q, o.m) : recordKey(o.q, o.m);
          w.put(key, v(o.n));
          ref.set(toLatin1(key), v(o.n), false);
          break;
        }
        case 'delBytes': {
          const key = o.m === 3 ? queueKey(o.q) : o.state ? stateKey(o.q, o.m) : recordKey(o.q, o.m);
          w.del(key);
          ref.remove(toLatin1(key));
          break;
        }
        case 'flush': flushBoth(); break;
      }
    }
    flushBoth();
  }), { numRuns: 3000 });
});
