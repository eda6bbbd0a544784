// Definitions export and import over the management API of running Warrens, with amqplib clients
// making the topology and then using the imported one. Warren only: RabbitMQ 3.10 applies an import
// entry by entry (a bad file leaves the good part applied) and skips 'amq.gen-' queues, where Warren
// validates the whole file first and re-creates server-named queues so an export round-trips.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelModel } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { channel, confirmChannel, connect } from '../helpers/amqp.js';
import { apiBase, apiRequest, GUEST_AUTH } from '../helpers/admin.js';
import { clusterLacks } from '../helpers/target.js';

interface Defs {
  users: Array<{ name: string; password_hash: string; hashing_algorithm: string; tags: string[] }>;
  vhosts: Array<{ name: string }>;
  permissions: Array<{ user: string; vhost: string }>;
  queues: Array<Record<string, unknown> & { name: string; vhost: string }>;
  exchanges: Array<{ name: string; vhost: string; type: string; arguments: Record<string, unknown> }>;
  bindings: Array<{ source: string; destination: string; destination_type: string; routing_key: string }>;
  [section: string]: unknown;
}

let source: TestBroker;
let fresh: TestBroker;
const conns: ChannelModel[] = [];
let serverNamed = '';
let exclusive = '';

const call = (b: TestBroker, path: string, method = 'GET', body?: unknown): Promise<Response> =>
  apiRequest(apiBase(b), path, GUEST_AUTH, method, body);

async function exported(b: TestBroker): Promise<Defs> {
  const r = await call(b, '/api/definitions');
  assert.equal(r.status, 200);
  return (await r.json()) as Defs;
}

async function post(b: TestBroker, defs: unknown): Promise<{ status: number; body: string }> {
  const r = await call(b, '/api/definitions', 'POST', defs);
  return { status: r.status, body: await r.text() };
}

/** Order-insensitive view of a definitions document, for comparing two brokers. */
function canon(d: Defs): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(d)) if (Array.isArray(v)) out[k] = v.map((x) => JSON.stringify(x)).sort();
  return out;
}

before(async () => {
  source = await startBroker();
  fresh = await startBroker();
  if (!source.isWarren) return;
  // A vhost and an application user with a password, made over HTTP...
  assert.equal((await call(source, '/api/vhosts/apps', 'PUT', {})).status, 201);
  assert.equal((await call(source, '/api/users/app', 'PUT', { password: 'app-secret', tags: 'management' })).status, 201);
  assert.equal((await call(source, '/api/permissions/apps/app', 'PUT', { configure: '.*', write: '.*', read: '.*' })).status, 201);
  // ...and a topology made by an AMQP client in it.
  const c = await connect(source, { vhost: 'apps', username: 'app', password: 'app-secret' });
  conns.push(c);
  const ch = await channel(c);
  await ch.assertExchange('events', 'topic', { durable: true, arguments: { 'alternate-exchange': 'unrouted' } });
  await ch.assertExchange('unrouted', 'fanout', { durable: true });
  await ch.assertQueue('orders', { durable: true, arguments: { 'x-max-length': 100, 'x-queue-type': 'classic' } });
  serverNamed = (await ch.assertQueue('', { durable: true, exclusive: false, autoDelete: false })).queue;
  exclusive = (await ch.assertQueue('', { exclusive: true })).queue;
  await ch.bindQueue('orders', 'events', 'order.#');
  await ch.bindQueue(serverNamed, 'events', 'audit.*');
  await ch.bindQueue(exclusive, 'events', '#');
  await ch.bindExchange('unrouted', 'events', 'dead.#');
  await ch.sendToQueue('orders', Buffer.from('stats are not definitions'));
});

after(async () => {
  for (const c of conns) await c.close().catch(() => {});
  await source.stop();
  await fresh.stop();
});

const warrenOnly = (t: { skip(m: string): void }): boolean => {
  if (!source.isWarren) { t.skip('Warren only'); return true; }
  return false;
};

