// QueueFigures (src/cluster/queue-stats.ts) over real gRPC: owners served by RpcServer on loopback
// answer QueueStats from a table the test changes. A refresh sees a change made before it was
// called, even while an older round is still in flight; an owner that stops answering drops out
// of `online` and its figures age out, while a new leader's answer takes over the queue.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import pino from 'pino';
import { QueueFigures } from '../../src/cluster/queue-stats.js';
import type { warren } from '../../src/proto/owner.js';
import { OWNER } from '../../src/rpc/contracts.js';
import { RpcServer } from '../../src/rpc/server.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
type Entry = warren.v1.QueueStatsEntry.$Properties;

/** A fake owner: answers QueueStats with `entries` after `delayMs`. */
async function fakeOwner(): Promise<{ server: RpcServer; port: number; entries: Entry[]; delayMs: number; calls: number }> {
  const server = new RpcServer();
  const o = { server, port: 0, entries: [] as Entry[], delayMs: 0, calls: 0 };
  server.unary(OWNER.queueStats, async (req) => {
    assert.equal(req.queues?.length ?? 0, 0, 'the frontend asks for everything the owner serves');
    o.calls++;
    const snapshot = o.entries.map((e) => ({ ...e }));
    await sleep(o.delayMs);
    return { entries: snapshot };
  });
  o.port = await server.listen('127.0.0.1', 0);
  return o;
}

const servers: RpcServer[] = [];
after(async () => { for (const s of servers) await s.close(); });

test('refresh sees earlier changes; a silent owner leaves online; the newer leader answer wins', { timeout: 30_000 }, async () => {
  const a = await fakeOwner();
  const b = await fakeOwner();
  servers.push(a.server, b.server);
  const owners = [{ id: 1, address: `127.0.0.1:${a.port}` }, { id: 2, address: `127.0.0.1:${b.port}` }];
  const q = { vhost: '/', name: 'orders' };
  const figures = new QueueFigures({ owners, partitions: 4, replicas: () => [1, 2], log, intervalMs: 200, staleMs: 600, attemptMs: 300 });
  // Not started: every round below is one the test asked for.
  try {
    const entry = (messages: number, partition = 0): Entry => ({ queue: { ...q, partition: partition || 0 }, messages, unacked: 1, consumers: 2, bytes: 30 });
    a.entries = [entry(5)];
    await figures.refresh(2_000);
    assert.deepEqual(figures.stats(q), { messages: 5, unacked: 1, consumers: 2, bytes: 30 });
    assert.deepEqual([...figures.list()].map((x) => x.ref), [q]);

    // A round in flight read the old figure; a refresh asked after the change waits for the next round.
    a.delayMs = 150;
    const older = figures.refresh(2_000);
    await sleep(20);
    a.entries = [entry(6)];
    await figures.refresh(2_000);
    await older;
    assert.equal(figures.stats(q)?.messages, 6);

    // The refresh wait is bounded: a slow owner leaves the cached figures in place.
    a.delayMs = 250;
    a.entries = [entry(7)];
    const t0 = Date.now();
    await figures.refresh(50);
    assert.ok(Date.now() - t0 < 200, 'refresh returned after its wait');
    assert.equal(figures.stats(q)?.messages, 6);
    a.delayMs = 0;

    // Durable: partition of the queue as placed (partitionOf), leader = whoever answered for it.
    const partition = figures.replication(q).partition;
    a.entries = [entry(8, partition)];
    await figures.refresh(2_000);
    assert.deepEqual(figures.replication(q), { partition, leader: 1, members: [1, 2], online: [1, 2] });

    // Owner 1 stops answering (past its deadline); owner 2 now leads: its figures win, 1 goes offline once stale.
    a.delayMs = 1_000;
    b.entries = [entry(9, partition)];
    await figures.refresh(2_000);
    assert.equal(figures.stats(q)?.messages, 9);
    assert.equal(figures.replication(q).leader, 2);
    await sleep(700);
    await figures.refresh(2_000);
    assert.deepEqual(figures.replication(q), { partition, leader: 2, members: [1, 2], online: [2] });

    // Nobody answers for it any more: no figures, no leader.
    b.entries = [];
    await figures.refresh(2_000);
    assert.equal(figures.stats(q), undefined);
    assert.equal(figures.replication(q).leader, 0);
  } finally {
    figures.close();
  }
});

