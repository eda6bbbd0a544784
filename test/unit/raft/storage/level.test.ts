import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelRaftStorage } from '../../../../src/raft/storage/level.js';
import { appGroupRange, logKey } from '../../../../src/raft/storage/keys.js';
import { encodeChunk } from '../../../../src/raft/storage/appkv.js';
import { runAppContract } from './app-contract.js';
import { ents, runStoreContract } from './contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'warren-level-'));
}

const level = async () => {
  const dir = tempDir();
  let storage = await LevelRaftStorage.open(dir);
  const store = storage.group(7);
  await store.load();
  return {
    store,
    reopen: async () => {
      await storage.close();
      storage = await LevelRaftStorage.open(dir);
      return storage.group(7);
    },
    close: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

runStoreContract('level', level);
runAppContract('level', level);

describe('LevelRaftStorage', () => {
  const b = (x: string): Uint8Array => new TextEncoder().encode(x);

  test('a crash in the middle of a snapshot install leaves the old state, and load() deletes the staged keys', async () => {
    const dir = tempDir();
    try {
      let storage = await LevelRaftStorage.open(dir);
      const g = storage.group(4);
      await g.load();
      await g.save({ apply: { ops: [{ type: 'put', key: b('old'), value: b('1') }], applied: 9 } });
      const inst = g.beginInstall();
      await inst.write(encodeChunk([[b('half'), b('x')], [b('way'), b('y')]]));
      const raw = async (): Promise<number> => {
        let n = 0;
        for await (const _ of storage.db.keys(appGroupRange(4))) n++;
        return n;
      };
      assert.equal(await raw(), 3, 'the staged keys are on disk beside the current ones');
      await storage.close(); // "crash": the install was never saved with its snapshot
      storage = await LevelRaftStorage.open(dir);
      const again = storage.group(4);
      assert.equal((await again.load()).applied, 9);
      const seen: string[] = [];
      for await (const [k] of again.appReader().iterate()) seen.push(new TextDecoder().decode(k));
      assert.deepEqual(seen, ['old']);
      assert.equal(await raw(), 1, 'load() deleted the garbage generation');
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reads see application writes still on their way to disk, and they need no fsync', async () => {
    const dir = tempDir();
    try {
      const storage = await LevelRaftStorage.open(dir);
      const g = storage.group(1);
      await g.load();
      const fsyncs = storage.writer.stats.fsyncs;
      const saved = g.save({ apply: { ops: [{ type: 'put', key: b('k1'), value: b('v1') }, { type: 'put', key: b('k2'), value: b('v2') }], applied: 1 } });
      assert.equal(new TextDecoder().decode((await g.appReader().get(b('k1')))!), 'v1');
      const keys: string[] = [];
      for await (const [k] of g.appReader().iterate()) keys.push(new TextDecoder().decode(k));
      assert.deepEqual(keys, ['k1', 'k2']);
      await saved;
      assert.equal(storage.writer.stats.fsyncs, fsyncs, 'apply-only batches are not fsynced');
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('log keys sort in (group, index) order byte-wise', () => {
    const keys = [[1, 256], [1, 255], [2, 0], [1, 2 ** 40], [0, 9]].map(([g, i]) => Buffer.from(logKey(g!, i!)));
    const sorted = [...keys].sort(Buffer.compare).map((k) => keys.indexOf(k));
    assert.deepEqual(sorted, [4, 1, 0, 3, 2]);
  });

  test('groups are isolated and many groups saving in one turn share one fsync', async () => {
    const dir = tempDir();
    try {
      let storage = await LevelRaftStorage.open(dir);
      const groups = [1, 2, 3, 256, 65536];
      for (const g of groups) await storage.group(g).load();
      const before = storage.writer.stats.batches;
      await Promise.all(groups.map((g) => storage.group(g).save({
        entries: ents(1, g % 7 + 1, g), hardState: { term: g, vote: 1, commit: 1 },
      })));
      assert.equal(storage.writer.stats.batches - before, 1);
      assert.equal(storage.writer.stats.entries, groups.reduce((n, g) => n + (g % 7) + 1, 0));
      await storage.close();
      storage = await LevelRaftStorage.open(dir);
      for (const g of groups) {
        const s = await storage.group(g).load();
        assert.equal(s.hardState.term, g);
        assert.deepEqual(s.entries.map((e) => [e.index, e.term]), ents(1, g % 7 + 1, g).map((e) => [e.index, e.term]));
      }
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('writes submitted while a batch is in flight are folded into the next one', async () => {
    const dir = tempDir();
    try {
      const storage = await LevelRaftStorage.open(dir);
      const s = storage.group(1);
      await s.load();
      const first = s.save({ entries: ents(1, 1, 1) });
      await new Promise((r) => setImmediate(r)); // first batch now in flight
      const rest = [2, 3, 4, 5].map((i) => s.save({ entries: ents(i, i, 1) }));
      await Promise.all([first, ...rest]);
      assert.ok(storage.writer.stats.batches <= 3, `batches=${storage.writer.stats.batches}`);
      assert.equal(storage.writer.stats.entries, 5);
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a hard state changing only the commit index is written without fsync (etcd MustSync)', async () => {
    const dir = tempDir();
    try {
      let storage = await LevelRaftStorage.open(dir);
      const s = storage.group(1);
      await s.load();
      await s.save({ entries: ents(1, 3, 1), hardState: { term: 1, vote: 2, commit: 0 } });
      const synced = storage.writer.stats.fsyncs;
      await s.save({ hardState: { term: 1, vote: 2, commit: 3 } });
      assert.equal(storage.writer.stats.fsyncs, synced);
      await s.save({ hardState: { term: 2, vote: 0, commit: 3 } }); // term change: fsync
      assert.equal(storage.writer.stats.fsyncs, synced + 1);
      await storage.close();
      storage = await LevelRaftStorage.open(dir);
      assert.deepEqual((await storage.group(1).load()).hardState, { term: 2, vote: 0, commit: 3 });
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('after kill -9 the store holds every acknowledged save, contiguous', async () => {
    const dir = tempDir();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crash-writer.ts'), dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let acked = 0;
      let buf = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop() ?? '';
          for (const l of lines) acked = Math.max(acked, Number(l));
          if (acked >= 300) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((r) => child.once('exit', r));
      const storage = await LevelRaftStorage.open(dir);
      const s = await storage.group(3).load();
      assert.ok(s.entries.length >= acked, `acked ${acked}, found ${s.entries.length}`);
      s.entries.forEach((e, i) => assert.equal(e.index, i + 1));
      assert.ok(s.hardState.commit >= acked && s.hardState.commit <= s.entries.length);
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