test('the export has RabbitMQ\'s shape: server-named durable queues in, exclusive queues and stats out', async (t) => {
  if (warrenOnly(t)) return;
  const d = await exported(source);
  for (const key of ['users', 'vhosts', 'permissions', 'topic_permissions', 'parameters', 'global_parameters', 'policies',
    'queues', 'exchanges', 'bindings']) assert.ok(Array.isArray(d[key]), key);
  const names = d.queues.map((q) => q.name);
  assert.ok(names.includes('orders') && names.includes(serverNamed), names.join());
  assert.ok(serverNamed.startsWith('amq.gen-'));
  assert.ok(!names.includes(exclusive), 'exclusive queues are not definitions');
  assert.deepEqual(d.queues.find((q) => q.name === 'orders'), {
    name: 'orders', vhost: 'apps', durable: true, auto_delete: false, arguments: { 'x-max-length': 100, 'x-queue-type': 'classic' },
  });
  assert.ok(!d.bindings.some((b) => b.destination === exclusive), 'bindings to exclusive queues are not exported');
  assert.ok(!d.exchanges.some((x) => x.name === '' || x.name.startsWith('amq.')));
  const app = d.users.find((u) => u.name === 'app');
  assert.equal(app?.hashing_algorithm, 'rabbit_password_hashing_sha256');
  assert.deepEqual(app?.tags, ['management']);
});

// The cluster target is one cluster per test process: there `fresh` is `source`, so the tests that
// need a second, empty broker skip.
const noFreshBroker = 'a second, empty broker (the cluster target shares one cluster per test process, so `fresh` is `source`)';

test('an export imports back into the same broker unchanged (204)', async (t) => {
  if (warrenOnly(t)) return;
  const d = await exported(source);
  assert.deepEqual(await post(source, d), { status: 204, body: '' });
  assert.deepEqual(canon(await exported(source)), canon(d));
});

test('an export imports into a fresh broker identically', { skip: clusterLacks(noFreshBroker) }, async (t) => {
  if (warrenOnly(t)) return;
  const d = await exported(source);
  assert.deepEqual(await post(fresh, d), { status: 204, body: '' });
  const copy = await exported(fresh);
  assert.deepEqual(canon({ ...copy, product_version: '' }), canon({ ...d, product_version: '' }));
});

test('on the fresh broker the imported user logs in with its old password and the imported topology routes', { skip: clusterLacks(noFreshBroker) }, async (t) => {
  if (warrenOnly(t)) return;
  const c = await connect(fresh, { vhost: 'apps', username: 'app', password: 'app-secret' });
  conns.push(c);
  const ch = await confirmChannel(c);
  ch.publish('events', 'order.created', Buffer.from('o1'));
  ch.publish('events', 'audit.login', Buffer.from('a1'));
  ch.publish('events', 'nobody.listens', Buffer.from('alt'));
  await ch.waitForConfirms();
  const got = async (q: string): Promise<string | undefined> => {
    const m = await ch.get(q, { noAck: true });
    return m === false ? undefined : m.content.toString();
  };
  assert.equal(await got('orders'), 'o1');
  assert.equal(await got(serverNamed), 'a1');
  assert.equal((await ch.checkQueue('orders')).messageCount, 0);
  // x-max-length came along: 101 messages leave 100.
  for (let i = 0; i < 101; i++) ch.sendToQueue('orders', Buffer.from(String(i)));
  await ch.waitForConfirms();
  assert.equal((await ch.checkQueue('orders')).messageCount, 100);
});

test('a file with one bad entry changes nothing and the 400 names the entry', async (t) => {
  if (warrenOnly(t)) return;
  const before = await exported(source);
  const q = (name: string, args: Record<string, unknown> = {}, vhost = 'apps') => ({ name, vhost, durable: true, auto_delete: false, arguments: args });
  const cases: Array<{ file: Record<string, unknown>; reason: RegExp }> = [
    { // invalid by itself: the broker's queue-argument rules and texts
      file: { vhosts: [{ name: 'never' }], queues: [q('new-1'), q('prio', { 'x-max-priority': 300 })] },
      reason: /^queues\[1\]: invalid arg 'x-max-priority' for queue 'prio' in vhost 'apps': \{max_value_exceeded,300\}$/,
    },
    { // valid by itself, wrong against the broker: a destination that exists nowhere
      file: { vhosts: [{ name: 'never' }], queues: [q('new-1')], bindings: [{ source: 'events', vhost: 'apps', destination: 'ghost', destination_type: 'queue', routing_key: 'k', arguments: {} }] },
      reason: /^bindings\[0\]: no queue 'ghost' in vhost 'apps'$/,
    },
    { // a vhost neither on the broker nor in the file
      file: { queues: [q('new-1'), q('elsewhere', {}, 'nope')] },
      reason: /^queues\[1\]: vhost nope not found$/,
    },
    { // permissions for a user neither on the broker nor in the file
      file: { vhosts: [{ name: 'never' }], permissions: [{ user: 'ghost', vhost: 'apps', configure: '', write: '', read: '' }] },
      reason: /^permissions\[0\]: no user 'ghost'$/,
    },
    { // several invalid entries: all named, in one answer
      file: { users: [{ name: 'u', password: 'p', tags: 7 }, { name: 'v', password_hash: 'not-base64!', tags: '' }], exchanges: [{ name: 'x', vhost: 'apps', type: 'x-delayed', durable: true, auto_delete: false }] },
      reason: /^users\[0\]: tags must be a comma-separated string or an array of strings; users\[1\]: password_hash is not a rabbit_password_hashing_sha256 hash .*; exchanges\[0\]: unknown exchange type 'x-delayed'$/,
    },
    { // quorum queues cannot be auto-delete: the state machine's rule, reported per entry
      file: { queues: [{ ...q('qq', { 'x-queue-type': 'quorum' }), auto_delete: true }] },
      reason: /^queues\[0\]: invalid property 'auto-delete' for queue 'qq' in vhost 'apps'$/,
    },
  ];
  for (const { file, reason } of cases) {
    const r = await post(source, file);
    assert.equal(r.status, 400, r.body);
    const body = JSON.parse(r.body) as { error: string; reason: string };
    assert.equal(body.error, 'bad_request');
    assert.match(body.reason, reason);
    assert.deepEqual(canon(await exported(source)), canon(before), `nothing applied for ${JSON.stringify(file)}`);
  }
});

