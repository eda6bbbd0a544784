// The read-point rule (src/util/read-point.ts): a miss waits once for the view to catch up and the
// read runs again; hits, other failures and a view without a read point are left as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFresh } from '../../../src/util/read-point.js';

class Miss extends Error {}
const isMiss = (err: unknown): boolean => err instanceof Miss;

/** A view that has the key only once synced; counts the syncs. */
function view(): { syncs: number; synced: boolean; sync: () => Promise<void>; get: () => string } {
  const v = {
    syncs: 0, synced: false,
    sync: async () => { v.syncs++; v.synced = true; },
    get: () => { if (!v.synced) throw new Miss('not yet'); return 'value'; },
  };
  return v;
}

test('a synchronous hit stays synchronous and never syncs', () => {
  const v = view();
  v.synced = true;
  assert.equal(readFresh(v.sync, isMiss, v.get), 'value');
  assert.equal(v.syncs, 0);
});

test('a miss waits for the read point once and the read runs again', async () => {
  const v = view();
  const r = readFresh(v.sync, isMiss, v.get);
  assert.ok(r instanceof Promise);
  assert.equal(await r, 'value');
  assert.equal(v.syncs, 1);
});

test('an asynchronous miss too; the second answer is final (no second sync)', async () => {
  let runs = 0;
  let syncs = 0;
  const r = readFresh(async () => { syncs++; }, isMiss, async () => { runs++; throw new Miss('still'); });
  await assert.rejects(r, Miss);
  assert.equal(runs, 2);
  assert.equal(syncs, 1);
});

test('other failures are not retried and keep their form (thrown stays thrown)', async () => {
  let syncs = 0;
  const sync = async (): Promise<void> => { syncs++; };
  assert.throws(() => readFresh(sync, isMiss, () => { throw new Error('bug'); }), /bug/);
  await assert.rejects(readFresh(sync, isMiss, async () => { throw new Error('async bug'); }) as Promise<unknown>, /async bug/);
  assert.equal(syncs, 0);
});

test('without a read point (the embedded broker) a miss is final at once', () => {
  assert.throws(() => readFresh(undefined, isMiss, () => { throw new Miss('gone'); }), Miss);
});

test('a failing sync is the answer', async () => {
  const r = readFresh(async () => { throw new Error('no leader'); }, isMiss, () => { throw new Miss('x'); });
  await assert.rejects(r as Promise<unknown>, /no leader/);
});

test('read is told whether its run is final: not the first run before a read point, the run at it and any run without one', async () => {
  const v = view();
  const runs: boolean[] = [];
  assert.equal(await readFresh(v.sync, isMiss, (final) => { runs.push(final); return v.get(); }), 'value');
  assert.deepEqual(runs, [false, true]);
  const without: boolean[] = [];
  readFresh(undefined, isMiss, (final) => { without.push(final); return 1; });
  assert.deepEqual(without, [true]);
});
