// Snapshots through the real driver and the LevelDB store (Raft §7): the application compacts
// through GroupDriver.compact, the snapshot (meta + data) is durable before the core's log forgets
// the entries, and a lagging member with an empty store is brought up by a chunked InstallSnapshot
// — also after every node restarted from its LevelDB directory (the data then comes from disk).
//
// The group has four voters of which node 4 stays down (3 of 4 is a quorum) until the others have
// compacted past everything it could have. It then starts on an empty store, as a new machine
// would. (Wiping a voter that already acknowledged entries is NOT a valid Raft scenario: the
// leader's match index for it would exceed its log, which the core rightly treats as corruption.)
// Nodes run in one process; every message crosses the wire codec (RaftBatch encode/decode).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, Message, Snapshot } from '../../src/raft/core/types.js';
import { EntryType, MessageType } from '../../src/raft/core/types.js';
import { openCore } from '../../src/raft/node/adapter.js';
import type { RaftCore } from '../../src/raft/node/core.js';
import type { GroupApplication } from '../../src/raft/node/group.js';
import { RaftHost } from '../../src/raft/node/host.js';
import { LevelRaftStorage } from '../../src/raft/storage/level.js';
import { MemoryLogStore } from '../../src/raft/storage/memory.js';
import { decodeBatch, encodeBatch } from '../../src/raft/transport/codec.js';

const GROUP = 9;
/** Small chunks, so every InstallSnapshot here is reassembled from several messages. */
const CHUNK_BYTES = 256;
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The state machine: the list of applied commands. Its snapshot is that list as JSON. */
class ListApp implements GroupApplication {
  cmds: string[] = [];
  lastIndex = 0;
  readonly restored: Snapshot[] = [];

  apply(entries: readonly Entry[]): void {
    for (const e of entries) {
      // Exactly once, in order, continuing from the snapshot: a gap means lost state.
      if (e.index !== this.lastIndex + 1) throw new Error(`apply gap: ${e.index} after ${this.lastIndex}`);
      this.lastIndex = e.index;
      if (e.type === EntryType.Normal && e.data.length > 0) this.cmds.push(text(e.data));
    }
  }

  restore(s: Snapshot): void {
    this.restored.push({ meta: s.meta, data: s.data.slice() });
    this.cmds = JSON.parse(text(s.data)) as string[];
    this.lastIndex = s.meta.index;
  }