test('vhosts and users defined earlier in the same file may be used by later entries', async (t) => {
  if (warrenOnly(t)) return;
  const r = await post(source, {
    queues: [{ name: 'q', vhost: 'staged', durable: true, auto_delete: false, arguments: {} }],
    permissions: [{ user: 'stager', vhost: 'staged', configure: '.*', write: '.*', read: '.*' }],
    users: [{ name: 'stager', password: 'st', tags: [] }],
    vhosts: [{ name: 'staged' }],
  });
  assert.deepEqual(r, { status: 204, body: '' });
  const c = await connect(source, { vhost: 'staged', username: 'stager', password: 'st' });
  conns.push(c);
  assert.equal((await (await channel(c)).checkQueue('q')).messageCount, 0);
});

test('what is not imported is reported: unsupported sections, reserved names, existing queues described differently', async (t) => {
  if (warrenOnly(t)) return;
  const r = await post(source, {
    rabbit_version: '3.10.8',
    vhosts: [{ name: 'reported' }],
    policies: [{ vhost: '/', name: 'ttl', pattern: '.*', 'apply-to': 'queues', definition: { 'message-ttl': 1 }, priority: 0 }],
    parameters: [],
    global_parameters: [{ name: 'internal_cluster_id', value: 'rabbitmq-cluster-id-x' }],
    federation_upstreams: [{ name: 'u' }],
    exchanges: [{ name: 'amq.direct', vhost: 'apps', type: 'direct', durable: true, auto_delete: false, internal: false, arguments: {} }],
    queues: [{ name: 'orders', vhost: 'apps', durable: false, auto_delete: false, arguments: {} }],
  });
  assert.equal(r.status, 200, r.body);
  const { warnings } = JSON.parse(r.body) as { warnings: string[] };
  assert.deepEqual(warnings, [
    "exchanges[0]: exchange 'amq.direct' not imported: names starting with 'amq.' are reserved",
    'policies: 1 entry not imported (Warren has no policies yet)',
    'global_parameters: 1 entry not imported (Warren has no global parameters)',
    'federation_upstreams: 1 entry not imported (unknown section)',
    "queues[0]: queue 'orders' in vhost 'apps' exists with different properties (inequivalent arg 'durable' for queue 'orders' in vhost 'apps': received 'false' but current is 'true'); kept as it is",
  ]);
  const d = await exported(source);
  assert.ok(d.vhosts.some((v) => v.name === 'reported'), 'the supported part was applied');
  assert.equal(d.queues.find((q) => q.name === 'orders')?.durable, true);
});

test('re-importing guest updates its tags and keeps its password hash', async (t) => {
  if (warrenOnly(t)) return;
  const d = await exported(source);
  const guest = d.users.find((u) => u.name === 'guest');
  assert.ok(guest);
  assert.equal((await post(source, { users: [{ ...guest, tags: ['administrator', 'monitoring'] }] })).status, 204);
  const again = (await exported(source)).users.find((u) => u.name === 'guest');
  assert.equal(again?.password_hash, guest.password_hash);
  assert.deepEqual(again?.tags, ['administrator', 'monitoring']);
  // (Loopback-only from a remote address is checked in admin-remote.test.ts.)
});
