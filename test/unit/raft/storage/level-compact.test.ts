// RangeCompactor (src/raft/storage/level-compact.ts): deleted key spans are compacted once enough
// may have died, and on a real LevelDB that gives the space of deleted values back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RangeCompactor } from '../../../../src/raft/storage/level-compact.js';
import { LevelRaftStorage } from '../../../../src/raft/storage/level.js';
import type { AppOp } from '../../../../src/raft/storage/store.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (k: Uint8Array): string => new TextDecoder().decode(k);

class FakeDb {
  readonly calls: Array<[string, string]> = [];
  failNext = false;
  async compactRange(start: Uint8Array, end: Uint8Array): Promise<void> {
    this.calls.push([text(start), text(end)]);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk on fire');
    }
  }
}

describe('RangeCompactor', () => {
  test('runs once enough was written or deleted, merging each span and ending just above it', async () => {
    const db = new FakeDb();
    const written = { bytes: 0, puts: 0 };
    const c = new RangeCompactor(db, 1000, written);
    c.deleted('a', b('k5'), b('k7'), 3);
    c.deleted('a', b('k2'), b('k4'), 3);
    c.deleted('b', b('x1'), b('x1'), 1);
    c.maybeRun();
    assert.deepEqual(db.calls, [], 'nothing written yet: nothing may have died');
    written.bytes = 600;
    written.puts = 6; // 100 bytes a put: 7 deleted keys weigh about 700
    c.maybeRun();
    await c.runNow(); // waits for the round maybeRun started; nothing is left for another
    assert.deepEqual(db.calls, [['k2', 'k7\u0000'], ['x1', 'x1\u0000']]);
    assert.equal(c.stats.rounds, 1);
    assert.equal(c.stats.spans, 2);
    c.deleted('a', b('k8'), b('k9'), 1);
    const closing = c.close();
    c.maybeRun();
    await closing;
    written.bytes += 10_000;
    c.maybeRun();
    await c.runNow();
    assert.equal(c.stats.rounds, 1, 'none after close()');
  });

  test('the next round needs as much again; a failed compaction is counted, not thrown', async () => {
    const db = new FakeDb();
    const written = { bytes: 5000, puts: 50 };
    const c = new RangeCompactor(db, 1000, written);
    c.deleted('a', b('a'), b('b'), 1);
    db.failNext = true;
    await c.runNow();
    assert.equal(c.stats.failures, 1);
    assert.equal(c.stats.lastError, 'disk on fire');
    c.deleted('a', b('c'), b('d'), 1);
    c.maybeRun();
    written.bytes += 950;
    c.maybeRun();
    await c.runNow(); // waits for a running round, then compacts what is left
    assert.deepEqual(db.calls.map(([s]) => s), ['a', 'c'], 'one round for c..d (run by runNow), none before');
  });
});

test('LevelDB: deleted values take space until their range is compacted; the compactor gives it back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-compact-'));
  // Never on its own (0): this test runs the round itself.
  const storage = await LevelRaftStorage.open(dir, { sync: false, compactDeletedEveryBytes: 0 });
  try {
    const g = storage.group(3);
    await g.load();
    const key = (i: number): Uint8Array => b(`q/${String(i).padStart(8, '0')}`);
    const n = 16_000; // 16 MiB of incompressible values: several memtables' worth
    for (let at = 0; at < n; at += 1000) {
      const ops: AppOp[] = [];
      for (let i = at; i < at + 1000; i++) ops.push({ type: 'put', key: key(i), value: randomBytes(1024) });
      await g.save({ apply: { ops, applied: at + 1 } });
    }
    const ops: AppOp[] = [];
    for (let i = 1; i < n; i++) ops.push({ type: 'del', key: key(i) }); // key 0 stays: a held message
    await g.save({ apply: { ops, applied: n + 1 } });
    await storage.db.compactRange(b('hs/'), b('hs0')); // flushes the memtable only
    const before = (await storage.groupDiskBytes(3)).app;
    assert.ok(before > 8 * 1024 * 1024, `deleted values still on disk: ${before} bytes`);
    await storage.compactor.runNow();
    const after = (await storage.groupDiskBytes(3)).app;
    assert.ok(after < 64 * 1024, `after the compaction: ${after} bytes`);
    assert.equal((await g.appReader().get(key(0)))?.length, 1024, 'the live key survives');
    assert.equal(await g.appReader().get(key(1)), undefined);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
