// The driver (src/raft/node) with the real core, three hosts in one process wired by an
// in-memory network: proposals, not-leader rejections, and the persist-before-send order.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, Message } from '../../src/raft/core/types.js';
import { EntryType, MessageType } from '../../src/raft/core/types.js';
import { ConfChangeType } from '../../src/raft/core/index.js';
import { openCore } from '../../src/raft/node/adapter.js';
import { RaftHost } from '../../src/raft/node/host.js';
import { MemoryLogStore } from '../../src/raft/storage/memory.js';
import type { RaftLogStore, SaveRequest } from '../../src/raft/storage/store.js';
import type { RoleInfo } from '../../src/raft/node/app.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelRaftStorage } from '../../src/raft/storage/level.js';
import { removingKey } from '../../src/raft/storage/keys.js';
import { ListApp, utf8 } from './list-app.js';

const GROUP = 5;

/** Delays every save (a slow disk) and remembers what is durable, so sends can be checked. */
class SlowStore implements RaftLogStore {
  durableTerm = 0;
  durableVote = 0;
  durableLastIndex = 0;
  constructor(private readonly inner: MemoryLogStore, private readonly delayMs: number) {}
  load() {
    return this.inner.load();
  }
  async save(req: SaveRequest): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    await this.inner.save(req);
    const last = req.entries?.[req.entries.length - 1];
    if (last) this.durableLastIndex = last.index;
    if (req.hardState) {
      this.durableTerm = req.hardState.term;
      this.durableVote = req.hardState.vote;
    }
  }
  compact(meta: Parameters<RaftLogStore['compact']>[0]) {
    return this.inner.compact(meta);
  }
  appReader() {
    return this.inner.appReader();
  }
  openSnapshot() {
    return this.inner.openSnapshot();
  }
  beginInstall() {
    return this.inner.beginInstall();
  }
}

interface Cluster {
  hosts: Map<number, RaftHost>;
  applied: Map<number, Entry[]>;
  /** Every app.roleChanged call, per node, in order. */
  roles: Map<number, RoleInfo[]>;
  violations: string[];
  stop(): void;
}

async function cluster(ids: number[], delayMs = 2, votersOf: (id: number) => number[] = () => ids): Promise<Cluster> {
  const hosts = new Map<number, RaftHost>();
  const applied = new Map<number, Entry[]>();
  const roles = new Map<number, RoleInfo[]>();
  const violations: string[] = [];
  for (const id of ids) {
    const store = new SlowStore(new MemoryLogStore(), delayMs);
    const core = await openCore({ id, voters: votersOf(id), store, electionTicks: 10, heartbeatTicks: 2, seed: id });
    const host = new RaftHost({
      tickIntervalMs: 10,
      sender: {
        send(group, messages: readonly Message[]) {
          // Persist-before-send: what a message promises must already be durable here.
          for (const m of messages) {
            const v = promiseBroken(m, store);
            if (v) violations.push(`node ${id}: ${v}`);
          }
          for (const m of messages) setImmediate(() => hosts.get(m.to)?.step(group, m));
        },
      },
    });
    const log: Entry[] = [];
    applied.set(id, log);
    const seen: RoleInfo[] = [];
    roles.set(id, seen);
    host.addGroup(GROUP, core, store, {
      recover: () => undefined,
      // Result per entry: which node applied it and the data's length (the proposer sees its own).
      apply: (es: readonly Entry[]) => {
        log.push(...es);
        return es.map((e) => `n${id}:${e.index}:${e.data.length}`);
      },
      roleChanged: (r: RoleInfo) => {
        seen.push(r);
      },
    });
    hosts.set(id, host);
  }
  for (const h of hosts.values()) h.start();
  return { hosts, applied, roles, violations, stop: () => { for (const h of hosts.values()) h.stop(); } };
}

