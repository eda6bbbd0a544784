// One partition replica process for partition-3proc.test.ts: the production PartitionApp and
// PartitionMachine (src/partition/) as the application of Raft group 1, on LevelDB storage, the
// gRPC transport and the driver, as raft-node.ts hosts its key/value log. Besides being a replica
// it is a tiny owner for the test client, which plays the frontend: it proposes the client's
// commands, one stdin line = one log entry, and while it leads prints the deliveries the
// partition hands out (the `deliver` effects, resume included), reading a record from the store
// when the effect did not carry it, in the order the effects came.
//
// stdin (one command per line; <rid> is the client's request id):
//   q <rid> <name>                                   declare queue <name> in vhost /
//   p <rid> <queue> <session> <fromSeq> <toSeq>       enqueue seqs from..to (body "<session>/<seq>/…"), one entry
//   c <rid> <queue> <session> <consumer> <prefetch>   checkout (register a consumer)
//   a <rid> <queue> <session> <consumer> <id,id,…>    settle (ack) these msgIds
//   x <rid> <session>                                 sessionDown
//   s                                                 status
//   i <queue>                                         this replica's view of the queue
// stdout:
//   r <rid> <result…>         committed and applied here: declared <queue> | enqueued <stored> <duplicates> | ok
//   n <rid> <leaderHint>      not the leader (0: none known)
//   e <rid> <code>            failed: dropped or timed out (outcome unknown)
//   d <queue> <msgId> <deliveryCount> <redelivered 0|1> <session> <consumer> <bodyId>
//   k <queue> <session> <consumer>                    the partition cancelled the consumer
//   S <id> <leader> <applied> <term>                  status
//   I <applied> <ready> <unacked> <consumers>         queue view (I 0 -1 -1 -1: no such queue)
//   R <id> <port>                                     ready
//
// Usage: node --import tsx test/cluster/partition-node.ts <id> <dataDir> <port> <peers: id=host:port,...>
import { createInterface } from 'node:readline';
import { PartitionApp, PartitionMachine, encodeBatch, readRecord, decodeRecord } from '../../src/partition/index.js';
import type { DeliverEffect, PartitionCommand, PartitionEffect, PartitionResult } from '../../src/partition/index.js';
import type { AppReader, RecoverInfo } from '../../src/raft/node/app.js';
import { openCore } from '../../src/raft/node/adapter.js';
import { RaftHost } from '../../src/raft/node/host.js';
import { LevelRaftStorage } from '../../src/raft/storage/level.js';
import { RaftTransport } from '../../src/raft/transport/transport.js';
import { nodeArgs } from './node-args.js';

