// Raft throughput over real I/O: one 3-node group in this process, each node with its own
// LevelDB (sync:true, group commit) and gRPC transport on 127.0.0.1. For each batch size B the
// client proposes B entries of 1 KiB at once through the leader and waits for all B to commit and
// apply before the next round. Prints committed entries/s and fsyncs per committed entry.
// A last run shows group commit across groups: GROUPS groups on the same three nodes, each with
// batch size 1, all proposing concurrently (their appends share fsyncs).
//
//   npx tsx scripts/raft-bench.ts [secondsPerRun=5] [batchSizes=1,100] [groups=16]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../src/raft/node/adapter.js';
import { RaftHost } from '../src/raft/node/host.js';
import { LevelRaftStorage } from '../src/raft/storage/level.js';
import { RaftTransport } from '../src/raft/transport/transport.js';

const GROUP = 1;
const ENTRY_BYTES = 1024;
const secondsPerRun = Number(process.argv[2] ?? 5);
const batchSizes = (process.argv[3] ?? '1,100').split(',').map(Number);
const groupCount = Number(process.argv[4] ?? 16);
const groupIds = Array.from({ length: groupCount }, (_, i) => i + 1);

interface BenchNode { id: number; host: RaftHost; storage: LevelRaftStorage; transport: RaftTransport }

async function startCluster(root: string): Promise<BenchNode[]> {
  const ids = [1, 2, 3];
  const nodes: BenchNode[] = [];
  for (const id of ids) {
    const storage = await LevelRaftStorage.open(join(root, `n${id}`));
    let transport: RaftTransport | undefined;
    const host = new RaftHost({ tickIntervalMs: 100, sender: { send: (g, m) => transport?.send(g, m) } });
    for (const g of groupIds) {
      const store = storage.group(g);
      const core = await openCore({ id, voters: ids, store, electionTicks: 10, heartbeatTicks: 1 });
      // Like a partition storing message bodies: every entry's data becomes an application key.
      host.addGroup(g, core, store, {
        recover: () => undefined,
        apply: (es, batch) => es.map((e) => {
          const k = Buffer.alloc(10);
          k.write('q/', 0);
          k.writeBigUInt64BE(BigInt(e.index), 2);
          if (e.data.length > 0) batch.put(k, e.data);
          return undefined;
        }),
      });
    }
    transport = await RaftTransport.start({
      nodeId: id, host: '127.0.0.1', port: 0, onMessage: (g, m) => host.step(g, m),
    });
    nodes.push({ id, host, storage, transport });
  }
  for (const a of nodes) for (const b of nodes) a.transport.addPeer(b.id, `127.0.0.1:${b.transport.port}`);
  for (const n of nodes) n.host.start();
  return nodes;
}

async function leaderOf(nodes: BenchNode[], group = GROUP): Promise<BenchNode> {
  for (;;) {
    const l = nodes.find((n) => n.host.group(group).isLeader());
    if (l) return l;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(nodes: BenchNode[], batch: number): Promise<void> {
  const leader = await leaderOf(nodes);
  const payload = new Uint8Array(ENTRY_BYTES).fill(7);
  const before = nodes.map((n) => ({ ...n.storage.writer.stats }));
  const startMs = Date.now();
  let committed = 0;
  while (Date.now() - startMs < secondsPerRun * 1000) {
    const round: Array<Promise<unknown>> = [];
    for (let i = 0; i < batch; i++) round.push(leader.host.propose(GROUP, payload));
    await Promise.all(round);
    committed += batch;
  }
  const elapsedS = (Date.now() - startMs) / 1000;
  const fsyncs = nodes.map((n, i) => n.storage.writer.stats.fsyncs - before[i]!.fsyncs);
  const leaderIdx = nodes.indexOf(leader);
  const line = [
    `batch=${String(batch).padStart(4)}`,
    `committed=${committed}`,
    `entries/s=${Math.round(committed / elapsedS)}`,
    `leader fsyncs/entry=${(fsyncs[leaderIdx]! / committed).toFixed(3)}`,
    `cluster fsyncs/entry=${(fsyncs.reduce((a, b) => a + b, 0) / committed).toFixed(3)}`,
    `mean round ms=${((elapsedS * 1000) / (committed / batch)).toFixed(2)}`,
  ];
  console.log(line.join('  '));
}

/** Every group proposes one entry at a time, all groups concurrently. */
async function runGroups(nodes: BenchNode[]): Promise<void> {
  const leaders = await Promise.all(groupIds.map((g) => leaderOf(nodes, g)));
  const payload = new Uint8Array(ENTRY_BYTES).fill(7);
  const before = nodes.map((n) => n.storage.writer.stats.fsyncs);
  const startMs = Date.now();
  let committed = 0;
  await Promise.all(groupIds.map(async (g, i) => {
    while (Date.now() - startMs < secondsPerRun * 1000) {
      await leaders[i]!.host.propose(g, payload);
      committed++;
    }
  }));
  const elapsedS = (Date.now() - startMs) / 1000;
  const fsyncs = nodes.reduce((a, n, i) => a + n.storage.writer.stats.fsyncs - before[i]!, 0);
  console.log([
    `groups=${groupCount} batch=1 each`,
    `committed=${committed}`,
    `entries/s=${Math.round(committed / elapsedS)}`,
    `cluster fsyncs/entry=${(fsyncs / committed).toFixed(3)}`,
  ].join('  '));
}

const root = mkdtempSync(join(tmpdir(), 'warren-raft-bench-'));
const nodes = await startCluster(root);
try {
  console.log(`3-node group, loopback gRPC, LevelDB sync:true, ${ENTRY_BYTES}-byte entries, ${secondsPerRun} s per run`);
  for (const b of batchSizes) await run(nodes, b);
  if (groupCount > 1) await runGroups(nodes);
} finally {
  for (const n of nodes) n.host.stop();
  for (const n of nodes) await n.transport.close();
  for (const n of nodes) await n.storage.close();
  rmSync(root, { recursive: true, force: true });
}
