// A metadata change is visible through every frontend once any frontend has answered for it, as
// after a RabbitMQ cluster's Mnesia transaction: the metadata leader answers a change only when
// every frontend holding a lease has reported its cache applied it (src/cluster/cache-acks.ts).
//
// Frontend 102's cache trails the metadata leader by 300 ms (WARREN_TEST_META_DELAY). The bindings
// here are to exchanges that are not new (amq.direct, amq.fanout: the read point's young-exchange
// rule does not cover them), and the publishes through 102 are not all unroutable, so without the
// wait 102 would route them by its stale cache: to no queue, or to a queue already unbound.
//
// Also here, on the same cluster: GET /api/connections and /api/overview through either frontend
// count the connections, listeners and messages of both (each fetched from its frontend, which
// advertised its management API with its lease), as RabbitMQ's do for every node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import { getJson, haproxyMissing, RealCluster } from './amqp-load.js';
import { startWarrenProcess } from '../helpers/process.js';

describe('metadata changes visible through every frontend', { skip: haproxyMissing, timeout: 300_000 }, () => {
  let cluster: RealCluster | undefined;
  let a: string;
  let b: string;
  let httpA: string;
  let httpB: string;
  const open: ChannelModel[] = [];

  before(async () => {
    cluster = await RealCluster.start(1000, { WARREN_TEST_META_DELAY: '102=300' });
    const node = (id: number): { amqp: string; http: string } => {
      const n = cluster?.state().nodes.find((x) => x.id === id);
      assert.ok(n?.amqp && n.http);
      return { amqp: n.amqp, http: n.http };
    };
    ({ amqp: a, http: httpA } = node(101));
    ({ amqp: b, http: httpB } = node(102));
  });
  after(async () => {
    for (const c of open) await c.close().catch(() => {});
    await cluster?.stop();
  });

  const connect = async (to: string): Promise<ChannelModel> => {
    const c = await amqp.connect(to.replace('amqp://', 'amqp://guest:guest@'));
    open.push(c);
    return c;
  };

  test('bound, declared or unbound through one frontend: a publish through the other is routed by it at once', async () => {
    const chA = await (await connect(a)).createChannel();
    const pub = await (await connect(b)).createConfirmChannel();
    const returned: string[] = [];
    pub.on('return', (m) => returned.push(m.content.toString()));
    // A queue on amq.fanout from the start, so a fanout publish is never unroutable.
    await chA.assertQueue('vis-base', { durable: false });
    await chA.bindQueue('vis-base', 'amq.fanout', '');
    const expectOne = async (q: string, body: string): Promise<void> => {
      const m = await chA.get(q, { noAck: true });
      assert.ok(m, `${body} in ${q}`);
      assert.equal(m.content.toString(), body);
    };
    for (let i = 0; i < 6; i++) {
      const q = `vis-q-${i}`;
      await chA.assertQueue(q, { durable: i % 2 === 0 });
      // The default exchange: the queue declared through A.
      pub.publish('', q, Buffer.from(`default ${i}`), { mandatory: true });
      await pub.waitForConfirms();
      await expectOne(q, `default ${i}`);
      // A binding to an old direct exchange.
      await chA.bindQueue(q, 'amq.direct', q);
      pub.publish('amq.direct', q, Buffer.from(`direct ${i}`), { mandatory: true });
      await pub.waitForConfirms();
      await expectOne(q, `direct ${i}`);
      // A binding to an old fanout exchange that already routes elsewhere.
      await chA.bindQueue(q, 'amq.fanout', '');
      pub.publish('amq.fanout', '', Buffer.from(`fanout ${i}`));
      await pub.waitForConfirms();
      await expectOne(q, `fanout ${i}`);
      // Unbound through A: no longer routed through B.
      await chA.unbindQueue(q, 'amq.fanout', '');
      await chA.unbindQueue(q, 'amq.direct', q);
      pub.publish('amq.direct', q, Buffer.from(`unbound ${i}`), { mandatory: true });
      pub.publish('amq.fanout', '', Buffer.from(`fanout after unbind ${i}`));
      await pub.waitForConfirms();
      assert.equal(await chA.get(q), false, `nothing reaches ${q} once unbound`);
      await chA.deleteQueue(q);
    }
    await chA.purgeQueue('vis-base');
    assert.deepEqual(returned, Array.from({ length: 6 }, (_, i) => `unbound ${i}`));
  });

  test('a frontend that cannot apply holds a change no longer than the bound', async () => {
    const chA = await (await connect(a)).createChannel();
    const pid = cluster?.state().nodes.find((n) => n.id === 102)?.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGSTOP');
    let took: number;
    try {
      const t0 = Date.now();
      await chA.assertQueue('vis-while-stopped', { durable: false });
      took = Date.now() - t0;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // The bound is 1 s (src/cluster/meta-service.ts DEFAULT_CACHE_WAIT_MS); the frozen frontend's
    // lease (10 s) is still open, so the change waited for it that long, and no longer.
    assert.ok(took >= 900 && took < 3_000, `declare took ${took} ms`);
    // Once it runs again, a change waits only for its (300 ms late) cache.
    await new Promise((r) => setTimeout(r, 1_000));
    const t1 = Date.now();
    await chA.deleteQueue('vis-while-stopped');
    assert.ok(Date.now() - t1 < 900, `delete took ${Date.now() - t1} ms`);
  });

  test('GET /api/connections and /api/overview through either frontend cover both frontends', async () => {
    const named = async (to: string, name: string): Promise<ChannelModel> => {
      const c = await amqp.connect(to.replace('amqp://', 'amqp://guest:guest@'), { clientProperties: { connection_name: name } });
      open.push(c);
      return c;
    };
    await named(a, 'listed-via-101');
    await named(b, 'listed-via-102');
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    type Row = { node: string; client_properties?: { connection_name?: string } };
    const list = async (http: string, headers: Record<string, string> = {}): Promise<Map<string, string>> => {
      const res = await fetch(`${http}/api/connections`, { headers: { ...auth, ...headers } });
      assert.equal(res.status, 200);
      const rows = await res.json() as Row[];
      return new Map(rows.map((r) => [r.client_properties?.connection_name ?? '', r.node]));
    };
    for (const http of [httpA, httpB]) {
      const seen = await list(http);
      assert.equal(seen.get('listed-via-101'), 'warren@frontend-101', `through ${http}`);
      assert.equal(seen.get('listed-via-102'), 'warren@frontend-102', `through ${http}`);
    }
    // What one frontend answers the others: its own connections only.
    const own = await list(httpA, { 'x-warren-scope': 'node' });
    assert.ok(own.has('listed-via-101') && !own.has('listed-via-102'));

    // The overview through either counts both frontends' connections, listeners and messages.
    type Overview = { object_totals: { connections: number }; message_stats: { publish: number }; listeners: Array<{ node: string }> };
    const overview = async (http: string, headers: Record<string, string> = {}): Promise<Overview> =>
      await (await fetch(`${http}/api/overview`, { headers: { ...auth, ...headers } })).json() as Overview;
    const whole = await overview(httpA);
    const onlyA = await overview(httpA, { 'x-warren-scope': 'node' });
    const onlyB = await overview(httpB, { 'x-warren-scope': 'node' });
    assert.equal(whole.object_totals.connections, onlyA.object_totals.connections + onlyB.object_totals.connections);
    assert.deepEqual(whole.listeners.map((l) => l.node).sort(), ['warren@frontend-101', 'warren@frontend-102']);
    const pub = await (await named(b, 'publishing-via-102')).createConfirmChannel();
    for (let i = 0; i < 3; i++) pub.publish('amq.fanout', '', Buffer.from(`counted ${i}`));
    await pub.waitForConfirms();
    const after = await overview(httpA);
    assert.ok(after.message_stats.publish >= whole.message_stats.publish + 3,
      `publishes through 102 counted through 101: ${whole.message_stats.publish} -> ${after.message_stats.publish}`);
  });

  test('a frontend started with --http-port 0 advertises the port it bound: its connections are listed through the others', async () => {
    const owners = cluster!.state().nodes.filter((n) => n.role === 'owner').map((n) => `${n.id}=${n.cluster}`).join(',');
    const dir = mkdtempSync(join(tmpdir(), 'warren-fe-103-'));
    const fe = await startWarrenProcess(dir, ['--role', 'frontend', '--node-id', '103', '--owners', owners], 60_000);
    try {
      assert.ok(fe.httpPort > 0);
      const c = await amqp.connect(fe.url, { clientProperties: { connection_name: 'listed-via-103' } });
      open.push(c);
      const rows = await getJson<Array<{ node: string; client_properties?: { connection_name?: string } }>>(`${httpA}/api/connections`);
      assert.equal(rows?.find((r) => r.client_properties?.connection_name === 'listed-via-103')?.node, 'warren@frontend-103');
      await c.close();
    } finally {
      await fe.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
