// Three real processes (LevelDB + gRPC + driver + core) on loopback: 100 000 pipelined
// proposals through the leader, the leader kill -9'd mid-stream, proposals continue on the new
// leader, the killed node restarts; every acknowledged entry must then sit at the same index with
// the same term and payload on all three nodes, and the nodes' logs must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProc, freePort } from './proc.js';

const TOTAL = Number(process.env['RAFT_3PROC_TOTAL'] ?? 100_000);
const IN_FLIGHT = 1_000;
const KILL_AT = Math.floor(TOTAL * 0.3);
const RESTART_AT = Math.floor(TOTAL * 0.6);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Acked { index: number; term: number }

test('3 processes: 100k proposals, leader kill -9, restart; acknowledged entries survive everywhere', { timeout: 180_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warren-3proc-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const nodes = ports.map((p, i) => new NodeProc(i + 1, join(root, `n${i + 1}`), p, peers));
  try {
    await Promise.all(nodes.map((n) => n.start()));
    const acked = new Map<number, Acked>();
    const startedMs = Date.now();
    const ev = await propose(nodes, acked);
    assert.equal(acked.size, TOTAL);
    assert.ok(ev.victim !== 0 && ev.restarted, 'the leader was killed and restarted');
    assert.ok(ev.leaderAfter !== 0 && ev.leaderAfter !== ev.victim, 'a new leader took over');
    // Acknowledged after the kill at a higher term, by the new leader.
    assert.ok([...acked.values()].some((a) => a.term > ev.termAtKill), 'entries acknowledged in a later term');
    t.diagnostic(`killed leader ${ev.victim} at ${KILL_AT} acks (term ${ev.termAtKill}); new leader ${ev.leaderAfter}; `
      + `re-proposed ${ev.retries}; ${TOTAL} acked in ${Date.now() - startedMs} ms`);
    const maxIndex = Math.max(...[...acked.values()].map((a) => a.index));
    await waitApplied(nodes, maxIndex);
    const logs = await Promise.all(nodes.map(async (n) => {
      const file = join(root, `applied-${n.id}.txt`);
      await n.dump(file);
      return readFileSync(file, 'utf8').trim().split('\n');
    }));
    checkLogs(logs, acked);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(root, { recursive: true, force: true });
  }
});

async function findLeader(nodes: NodeProc[]): Promise<NodeProc> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const n of nodes.filter((x) => x.alive)) {
      const s = await n.status();
      if (s.leader === n.id) return n;
    }
    await sleep(100);
  }
  throw new Error('no leader elected within 30 s');
}

interface Events { victim: number; termAtKill: number; leaderAfter: number; restarted: boolean; retries: number }

/** Keeps IN_FLIGHT proposals outstanding, following the leader, until TOTAL are acknowledged. */
async function propose(nodes: NodeProc[], acked: Map<number, Acked>): Promise<Events> {
  const ev: Events = { victim: 0, termAtKill: 0, leaderAfter: 0, restarted: false, retries: 0 };
  const retry: number[] = [];
  const inflight = new Map<number, NodeProc>();
  let next = 0;
  let leader: NodeProc | undefined = await findLeader(nodes);
  let killed = false;
  let restarted = false;
  let finding = false;
  let wake: () => void = () => {};

  const lookForLeader = (): void => {
    if (finding) return;
    finding = true;
    leader = undefined;
    void findLeader(nodes).then((l) => {
      leader = l;
      finding = false;
      wake();
    });
  };

  for (const n of nodes) {
    n.onExit = () => {
      for (const [seq, to] of inflight) if (to === n) { inflight.delete(seq); retry.push(seq); ev.retries++; }
    };
    n.onReply = (line) => {
      const [kind, seqS, x, y] = line.split(' ');
      const seq = Number(seqS);
      inflight.delete(seq);
      if (kind === 'a') acked.set(seq, { index: Number(x), term: Number(y) });
      else {
        ev.retries++;
        retry.push(seq); // not leader, dropped or timed out: propose again (duplicates are harmless)
        if (leader === n) lookForLeader();
      }
      wake();
    };
  }

  while (acked.size < TOTAL) {
    if (!killed && acked.size >= KILL_AT && leader) {
      killed = true;
      const victim = leader;
      ev.victim = victim.id;
      ev.termAtKill = Math.max(...[...acked.values()].map((a) => a.term));
      await victim.kill9();
      lookForLeader();
    }
    if (killed && !restarted && acked.size >= RESTART_AT) {
      restarted = true;
      ev.leaderAfter = leader?.id ?? 0;
      const dead = nodes.find((n) => !n.alive);
      ev.restarted = dead !== undefined;
      if (dead) await dead.start();
    }
    while (leader?.alive && inflight.size < IN_FLIGHT && (retry.length > 0 || next < TOTAL)) {
      const seq = retry.length > 0 ? retry.pop()! : next++;
      if (acked.has(seq)) continue;
      inflight.set(seq, leader);
      leader.send(`p ${seq} v${seq}`);
    }
    if (leader && !leader.alive) lookForLeader();
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 200);
    });
  }
  return ev;
}

async function waitApplied(nodes: NodeProc[], index: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const st = await Promise.all(nodes.map((n) => n.status()));
    if (st.every((s) => s.applied >= index)) return;
    if (Date.now() > deadline) throw new Error(`nodes did not apply up to ${index}: ${JSON.stringify(st)}`);
    await sleep(200);
  }
}

function checkLogs(logs: string[][], acked: Map<number, Acked>): void {
  // State-machine safety: every pair of nodes agrees on every index both have applied.
  const common = Math.min(...logs.map((l) => l.length));
  for (let i = 0; i < common; i++) {
    const line = logs[0]![i];
    for (const l of logs) assert.equal(l[i], line, `logs differ at index ${i + 1}`);
  }
  for (const [seq, a] of acked) {
    const want = `${a.index} ${a.term} 0 ${Buffer.from(`v${seq}`).toString('hex')}`;
    for (const l of logs) assert.equal(l[a.index - 1], want, `acknowledged seq ${seq} missing at index ${a.index}`);
  }
}