function promiseBroken(m: Message, s: SlowStore): string | undefined {
  if (m.type === MessageType.PreVote || m.type === MessageType.PreVoteResp) return undefined;
  if (m.term > s.durableTerm) return `sent ${m.type} at term ${m.term} before term ${m.term} was durable`;
  if (m.type === MessageType.VoteResp && !m.reject && s.durableVote !== m.to) return 'granted a vote not yet durable';
  if (m.type === MessageType.AppResp && !m.reject && m.index > s.durableLastIndex) {
    return `acked index ${m.index} with only ${s.durableLastIndex} durable`;
  }
  return undefined;
}

async function leaderOf(c: Cluster): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const [id, h] of c.hosts) if (h.group(GROUP).isLeader()) return id;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no leader');
}

describe('RaftHost driving the real core', () => {
  test('proposals on the leader resolve once committed and applied, on every node in the same order', async () => {
    const c = await cluster([1, 2, 3]);
    try {
      const leader = await leaderOf(c);
      const data = Array.from({ length: 200 }, (_, i) => new TextEncoder().encode(`cmd-${i}`));
      const results = await Promise.all(data.map((d) => c.hosts.get(leader)!.propose(GROUP, d)));
      const indexes = results.map((r) => r.index);
      assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b));
      assert.equal(new Set(indexes).size, 200);
      // the leader applied each before resolving it
      const leaderLog = c.applied.get(leader)!;
      for (const [i, r] of results.entries()) {
        const e = leaderLog.find((x) => x.index === r.index);
        assert.equal(Buffer.from(e!.data).toString(), `cmd-${i}`);
        assert.equal(e!.term, r.term);
      }
      const last = results[results.length - 1]!.index;
      await until(() => [...c.applied.values()].every((l) => l.length >= last));
      const norm = (l: Entry[]) => l.slice(0, last).map((e) => `${e.index}/${e.term}/${e.type}/${Buffer.from(e.data).toString()}`);
      for (const l of c.applied.values()) assert.deepEqual(norm(l), norm(leaderLog));
      assert.equal(leaderLog.filter((e) => e.type === EntryType.ConfChange).length, 3); // bootstrap
      assert.deepEqual(c.violations, []);
    } finally {
      c.stop();
    }
  });

  test('propose() resolves with the result the proposing node\'s apply returned for the entry', async () => {
    const c = await cluster([1, 2, 3]);
    try {
      const leader = await leaderOf(c);
      const r = await c.hosts.get(leader)!.propose<string>(GROUP, new TextEncoder().encode('hello'));
      assert.equal(r.result, `n${leader}:${r.index}:5`);
      const many = await Promise.all([1, 22, 333].map((n) => c.hosts.get(leader)!.propose<string>(GROUP, new Uint8Array(n))));
      assert.deepEqual(many.map((x) => x.result), many.map((x, i) => `n${leader}:${x.index}:${[1, 22, 333][i]}`));
    } finally {
      c.stop();
    }
  });

  test('roleChanged: once at start, then on every term/leader change, as Ra\'s state_enter', async () => {
    const c = await cluster([1, 2, 3]);
    try {
      for (const seen of c.roles.values()) assert.deepEqual(seen[0], { term: 1, leader: 0, isLeader: false }, 'reported at start');
      const leader = await leaderOf(c);
      await until(() => [...c.hosts.values()].every((h) => h.group(GROUP).leader() === leader));
      const term = c.roles.get(leader)!.at(-1)!.term;
      assert.deepEqual(c.roles.get(leader)!.at(-1), { term, leader, isLeader: true });
      for (const id of [1, 2, 3].filter((x) => x !== leader)) {
        await until(() => c.roles.get(id)!.at(-1)?.leader === leader);
        assert.deepEqual(c.roles.get(id)!.at(-1), { term, leader, isLeader: false });
      }
      for (const seen of c.roles.values()) {
        for (let i = 1; i < seen.length; i++) {
          const [a, b] = [seen[i - 1]!, seen[i]!];
          assert.ok(b.term > a.term || (b.term === a.term && b.leader !== a.leader), 'only changes are reported');
          assert.ok(b.term >= a.term, 'terms never go back');
        }
      }
      // A transfer: the old leader learns it lost leadership, the target that it leads a new term.
      const target = [1, 2, 3].find((id) => id !== leader)!;
      c.hosts.get(leader)!.group(GROUP).transferLeadership(target);
      await until(() => c.roles.get(target)!.at(-1)?.isLeader === true);
      await until(() => c.roles.get(leader)!.at(-1)?.isLeader === false);
      assert.ok(c.roles.get(target)!.at(-1)!.term > term);
    } finally {
      c.stop();
    }
  });

  test('a follower rejects proposals with `raft: not leader` and the leader hint', async () => {
    const c = await cluster([1, 2, 3]);
    try {
      const leader = await leaderOf(c);
      await until(() => [...c.hosts.values()].every((h) => h.group(GROUP).leader() === leader));
      const follower = [1, 2, 3].find((id) => id !== leader)!;
      await assert.rejects(c.hosts.get(follower)!.propose(GROUP, new Uint8Array([1])), (err: Error & { code?: string; leaderHint?: number }) => {
        assert.match(err.message, /^raft: not leader/);
        assert.equal(err.code, 'RAFT_NOT_LEADER');
        assert.equal(err.leaderHint, leader);
        return true;
      });
      await assert.rejects(c.hosts.get(leader)!.propose(99, new Uint8Array([1])), /group 99 is not hosted/);
    } finally {
      c.stop();
    }
  });
});

