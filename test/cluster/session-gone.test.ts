// A frontend's session lease (docs/cluster.md "Sessions") decides what its clients' work becomes
// when it goes, seen through the other frontend as a client would:
// - killed with kill -9: once its lease expires (no renewal for the 10 s TTL) the metadata leader
//   deletes its connections' exclusive queues, and the transient queue homed on an owner gives back
//   what its consumer held, redelivered (the durable side is test/cluster/frontend-kill.test.ts);
// - frozen (SIGSTOP) past its TTL and then thawed: what it held comes back meanwhile, and when it
//   wakes it does not go on serving with consumers the owners have cancelled: it closes its clients'
//   connections (320 CONNECTION_FORCED) and exits, and the launcher starts it again;
// - stopped cleanly (SIGTERM): it ends its lease at once, so what it held comes back without
//   waiting for the TTL.
// And an owner killed and restarted: the transient queues homed on it are gone (their records
// removed), the other owners' stay. Non-durable exchanges outlive the metadata leader's restart
// and go when every owner restarts at once. Last, the launcher killed with -9: its nodes stop by
// themselves.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { clusterLayout, transientHome } from '../../src/cluster/layout.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { DEFAULT_TTL_MS } from '../../src/meta/sessions.js';
import { waitFor } from '../launcher/harness.js';
import { getJson, haproxyMissing, RealCluster } from './amqp-load.js';

let cluster: RealCluster | undefined;
after(async () => cluster?.stop());

/**
 * Runs `run` on a fresh connection through `url`. A node may be restarting under these tests (when
 * every owner restarts, the metadata group is down long enough on a loaded machine for a frontend's
 * lease to run out: it closes its clients and restarts, src/cluster/frontend-lease.ts), so a
 * connection that fails or is lost is tried again, up to 20 times, 500 ms apart.
 */
