// GET /api/channels and /api/consumers as RabbitMQ 3.10's management API answers them: a channel's
// confirm mode, prefetch limits, unacked and unconfirmed counts and consumers, each consumer's tag,
// queue, ack mode and arguments, what a management user sees of them, and that a closed channel
// leaves the list. Exercised with amqplib over TCP (Warren only: the reference RabbitMQ runs without
// its management plugin); on a cluster through any frontend, whichever frontend holds the channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channel, confirmChannel, connect, eventually, uniq, useBrokerConnection } from '../helpers/amqp.js';
import { apiBase, apiRequest, basicAuth, GUEST_AUTH } from '../helpers/admin.js';

const fixture = useBrokerConnection();

interface ChannelRow {
  name: string; number: number; connection_details: { name: string; peer_host: string; peer_port: number };
  vhost: string; user: string; node: string; consumer_count: number; messages_unacknowledged: number; messages_unconfirmed: number;
  prefetch_count: number; global_prefetch_count: number; confirm: boolean; transactional: boolean; state: string;
}

interface ConsumerRow {
  consumer_tag: string; queue: { name: string; vhost: string };
  channel_details: { name: string; number: number; connection_name: string; peer_host: string; peer_port: number; user: string };
  ack_required: boolean; exclusive: boolean; prefetch_count: number; active: boolean; activity_status: string; arguments: Record<string, unknown>;
}

const get = (path: string, auth = GUEST_AUTH): Promise<Response> => apiRequest(apiBase(fixture.broker), path, auth);

async function getJson<T>(path: string, auth = GUEST_AUTH): Promise<T> {
  const res = await get(path, auth);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

const skip = (t: { skip(m: string): void }): boolean => {
  if (fixture.broker.isWarren && fixture.broker.httpPort !== undefined) return false;
  t.skip('Warren only (the reference RabbitMQ runs without its management plugin)');
  return true;
};

test('a consuming channel in confirm mode: its row in /api/channels and its consumer in /api/consumers', async (t) => {
  if (skip(t)) return;
  const q = uniq('chan');
  const tag = uniq('ctag');
  const ch = await confirmChannel(fixture.conn);
  const other = await channel(fixture.conn);
  await ch.assertQueue(q, { durable: false });
  await ch.prefetch(7);
  await ch.consume(q, () => { /* held unacked */ }, { consumerTag: tag, noAck: false, arguments: { 'x-priority': 3 } });
  ch.sendToQueue(q, Buffer.from('a'));
  ch.sendToQueue(q, Buffer.from('b'));
  await ch.waitForConfirms();

  const consumer = await eventually(async () => {
    const all = await getJson<ConsumerRow[]>('/api/consumers');
    const c = all.find((x) => x.consumer_tag === tag);
    return c !== undefined ? c : undefined;
  }, 5_000, 'the consumer in /api/consumers');
  assert.deepEqual(consumer.queue, { name: q, vhost: '/' });
  assert.equal(consumer.ack_required, true);
  assert.equal(consumer.exclusive, false);
  assert.equal(consumer.prefetch_count, 7);
  assert.equal(consumer.active, true);
  assert.equal(consumer.activity_status, 'up');
  assert.deepEqual(consumer.arguments, { 'x-priority': 3 });
  assert.equal(consumer.channel_details.user, 'guest');
  assert.equal(consumer.channel_details.name, `${consumer.channel_details.connection_name} (${consumer.channel_details.number})`);
  assert.ok((await getJson<ConsumerRow[]>('/api/consumers/%2F')).some((x) => x.consumer_tag === tag));

  const name = consumer.channel_details.name;
  const row = await eventually(async () => {
    const r = await getJson<ChannelRow>(`/api/channels/${encodeURIComponent(name)}`);
    return r.messages_unacknowledged === 2 ? r : undefined;
  }, 5_000, 'two unacked messages on the channel');
  assert.equal(row.name, name);
  assert.equal(row.number, consumer.channel_details.number);
  assert.equal(row.connection_details.name, consumer.channel_details.connection_name);
  assert.equal(row.vhost, '/');
  assert.equal(row.user, 'guest');
  assert.equal(typeof row.node, 'string');
  assert.equal(row.consumer_count, 1);
  assert.equal(row.messages_unconfirmed, 0);
  assert.equal(row.prefetch_count, 7);
  assert.equal(row.global_prefetch_count, 0);
  assert.equal(row.confirm, true);
  assert.equal(row.transactional, false);
  assert.equal(row.state, 'running');

  // The connection's other channel: no consumers, no confirm mode.
  const all = await getJson<ChannelRow[]>('/api/channels');
  const sibling = all.find((x) => x.connection_details.name === row.connection_details.name && x.number !== row.number);
  assert.ok(sibling !== undefined, 'the connection\'s second channel is listed');
  assert.equal(sibling.consumer_count, 0);
  assert.equal(sibling.confirm, false);
  assert.ok((await getJson<ChannelRow[]>('/api/vhosts/%2F/channels')).some((x) => x.name === name));

  assert.equal((await get('/api/channels/no%20such%20channel')).status, 404);
  assert.equal((await get('/api/vhosts/no-such-vhost/channels')).status, 404);
  assert.equal((await get('/api/consumers/no-such-vhost')).status, 404);

  await ch.close();
  await eventually(async () => {
    const left = await getJson<ChannelRow[]>('/api/channels');
    return left.some((x) => x.name === name) ? undefined : true;
  }, 5_000, 'the closed channel to leave /api/channels');
  assert.ok(!(await getJson<ConsumerRow[]>('/api/consumers')).some((x) => x.consumer_tag === tag), 'its consumer is gone too');
  await other.close();
  const cleanup = await channel(fixture.conn);
  await cleanup.deleteQueue(q);
  await cleanup.close();
});

test('a management user sees its own channels; an administrator sees everyone\'s', async (t) => {
  if (skip(t)) return;
  const user = uniq('chan-mgmt');
  const base = apiBase(fixture.broker);
  assert.equal((await apiRequest(base, `/api/users/${user}`, GUEST_AUTH, 'PUT', { password: 'pw', tags: 'management' })).status, 201);
  assert.equal((await apiRequest(base, `/api/permissions/%2F/${user}`, GUEST_AUTH, 'PUT', { configure: '.*', write: '.*', read: '.*' })).status, 201);
  const conn = await connect(fixture.broker, { username: user, password: 'pw' });
  const guests = await channel(fixture.conn);
  try {
    await channel(conn);
    const mine = await eventually(async () => {
      const rows = await getJson<ChannelRow[]>('/api/channels', basicAuth(user, 'pw'));
      return rows.length > 0 ? rows : undefined;
    }, 5_000, 'the user\'s channel');
    assert.ok(mine.every((x) => x.user === user), JSON.stringify(mine.map((x) => x.user)));
    const everyone = new Set((await getJson<ChannelRow[]>('/api/channels')).map((x) => x.user));
    assert.ok(everyone.has(user) && everyone.has('guest'), [...everyone].join());
  } finally {
    await guests.close().catch(() => undefined);
    await conn.close().catch(() => undefined);
    await apiRequest(base, `/api/users/${user}`, GUEST_AUTH, 'DELETE');
  }
});
