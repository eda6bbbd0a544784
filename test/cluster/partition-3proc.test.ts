// Issue 7 "Three replicas", with real processes: one partition group of three replicas
// (partition-node.ts: the production PartitionApp on LevelDB, gRPC and the driver), a publisher
// with confirms and a consumer acking every delivery (partition-client.ts, playing the frontend),
// and the leader kill -9'd three times under that load, each time restarted on its data dir once
// a new leader took over:
//   1. the consumer holds unacked deliveries of the leader: it acks them after the failover;
//   2. the same, and the consumer's frontend session dies with the leader: the client proposes
//      sessionDown and consumes in a new session, what it held comes back redelivered;
//   3. the same as 1.
// At every kill an enqueue entry has just been sent to the leader: it is retried, with the same
// (session, seq)s, and confirmed once (answered duplicate when the first attempt had committed).
// Then: every confirmed message was delivered and its ack committed (lost = 0), stored once, a
// message delivered again only with redelivered or a higher delivery count, never after its ack
// committed, acks sent after each failover committed, and all three replicas end with the queue
// empty at the same applied index. The simulator runs the same scenario deterministically:
// test/sim/partition-failover.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Frontend, type Consumer } from './partition-client.js';
import { NodeProc, freePort } from './proc.js';

/** Messages published at least (more while the kills are still to come). */
const TOTAL = Number(process.env['PARTITION_3PROC_TOTAL'] ?? 6_000);
/** The publisher's pace: the run publishes about this many per second until the kills are done. */
const RATE_PER_SEC = 600;
/** Published after the third kill, so it too happens under load. */
const TAIL = 1_000;
const PREFETCH = 100;
/** Deliveries the consumer holds unacked when the leader is killed. */
const HELD_AT_KILL = 20;
/** How long a killed node stays down once a new leader took over. */
const DOWN_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; !(await cond()); i++) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(Math.min(100, 5 * 2 ** i));
  }
}

interface Kill { victim: number; confirmedAt: number; unconfirmed: number; held: Set<number>; consumer: Consumer; newLeader: number; failoverMs: number }