async function connected<T>(url: string, run: (conn: amqp.ChannelModel) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const conn = await amqp.connect(url);
      conn.on('error', () => {});
      try {
        return await run(conn);
      } finally {
        await conn.close().catch(() => {});
      }
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Whether `check` (a passive declare) succeeds: true, or false when the broker answers 404; any other failure is tried again. */
function passes(url: string, check: (ch: amqp.Channel) => Promise<unknown>): Promise<boolean> {
  return connected(url, async (conn) => {
    const probe = await conn.createChannel();
    probe.on('error', () => {});
    return check(probe).then(() => true, (err: { code?: number }) => {
      if (err.code === 404) return false;
      throw err;
    });
  });
}

test("a dead frontend's exclusive queues go and its transient consumers' messages come back", { skip: haproxyMissing, timeout: 180_000 }, async () => {
  cluster = await RealCluster.start();
  const state = cluster.state();
  const [a, b] = state.nodes.filter((n) => n.role === 'frontend');
  assert.ok(a?.amqp && b?.amqp && a.pid !== null);

  const doomed = await amqp.connect(a.amqp.replace('amqp://', 'amqp://guest:guest@'));
  doomed.on('error', () => {});
  const ch = await doomed.createChannel();
  ch.on('error', () => {});
  const excl = await ch.assertQueue('', { exclusive: true });
  await ch.assertQueue('transient-work', { durable: false });
  ch.sendToQueue('transient-work', Buffer.from('held'));
  await ch.prefetch(1);
  let held = false;
  await ch.consume('transient-work', () => { held = true; }, { noAck: false });
  await waitFor('the message held unacked', () => held, (h) => h, 10_000);

  const survivor = await amqp.connect(b.amqp.replace('amqp://', 'amqp://guest:guest@'));
  // Another connection may not even look at an exclusive queue (405), so ask the management API.
  const probe = async (): Promise<boolean> => {
    const res = await fetch(`${b.http}/api/queues/%2F/${encodeURIComponent(excl.queue)}`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    return res.status === 200;
  };
  assert.equal(await probe(), true, 'the exclusive queue exists while its frontend lives');

  const killedAt = Date.now();
  cluster.kill(a.id);
  await waitFor('the exclusive queue deleted', probe, (exists) => !exists, 60_000);
  const goneAfterMs = Date.now() - killedAt;

  const c2 = await survivor.createChannel();
  const back = await waitFor('the held message back', () => c2.get('transient-work', { noAck: true }), (m) => m !== false, 60_000);
  assert.ok(back !== false);
  assert.equal(back.content.toString(), 'held');
  assert.equal(back.fields.redelivered, true);
  const backAfterMs = Date.now() - killedAt;
  console.log(`exclusive queue gone ${goneAfterMs} ms after the kill, held message back after ${backAfterMs} ms`);
  // The lease runs from its last renewal (every TTL/3), not from the kill.
  assert.ok(goneAfterMs >= DEFAULT_TTL_MS * 2 / 3 - 500, 'not before the lease could expire');
  await survivor.close();
});

/** A consumer connected straight to `amqpUrl` holding one message of `queue` unacked; resolves once it holds it. */
async function holder(amqpUrl: string, queue: string, body: string) {
  const conn = await amqp.connect(amqpUrl.replace('amqp://', 'amqp://guest:guest@'));
  const closed = new Promise<unknown>((resolve) => conn.on('close', resolve));
  conn.on('error', () => {});
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  await ch.assertQueue(queue, { durable: true });
  ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
  await ch.prefetch(1);
  let held = false;
  await ch.consume(queue, () => { held = true; }, { noAck: false });
  await waitFor('the message held unacked', () => held, (h) => h, 10_000);
  return { conn, closed };
}

/** Gets the message back through the frontend at `amqpUrl`: it must be `body`, redelivered. */
async function comesBack(amqpUrl: string, queue: string, body: string, timeoutMs: number): Promise<void> {
  const conn = await amqp.connect(amqpUrl.replace('amqp://', 'amqp://guest:guest@'));
  try {
    const ch = await conn.createChannel();
    const back = await waitFor('the held message back', () => ch.get(queue, { noAck: true }), (m) => m !== false, timeoutMs);
    assert.ok(back !== false);
    assert.equal(back.content.toString(), body);
    assert.equal(back.fields.redelivered, true);
  } finally {
    await conn.close().catch(() => {});
  }
}

test('a frontend frozen past its lease gives back what it held, and on waking closes its clients and restarts', { skip: haproxyMissing, timeout: 180_000 }, async () => {
  assert.ok(cluster, 'runs after the kill -9 test, on its cluster');
  const [a, b] = cluster.state().nodes.filter((n) => n.role === 'frontend');
  assert.ok(a?.amqp && b?.amqp && b.pid !== null);
  const { closed } = await holder(b.amqp, 'frozen-work', 'held by a frozen frontend');

  process.kill(b.pid, 'SIGSTOP');
  const frozenAt = Date.now();
  try {
    await comesBack(a.amqp, 'frozen-work', 'held by a frozen frontend', 60_000);
  } finally {
    process.kill(b.pid, 'SIGCONT');
  }
  const backAfterMs = Date.now() - frozenAt;
  const err = await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open'), 20_000))]);
  console.log(`frozen frontend: message back after ${backAfterMs} ms; on waking its client saw ${String((err as Error)?.message ?? err)}`);
  assert.match(String((err as Error)?.message ?? err), /320|CONNECTION_FORCED|session lease lost/, 'the thawed frontend closes its clients\' connections');
  await cluster.restarted(b.id, b.pid);
  assert.equal(cluster.state().nodes.find((n) => n.id === b.id)!.restarts, 1, 'it exited and the launcher started it again');
});

test('a frontend stopped cleanly ends its lease at once: what it held comes back without waiting for the TTL', { skip: haproxyMissing, timeout: 120_000 }, async () => {
  assert.ok(cluster, 'runs after the tests above, on their cluster');
  await waitFor('every frontend up', () => cluster!.state().nodes.filter((n) => n.role === 'frontend'), (fs) => fs.every((n) => n.up), 60_000);
  const [a, b] = cluster.state().nodes.filter((n) => n.role === 'frontend');
  assert.ok(a?.amqp && b?.amqp && a.pid !== null);
  const { closed } = await holder(a.amqp, 'clean-stop-work', 'held by a stopping frontend');
  const stoppedAt = Date.now();
  process.kill(a.pid, 'SIGTERM');
  await closed;
  await comesBack(b.amqp, 'clean-stop-work', 'held by a stopping frontend', 30_000);
  const backAfterMs = Date.now() - stoppedAt;
  console.log(`clean stop: message back after ${backAfterMs} ms`);
  assert.ok(backAfterMs < DEFAULT_TTL_MS / 2, `back after ${backAfterMs} ms, well inside the ${DEFAULT_TTL_MS} ms TTL`);
});

test("an owner's transient queues go with its restart, as RabbitMQ's go with their node; the others' stay", { skip: haproxyMissing, timeout: 120_000 }, async () => {
  assert.ok(cluster, 'runs after the tests above, on their cluster');
  const state = cluster.state();
  const owners = state.nodes.filter((n) => n.role === 'owner');
  const victim = owners[0];
  assert.ok(victim && victim.pid !== null);
  const layout = clusterLayout(owners.map((o) => ({ id: o.id, address: '' })), DEFAULT_CONFIG.partitions, DEFAULT_CONFIG.replication);
  const names = Array.from({ length: 12 }, (_, i) => `transient-${i}`);
  const home = (name: string): number => transientHome({ vhost: '/', name }, layout.partitions, layout.replicas, layout.owners);
  const lost = names.filter((n) => home(n) === victim.id);
  assert.ok(lost.length > 0 && lost.length < names.length, 'some of the queues are homed on the victim, some elsewhere');

  const url = state.lb.amqp.replace('amqp://', 'amqp://guest:guest@');
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  for (const n of names) await ch.assertQueue(n, { durable: false });
  await conn.close();

  const pid = cluster.kill(victim.id);
  await cluster.restarted(victim.id, pid);
  const exists = (name: string): Promise<boolean> => passes(url, (ch) => ch.checkQueue(name));
  const present = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const n of names) if (await exists(n)) out.push(n);
    return out;
  };
  const left = await waitFor('the victim\'s transient queues gone', present, (p) => p.length === names.length - lost.length, 30_000);
  assert.deepEqual(left, names.filter((n) => !lost.includes(n)), 'exactly the victim\'s transient queues are gone');
});

