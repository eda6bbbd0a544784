// Issue 8's "owner wiped" drill against a real cluster (`warren cluster`: 3 owners, 2 frontends,
// haproxy): with confirmed messages in a durable queue, an owner that follows the queue's partition
// is killed with kill -9 and its data directory deleted; the launcher restarts it with the same id
// on an empty disk. It must come back without crashing and catch up (by snapshot: the leaders have
// compacted the log it would need), /api/partitions on it showing every partition with applied
// indexes near the leaders'. Then the owner LEADING the queue's partition is killed: the rejoined
// owner and the third one must still be a quorum, so no confirmed message is lost.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { PartitionInfo } from '../../src/admin/source.js';
import { alive, waitFor } from '../launcher/harness.js';
import { ackingConsumer, ConfirmedPublisher, getJson, haproxyMissing, RealCluster, Received } from './amqp-load.js';

const QUEUE = 'wipe-orders';
/** "Near": a follower's applied index may trail the leader's by what is in flight. */
const APPLIED_SLACK = 50;

let cluster: RealCluster | undefined;
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c().catch(() => {});
  await cluster?.stop();
});

async function partitionsOf(c: RealCluster, id: number): Promise<PartitionInfo[] | undefined> {
  const n = c.state().nodes.find((x) => x.id === id)!;
  return getJson<PartitionInfo[]>(`${n.http}/api/partitions`);
}

/** The queue's partition and its leader, from a live owner. */
async function queueLeader(c: RealCluster): Promise<{ partition: number; leader: number } | undefined> {
  for (const n of c.state().nodes.filter((x) => x.role === 'owner' && x.up)) {
    const q = await getJson<{ partition?: number }>(`${n.http}/api/queues/%2F/${QUEUE}`);
    if (q?.partition === undefined) continue;
    const leader = (await partitionsOf(c, n.id))?.find((p) => p.partition === q.partition)?.leader;
    if (leader) return { partition: q.partition, leader };
  }
  return undefined;
}

/** Every partition on `id` has a leader and an applied index within APPLIED_SLACK of that leader's. */
async function caughtUp(c: RealCluster, id: number): Promise<string | true> {
  const mine = await partitionsOf(c, id);
  if (mine === undefined || mine.length === 0) return `no partitions on ${id}`;
  for (const p of mine) {
    if (!p.leader) return `partition ${p.partition}: no leader`;
    const theirs = (await partitionsOf(c, p.leader))?.find((x) => x.partition === p.partition);
    if (theirs === undefined) return `partition ${p.partition}: leader ${p.leader} not answering`;
    if (theirs.applied_index - p.applied_index > APPLIED_SLACK) return `partition ${p.partition}: applied ${p.applied_index}, leader ${theirs.applied_index}`;
  }
  return true;
}

