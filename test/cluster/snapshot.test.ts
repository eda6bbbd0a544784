// Snapshots through the real driver and the LevelDB store (Raft §7). A snapshot is the group's
// application keys: the log is compacted up to the durably applied index (by policy or
// GroupDriver.compact), and a lagging member with an empty store is brought up by the leader's
// keys, read through a LevelDB snapshot and streamed in chunks paced by SnapAck, written into a
// staged key range and made current atomically with the snapshot meta — also after every node
// restarted from its LevelDB directory.
//
// The group has four voters of which node 4 stays down (3 of 4 is a quorum) until the others have
// compacted past everything it could have. It then starts on an empty store, as a new machine
// would. Nodes run in one process; every message crosses the wire codec (RaftBatch encode/decode).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, Snapshot } from '../../src/raft/core/types.js';
import { MessageType } from '../../src/raft/core/types.js';
import { openCore } from '../../src/raft/node/adapter.js';
import type { CompactionPolicy } from '../../src/raft/node/compaction.js';
import type { RaftCore } from '../../src/raft/node/core.js';
import { RaftHost } from '../../src/raft/node/host.js';
import { LevelRaftStorage } from '../../src/raft/storage/level.js';
import { MemoryLogStore } from '../../src/raft/storage/memory.js';
import { decodeBatch, encodeBatch } from '../../src/raft/transport/codec.js';
import { coalesce, expand } from '../../src/raft/transport/coalesce.js';
import { ListApp, utf8 } from './list-app.js';

const GROUP = 9;
/** Small chunks, so every InstallSnapshot here is streamed as several messages. */
const CHUNK_BYTES = 256;
const NO_AUTO_COMPACTION: CompactionPolicy = { everyEntries: 0, keepEntries: 0, maxKeepForFollowers: 0 };

interface Node {
  readonly id: number;
  readonly dir: string;
  readonly storage: LevelRaftStorage;
  readonly host: RaftHost;
  readonly app: ListApp;
}

class Net {
  readonly nodes = new Map<number, Node>();
  readonly fatal: string[] = [];
  /** Snap chunks sent, per destination. */
  readonly snapChunks = new Map<number, number>();
  /** Return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  private readonly dirs: string[] = [];
  private starts = 0;

  constructor(private readonly compaction: CompactionPolicy = NO_AUTO_COMPACTION) {}

  newDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'warren-snap-'));
    this.dirs.push(d);
    return d;
  }

  /** Opens `dir` (empty: a new member that waits for the leader when voters is []). */
  async start(id: number, dir: string, voters: number[]): Promise<Node> {
    const storage = await LevelRaftStorage.open(dir, { sync: false });
    const store = storage.group(GROUP);
    const core = await openCore({ id, voters, store, electionTicks: 10, heartbeatTicks: 2, seed: id * 31 + this.starts++ });
    const host = new RaftHost({
      tickIntervalMs: 10,
      sender: { send: (group, messages) => this.deliver(id, group, messages) },
      onFatal: (err) => this.fatal.push(`node ${id}: ${err.message}`),
      snapshots: { chunkBytes: CHUNK_BYTES },
      compaction: this.compaction,
    });
    const app = new ListApp();
    host.addGroup(GROUP, core, store, app);
    host.start();
    const node: Node = { id, dir, storage, host, app };
    this.nodes.set(id, node);
    return node;
  }

  async stop(id: number): Promise<void> {
    const n = this.nodes.get(id);
    if (!n) return;
    this.nodes.delete(id);
    n.host.stop();
    await n.storage.close();
  }

  async close(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.stop(id);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }

  /** One RaftBatch per destination, coalesced, encoded and decoded as on the gRPC stream. */
  private deliver(from: number, group: number, messages: readonly Message[]): void {
    const byTo = new Map<number, Message[]>();
    for (const m of messages.filter((x) => this.filter(x))) {
      if (m.type === MessageType.Snap) this.snapChunks.set(m.to, (this.snapChunks.get(m.to) ?? 0) + 1);
      const list = byTo.get(m.to) ?? [];
      list.push(m);
      byTo.set(m.to, list);
    }
    for (const [to, list] of byTo) {
      const wire = encodeBatch(coalesce(from, to, list.map((message) => ({ group, message }))));
      setImmediate(() => {
        for (const env of expand(decodeBatch(wire))) this.nodes.get(to)?.host.step(env.group, env.message);
      });
    }
  }

