// Coalesced heartbeats on the real stack: three RaftHosts, 200 groups each (the real core, memory
// stores), connected by RaftTransport over loopback gRPC. Every group elects a leader and commits
// a proposal on all three nodes, ReadIndex works on followers, and while the groups idle, their heartbeats and responses travel
// almost entirely in the batches' compact lists (src/raft/transport/coalesce.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCore } from '../../src/raft/node/adapter.js';
import { RaftHost } from '../../src/raft/node/host.js';
import { MemoryLogStore } from '../../src/raft/storage/memory.js';
import { RaftTransport } from '../../src/raft/transport/transport.js';
import type { TransportStats } from '../../src/raft/transport/transport.js';
import { ListApp, utf8 } from './list-app.js';

const IDS = [1, 2, 3];
const GROUPS = Array.from({ length: 200 }, (_, i) => i + 1);

interface Node {
  id: number;
  host: RaftHost;
  transport: RaftTransport;
  apps: Map<number, ListApp>;
}

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startNode(id: number): Promise<Node> {
  let transport: RaftTransport | undefined;
  const host = new RaftHost({ tickIntervalMs: 50, sender: { send: (g, msgs) => transport?.send(g, msgs) } });
  const apps = new Map<number, ListApp>();
  for (const g of GROUPS) {
    const store = new MemoryLogStore();
    const core = await openCore({ id, voters: IDS, store, electionTicks: 10, heartbeatTicks: 2, seed: id * 1000 + g });
    const app = new ListApp();
    apps.set(g, app);
    host.addGroup(g, core, store, app);
  }
  transport = await RaftTransport.start({
    nodeId: id, host: '127.0.0.1', port: 0, onMessage: (g, m) => host.step(g, m),
  });
  return { id, host, transport, apps };
}

/** Messages sent / sent coalesced / received coalesced, summed over a node's peers. */
function totals(s: TransportStats): { sent: number; coalesced: number; receivedCoalesced: number } {
  let sent = 0;
  let coalesced = 0;
  for (const p of Object.values(s.peers)) {
    sent += p.sentMessages;
    coalesced += p.coalescedHeartbeats;
  }
  return { sent, coalesced, receivedCoalesced: s.receivedCoalescedHeartbeats };
}

test('200 groups on 3 nodes elect, commit, read and heartbeat through the compact lists', async (t) => {
  const nodes: Node[] = [];
  try {
    for (const id of IDS) nodes.push(await startNode(id));
    for (const a of nodes) for (const b of nodes) a.transport.addPeer(b.id, `127.0.0.1:${b.transport.port}`);
    for (const n of nodes) n.host.start();

    const leaderOf = (g: number): Node | undefined => {
      const ls = nodes.filter((n) => n.host.group(g).isLeader());
      return ls.length === 1 ? ls[0] : undefined;
    };
    await until(() => GROUPS.every((g) => leaderOf(g) !== undefined), 'a leader in every group');

    // One command per group through its leader: resolved once committed and applied there...
    await Promise.all(GROUPS.map(async (g) => {
      for (;;) {
        const leader = leaderOf(g);
        if (leader) {
          try {
            return await leader.host.propose(g, utf8(`cmd ${g}`));
          } catch { /* leadership moved: retry on the new leader */ }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }));
    // ...and applied on every replica (followers learn the commit index from appends and heartbeats).
    await until(() => nodes.every((n) => GROUPS.every((g) => n.apps.get(g)!.cmds.includes(`cmd ${g}`))),
      'every command applied on all three nodes');

    // ReadIndex confirms leadership by a heartbeat round carrying a context: on a follower of
    // every tenth group, through the compact lists both ways.
    const reads = await Promise.all(GROUPS.filter((g) => g % 10 === 0).map((g) =>
      nodes.find((n) => n !== leaderOf(g))!.host.group(g).readIndex()));
    assert.ok(reads.every((index) => index >= 2), `read indexes ${reads.join(',')}`);

    // Idle: only heartbeats and their responses flow, and they go coalesced.
    const before = nodes.map((n) => totals(n.transport.stats()));
    await new Promise((r) => setTimeout(r, 1_000));
    nodes.forEach((n, i) => {
      const now = totals(n.transport.stats());
      const sent = now.sent - before[i]!.sent;
      const coalesced = now.coalesced - before[i]!.coalesced;
      const received = now.receivedCoalesced - before[i]!.receivedCoalesced;
      // Each group sends at least 2 heartbeats or responses per heartbeat interval (100 ms).
      assert.ok(sent >= 200, `node ${n.id}: only ${sent} messages sent while idle`);
      assert.ok(coalesced >= 0.95 * sent, `node ${n.id}: ${coalesced} of ${sent} messages coalesced while idle`);
      assert.ok(received > 0, `node ${n.id}: no coalesced heartbeat received`);
      t.diagnostic(`node ${n.id} idle 1 s: ${sent} messages sent, ${coalesced} coalesced; ${received} received coalesced`);
    });
    // Nothing was lost on the way: every group still has its leader and all commands.
    assert.ok(GROUPS.every((g) => leaderOf(g) !== undefined));
  } finally {
    for (const n of nodes) n.host.stop();
    for (const n of nodes) await n.transport.close();
  }
});
