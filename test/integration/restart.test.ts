// What survives a kill -9 of the embedded broker (issue 7): durable exchanges, durable queues,
// bindings between them, users, vhosts and permissions come back; non-durable queues and
// exchanges, exclusive queues and bindings to them are gone, as in RabbitMQ.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channel, connect, expectChannelClose, uniq } from '../helpers/amqp.js';
import { startWarrenProcess, type WarrenProcess } from '../helpers/process.js';
import { skipOnCluster } from '../helpers/target.js';

const external = process.env['WARREN_TEST_URL'] !== undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'warren-restart-'));
let broker: WarrenProcess | undefined;

after(async () => {
  await broker?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

async function http(path: string, method: string, body?: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${broker!.httpPort}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

test('durable metadata survives kill -9; transient metadata does not', async (t) => {
  if (external) { t.skip('restarts Warren itself'); return; }
  if (skipOnCluster(t, "restarts an in-process broker on the same data dir (the cluster's kill -9 drill is test/cluster/failover-lb.test.ts)")) return;
  const names = {
    durableX: uniq('dx'), transientX: uniq('tx'), durableQ: uniq('dq'), transientQ: uniq('tq'),
    user: uniq('user'), vhost: uniq('vh'),
  };
  broker = await startWarrenProcess(dataDir);
  {
    const conn = await connect(broker.url);
    const ch = await channel(conn);
    await ch.assertExchange(names.durableX, 'topic', { durable: true });
    await ch.assertExchange(names.transientX, 'fanout', { durable: false });
    await ch.assertQueue(names.durableQ, { durable: true, arguments: { 'x-max-length': 1000 } });
    await ch.assertQueue(names.transientQ, { durable: false });
    const exclusive = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(names.durableQ, names.durableX, 'orders.#');
    await ch.bindQueue(names.transientQ, names.durableX, 'orders.#');
    await ch.bindQueue(exclusive, names.durableX, 'orders.#');
    assert.equal(await http(`/api/vhosts/${encodeURIComponent(names.vhost)}`, 'PUT', {}), 201);
    assert.equal(await http(`/api/users/${names.user}`, 'PUT', { password: 'pw', tags: '' }), 201);
    assert.equal(await http(`/api/permissions/${encodeURIComponent(names.vhost)}/${names.user}`, 'PUT',
      { configure: '.*', write: '.*', read: '.*' }), 201);
    await conn.close();
  }
  await broker.kill('SIGKILL');

  broker = await startWarrenProcess(dataDir);
  const conn = await connect(broker.url);
  try {
    const ch = await channel(conn);
    await ch.checkExchange(names.durableX);
    const q = await ch.checkQueue(names.durableQ);
    assert.equal(q.messageCount, 0);
    // The binding is back: a publish to the durable exchange reaches the durable queue (only).
    await ch.assertQueue(names.transientQ, { durable: false }); // a new, empty, unbound queue
    ch.publish(names.durableX, 'orders.created', Buffer.from('after restart'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await ch.checkQueue(names.durableQ)).messageCount, 1);
    assert.equal((await ch.checkQueue(names.transientQ)).messageCount, 0, 'the transient queue lost its binding');
    // Its arguments too: a redeclare with different ones is refused as inequivalent.
    const other = await channel(conn);
    await expectChannelClose(other.assertQueue(names.durableQ, { durable: true, arguments: { 'x-max-length': 5 } }), 406,
      /inequivalent arg 'x-max-length'/);
    const probe = await channel(conn);
    await expectChannelClose(probe.checkExchange(names.transientX), 404, /no exchange/);
    // The user, its vhost and its permissions.
    const userConn = await connect(`amqp://${names.user}:pw@127.0.0.1:${broker.amqpPort}/${encodeURIComponent(names.vhost)}`);
    await (await channel(userConn)).assertQueue('', { exclusive: true });
    await userConn.close();
    await ch.deleteQueue(names.durableQ);
    await ch.deleteQueue(names.transientQ);
    await ch.deleteExchange(names.durableX);
  } finally {
    await conn.close();
  }
});
