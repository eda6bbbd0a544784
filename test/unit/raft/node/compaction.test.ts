// Log compaction by weight (src/raft/node/compaction.ts): the core holds its whole log in memory,
// so a log of large entries must be compacted by bytes, not only by entry count.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openRawCore } from '../../../../src/raft/node/adapter.js';
import { AppliedWeight, compactionTarget } from '../../../../src/raft/node/compaction.js';
import type { CompactionPolicy } from '../../../../src/raft/node/compaction.js';
import { GroupDriver } from '../../../../src/raft/node/group.js';
import { MemoryLogStore } from '../../../../src/raft/storage/memory.js';
import { ListApp } from '../../../cluster/list-app.js';

const KIB = 1024;
const ENTRIES_ONLY: CompactionPolicy = { everyEntries: 10_000, keepEntries: 1_000, maxKeepForFollowers: 50_000 };
const BY_BYTES: CompactionPolicy = { ...ENTRIES_ONLY, everyBytes: 256 * KIB, keepBytes: 64 * KIB, maxKeepBytesForFollowers: 128 * KIB };

/** Runs of `n` entries of `bytes` each, applied one run at a time from index 1. */
function weighed(runs: number, n: number, bytes: number): AppliedWeight {
  const w = new AppliedWeight();
  for (let r = 1; r <= runs; r++) w.add(r * n, n * bytes);
  return w;
}

describe('AppliedWeight', () => {
  test('weighs the applied log above an index at run granularity', () => {
    const w = weighed(10, 10, KIB); // runs end at 10, 20, ..., 100; 10 KiB each
    assert.equal(w.above(0), 100 * KIB);
    assert.equal(w.above(50), 50 * KIB);
    assert.equal(w.above(55), 50 * KIB, 'a run ending above the index counts whole');
    assert.equal(w.above(100), 0);
  });

  test('indexKeeping: the lowest run end with at most `bytes` above it', () => {
    const w = weighed(10, 10, KIB);
    assert.equal(w.indexKeeping(30 * KIB), 70);
    assert.equal(w.indexKeeping(35 * KIB), 70);
    assert.equal(w.indexKeeping(0), 100, 'keeping nothing compacts to the last applied run');
    assert.equal(w.indexKeeping(1000 * KIB), 10, 'never below the oldest run it knows');
    assert.equal(new AppliedWeight().indexKeeping(KIB), undefined);
  });

  test('compactedTo drops old runs; reset starts over at a snapshot', () => {
    const w = weighed(3000, 1, 10);
    w.compactedTo(2500);
    assert.equal(w.above(2500), 500 * 10);
    assert.equal(w.indexKeeping(1_000_000), 2500, 'the compaction point is the oldest run left');
    w.reset(5000);
    assert.equal(w.above(0), 0);
    w.add(5010, 100);
    assert.equal(w.above(5000), 100);
    w.add(10, 7); // applied from a lower index again: starts over rather than mixing the two
    assert.equal(w.above(0), 7);
  });
});

describe('compactionTarget with a weight', () => {
  test('entries alone: a few large entries never trigger', () => {
    const w = weighed(100, 1, 64 * KIB); // 6.4 MiB in 100 entries
    assert.equal(compactionTarget(ENTRIES_ONLY, 100, 0, () => undefined, w), undefined);
  });

  test('bytes trigger, and at most keepBytes stay below the applied index', () => {
    const w = weighed(100, 1, 64 * KIB);
    assert.equal(compactionTarget(BY_BYTES, 100, 0, () => undefined, w), 99);
    const small = weighed(100, 1, KIB);
    assert.equal(compactionTarget(BY_BYTES, 100, 0, () => undefined, small), undefined, '100 KiB is under everyBytes');
  });

  test('keepEntries still wins when it keeps less', () => {
    const w = weighed(5000, 1, 100); // 500 KB: the bytes trigger fires; 64 KiB is 655 entries
    assert.equal(compactionTarget({ ...BY_BYTES, keepEntries: 10 }, 5000, 0, () => undefined, w), 4990);
    assert.equal(compactionTarget(BY_BYTES, 5000, 0, () => undefined, w), 4345);
  });

  test('a lagging follower keeps entries up to maxKeepBytesForFollowers, then gets a snapshot', () => {
    const w = weighed(100, 1, 64 * KIB);
    const p = { ...BY_BYTES, maxKeepBytesForFollowers: 320 * KIB }; // five entries
    assert.equal(compactionTarget(p, 100, 0, () => 97, w), 97, 'entries the follower needs, within the limit');
    assert.equal(compactionTarget(p, 100, 0, () => 10, w), 95, 'beyond 320 KiB the follower gets a snapshot');
  });

  test('never above the durable applied index', () => {
    const w = weighed(100, 1, 64 * KIB);
    assert.equal(compactionTarget({ ...BY_BYTES, keepEntries: 0 }, 90, 0, () => undefined, w), 90);
  });
});

test('a single-voter group of large entries compacts by bytes: the core keeps little of its log', async () => {
  const store = new MemoryLogStore();
  const { core } = await openRawCore({ id: 1, voters: [1], store, electionTicks: 10, heartbeatTicks: 1, seed: 1 });
  const app = new ListApp();
  const driver = new GroupDriver(7, core, store, { send: () => undefined }, app, { compaction: BY_BYTES });
  const timer = setInterval(() => driver.tick(), 2);
  try {
    while (!driver.isLeader()) await new Promise((r) => setTimeout(r, 2));
    const body = 'x'.repeat(32 * KIB);
    for (let i = 0; i < 64; i++) await driver.propose(new TextEncoder().encode(`${i}:${body}`));
    // 2 MiB of entries: compacted every 256 KiB, keeping at most 64 KiB (two entries) behind.
    const snap = driver.snapshotMeta().index;
    const last = driver.stats.appliedIndex;
    assert.ok(driver.stats.compactions >= 6, `compactions: ${driver.stats.compactions}`);
    assert.ok(last - snap <= 10, `entries kept in the core's log: ${last - snap} (snapshot ${snap}, applied ${last})`);
    assert.equal(app.cmds.length, 64, 'every command applied once');
  } finally {
    clearInterval(timer);
    driver.stop();
  }
});