  async leader(): Promise<Node> {
    let found: Node | undefined;
    await until(() => {
      found = [...this.nodes.values()].find((n) => n.host.group(GROUP).isLeader());
      return found !== undefined;
    });
    return found!;
  }
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Proposes `count` commands on the leader and waits until every node applied them. */
async function write(net: Net, prefix: string, count: number): Promise<number> {
  const leader = await net.leader();
  const done = await Promise.all(
    Array.from({ length: count }, (_, i) => leader.host.propose<string>(GROUP, utf8(`${prefix}-${i}`))),
  );
  done.forEach((c, i) => assert.equal(c.result, `applied ${prefix}-${i} at ${c.index}`));
  const last = Math.max(...done.map((c) => c.index));
  await until(() => [...net.nodes.values()].every((n) => n.app.lastIndex >= last));
  return last;
}

const cmds = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

const VOTERS = [1, 2, 3, 4];
const LATE = 4;

/** All application keys of a node's group, as hex pairs. */
async function keysOf(n: Node): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of n.storage.group(GROUP).appReader().iterate()) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
  return out;
}

describe('streamed snapshots through the driver and the LevelDB store', () => {
  test('§7 a member with an empty store is brought up by the compacted leader\'s keys, streamed in chunks', async () => {
    const net = new Net();
    try {
      for (const id of [1, 2, 3]) await net.start(id, net.newDir(), VOTERS);
      await write(net, 'a', 150);
      const leader = await net.leader();
      for (const n of net.nodes.values()) {
        const meta = await n.host.compact(GROUP);
        assert.equal(meta.index, n.host.group(GROUP).stats.durableApplied);
        assert.deepEqual([...meta.confState.voters].sort(), VOTERS);
      }
      await assert.rejects(leader.host.compact(GROUP, leader.app.lastIndex + 50), /refused.*applied/);
      await assert.rejects(leader.host.compact(GROUP, leader.host.group(GROUP).snapshotMeta().index), /not newer/);

      const f = await net.start(LATE, net.newDir(), []);
      await until(() => f.app.recovers.some((r) => r.reason === 'snapshot'));
      const rec = f.app.recovers.find((r) => r.reason === 'snapshot')!;
      assert.ok(rec.appliedIndex >= 150, 'the snapshot holds everything applied on the leader');
      assert.deepEqual(f.app.cmds, cmds('a', 150), 'recover() rebuilt the state from the installed keys');
      assert.deepEqual(await keysOf(f), await keysOf(leader));
      assert.ok((net.snapChunks.get(LATE) ?? 0) > 3, `streamed in chunks (${net.snapChunks.get(LATE)})`);
      assert.equal(leader.host.group(GROUP).snapshotSender.stats.completed, 1);

      // The follower applies later entries on top of the snapshot, and they are durable there.
      await write(net, 'b', 20);
      assert.deepEqual(f.app.cmds, [...cmds('a', 150), ...cmds('b', 20)]);

      // Restarting the late member: its state is its keys, it resumes after its durable applied
      // index and re-applies nothing (ListApp throws on a repeat).
      await until(() => f.host.group(GROUP).stats.durableApplied >= f.app.lastIndex);
      const appliedBefore = f.app.lastIndex;
      await net.stop(LATE);
      const again = await net.start(LATE, f.dir, []);
      await until(() => again.app.recovers.length > 0);
      assert.deepEqual(again.app.recovers[0], { reason: 'start', appliedIndex: appliedBefore });
      assert.deepEqual(again.app.cmds, [...cmds('a', 150), ...cmds('b', 20)]);
      await write(net, 'c', 5);
      assert.deepEqual(again.app.cmds.slice(-5), cmds('c', 5));
      assert.deepEqual(net.fatal, []);
    } finally {
      await net.close();
    }
  });

  test('after every node restarts from LevelDB, the leader streams its keys from disk; lost chunks restart the stream', async () => {
    const net = new Net();
    try {
      const dirs = new Map<number, string>();
      for (const id of [1, 2, 3]) {
        dirs.set(id, net.newDir());
        await net.start(id, dirs.get(id)!, VOTERS);
      }
      await write(net, 'a', 100);
      for (const n of net.nodes.values()) await n.host.compact(GROUP);
      await write(net, 'b', 10);
      // Followers learn the last commit index a heartbeat later than the leader, and application
      // writes are held back a few ticks (write-behind): wait until every node has durably applied
      // the last entry, so what is read below is what is on disk.
      for (let i = 0; i < 500; i++) {
        const st = [...net.nodes.values()].map((n) => n.host.group(GROUP).stats);
        if (new Set(st.map((x) => x.durableApplied)).size === 1 && st.every((x) => x.durableApplied === x.appliedIndex)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const applied = new Map([...net.nodes.values()].map((n) => [n.id, n.host.group(GROUP).stats.durableApplied]));
      const snaps = new Map([...net.nodes.values()].map((n) => [n.id, n.host.group(GROUP).snapshotMeta().index]));
      for (const id of [1, 2, 3]) await net.stop(id);

      // On disk: the snapshot meta, the log only above it, and the applied index.
      for (const [id, dir] of dirs) {
        const storage = await LevelRaftStorage.open(dir);
        const s = await storage.group(GROUP).load();
        await storage.close();
        assert.equal(s.snapshot?.meta.index, snaps.get(id));
        assert.equal(s.entries[0]?.index, snaps.get(id)! + 1);
        assert.equal(s.applied, applied.get(id));
      }

      for (const [id, dir] of dirs) await net.start(id, dir, VOTERS);
      const all = [...cmds('a', 100), ...cmds('b', 10)];
      await until(() => [...net.nodes.values()].every((n) => n.app.recovers.length > 0));
      for (const n of net.nodes.values()) assert.deepEqual(n.app.cmds, all, 'recovered from the keys at start');

      // Drop the third chunk of the first stream: the follower rejects the gap, the leader restarts.
      let snapsSeen = 0;
      net.filter = (m) => m.type !== MessageType.Snap || ++snapsSeen !== 3;
      const leader = await net.leader();
      const f = await net.start(LATE, net.newDir(), []);
      await until(() => f.app.recovers.some((r) => r.reason === 'snapshot'), 20_000);
      assert.deepEqual(f.app.cmds, all);
      const sender = leader.host.group(GROUP).snapshotSender.stats;
      assert.ok(sender.failed >= 1 && sender.completed === 1, JSON.stringify(sender));
      await write(net, 'c', 5);
      assert.deepEqual(f.app.cmds, [...all, ...cmds('c', 5)]);
      assert.deepEqual(net.fatal, []);
    } finally {
      await net.close();
    }
  });

  test('the compaction policy compacts the log on its own, up to the durable applied index minus the tail', async () => {
    const net = new Net({ everyEntries: 40, keepEntries: 10, maxKeepForFollowers: 100 });
    try {
      for (const id of [1, 2, 3]) await net.start(id, net.newDir(), [1, 2, 3]);
      await write(net, 'a', 120);
      await until(() => [...net.nodes.values()].every((n) => n.host.group(GROUP).stats.compactions > 0));
      for (const n of net.nodes.values()) {
        const g = n.host.group(GROUP);
        const snap = g.snapshotMeta().index;
        assert.ok(snap <= g.stats.durableApplied - 10, `snapshot ${snap} keeps a tail below ${g.stats.durableApplied}`);
        const s = await n.storage.group(GROUP).load();
        assert.equal(s.entries[0]?.index, snap + 1, 'entries up to the compaction point are deleted');
      }
      assert.deepEqual(net.fatal, []);
    } finally {
      await net.close();
    }
  });

  test('compact() makes the snapshot meta durable before the core forgets the entries', async () => {
    const order: string[] = [];
    const inner = new MemoryLogStore();
    const store = {
      load: () => inner.load(),
      save: (req: Parameters<MemoryLogStore['save']>[0]) => inner.save(req),
      appReader: () => inner.appReader(),
      openSnapshot: () => inner.openSnapshot(),
      beginInstall: () => inner.beginInstall(),
      async compact(s: Snapshot): Promise<void> {
        order.push(`store.compact ${s.meta.index} start`);
        await new Promise((r) => setTimeout(r, 30));
        await inner.compact(s);
        order.push(`store.compact ${s.meta.index} durable`);
      },
    };
    const real = await openCore({ id: 1, voters: [1], store, electionTicks: 10, heartbeatTicks: 2, seed: 1 });
    const core: RaftCore = Object.assign(Object.create(real) as RaftCore, {
      compact(index: number): void {
        order.push(`core.compact ${index}`);
        real.compact(index);
      },
    });
    const host = new RaftHost({ tickIntervalMs: 5, sender: { send: () => undefined }, compaction: NO_AUTO_COMPACTION });
    const app = new ListApp();
    const g = host.addGroup(GROUP, core, store, app);
    host.start();
    try {
      await until(() => g.isLeader());
      for (let i = 0; i < 5; i++) await g.propose(utf8(`x-${i}`));
      const at = app.lastIndex;
      const meta = await g.compact(at);
      assert.deepEqual(order, [`store.compact ${at} start`, `store.compact ${at} durable`, `core.compact ${at}`]);
      assert.equal(g.snapshotMeta().index, at);
      assert.equal(meta.index, at);
      const persisted = await inner.load();
      assert.equal(persisted.entries.length, 0);
      assert.equal(persisted.applied, at);
      assert.equal(inner.appEntries().length, 5, 'the state is the application keys');
      await g.propose(utf8('after'));
      assert.deepEqual(app.cmds, [...cmds('x', 5), 'after']);
    } finally {
      host.stop();
    }
  });
});