test('partition of three processes: leader kill -9 three times under confirmed publishing and acked consuming, lost = 0', { timeout: 180_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'warren-p3proc-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const nodes = ports.map((p, i) => new NodeProc(i + 1, join(root, `n${i + 1}`), p, peers, 'partition-node.ts'));
  const fe = new Frontend(nodes);
  const startedMs = Date.now();
  try {
    await Promise.all(nodes.map((n) => n.start()));
    const declared = await fe.call('q', 'q');
    assert.equal(declared?.[0], 'declared');
    fe.queue = Number(declared[1]);
    fe.publishRatePerSec = RATE_PER_SEC;
    await fe.consume(PREFETCH);
    const publishing = fe.publish();

    const kills: Kill[] = [];
    for (let k = 1; k <= 3; k++) {
      await until(`${(k * TOTAL) / 4} confirms`, () => fe.confirmed >= (k * TOTAL) / 4, 60_000);
      await caughtUp(nodes);
      // The consumer holds deliveries of this leader, unacked, and publishes are in flight.
      fe.pauseAcks = true;
      const c = fe.consumer!;
      await until('held deliveries', () => c.held.size >= HELD_AT_KILL);
      const victim = await fe.leaderNow();
      await fe.nextPublishSent();
      const kill: Kill = {
        victim: victim.id, confirmedAt: fe.confirmed, unconfirmed: fe.unconfirmed, held: new Set(c.held), consumer: c,
        newLeader: 0, failoverMs: 0,
      };
      const killedAt = Date.now();
      await victim.kill9();
      fe.epoch = k;
      kills.push(kill);
      fe.pauseAcks = false;
      if (k === 2) {
        // The consumer's frontend ran on the dead node: a new frontend session takes over.
        await fe.dropSession(c);
        await fe.consume(PREFETCH);
      }
      fe.scheduleAcks();
      kill.newLeader = (await fe.leaderNow()).id;
      await until('a confirm after the failover', () => fe.confirmed > kill.confirmedAt);
      kill.failoverMs = Date.now() - killedAt;
      await sleep(DOWN_MS);
      await victim.start();
    }
    fe.publishLimit = Math.max(TOTAL, fe.nextSeq - 1 + TAIL);
    await publishing;
    const c = fe.consumer!;
    // A lost message never gets here: on timeout the accounting below says which.
    const drained = await until('every confirmed message acked', () => fe.acked.size >= fe.confirmed && c.held.size + c.settling.size === 0, 60_000)
      .then(() => true, () => false);
    const views = drained ? await settled(nodes, fe.queue) : [];

    // ---- accounting -------------------------------------------------------------------------
    let lost = 0;
    for (let seq = 1; seq <= fe.confirmed; seq++) {
      const ids = fe.msgsOfSeq.get(seq);
      if (ids === undefined || ![...ids].some((id) => fe.acked.has(id))) lost++;
      else if (ids.size !== 1) fe.problems.push(`seq ${seq} stored as ${ids.size} messages: ${[...ids].join(', ')}`);
    }
    const heldAcked = kills.map((k) => [...k.held].filter((id) => fe.acked.has(id)
      && fe.deliveries.get(id)!.every((d) => d.consumer === `${k.consumer.session}/${k.consumer.tag}`)).length);
    const comeBack = [...kills[1]!.held].filter((id) => (fe.deliveries.get(id) ?? []).some((d) => d.redelivered)).length;
    t.diagnostic(`confirmed ${fe.confirmed}, delivered ${fe.deliveries.size}, redelivered ${fe.redelivered}, duplicates ${fe.duplicates}, `
      + `lost ${lost}; re-handed by a new leader (dropped) ${fe.rehanded}, to the gone consumer ${fe.toGoneConsumer}; `
      + `elections ${fe.leadersSeen.size} (${[...fe.leadersSeen].join(' ')}); re-proposed publishes ${fe.retriedPublishes}, `
      + `answered duplicate ${fe.duplicateConfirms}`);
    t.diagnostic(kills.map((k, i) => `kill ${i + 1}: n${k.victim} at ${k.confirmedAt} confirmed (${k.unconfirmed} in flight, `
      + `${k.held.size} held) -> n${k.newLeader}, first confirm after ${k.failoverMs} ms, longest confirm gap ${fe.confirmGapMs[i + 1] ?? 0} ms, `
      + `acks sent after it committed ${fe.ackedInEpoch[i + 1] ?? 0}, held at the kill acked by the same consumer ${heldAcked[i]}`).join('; '));
    t.diagnostic(`kill 2: ${comeBack} of ${kills[1]!.held.size} held came back redelivered; replicas ${views.join(' | ')}; ${Date.now() - startedMs} ms`);

    assert.deepEqual(fe.problems, [], fe.problems.slice(0, 20).join('\n'));
    assert.equal(lost, 0);
    assert.ok(drained, 'every confirmed message acked, nothing held');
    assert.equal(kills.length, 3);
    assert.ok(fe.confirmed >= TOTAL, `only ${fe.confirmed} confirmed`);
    for (const [i, k] of kills.entries()) {
      assert.notEqual(k.newLeader, k.victim, `kill ${i + 1}: a new leader took over`);
      assert.ok(k.unconfirmed > 0, `kill ${i + 1}: publishes were in flight`);
      assert.ok((fe.ackedInEpoch[i + 1] ?? 0) > 0, `kill ${i + 1}: acks sent after the failover committed`);
    }
    // Held at kills 1 and 3 by a consumer that survived them: acked after the failover, delivered once.
    assert.equal(heldAcked[0], kills[0]!.held.size);
    assert.equal(heldAcked[2], kills[2]!.held.size);
    // Held by the consumer whose session died: back to the new consumer, redelivered.
    assert.equal(comeBack, kills[1]!.held.size);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(root, { recursive: true, force: true });
  }
});

/** Every node runs and has applied what the leader had applied when asked (a restarted node caught up). */
async function caughtUp(nodes: readonly NodeProc[]): Promise<void> {
  let target = -1;
  await until('the restarted node to catch up', async () => {
    if (!nodes.every((n) => n.alive)) return false;
    const st = await Promise.all(nodes.map((n) => n.status()));
    if (target < 0) target = Math.max(...st.filter((s) => s.leader === s.id).map((s) => s.applied), -1);
    return target >= 0 && st.every((s) => s.applied >= target);
  });
}

/** Waits until all three replicas applied the same index with the queue empty; their views. */
async function settled(nodes: readonly NodeProc[], queue: number): Promise<string[]> {
  let views: string[] = [];
  await until('all replicas at the same index, queue empty', async () => {
    views = await Promise.all(nodes.map((n) => n.ask(`i ${queue}`)));
    const [first] = views;
    return views.every((v) => v === first) && / 0 0 1$/.test(first!);
  }, 30_000);
  return views;
}
