// The RaftLogStore contract, run against every implementation (memory.test.ts, level.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, Snapshot, SnapshotMeta } from '../../../../src/raft/core/types.js';
import { EMPTY_HARD_STATE, EntryType } from '../../../../src/raft/core/types.js';
import { MAX_SNAPSHOT_DATA_BYTES } from '../../../../src/raft/storage/store.js';
import type { PersistedState, RaftLogStore } from '../../../../src/raft/storage/store.js';

export interface StoreHarness {
  /** A fresh, loaded store. */
  store: RaftLogStore;
  /** Simulates a restart: a new store over the same durable state (not yet loaded). */
  reopen(): Promise<RaftLogStore>;
  close(): Promise<void>;
}

export function ent(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

export function ents(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(ent(i, term));
  return out;
}

function plain(entries: readonly Entry[]): Array<[number, number, number, string]> {
  return entries.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString()]);
}

const meta = (index: number, term: number): SnapshotMeta => ({
  index, term, confState: { voters: [1, 2, 3], learners: [4], votersOutgoing: [] },
});

/** A snapshot whose data identifies it (and is not valid UTF-8, to catch text round trips). */
const snap = (index: number, term: number, size = 16): Snapshot => {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + term * 7 + i * 13) & 0xff;
  if (size > 0) data[0] = 0xff;
  return { meta: meta(index, term), data };
};

function plainSnap(s: PersistedState): { meta: SnapshotMeta; data: string } | undefined {
  return s.snapshot ? { meta: s.snapshot.meta, data: Buffer.from(s.snapshot.data).toString('hex') } : undefined;
}

const hexSnap = (x: Snapshot) => ({ meta: x.meta, data: Buffer.from(x.data).toString('hex') });

