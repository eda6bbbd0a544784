// Three owner nodes (src/node/compose-owner.ts) in one process over loopback gRPC, and a frontend's
// RemoteOwner (src/cluster/remote-owner.ts) in front of them: a durable queue's partition is
// replicated on all three, requests find its leader through NotLeader hints, and when that leader
// stops under confirmed publishing and acked consuming, nothing confirmed is lost and acks after
// the failover succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { RemoteOwner } from '../../src/cluster/remote-owner.js';
import { clusterLayout } from '../../src/cluster/layout.js';
import { DEFAULT_CONFIG, type OwnerAddress, type WarrenConfig } from '../../src/config.js';
import { composeOwner } from '../../src/node/compose-owner.js';
import type { Delivery, Message } from '../../src/owner/api.js';

const log = pino({ level: 'silent' });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function message(body: string): Message {
  return { exchange: '', routingKey: 'q', properties: { deliveryMode: 2 }, body: Buffer.from(body) };
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Three owners on loopback ports, each with its data dir under `root`, and their layout. */
async function threeOwners(partitions: number) {
  const root = mkdtempSync(join(tmpdir(), 'warren-owners-'));
  const owners: OwnerAddress[] = [];
  for (let id = 1; id <= 3; id++) owners.push({ id, address: `127.0.0.1:${await freePort()}` });
  const config = (id: number): WarrenConfig => ({
    ...DEFAULT_CONFIG, role: 'owner', nodeId: id, owners, clusterPort: Number(owners[id - 1]!.address.split(':')[1]),
    dataDir: join(root, `owner-${id}`), bind: ['127.0.0.1'], partitions, logLevel: 'silent',
  });
  const nodes = await Promise.all(owners.map((o) => composeOwner(config(o.id), log)));
  return { root, owners, config, nodes, layout: clusterLayout(owners, partitions, 3) };
}

test('three owners over gRPC: the partition leader is found, stopped, and nothing confirmed is lost', { timeout: 120_000 }, async () => {
  const partitions = 4;
  const { root, owners, nodes, layout } = await threeOwners(partitions);
  const alive = new Set([1, 2, 3]);
  const fe = new RemoteOwner({ owners, partitions, replicas: layout.replicas, session: 'fe-test', isDurable: () => true, log, retryMs: 30_000 });
  try {
    await waitFor('every owner ready', () => nodes.every((n) => n.adminSource.isReady() === true));
    // Leaders move to the placement's preferred replicas (src/cluster/leader-balance.ts).
    const preferred = (p: number): number => layout.replicas(p)[0]!;
    await waitFor('every partition led by its preferred replica', () => [1, 2, 3, 4].every((p) => nodes[preferred(p) - 1]!.durable.leadsPartition(p)), 30_000);
    const q = { vhost: '/', name: 'orders' };
    await fe.declareQueue(q, { arguments: {}, autoDelete: false });

    const received = new Map<string, number>();
    let redeliveredDuplicates = 0;
    let acksAfterFailover = 0;
    let failedOver = false;
    const sink = {
      deliver: (d: Delivery) => {
        const body = Buffer.from(d.message.body).toString();
        const seen = received.get(body) ?? 0;
        if (seen > 0) {
          assert.ok(d.redelivered, `a second delivery of ${body} is flagged redelivered`);
          redeliveredDuplicates++;
        }
        received.set(body, seen + 1);
        fe.settle(q, 'c1', [d.msgId], 'ack', () => {
          if (failedOver) acksAfterFailover++;
        });
      },
      cancelled: () => assert.fail('the consumer is not cancelled'),
    };
    await fe.consume(q, 'c1', { prefetch: 50, priority: 0, noAck: false, exclusive: false }, sink);

    const confirmed = new Set<string>();
    let rejected = 0;
    const total = 3000;
    let sent = 0;
    const publish = async (upTo: number): Promise<void> => {
      for (; sent < upTo; sent++) {
        const body = `m${sent}`;
        fe.enqueue(q, message(body), (outcome) => {
          if (outcome === 'accepted') confirmed.add(body);
          else rejected++;
        });
        if (sent % 100 === 99) await waitFor('confirms to catch up', () => confirmed.size + rejected >= sent - 400);
      }
    };
    await publish(total / 2);

    // Stop the partition's leader while confirms and acks are in flight.
    const leader = nodes.findIndex((n, i) => alive.has(i + 1) && n.durable.leadership(q).leads);
    assert.ok(leader >= 0, 'one owner leads the partition');
    alive.delete(leader + 1);
    await nodes[leader]!.close();
    failedOver = true;
    await publish(total);

    await waitFor('every publish answered', () => confirmed.size + rejected === total, 60_000);
    await waitFor('every confirmed message delivered', () => [...confirmed].every((b) => received.has(b)), 60_000);
    const lost = [...confirmed].filter((b) => !received.has(b));
    assert.equal(lost.length, 0, `lost ${lost.length} confirmed messages`);
    assert.ok(confirmed.size >= total * 0.9, `most publishes confirmed (${confirmed.size}/${total}, ${rejected} rejected)`);
    await waitFor('acks after the failover', () => acksAfterFailover > 100, 30_000);
    console.log(`confirmed ${confirmed.size}, rejected ${rejected}, duplicates ${redeliveredDuplicates}, acks after failover ${acksAfterFailover}`);
  } finally {
    fe.close();
    for (const [i, n] of nodes.entries()) if (alive.has(i + 1)) await n.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('acks sent while the partition has no quorum, for longer than the retry time, are applied once it is back', { timeout: 120_000 }, async () => {
  const partitions = 2;
  const { root, owners, config, nodes, layout } = await threeOwners(partitions);
  // Calls give up after 300 ms; settlements must not (they have no failure a client would see).
  const fe = new RemoteOwner({ owners, partitions, replicas: layout.replicas, session: 'fe-acks', isDurable: () => true, log, retryMs: 300 });
  const down = new Set<number>();
  try {
    await waitFor('every owner ready', () => nodes.every((n) => n.adminSource.isReady() === true));
    const q = { vhost: '/', name: 'held' };
    await fe.declareQueue(q, { arguments: {}, autoDelete: false });
    const got: Delivery[] = [];
    await fe.consume(q, 'c1', { prefetch: 5, priority: 0, noAck: false, exclusive: false }, {
      deliver: (d) => { got.push(d); },
      cancelled: () => assert.fail('the consumer is not cancelled'),
    });
    const publish = async (from: number, to: number): Promise<void> => {
      let confirmed = 0;
      for (let i = from; i < to; i++) fe.enqueue(q, message(`m${i}`), (outcome) => { if (outcome === 'accepted') confirmed++; });
      await waitFor('confirms', () => confirmed === to - from, 30_000);
    };
    await publish(0, 5);
    await waitFor('the prefetch filled', () => got.length === 5);

    // Two of three owners stop: no partition has a quorum. The consumer acks all it holds meanwhile.
    for (const id of [2, 3]) {
      down.add(id);
      await nodes[id - 1]!.close();
    }
    let acked = 0;
    fe.settle(q, 'c1', got.map((d) => d.msgId), 'ack', () => { acked++; });
    await new Promise((r) => setTimeout(r, 2_000)); // several retry times
    assert.equal(acked, 0, 'the acks are still being retried, not given up');
    await Promise.all([2, 3].map(async (id) => {
      nodes[id - 1] = await composeOwner(config(id), log);
      down.delete(id);
    }));
    await waitFor('the acks applied', () => acked === 1, 60_000);
    // The prefetch is free again only if the acks reached the queue.
    await publish(5, 10);
    await waitFor('deliveries after the outage', () => got.length === 10, 30_000);
    assert.deepEqual(got.slice(5).map((d) => Buffer.from(d.message.body).toString()), ['m5', 'm6', 'm7', 'm8', 'm9']);
  } finally {
    fe.close();
    for (const [i, n] of nodes.entries()) if (!down.has(i + 1)) await n.close();
    rmSync(root, { recursive: true, force: true });
  }
});
