// Issue 8's failover drill against a real cluster: `warren cluster` (3 owners, 2 frontends, haproxy)
// with real `warren start --role …` nodes, amqplib publishing with confirms and consuming with acks
// through the balancer on a durable queue, while the owner leading the queue's partition is killed
// with kill -9 three times (the launcher brings it back). Every confirmed message must arrive
// (lost = 0); the longest gap between two confirms after each kill is reported.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import type { ClusterState } from '../../src/launcher/state.js';
import { waitFor } from '../launcher/harness.js';
import { getJson, haproxyMissing, RealCluster } from './amqp-load.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The owner (Raft id) leading the queue's partition, as a live owner's management API reports it. */
async function leaderOf(state: ClusterState, queue: string): Promise<number | undefined> {
  for (const n of state.nodes.filter((x) => x.role === 'owner' && x.up)) {
    const q = await getJson<{ partition?: number }>(`${n.http}/api/queues/%2F/${queue}`);
    if (q?.partition === undefined) continue;
    const parts = await getJson<Array<{ partition: number; leader: number }>>(`${n.http}/api/partitions`);
    const leader = parts?.find((p) => p.partition === q.partition)?.leader;
    if (leader) return leader;
  }
  return undefined;
}

let cluster: RealCluster | undefined;
after(async () => cluster?.stop());

test('kill -9 the partition leader three times under confirmed publishing through the balancer: lost = 0', { skip: haproxyMissing, timeout: 300_000 }, async () => {
  cluster = await RealCluster.start();
  const c = cluster;
  let state = c.state();

  const queue = 'failover-orders';
  const pubConn = await amqp.connect(`${state.lb.amqp}`);
  const subConn = await amqp.connect(`${state.lb.amqp}`);
  const pub = await pubConn.createConfirmChannel();
  const sub = await subConn.createChannel();
  await pub.assertQueue(queue, { durable: true });

  const received = new Map<string, boolean>();
  let duplicatesNotRedelivered = 0;
  await sub.prefetch(100);
  await sub.consume(queue, (m) => {
    if (m === null) return;
    const body = m.content.toString();
    if (received.has(body) && !m.fields.redelivered) duplicatesNotRedelivered++;
    received.set(body, true);
    sub.ack(m);
  });

  const confirmed = new Set<string>();
  let nacked = 0;
  let outstanding = 0;
  let lastConfirmAt = Date.now();
  let longestGapMs = 0;
  let stop = false;
  let sent = 0;
  const publisher = (async () => {
    while (!stop) {
      if (outstanding >= 200) {
        await sleep(2);
        continue;
      }
      const body = `m${sent++}`;
      outstanding++;
      pub.sendToQueue(queue, Buffer.from(body), { persistent: true }, (err) => {
        outstanding--;
        const now = Date.now();
        longestGapMs = Math.max(longestGapMs, now - lastConfirmAt);
        lastConfirmAt = now;
        if (err) nacked++;
        else confirmed.add(body);
      });
      if (sent % 50 === 0) await sleep(1);
    }
  })();

  const gaps: number[] = [];
  for (let kill = 1; kill <= 3; kill++) {
    await waitFor('confirms flowing', () => confirmed.size, (n) => n >= kill * 1000, 60_000);
    state = c.state();
    const leader = await waitFor('the partition leader', () => leaderOf(state, queue), (l) => l !== undefined, 30_000);
    longestGapMs = 0;
    const killed = c.kill(leader!);
    const before = confirmed.size;
    await c.restarted(leader!, killed);
    await waitFor('confirms after the kill', () => confirmed.size, (n) => n >= before + 500, 60_000);
    gaps.push(longestGapMs);
  }
  stop = true;
  await publisher;
  await waitFor('every publish answered', () => outstanding, (n) => n === 0, 60_000);
  await waitFor('every confirmed message delivered', () => [...confirmed].filter((b) => !received.has(b)).length, (n) => n === 0, 60_000);
  const lost = [...confirmed].filter((b) => !received.has(b)).length;
  console.log(`confirmed ${confirmed.size}, nacked ${nacked}, received ${received.size}, lost ${lost}, longest confirm gap per kill ${gaps.join(' / ')} ms`);
  assert.equal(lost, 0);
  assert.equal(duplicatesNotRedelivered, 0, 'a message delivered twice is flagged redelivered');
  await pubConn.close();
  await subConn.close();
});