test('start() refreshes in the background', { timeout: 10_000 }, async () => {
  const a = await fakeOwner();
  servers.push(a.server);
  const figures = new QueueFigures({ owners: [{ id: 1, address: `127.0.0.1:${a.port}` }], partitions: 4, replicas: () => [1], log, intervalMs: 100 }).start();
  try {
    const x = { vhost: '/', name: 'x' };
    const waitMessages = async (n: number): Promise<void> => {
      const deadline = Date.now() + 3_000;
      while (figures.stats(x)?.messages !== n && Date.now() < deadline) await sleep(20);
      assert.equal(figures.stats(x)?.messages, n);
    };
    a.entries = [{ queue: x, messages: 3, unacked: 0, consumers: 0, bytes: 0 }];
    await waitMessages(3);
    a.entries = [{ queue: x, messages: 4, unacked: 0, consumers: 0, bytes: 0 }];
    await waitMessages(4);
  } finally {
    figures.close();
  }
});

test('nodes: each owner as it describes itself; an owner that does not answer is listed, not running', { timeout: 30_000 }, async () => {
  const server = new RpcServer();
  servers.push(server);
  server.unary(OWNER.node, async () => ({
    node: { osPid: 4242, uptimeMs: 9_000, memUsed: 50e6, memLimit: 400e6, memAlarm: false, diskFree: 7e9, socketsUsed: 0, processors: 2 },
  }));
  const port = await server.listen('127.0.0.1', 0);
  // A port that was free a moment ago: nothing answers there.
  const idle = createServer();
  await new Promise<void>((r) => idle.listen(0, '127.0.0.1', r));
  const gone = (idle.address() as AddressInfo).port;
  await new Promise((r) => idle.close(r));
  const owners = [{ id: 1, address: `127.0.0.1:${port}` }, { id: 2, address: `127.0.0.1:${gone}` }];
  const figures = new QueueFigures({ owners, partitions: 4, replicas: () => [1, 2], log, attemptMs: 500 });
  try {
    const rows = await figures.nodes((id) => `warren@owner-${id}`);
    assert.deepEqual(rows, [
      {
        name: 'warren@owner-1', type: 'disc', running: true, os_pid: '4242', uptime: 9_000, mem_used: 50e6, mem_limit: 400e6,
        mem_alarm: false, disk_free: 7e9, disk_free_alarm: false, sockets_used: 0, processors: 2,
      },
      { name: 'warren@owner-2', type: 'disc', running: false },
    ]);
  } finally {
    figures.close();
  }
});

test('only a refresh the management API asks for carries disk figures; background rounds keep the last ones', { timeout: 30_000 }, async () => {
  const server = new RpcServer();
  servers.push(server);
  const asked: boolean[] = [];
  server.unary(OWNER.queueStats, async (req) => {
    asked.push(req.disk === true);
    const entry: Entry = { queue: { vhost: '/', name: 'kept', partition: 3 }, messages: 1, unacked: 0, consumers: 0, bytes: 10, diskBytes: req.disk === true ? 4096 : 0 };
    return { entries: [entry] };
  });
  const port = await server.listen('127.0.0.1', 0);
  const figures = new QueueFigures({ owners: [{ id: 1, address: `127.0.0.1:${port}` }], partitions: 4, replicas: () => [1], log, intervalMs: 50, staleMs: 5_000 });
  const q = { vhost: '/', name: 'kept' };
  try {
    await figures.refresh(2_000);
    assert.deepEqual(asked, [true]);
    assert.deepEqual(figures.disk(q), { partition: 3, diskBytes: 4096 });
    figures.start();
    await sleep(400);
    assert.ok(asked.slice(1).length >= 3 && asked.slice(1).every((d) => !d), `background rounds ask without disk: ${asked.join(',')}`);
    assert.deepEqual(figures.disk(q), { partition: 3, diskBytes: 4096 }, 'the last disk figure is kept');
  } finally {
    figures.close();
  }
});
