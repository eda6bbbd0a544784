// Authorisation: vhost access and per-vhost configure / write / read permissions (regular
// expressions over resource names, RabbitMQ semantics), vhost isolation, and the rule that
// the default guest user may log in from loopback only.
//
// Users and vhosts are created through test/helpers/admin.ts (rabbitmqctl for the reference
// RabbitMQ, the management HTTP API for Warren).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelModel } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { adminFor, type Admin } from '../helpers/admin.js';
import { channel, closeOf, connect, expectChannelClose, uniq } from '../helpers/amqp.js';
import { RawClient } from '../helpers/raw.js';

const vhost = uniq('vh');
const user = uniq('user');
const password = 'secret-pw';

let broker: TestBroker;
let admin: Admin;
let asUser: ChannelModel;
let asGuest: ChannelModel;

const vhostUrl = (u: string, p: string): string =>
  `amqp://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${broker.host}:${broker.amqpPort}/${encodeURIComponent(vhost)}`;

before(async () => {
  // Tests talk to loopback only; guest from a non-loopback address is in guest-remote.test.ts.
  broker = await startBroker();
  admin = adminFor(broker);
  await admin.addVhost(vhost);
  await admin.addUser(user, password);
  await Promise.all([
    admin.setPermissions(vhost, user, { configure: '^u-.*', write: '^(u-.*|amq\\.default)$', read: '^u-.*' }),
    admin.setPermissions(vhost, 'guest', { configure: '.*', write: '.*', read: '.*' }),
  ]);
  asUser = await connect(vhostUrl(user, password));
  asGuest = await connect(vhostUrl('guest', 'guest'));
  const g = await channel(asGuest);
  await g.assertExchange('guest-x', 'fanout', { durable: false });
  await g.assertQueue('guest-q', { durable: false });
  g.sendToQueue('guest-q', Buffer.from('guest data'));
  await g.close();
});

after(async () => {
  await asUser?.close().catch(() => undefined);
  await asGuest?.close().catch(() => undefined);
  await admin?.deleteVhost(vhost).catch(() => undefined);
  await admin?.deleteUser(user).catch(() => undefined);
  await broker.stop();
});

const refused = (kind: 'queue' | 'exchange', name: string): RegExp =>
  new RegExp(`ACCESS_REFUSED - access to ${kind} '${name.replace(/\./g, '\\.')}' in vhost '${vhost}' refused for user '${user}'`);

describe('vhost access', () => {
  test('a user with no permissions on a vhost → 530 NOT_ALLOWED at connection.open', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    try {
      await raw.handshake({ user, pass: password, vhost: '/' }).catch(() => undefined);
      const close = await raw.expectConnectionClose();
      assert.equal(close.code, 530);
      assert.equal(close.text, `NOT_ALLOWED - access to vhost '/' refused for user '${user}'`);
    } finally { raw.destroy(); }
  });

  test('vhosts are isolated: the same queue name in two vhosts is two queues', async () => {
    const q = uniq('u-iso');
    const u = await channel(asUser);
    await u.assertQueue(q, { durable: false });
    const root = await connect(broker);
    try {
      await expectChannelClose((await channel(root)).checkQueue(q), 404, /NOT_FOUND - no queue '.*' in vhost '\/'/);
    } finally { await root.close(); }
    await u.deleteQueue(q);
  });
});

describe('permissions', () => {
  test('configure: declare/delete only matching names', async () => {
    const u = await channel(asUser);
    const q = uniq('u-q');
    await u.assertQueue(q, { durable: false });
    await u.assertExchange(uniq('u-x'), 'fanout', { autoDelete: true });
    await expectChannelClose((await channel(asUser)).assertQueue('not-mine', { durable: false }), 403, refused('queue', 'not-mine'));
    await expectChannelClose((await channel(asUser)).assertExchange('not-mine-x', 'fanout'), 403, refused('exchange', 'not-mine-x'));
    await expectChannelClose((await channel(asUser)).deleteQueue('guest-q'), 403, refused('queue', 'guest-q'));
    await u.deleteQueue(q);
  });

  test('write: publish needs write on the exchange (the default exchange is amq.default)', async () => {
    const u = await channel(asUser);
    const q = uniq('u-w');
    await u.assertQueue(q, { durable: false });
    u.sendToQueue(q, Buffer.from('allowed'));
    const m = await waitGet(u, q);
    assert.equal(m, 'allowed');
    const bad = await channel(asUser);
    const closed = closeOf(bad);
    bad.publish('guest-x', '', Buffer.from('denied'));
    await expectChannelClose(closed, 403, refused('exchange', 'guest-x'));
    await u.deleteQueue(q);
  });

  test('read: get, consume and purge need read on the queue; bind needs read on the exchange', async () => {
    await expectChannelClose((await channel(asUser)).get('guest-q'), 403, refused('queue', 'guest-q'));
    await expectChannelClose((await channel(asUser)).consume('guest-q', () => undefined), 403, refused('queue', 'guest-q'));
    await expectChannelClose((await channel(asUser)).purgeQueue('guest-q'), 403, refused('queue', 'guest-q'));
    const u = await channel(asUser);
    const q = uniq('u-b');
    await u.assertQueue(q, { durable: false });
    await expectChannelClose((await channel(asUser)).bindQueue(q, 'amq.fanout', ''), 403, refused('exchange', 'amq.fanout'));
    await u.deleteQueue(q);
    const g = await channel(asGuest);
    assert.equal((await g.checkQueue('guest-q')).messageCount, 1, 'the refused operations changed nothing');
    await g.close();
  });

  test('permissions are per vhost: the user has none on "/" even for matching names', async () => {
    await assert.rejects(connect(`amqp://${encodeURIComponent(user)}:${password}@${broker.host}:${broker.amqpPort}/`));
  });
});

describe('guest user', () => {
  test('guest may connect over loopback', async () => {
    const c = await connect(broker);
    await c.close();
  });
});

async function waitGet(ch: Awaited<ReturnType<typeof channel>>, q: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.get(q, { noAck: true });
    if (m) return m.content.toString();
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no message');
}