test('non-durable exchanges outlive a restart of the metadata leader and go when every owner restarts at once; durable ones stay', { skip: haproxyMissing, timeout: 180_000 }, async () => {
  assert.ok(cluster, 'runs after the tests above, on their cluster');
  const c = cluster;
  const url = c.state().lb.amqp.replace('amqp://', 'amqp://guest:guest@');
  const owners = (): { id: number; http: string; pid: number | null }[] => c.state().nodes.filter((n) => n.role === 'owner');
  // Every owner restarts below, and a frontend may restart with them: connected() and passes() try again.
  const declare = (run: (ch: amqp.Channel) => Promise<unknown>): Promise<void> =>
    connected(url, async (conn) => { await run(await conn.createChannel()); });
  const exists = (name: string): Promise<boolean> => passes(url, (ch) => ch.checkExchange(name));
  await declare(async (ch) => {
    await ch.assertExchange('run-transient', 'fanout', { durable: false });
    await ch.assertExchange('run-durable', 'fanout', { durable: true });
  });

  // The metadata leader killed and restarted: a survivor leads the next term, the cluster ran on.
  const leader = await waitFor('a metadata leader',
    async () => (await getJson<{ leader: number }>(`${owners()[0]!.http}/api/metadata`))?.leader ?? 0, (id) => id !== 0, 20_000);
  const pid = c.kill(leader);
  await c.restarted(leader, pid);
  await declare((ch) => ch.assertQueue('run-probe-1', { durable: false })); // a change goes through the new term's leader
  assert.equal(await exists('run-transient'), true, 'kept across the restart of one owner');

  // Every owner killed at once (the launcher starts them again): a new run of the cluster.
  const killed = owners().map((o) => ({ id: o.id, pid: c.kill(o.id) }));
  for (const k of killed) await c.restarted(k.id, k.pid);
  await waitFor('the non-durable exchange gone', () => exists('run-transient'), (there) => !there, 30_000);
  assert.equal(await exists('run-durable'), true, 'the durable exchange stays');
  await declare((ch) => ch.deleteExchange('run-durable'));
  // Every node up again (a frontend may have restarted on its lost lease) for the test after this one.
  await waitFor('all five nodes up', () => c.state(), (st) => st.nodes.filter((n) => n.up && n.pid !== null).length === 5, 60_000);
});

test('the nodes and haproxy stop when their launcher is killed with -9, instead of holding their ports on', { skip: haproxyMissing, timeout: 60_000 }, async () => {
  assert.ok(cluster, 'runs last, on the cluster of the tests above');
  const state = cluster.state();
  const nodePids = state.nodes.map((n) => n.pid).filter((p): p is number => p !== null);
  assert.equal(nodePids.length, 5);
  assert.ok(state.lb.pid !== null);
  const pids = [...nodePids, state.lb.pid];
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  cluster.launcher.child.kill('SIGKILL');
  // The nodes read the end of their stdin; haproxy gets SIGTERM from the kernel (setpriv --pdeathsig).
  const left = await waitFor('every node and haproxy stopped', () => pids.filter(alive), (l) => l.length === 0, 30_000);
  assert.deepEqual(left, []);
});
