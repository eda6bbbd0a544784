// The application-key contract of a RaftLogStore (applied index with the app's writes, reads,
// snapshot source, staged installs), run against every implementation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeChunk } from '../../../../src/raft/storage/appkv.js';
import type { AppKeyRange, RaftLogStore } from '../../../../src/raft/storage/store.js';
import { ents } from './contract.js';
import type { StoreHarness } from './contract.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (x: Uint8Array): string => new TextDecoder().decode(x);

async function list(store: RaftLogStore, range?: AppKeyRange): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of store.appReader().iterate(range)) out.push(`${s(k)}=${s(v)}`);
  return out;
}

const meta = (index: number, term: number) => ({ index, term, confState: { voters: [1], learners: [], votersOutgoing: [] } });

export function runAppContract(name: string, make: () => Promise<StoreHarness>): void {
  async function withStore(fn: (h: StoreHarness) => Promise<void>): Promise<void> {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  }

  describe(`application keys: ${name}`, () => {
    test('apply writes land with the applied index, atomically with the log writes, and survive a restart', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 0, commit: 3 } });
      await h.store.save({ apply: { ops: [{ type: 'put', key: b('q/a/1'), value: b('x') }, { type: 'put', key: b('q/a/2'), value: b('y') }], applied: 2 } });
      await h.store.save({ apply: { ops: [{ type: 'del', key: b('q/a/1') }, { type: 'put', key: b('q/b/1'), value: b('z') }], applied: 3 } });
      assert.deepEqual(await list(h.store), ['q/a/2=y', 'q/b/1=z']);
      const again = await h.reopen();
      const st = await again.load();
      assert.equal(st.applied, 3);
      assert.deepEqual(await list(again), ['q/a/2=y', 'q/b/1=z']);
      assert.equal(s((await again.appReader().get(b('q/b/1')))!), 'z');
      assert.equal(await again.appReader().get(b('q/a/1')), undefined);
    }));

    test('iterate honours bounds, reverse and limit', () => withStore(async (h) => {
      const ops = ['a', 'b', 'c', 'd', 'e'].map((k) => ({ type: 'put' as const, key: b(k), value: b(k.toUpperCase()) }));
      await h.store.save({ apply: { ops, applied: 1 } });
      assert.deepEqual(await list(h.store, { gte: b('b'), lt: b('e') }), ['b=B', 'c=C', 'd=D']);
      assert.deepEqual(await list(h.store, { gt: b('b'), lte: b('e') }), ['c=C', 'd=D', 'e=E']);
      assert.deepEqual(await list(h.store, { reverse: true, limit: 2 }), ['e=E', 'd=D']);
      assert.deepEqual(await list(h.store, { gte: b('b'), limit: 2 }), ['b=B', 'c=C']);
    }));

    test('a snapshot source reads the keys and applied index at one point in time, in chunks', () => withStore(async (h) => {
      const ops = Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: b(`k${String(i).padStart(3, '0')}`), value: b(`v${i}`) }));
      await h.store.save({ apply: { ops, applied: 7 } });
      const src = await h.store.openSnapshot();
      // A later write is not in the snapshot.
      await h.store.save({ apply: { ops: [{ type: 'put', key: b('k999'), value: b('late') }], applied: 8 } });
      const chunks: Uint8Array[] = [];
      for await (const c of src.chunks(64)) chunks.push(c);
      await src.close();
      assert.equal(src.applied, 7);
      assert.ok(chunks.length > 5, `${chunks.length} chunks`);
      const pairs = chunks.flatMap((c) => decodeChunk(c)).map(([k, v]) => `${s(k)}=${s(v)}`);
      assert.deepEqual(pairs, ops.map((o) => `${s(o.key)}=${s(o.value)}`));
    }));

    test('an install is invisible until saved with its snapshot, then replaces every key and the applied index', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 0, commit: 5 } });
      await h.store.save({ apply: { ops: [{ type: 'put', key: b('old'), value: b('1') }], applied: 5 } });
      const inst = h.store.beginInstall();
      const { encodeChunk } = await import('../../../../src/raft/storage/appkv.js');
      await inst.write(encodeChunk([[b('n1'), b('a')], [b('n2'), b('b')]]));
      await inst.write(encodeChunk([[b('n3'), b('c')]]));
      assert.deepEqual(await list(h.store), ['old=1'], 'staged keys are not visible');
      await h.store.save({ snapshot: { meta: meta(20, 3), data: new Uint8Array(0) }, installed: inst, hardState: { term: 3, vote: 0, commit: 20 } });
      assert.deepEqual(await list(h.store), ['n1=a', 'n2=b', 'n3=c']);
      const again = await h.reopen();
      const st = await again.load();
      assert.equal(st.applied, 20);
      assert.equal(st.snapshot?.meta.index, 20);
      assert.equal(st.entries.length, 0);
      assert.deepEqual(await list(again), ['n1=a', 'n2=b', 'n3=c']);
      // Later applies go to the installed state.
      await again.save({ apply: { ops: [{ type: 'put', key: b('n4'), value: b('d') }], applied: 21 } });
      assert.deepEqual(await list(again), ['n1=a', 'n2=b', 'n3=c', 'n4=d']);
    }));

    test('an aborted install leaves the state as it was', () => withStore(async (h) => {
      await h.store.save({ apply: { ops: [{ type: 'put', key: b('old'), value: b('1') }], applied: 1 } });
      const inst = h.store.beginInstall();
      const { encodeChunk } = await import('../../../../src/raft/storage/appkv.js');
      await inst.write(encodeChunk([[b('new'), b('2')]]));
      inst.abort();
      await assert.rejects(inst.write(encodeChunk([[b('x'), b('3')]])), /aborted/);
      const again = await h.reopen();
      assert.equal((await again.load()).applied, 1);
      assert.deepEqual(await list(again), ['old=1']);
    }));
  });
}
