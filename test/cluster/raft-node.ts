// One Raft node process for raft-3proc.test.ts: LevelDB storage, gRPC transport, the driver and
// the real core, hosting group 1. Controlled by line commands on stdin, answering on stdout:
//
//   p <seq> <text>   propose text     -> a <seq> <index> <term> | n <seq> <leaderHint> | e <seq> <code>
//   s                status           -> S <id> <leader> <applied>
//   d <path>         dump applied log -> D <count>   (file: one "index term type hex(data)" line each)
//
// Usage: node --import tsx test/cluster/raft-node.ts <id> <dataDir> <port> <peers: id=host:port,...>
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Entry } from '../../src/raft/core/types.js';
import { openCore } from '../../src/raft/node/adapter.js';
import { RaftHost } from '../../src/raft/node/host.js';
import { LevelRaftStorage } from '../../src/raft/storage/level.js';
import { RaftTransport } from '../../src/raft/transport/transport.js';
import { nodeArgs } from './node-args.js';

const GROUP = 1;
const { id, dir, port, peers } = nodeArgs(process.argv.slice(2));

const storage = await LevelRaftStorage.open(dir);
const store = storage.group(GROUP);
const core = await openCore({ id, voters: [...peers.keys()], store, electionTicks: 10, heartbeatTicks: 2 });

// The applied log lives in the group's application keys (u64 index -> "index term type hex"), so
// a restarted node resumes after its durable applied index and still dumps everything.
const applied: string[] = [];
const indexKey = (i: number): Uint8Array => {
  const k = Buffer.alloc(8);
  k.writeBigUInt64BE(BigInt(i));
  return k;
};
let transport: RaftTransport | undefined;
const host = new RaftHost({
  tickIntervalMs: 100,
  sender: { send: (g, msgs) => transport?.send(g, msgs) },
  proposalTimeoutMs: 20_000,
});
host.addGroup(GROUP, core, store, {
  async recover(info) {
    applied.length = 0;
    for await (const [, v] of info.store.iterate()) applied.push(new TextDecoder().decode(v));
    if (applied.length !== info.appliedIndex) throw new Error(`recovered ${applied.length} != applied ${info.appliedIndex}`);
  },
  apply(entries: readonly Entry[], batch) {
    return entries.map((e) => {
      // Strictly sequential, continuing after the durable applied index.
      if (e.index !== applied.length + 1) throw new Error(`apply gap: got ${e.index} after ${applied.length}`);
      const line = `${e.index} ${e.term} ${e.type} ${Buffer.from(e.data).toString('hex')}`;
      applied.push(line);
      batch.put(indexKey(e.index), new TextEncoder().encode(line));
      return undefined;
    });
  },
});
transport = await RaftTransport.start({
  nodeId: id, host: '127.0.0.1', port, peers,
  onMessage: (group, message) => host.step(group, message),
});
host.start();

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, a, b] = line.split(' ');
  if (cmd === 'p') {
    host.propose(GROUP, new TextEncoder().encode(b ?? '')).then(
      (c) => out(`a ${a} ${c.index} ${c.term}`),
      (err: { code?: string; leaderHint?: number }) => {
        if (err.code === 'RAFT_NOT_LEADER') out(`n ${a} ${err.leaderHint ?? 0}`);
        else out(`e ${a} ${err.code ?? 'unknown'}`);
      },
    );
  } else if (cmd === 's') {
    out(`S ${id} ${host.group(GROUP).leader()} ${applied.length}`);
  } else if (cmd === 'd') {
    writeFileSync(a!, applied.join('\n') + '\n');
    out(`D ${applied.length}`);
  }
});
rl.on('close', () => {
  host.stop();
  void transport?.close().then(() => storage.close()).then(() => process.exit(0));
});
out(`R ${id} ${transport.port}`);