test('an owner wiped and restarted rejoins, catches up by snapshot, and keeps the quorum when another owner dies: lost = 0', { skip: haproxyMissing, timeout: 180_000 }, async () => {
  const t0 = Date.now();
  cluster = await RealCluster.start();
  const startupMs = Date.now() - t0;
  const url = cluster.state().lb.amqp;

  // Enough confirmed messages that the leaders compact past what a wiped replica could be sent as log.
  const publisher = new ConfirmedPublisher(url, QUEUE, 200, 1024);
  cleanups.push(() => publisher.stop());
  await publisher.start();
  await waitFor('confirms before the wipe', () => publisher.confirmed.size, (n) => n >= 15_000, 60_000);

  const { partition, leader } = (await waitFor('the queue leader', () => queueLeader(cluster!), (l) => l !== undefined, 30_000))!;
  const owners = cluster.state().nodes.filter((n) => n.role === 'owner');
  const victim = owners.find((n) => n.id !== leader)!;
  const before = (await partitionsOf(cluster, victim.id))!;
  // The leader has compacted its log past the bootstrap entries: a replica starting from nothing can only be sent a snapshot.
  const leaderFirstAtWipe = (await partitionsOf(cluster, leader))!.find((p) => p.partition === partition)!.first_index;
  const pid = cluster.kill(victim.id);
  await waitFor(`owner ${victim.id} dead`, () => alive(pid), (a) => !a, 10_000);
  rmSync(victim.dataDir, { recursive: true, force: true });
  const wipedAt = Date.now();
  const confirmedAtWipe = publisher.confirmed.size;
  await waitFor('confirms while it is away', () => publisher.confirmed.size, (n) => n >= confirmedAtWipe + 2000, 60_000);

  await cluster.restarted(victim.id, pid).catch((err: unknown) => {
    // The launcher's directory goes with the cluster: show why the owner did not come back.
    throw new Error(`${(err as Error).message}\n${readFileSync(victim.log, 'utf8').split('\n').slice(-40).join('\n')}`);
  });
  const rejoinedMs = Date.now() - wipedAt;
  const caught = await waitFor(`owner ${victim.id} caught up`, () => caughtUp(cluster!, victim.id), (r) => r === true, 60_000);
  const caughtUpMs = Date.now() - wipedAt;
  const after1 = (await partitionsOf(cluster, victim.id))!;
  const mine = after1.find((p) => p.partition === partition)!;
  const wasFirst = before.find((p) => p.partition === partition)!;
  const leaderView = (await partitionsOf(cluster, leader))!.find((p) => p.partition === partition)!;
  console.log(`rejoined owner ${victim.id} after ${caughtUpMs} ms: ${JSON.stringify(mine)}; leader ${leader}: ${JSON.stringify(leaderView)}`);
  // By snapshot: the entries after the bootstrap were gone from the leader's log when it came back.
  assert.ok(leaderFirstAtWipe > owners.length + 1, `the leader's log starts at ${leaderFirstAtWipe}: only a snapshot could catch the wiped replica up`);
  assert.ok(mine.first_index > 1, `the rejoined replica's log starts at ${mine.first_index}`);
  assert.ok(mine.messages > 0, 'the rejoined replica holds the queue\'s messages');
  assert.equal(after1.length, before.length, 'it hosts every partition it hosted before the wipe');
  assert.equal(cluster.state().nodes.find((n) => n.id === victim.id)!.restarts, 1, 'restarted once: no crash after the wipe');

  // Now the OTHER owner that leads the queue dies: the rejoined owner and the third keep a quorum.
  const confirmedAtKill = publisher.confirmed.size;
  publisher.longestGapMs = 0;
  const leaderPid = cluster.kill(leader);
  await waitFor('confirms after the leader died', () => publisher.confirmed.size, (n) => n >= confirmedAtKill + 2000, 60_000);
  const newLeader = await waitFor('a new queue leader', () => queueLeader(cluster!), (l) => l !== undefined && l.leader !== leader, 30_000);
  await publisher.finish();

  const received = new Received();
  const consumer = ackingConsumer(url, QUEUE, 'drain', received, 500);
  cleanups.push(() => consumer.stop());
  await consumer.start();
  await waitFor('every confirmed body received', () => received.missing(publisher.confirmed).length, (n) => n === 0, 60_000);
  await consumer.stop();
  const lost = received.missing(publisher.confirmed).length;
  console.log(`startup ${startupMs} ms; wiped owner ${victim.id} (partition ${partition} applied ${wasFirst.applied_index} before, leader's log from ${leaderFirstAtWipe}), ` +
    `back after ${rejoinedMs} ms, caught up after ${caughtUpMs} ms (${String(caught)}): partition ${partition} first_index ${mine.first_index} ` +
    `applied ${mine.applied_index} messages ${mine.messages}; then leader ${leader} killed, new leader ${newLeader?.leader}, longest confirm gap ${publisher.longestGapMs} ms; ` +
    `confirmed ${publisher.confirmed.size}, nacked ${publisher.nacked}, resent ${publisher.resent}, received ${received.bodies.size}, lost ${lost}`);
  void leaderPid;
  assert.equal(lost, 0);
});