describe('membership, leadership transfer and ReadIndex through the driver', () => {
  const enc = (t: string): Uint8Array => new TextEncoder().encode(t);

  test('§4.2.1/§4.3 a new node joins as a learner, is promoted, and the old leader is removed', async () => {
    // Node 4 starts with an empty store and no membership: it learns everything from the leader.
    const c = await cluster([1, 2, 3, 4], 2, (id) => (id === 4 ? [] : [1, 2, 3]));
    try {
      const leader = await leaderOf(c);
      const g = (id: number) => c.hosts.get(id)!.group(GROUP);
      for (let i = 0; i < 20; i++) await g(leader).propose(enc(`before-${i}`));
      await g(leader).changeMembership({ type: ConfChangeType.AddLearner, nodeId: 4 });
      const caughtUp = g(leader).stats.appliedIndex;
      await until(() => g(4).stats.appliedIndex >= caughtUp);
      await g(leader).changeMembership({ type: ConfChangeType.AddNode, nodeId: 4 });
      // While its own removal is in the log, the leader refuses further proposals.
      const removal = g(leader).changeMembership({ type: ConfChangeType.RemoveNode, nodeId: leader });
      await assert.rejects(g(leader).changeMembership({ type: ConfChangeType.RemoveNode, nodeId: 4 }),
        /raft: proposal dropped: leader is being removed from the group/);
      await removal;
      // The removed leader steps down; the others elect a new one that serves proposals.
      let next = 0;
      await until(() => {
        next = [1, 2, 3, 4].find((id) => id !== leader && g(id).isLeader()) ?? 0;
        return next !== 0;
      });
      const r = await g(next).propose(enc('after'));
      await until(() => [1, 2, 3, 4].filter((id) => id !== leader).every((id) => g(id).stats.appliedIndex >= r.index));
      const log4 = c.applied.get(4)!.map((e) => Buffer.from(e.data).toString());
      assert.ok(log4.includes('before-0') && log4.includes('after'), 'node 4 has entries from before it joined and after');
      assert.deepEqual(c.violations, []);
    } finally {
      c.stop();
    }
  });

  test('§3.10 leadership transfer hands the group to the chosen follower', async () => {
    const c = await cluster([1, 2, 3]);
    try {
      const leader = await leaderOf(c);
      const g = (id: number) => c.hosts.get(id)!.group(GROUP);
      await g(leader).propose(enc('x'));
      const target = [1, 2, 3].find((id) => id !== leader)!;
      g(leader).transferLeadership(target);
      await until(() => g(target).isLeader());
      await g(target).propose(enc('served by the new leader'));
    } finally {
      c.stop();
    }
  });

  test('§6.4 ReadIndex without a known leader rejects its promise instead of throwing (found by the simulator)', async () => {
    // Nodes 2 and 3 never start: node 1 knows no leader.
    const c = await cluster([1], 2, () => [1, 2, 3]);
    try {
      const g = c.hosts.get(1)!.group(GROUP);
      let p: Promise<number> | undefined;
      assert.doesNotThrow(() => { p = g.readIndex(); });
      await assert.rejects(p!, /raft: proposal dropped: no leader/);
    } finally {
      c.stop();
    }
  });

  test('§6.4 ReadIndex: a read point on the leader and on a follower covers every write acknowledged before it', async () => {
    const c = await cluster([1, 2, 3]);
    try {
      const leader = await leaderOf(c);
      const g = (id: number) => c.hosts.get(id)!.group(GROUP);
      let lastWrite = 0;
      for (let i = 0; i < 30; i++) lastWrite = (await g(leader).propose(enc(`w-${i}`))).index;
      const atLeader = await g(leader).readIndex();
      assert.ok(atLeader >= lastWrite, `leader read point ${atLeader} < write ${lastWrite}`);
      const follower = [1, 2, 3].find((id) => id !== leader)!;
      const atFollower = await g(follower).readIndex();
      assert.ok(atFollower >= lastWrite, `follower read point ${atFollower} < write ${lastWrite}`);
      assert.ok(g(follower).stats.appliedIndex >= atFollower, 'resolved only once applied locally');
    } finally {
      c.stop();
    }
  });
});

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('groups created and removed at run time', () => {
  test('a host creates groups from its LevelDB storage, and removing one deletes every key of it', async () => {
    const ids = [1, 2, 3];
    const dirs = ids.map(() => mkdtempSync(join(tmpdir(), 'warren-groups-')));
    const storages = await Promise.all(dirs.map((d) => LevelRaftStorage.open(d, { sync: false })));
    const hosts = new Map<number, RaftHost>();
    ids.forEach((id, i) => {
      hosts.set(id, new RaftHost({
        tickIntervalMs: 10,
        storage: storages[i]!,
        sender: { send: (group, ms) => { for (const m of ms) setImmediate(() => hosts.get(m.to)?.step(group, m)); } },
      }));
    });
    const apps = new Map<string, ListApp>();
    const create = (id: number, g: number) => {
      const app = new ListApp();
      apps.set(`${id}/${g}`, app);
      return hosts.get(id)!.createGroup(g, { id, voters: ids, electionTicks: 10, heartbeatTicks: 2, seed: id * 100 + g }, app);
    };
    const keysOfGroup = async (i: number, g: number): Promise<string[]> => {
      const out: string[] = [];
      for await (const k of storages[i]!.db.keys()) {
        const b = Buffer.from(k);
        const slash = b.indexOf(0x2f);
        if (b.readUInt32BE(slash + 1) === g) out.push(b.subarray(0, slash).toString());
      }
      return out;
    };
    try {
      for (const h of hosts.values()) h.start();
      for (const g of [7, 8]) for (const id of ids) await create(id, g);
      const leaderOfGroup = async (g: number) => {
        let l: RaftHost | undefined;
        await until(() => (l = [...hosts.values()].find((h) => h.group(g).isLeader())) !== undefined);
        return l!;
      };
      for (const g of [7, 8]) {
        const l = await leaderOfGroup(g);
        for (let i = 0; i < 10; i++) await l.propose(g, utf8(`g${g}-${i}`));
      }
      await until(() => ids.every((id) => apps.get(`${id}/7`)!.cmds.length === 10));
      // The application's writes are held back a few ticks (write-behind) before they are written.
      const kinds = async (): Promise<string[]> => [...new Set(await keysOfGroup(0, 7))].sort();
      await until(async () => (await kinds()).length === 4);
      assert.deepEqual(await kinds(), ['app', 'applied', 'hs', 'log']);

      for (const h of hosts.values()) await h.removeGroup(7);
      for (const i of [0, 1, 2]) assert.deepEqual(await keysOfGroup(i, 7), [], 'no key of group 7 is left');
      await assert.rejects(hosts.get(1)!.propose(7, utf8('x')), /group 7 is not hosted/);
      // Group 8 is untouched and keeps serving.
      const l8 = await leaderOfGroup(8);
      await l8.propose(8, utf8('still here'));
      assert.ok((await keysOfGroup(0, 8)).length > 0);

      // The same id created again starts empty: a new group.
      for (const id of ids) await create(id, 7);
      const l7 = await leaderOfGroup(7);
      await l7.propose(7, utf8('reborn'));
      await until(() => ids.every((id) => apps.get(`${id}/7`)!.cmds.length === 1));
      assert.deepEqual(apps.get('1/7')!.cmds, ['reborn']);
    } finally {
      for (const h of hosts.values()) h.stop();
      for (const s of storages) await s.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  test('a deletion interrupted by a crash is finished when the storage is opened again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-groups-'));
    try {
      let storage = await LevelRaftStorage.open(dir);
      const s = storage.group(5);
      await s.load();
      await s.save({ entries: [{ index: 1, term: 1, type: EntryType.Normal, data: utf8('x') }], hardState: { term: 1, vote: 0, commit: 1 } });
      await s.save({ apply: { ops: [{ type: 'put', key: utf8('k'), value: utf8('v') }], applied: 1 } });
      // Only the marker made it to disk before the "crash".
      await storage.writer.submit([{ type: 'put', key: removingKey(5), value: new Uint8Array(0) }]);
      await storage.close();
      storage = await LevelRaftStorage.open(dir);
      const keys: string[] = [];
      for await (const k of storage.db.keys()) keys.push(Buffer.from(k).toString('hex'));
      assert.deepEqual(keys, []);
      const fresh = await storage.group(5).load();
      assert.deepEqual({ applied: fresh.applied, entries: fresh.entries.length, term: fresh.hardState.term }, { applied: 0, entries: 0, term: 0 });
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a restarted single voter', () => {
  test('leads before its application is rebuilt; a read point is answered only once the whole log is applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-restart-'));
    const G = 3;
    const open = async (app: ListApp, storage: LevelRaftStorage): Promise<RaftHost> => {
      const host = new RaftHost({ tickIntervalMs: 5, sender: { send: () => {} }, storage });
      host.start();
      await host.createGroup(G, { id: 1, voters: [1], electionTicks: 4, heartbeatTicks: 1 }, app);
      return host;
    };
    try {
      let storage = await LevelRaftStorage.open(dir);
      let host = await open(new ListApp(), storage);
      await until(() => host.group(G).isLeader());
      // Written to the log; the application's writes stay held back (write-behind), so after the
      // restart they come back only from the log tail.
      for (let i = 0; i < 50; i++) await host.propose(G, utf8(`c-${i}`));
      assert.ok(host.group(G).stats.durableApplied < host.group(G).stats.appliedIndex, 'some applied writes are still held back');
      host.stop();
      await storage.close();

      storage = await LevelRaftStorage.open(dir);
      // Rebuilding the application takes a while (a large key range): leadership comes first.
      const slow = new ListApp();
      let recovered = false;
      const recover = slow.recover.bind(slow);
      slow.recover = async (info) => {
        await new Promise((r) => setTimeout(r, 300));
        await recover(info);
        recovered = true;
      };
      host = await open(slow, storage);
      await until(() => host.group(G).isLeader());
      assert.equal(recovered, false, 'the group leads before its application was rebuilt (what a start must not take for ready)');
      await host.group(G).readIndex();
      assert.equal(recovered, true);
      assert.deepEqual(slow.cmds, Array.from({ length: 50 }, (_, i) => `c-${i}`), 'the log tail is applied');
      host.stop();
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