const GROUP = 1;
/** A content header: class 60, weight 0, body size 0 (unchecked by the partition), no properties. */
const HEADER = new Uint8Array([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const PADDING = 'x'.repeat(100);

const { id, dir, port, peers } = nodeArgs(process.argv.slice(2));

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The production application, keeping the store the driver hands it (records are read from it). */
class NodeApp extends PartitionApp {
  store: AppReader | undefined;
  override recover(info: RecoverInfo): Promise<void> {
    this.store = info.store;
    return super.recover(info);
  }
}

// ---- the leader's effects -------------------------------------------------------------------

/** Deliveries whose records are being read: later ones wait, so each consumer gets them in order. */
let reading: Promise<void> | undefined;

function perform(effects: readonly PartitionEffect[]): void {
  const deliveries: DeliverEffect[] = [];
  for (const e of effects) {
    if (e.kind === 'deliver') deliveries.push(e);
    else if (e.kind === 'consumerCancelled') out(`k ${e.queue} ${e.session} ${e.consumer}`);
    // No dead-lettering, TTL or x-expires in this test's queue: nothing else to carry out.
  }
  if (deliveries.length === 0) return;
  if (reading === undefined && deliveries.every((e) => e.record !== undefined)) {
    for (const e of deliveries) print(e, e.record);
    return;
  }
  const store = app.store;
  const next = (reading ?? Promise.resolve()).then(async () => {
    for (const e of deliveries) print(e, e.record ?? (store === undefined ? undefined : await readRecord(store, e.queue, e.msgId)));
  });
  reading = next;
  void next.then(() => {
    if (reading === next) reading = undefined;
  });
}

function print(e: DeliverEffect, record: Uint8Array | undefined): void {
  if (record === undefined) return; // the queue was deleted meanwhile (not in this test)
  const body = new TextDecoder().decode(decodeRecord(record).body);
  const bodyId = body.slice(0, body.lastIndexOf('/'));
  out(`d ${e.queue} ${e.msgId} ${e.deliveryCount} ${e.redelivered ? 1 : 0} ${e.session} ${e.consumer} ${bodyId}`);
}

// ---- the replica ----------------------------------------------------------------------------

const app = new NodeApp(new PartitionMachine(), perform);
const storage = await LevelRaftStorage.open(dir);
const store = storage.group(GROUP);
const core = await openCore({ id, voters: [...peers.keys()], store, electionTicks: 10, heartbeatTicks: 2 });
let transport: RaftTransport | undefined;
const host = new RaftHost({
  tickIntervalMs: 100,
  sender: { send: (g, msgs) => transport?.send(g, msgs) },
  proposalTimeoutMs: 20_000,
});
const driver = host.addGroup(GROUP, core, store, app);
transport = await RaftTransport.start({
  nodeId: id, host: '127.0.0.1', port, peers,
  onMessage: (group, message) => host.step(group, message),
});
host.start();

// ---- the client's commands ------------------------------------------------------------------

function enqueues(queue: number, session: string, from: number, to: number): PartitionCommand[] {
  const cmds: PartitionCommand[] = [];
  for (let seq = from; seq <= to; seq++) {
    cmds.push({
      kind: 'enqueue', queues: [queue], exchange: '', routingKey: 'q', header: HEADER,
      body: new TextEncoder().encode(`${session}/${seq}/${PADDING}`), session, seq, nowMs: Date.now(),
    });
  }
  return cmds;
}

function command(words: string[]): PartitionCommand[] | undefined {
  const [cmd, , a, b, c, d] = words;
  const nowMs = Date.now();
  switch (cmd) {
    case 'q': return [{ kind: 'declare', vhost: '/', name: a!, arguments: new Uint8Array(0), nowMs }];
    case 'p': return enqueues(Number(a), b!, Number(c), Number(d));
    case 'c': return [{ kind: 'checkout', queue: Number(a), session: b!, consumer: c!, prefetch: Number(d), priority: 0, noAck: false, nowMs }];
    case 'a': return [{ kind: 'settle', queue: Number(a), session: b!, consumer: c!, msgIds: d!.split(',').map(Number), nowMs }];
    case 'x': return [{ kind: 'sessionDown', session: a!, nowMs }];
    default: return undefined;
  }
}

/** The answer line for one entry's results. */
function answer(results: PartitionResult): string {
  const first = results[0];
  if (first?.kind === 'declared') return `declared ${first.queue}`;
  if (first?.kind === 'enqueued' || first?.kind === 'duplicate') {
    const stored = results.filter((r) => r.kind === 'enqueued' && r.outcomes[0] === 'accepted').length;
    const dup = results.filter((r) => r.kind === 'duplicate').length;
    if (stored + dup !== results.length) return `unexpected ${JSON.stringify(results)}`;
    return `enqueued ${stored} ${dup}`;
  }
  return first?.kind === 'ok' ? 'ok' : `unexpected ${JSON.stringify(results)}`;
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const words = line.split(' ');
  if (words[0] === 's') {
    out(`S ${id} ${driver.leader()} ${driver.stats.appliedIndex} ${driver.roleInfo().term}`);
    return;
  }
  if (words[0] === 'i') {
    const q = app.machine.queue(Number(words[1]));
    out(q === undefined ? 'I 0 -1 -1 -1' : `I ${driver.stats.appliedIndex} ${q.messageCount} ${q.unackedCount} ${q.consumerCount}`);
    return;
  }
  const rid = words[1];
  const cmds = command(words);
  if (cmds === undefined) throw new Error(`partition-node: unknown command ${line}`);
  driver.propose<PartitionResult>(encodeBatch(cmds)).then(
    (c) => out(`r ${rid} ${answer(c.result)}`),
    (err: { code?: string; leaderHint?: number }) => {
      if (err.code === 'RAFT_NOT_LEADER') out(`n ${rid} ${err.leaderHint ?? 0}`);
      else out(`e ${rid} ${err.code ?? 'unknown'}`);
    },
  );
});
rl.on('close', () => {
  host.stop();
  void transport?.close().then(() => storage.close()).then(() => process.exit(0));
});
out(`R ${id} ${transport.port}`);