export function runStoreContract(name: string, make: () => Promise<StoreHarness>): void {
  async function withStore(fn: (h: StoreHarness) => Promise<void>): Promise<void> {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  }

  async function reload(h: StoreHarness) {
    return (await h.reopen()).load();
  }

  describe(`RaftLogStore contract: ${name}`, () => {
    test('a new store loads the empty state', () => withStore(async (h) => {
      const s = await reload(h);
      assert.deepEqual(s.hardState, EMPTY_HARD_STATE);
      assert.equal(s.entries.length, 0);
      assert.equal(s.snapshot, undefined);
    }));

    test('entries and hard state survive a restart', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 5, 1), hardState: { term: 1, vote: 2, commit: 3 } });
      await h.store.save({ entries: ents(6, 7, 2), hardState: { term: 2, vote: 0, commit: 6 } });
      const s = await reload(h);
      assert.deepEqual(s.hardState, { term: 2, vote: 0, commit: 6 });
      assert.deepEqual(plain(s.entries), plain([...ents(1, 5, 1), ...ents(6, 7, 2)]));
    }));

    test('appending at i truncates the conflicting suffix ≥ i (Raft §5.3)', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 10, 1) });
      await h.store.save({ entries: ents(4, 5, 2) });
      const s = await reload(h);
      assert.deepEqual(plain(s.entries), plain([...ents(1, 3, 1), ...ents(4, 5, 2)]));
      // the truncated store accepts appends at its new end, not at the old one
      const again = await h.reopen();
      await again.load();
      await again.save({ entries: ents(6, 6, 3) });
      await assert.rejects(again.save({ entries: ents(8, 8, 3) }), /outside log/);
      assert.deepEqual(plain((await reload(h)).entries).map((e) => e[0]), [1, 2, 3, 4, 5, 6]);
    }));

    test('saves issued in one turn apply in order', () => withStore(async (h) => {
      const a = h.store.save({ entries: ents(1, 5, 1) });
      const b = h.store.save({ entries: ents(3, 3, 2), hardState: { term: 2, vote: 1, commit: 2 } });
      const c = h.store.save({ entries: ents(4, 4, 2) });
      await Promise.all([a, b, c]);
      const s = await reload(h);
      assert.deepEqual(plain(s.entries), plain([...ents(1, 2, 1), ...ents(3, 4, 2)]));
      assert.deepEqual(s.hardState, { term: 2, vote: 1, commit: 2 });
    }));

    test('a gap or non-contiguous entries are rejected and change nothing', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 2, 1) });
      await assert.rejects(h.store.save({ entries: ents(4, 4, 1) }), /outside log/);
      await assert.rejects(h.store.save({ entries: [ent(3, 1), ent(5, 1)] }), /contiguous/);
      assert.deepEqual(plain((await reload(h)).entries), plain(ents(1, 2, 1)));
    }));

    test('an installed snapshot replaces the whole log', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 10, 1) });
      await h.store.save({ snapshot: snap(20, 3), entries: ents(21, 22, 3), hardState: { term: 3, vote: 0, commit: 20 } });
      const s = await reload(h);
      assert.deepEqual(plainSnap(s), hexSnap(snap(20, 3)));
      assert.deepEqual(plain(s.entries), plain(ents(21, 22, 3)));
      assert.deepEqual(s.hardState, { term: 3, vote: 0, commit: 20 });
    }));

    test('compact deletes entries ≤ index and records the snapshot meta', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 10, 1) });
      await h.store.compact(snap(6, 1));
      let s = await reload(h);
      assert.deepEqual(plainSnap(s), hexSnap(snap(6, 1)));
      assert.deepEqual(plain(s.entries), plain(ents(7, 10, 1)));
      const again = await h.reopen();
      await again.load();
      await again.compact(snap(3, 1)); // older than the snapshot: no-op
      await assert.rejects(again.compact(snap(11, 1)), /beyond last index/);
      await again.save({ entries: ents(11, 11, 2) });
      s = await reload(h);
      assert.deepEqual(plainSnap(s), hexSnap(snap(6, 1)));
      assert.deepEqual(plain(s.entries), plain([...ents(7, 10, 1), ent(11, 2)]));
    }));

    test('compacting the whole log leaves an empty log after the snapshot', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 4, 1) });
      await h.store.compact(snap(4, 1, 0));
      const again = await h.reopen();
      const s = await again.load();
      assert.equal(s.entries.length, 0);
      await again.save({ entries: ents(5, 5, 1) });
      assert.deepEqual(plain((await reload(h)).entries), plain(ents(5, 5, 1)));
      assert.deepEqual(plainSnap(await reload(h)), hexSnap(snap(4, 1, 0)));
    }));

    test('a newer compaction replaces the snapshot data; the stored data is not aliased', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 10, 1) });
      const first = snap(3, 1, 1024);
      await h.store.compact(first);
      first.data.fill(0); // the caller reusing its buffer must not change what was stored
      assert.deepEqual(plainSnap(await reload(h)), hexSnap(snap(3, 1, 1024)));
      const again = await h.reopen();
      await again.load();
      await again.compact(snap(8, 1, 300_000));
      const s = await reload(h);
      assert.deepEqual(plainSnap(s), hexSnap(snap(8, 1, 300_000)));
      assert.deepEqual(plain(s.entries), plain(ents(9, 10, 1)));
    }));

    test('an installed snapshot after a compaction replaces both data and log', () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 6, 1) });
      await h.store.compact(snap(4, 1, 64));
      await h.store.save({ snapshot: snap(30, 2, 2000), hardState: { term: 2, vote: 0, commit: 30 } });
      await h.store.save({ entries: ents(31, 31, 2) });
      const s = await reload(h);
      assert.deepEqual(plainSnap(s), hexSnap(snap(30, 2, 2000)));
      assert.deepEqual(plain(s.entries), plain(ents(31, 31, 2)));
    }));

    test(`snapshot data over ${MAX_SNAPSHOT_DATA_BYTES} bytes is refused and changes nothing`, () => withStore(async (h) => {
      await h.store.save({ entries: ents(1, 4, 1) });
      const huge: Snapshot = { meta: meta(2, 1), data: new Uint8Array(MAX_SNAPSHOT_DATA_BYTES + 1) };
      await assert.rejects(h.store.compact(huge), /exceeds/);
      await assert.rejects(h.store.save({ snapshot: huge }), /exceeds/);
      const s = await reload(h);
      assert.equal(s.snapshot, undefined);
      assert.deepEqual(plain(s.entries), plain(ents(1, 4, 1)));
    }));
  });
}