  snapshotData(): Uint8Array {
    return utf8(JSON.stringify(this.cmds));
  }
}

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
  private readonly dirs: string[] = [];
  private starts = 0;

  newDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'warren-snap-'));
    this.dirs.push(d);
    return d;
  }

  /** Opens `dir` (empty: a new member that waits for the leader when voters is []). */
  async start(id: number, dir: string, voters: number[]): Promise<Node> {
    const storage = await LevelRaftStorage.open(dir, { sync: false });
    const store = storage.group(GROUP);
    const core = await openCore({
      id, voters, store, electionTicks: 10, heartbeatTicks: 2, seed: id * 31 + this.starts++,
      maxSnapshotChunkBytes: CHUNK_BYTES,
    });
    const host = new RaftHost({
      tickIntervalMs: 10,
      sender: { send: (group, messages) => this.deliver(id, group, messages) },
      onFatal: (err) => this.fatal.push(`node ${id}: ${err.message}`),
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

  /** One RaftBatch per destination, encoded and decoded as on the gRPC stream. */
  private deliver(from: number, group: number, messages: readonly Message[]): void {
    const byTo = new Map<number, Message[]>();
    for (const m of messages) {
      if (m.type === MessageType.Snap) this.snapChunks.set(m.to, (this.snapChunks.get(m.to) ?? 0) + 1);
      const list = byTo.get(m.to) ?? [];
      list.push(m);
      byTo.set(m.to, list);
    }
    for (const [to, list] of byTo) {
      const wire = encodeBatch({ fromNode: from, envelopes: list.map((message) => ({ group, message })) });
      setImmediate(() => {
        for (const env of decodeBatch(wire).envelopes) this.nodes.get(to)?.host.step(env.group, env.message);
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
    Array.from({ length: count }, (_, i) => leader.host.propose(GROUP, utf8(`${prefix}-${i}`))),
  );
  const last = Math.max(...done.map((c) => c.index));
  await until(() => [...net.nodes.values()].every((n) => n.app.lastIndex >= last));
  return last;
}

const cmds = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

const VOTERS = [1, 2, 3, 4];
const LATE = 4;

/**
 * Starts the late member on an empty store without bootstrapping (no voters): it learns the
 * membership and the state only from the leader's snapshot, since the log below it is gone.
 */
function joinLate(net: Net): Promise<Node> {
  return net.start(LATE, net.newDir(), []);
}

describe('snapshots through the driver and the LevelDB store', () => {
  test('§7 a member with an empty store is brought up by a chunked InstallSnapshot of the compacted leader', async () => {
    const net = new Net();
    try {
      for (const id of [1, 2, 3]) await net.start(id, net.newDir(), VOTERS);
      await write(net, 'a', 150);
      const leader = await net.leader();
      // Every node compacts; followers at a lower index, so the leader's snapshot is recognisable.
      const taken = new Map<number, { index: number; data: Uint8Array }>();
      for (const n of net.nodes.values()) {
        const index = n === leader ? n.app.lastIndex : n.app.lastIndex - 20;
        const data = utf8(JSON.stringify(n.app.cmds.slice(0, n.app.cmds.length - (n === leader ? 0 : 20))));
        const meta = await n.host.compact(GROUP, index, data);
        assert.equal(meta.index, index);
        assert.deepEqual([...meta.confState.voters].sort(), VOTERS);
        taken.set(n.id, { index, data });
      }
      await assert.rejects(leader.host.compact(GROUP, leader.app.lastIndex + 50, utf8('x')), /refused.*applied/);
      await assert.rejects(leader.host.compact(GROUP, taken.get(leader.id)!.index, utf8('x')), /not newer/);

      const f = await joinLate(net);
      await until(() => f.app.restored.length > 0);
      const got = f.app.restored[0]!;
      const sent = taken.get(leader.id)!;
      assert.equal(got.meta.index, sent.index);
      assert.deepEqual(Buffer.from(got.data), Buffer.from(sent.data), 'restore() got the leader snapshot data');
      assert.ok(sent.data.length > 2 * CHUNK_BYTES);
      assert.ok((net.snapChunks.get(LATE) ?? 0) >= Math.ceil(sent.data.length / CHUNK_BYTES));
      assert.deepEqual(f.app.cmds, cmds('a', 150));

      // The follower then applies later entries on top of the snapshot, and they are durable there.
      await write(net, 'b', 20);
      assert.deepEqual(f.app.cmds, [...cmds('a', 150), ...cmds('b', 20)]);

      // The installed snapshot was persisted WITH its data: restarting the late member from its
      // store restores it from disk and replays only the entries after it.
      await net.stop(LATE);
      const again = await net.start(LATE, f.dir, []);
      assert.equal(again.app.restored.length, 1, 'restored from the stored snapshot at start');
      assert.deepEqual(Buffer.from(again.app.restored[0]!.data), Buffer.from(sent.data));
      await until(() => again.app.cmds.length >= 170);
      assert.deepEqual(again.app.cmds, [...cmds('a', 150), ...cmds('b', 20)]);
      assert.deepEqual(net.fatal, []);
    } finally {
      await net.close();
    }
  });

  test('after every node restarts from LevelDB, the snapshot data comes from disk', async () => {
    const net = new Net();
    try {
      const dirs = new Map<number, string>();
      for (const id of [1, 2, 3]) {
        dirs.set(id, net.newDir());
        await net.start(id, dirs.get(id)!, VOTERS);
      }
      await write(net, 'a', 100);
      // Distinct snapshot indexes per node, so a restored snapshot names the node it came from.
      const taken = new Map<number, { index: number; data: string }>();
      for (const n of net.nodes.values()) {
        const index = n.app.lastIndex - 5 * n.id;
        const keep = n.app.cmds.length - 5 * n.id;
        const data = JSON.stringify(n.app.cmds.slice(0, keep));
        await n.host.compact(GROUP, index, utf8(data));
        taken.set(n.id, { index, data });
      }
      await write(net, 'b', 10);
      for (const id of [1, 2, 3]) await net.stop(id);

      // On disk: the snapshot with its data, and the log only above it.
      for (const [id, dir] of dirs) {
        const storage = await LevelRaftStorage.open(dir);
        const s = await storage.group(GROUP).load();
        await storage.close();
        assert.equal(s.snapshot?.meta.index, taken.get(id)!.index);
        assert.equal(text(s.snapshot!.data), taken.get(id)!.data);
        assert.equal(s.entries[0]?.index, taken.get(id)!.index + 1);
      }

      // Restart all three from their directories with fresh applications.
      for (const [id, dir] of dirs) await net.start(id, dir, VOTERS);
      const all = [...cmds('a', 100), ...cmds('b', 10)];
      await until(() => [...net.nodes.values()].every((n) => n.app.cmds.length >= all.length));
      for (const n of net.nodes.values()) {
        assert.equal(text(n.app.restored[0]!.data), taken.get(n.id)!.data, 'restored from the stored snapshot at start');
        assert.deepEqual(n.app.cmds.slice(0, all.length), all);
      }

      const leader = await net.leader();
      const f = await joinLate(net);
      await until(() => f.app.restored.length > 0);
      assert.equal(f.app.restored[0]!.meta.index, taken.get(leader.id)!.index);
      assert.equal(text(f.app.restored[0]!.data), taken.get(leader.id)!.data, 'the restarted leader sent its stored data');
      assert.ok((net.snapChunks.get(LATE) ?? 0) > 1);
      await write(net, 'c', 5);
      assert.deepEqual(f.app.cmds.slice(0, all.length + 5), [...all, ...cmds('c', 5)]);
      assert.deepEqual(net.fatal, []);
    } finally {
      await net.close();
    }
  });

  test('compact() makes the snapshot durable before the core forgets the entries', async () => {
    const order: string[] = [];
    const inner = new MemoryLogStore();
    const store = {
      load: () => inner.load(),
      save: (req: Parameters<MemoryLogStore['save']>[0]) => inner.save(req),
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
    const host = new RaftHost({ tickIntervalMs: 5, sender: { send: () => undefined } });
    const app = new ListApp();
    const g = host.addGroup(GROUP, core, store, app);
    host.start();
    try {
      await until(() => g.isLeader());
      for (let i = 0; i < 5; i++) await g.propose(utf8(`x-${i}`));
      const at = app.lastIndex;
      const meta = await g.compact(at, app.snapshotData());
      assert.deepEqual(order, [`store.compact ${at} start`, `store.compact ${at} durable`, `core.compact ${at}`]);
      assert.equal(g.snapshotMeta().index, at);
      assert.equal(meta.index, at);
      const persisted = await inner.load();
      assert.equal(persisted.entries.length, 0);
      assert.deepEqual(JSON.parse(text(persisted.snapshot!.data)), cmds('x', 5));
      // Proposals keep committing on top of the compacted log.
      await g.propose(utf8('after'));
      assert.deepEqual(app.cmds, [...cmds('x', 5), 'after']);
    } finally {
      host.stop();
    }
  });
});
