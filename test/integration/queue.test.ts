// Queues: declare (passive, durable, exclusive, auto-delete, server-named), declare-ok counts,
// bind/unbind, purge, delete (if-unused / if-empty) and argument equivalence.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import {
  Inbox, channel, confirmChannel, connect, eventually, expectChannelClose, routedTo, uniq,
} from '../helpers/amqp.js';

let broker: TestBroker;
let conn: ChannelModel;
let ch: ConfirmChannel;
before(async () => { broker = await startBroker(); conn = await connect(broker); ch = await confirmChannel(conn); });
after(async () => { await conn.close(); await broker.stop(); });

const scratch = (): Promise<ConfirmChannel> => confirmChannel(conn);

/** Passive declare on a throwaway channel: true if the queue exists. */
async function exists(q: string, on: ChannelModel = conn): Promise<boolean> {
  const c = await channel(on);
  try { await c.checkQueue(q); await c.close(); return true; } catch (e) {
    if ((e as { code?: number }).code === 404) return false;
    throw e;
  }
}

async function publishConfirmed(q: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
  await ch.waitForConfirms();
}

const LOCKED = /RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '.*' in vhost '\/'/;

describe('queue.declare', () => {
  test('passive declare of a missing queue → 404 with RabbitMQ text', async () => {
    const q = uniq('missing');
    await expectChannelClose((await scratch()).checkQueue(q), 404, new RegExp(`^Operation failed: QueueDeclare; 404 .*"NOT_FOUND - no queue '${q}' in vhost '/'"`));
  });

  test('server-named queue gets an amq.gen- name; names starting with amq. are reserved', async () => {
    const a = await ch.assertQueue('', { exclusive: true });
    const b = await ch.assertQueue('', { exclusive: true });
    assert.match(a.queue, /^amq\.gen-[A-Za-z0-9_-]{22}$/);
    assert.notEqual(a.queue, b.queue);
    await expectChannelClose((await scratch()).assertQueue('amq.mine'), 403,
      /ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix 'amq.\*'/);
  });

  test('durable queue: redeclare is idempotent; passive finds it', async () => {
    const q = uniq('durable');
    const first = await ch.assertQueue(q, { durable: true });
    assert.deepEqual(first, { queue: q, messageCount: 0, consumerCount: 0 });
    await ch.assertQueue(q, { durable: true });
    assert.equal((await ch.checkQueue(q)).queue, q);
    await ch.deleteQueue(q);
  });

  test('declare-ok reports ready messages and consumers', async () => {
    const q = uniq('counts');
    await ch.assertQueue(q, { autoDelete: false });
    await publishConfirmed(q, 3);
    assert.deepEqual(await ch.checkQueue(q), { queue: q, messageCount: 3, consumerCount: 0 });
    const c = await channel(conn);
    await c.prefetch(1);
    const inbox = new Inbox();
    await c.consume(q, inbox.onMessage);
    await inbox.take(1);
    const d = await ch.assertQueue(q, { autoDelete: false });
    assert.equal(d.consumerCount, 1);
    assert.equal(d.messageCount, 2, 'the unacked message is not counted as ready');
    await c.close();
    await ch.deleteQueue(q);
  });

  test('exclusive queue: other connections get 405; it is deleted when its connection closes', async () => {
    const owner = await connect(broker);
    const q = uniq('excl');
    await (await channel(owner)).assertQueue(q, { exclusive: true });
    const other = await connect(broker);
    try {
      await expectChannelClose((await channel(other)).assertQueue(q, { exclusive: true }), 405, LOCKED);
      await expectChannelClose((await channel(other)).checkQueue(q), 405, LOCKED);
      await expectChannelClose((await channel(other)).consume(q, () => undefined), 405, LOCKED);
      await expectChannelClose((await channel(other)).deleteQueue(q), 405, LOCKED);
      assert.equal(await exists(q, owner), true);
      await owner.close();
      // 405 while the deletion is under way: on a cluster it is proposed after the close and reaches
      // the other connection's frontend through its metadata watch.
      await eventually(async () => (await exists(q, other).catch((e: { code?: number }) => {
        if (e.code === 405) return true;
        throw e;
      })) ? undefined : true, 5000, 'exclusive queue deletion');
    } finally { await other.close(); }
  });

  test('auto-delete queue goes when its last consumer cancels (not before, and not if never consumed)', async () => {
    const q = uniq('autodel');
    await ch.assertQueue(q, { autoDelete: true });
    const c = await channel(conn);
    const t1 = (await c.consume(q, () => undefined)).consumerTag;
    const t2 = (await c.consume(q, () => undefined)).consumerTag;
    assert.equal((await ch.checkQueue(q)).consumerCount, 2);
    await c.cancel(t1);
    assert.equal(await exists(q), true, 'one consumer left');
    await c.cancel(t2);
    await eventually(async () => (await exists(q)) ? undefined : true, 5000, 'auto-delete');
    const never = uniq('autodel-unused');
    await ch.assertQueue(never, { autoDelete: true });
    assert.equal(await exists(never), true, 'an auto-delete queue that never had consumers stays');
    await ch.deleteQueue(never);
    await c.close();
  });
});

describe('equivalence', () => {
  test('inequivalent flags and arguments → 406 with RabbitMQ texts', async () => {
    const q = uniq('equiv');
    await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: { 'x-message-ttl': 1000 } });
    const base = `PRECONDITION_FAILED - inequivalent arg '%s' for queue '${q}' in vhost '/': `;
    const re = (arg: string, rest: string): RegExp => new RegExp(escapeRe(base.replace('%s', arg) + rest));
    await expectChannelClose((await scratch()).assertQueue(q, { durable: true, arguments: { 'x-message-ttl': 1000 } }), 406,
      re('durable', "received 'true' but current is 'false'"));
    await expectChannelClose((await scratch()).assertQueue(q, { durable: false, autoDelete: true, arguments: { 'x-message-ttl': 1000 } }), 406,
      re('auto_delete', "received 'true' but current is 'false'"));
    await expectChannelClose((await scratch()).assertQueue(q, { durable: false, autoDelete: false, arguments: { 'x-message-ttl': 2000 } }), 406,
      re('x-message-ttl', "received '2000' but current is '1000'"));
    await expectChannelClose((await scratch()).assertQueue(q, { durable: false, autoDelete: false }), 406,
      re('x-message-ttl', "received none but current is the value '1000' of type 'short'"));
    // Integer width does not matter: 1000 as a 64-bit long is equivalent to 1000 as a short.
    await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: { 'x-message-ttl': { '!': 'long', value: 1000 } } });
    await ch.deleteQueue(q);
  });

  test('invalid argument values → 406 "invalid arg"', async () => {
    const q = uniq('invalid');
    await expectChannelClose((await scratch()).assertQueue(q, { arguments: { 'x-message-ttl': -5 } }), 406,
      new RegExp(`PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue '${q}' in vhost '/'`));
    await expectChannelClose((await scratch()).assertQueue(q, { arguments: { 'x-overflow': 'sometimes' } }), 406,
      /PRECONDITION_FAILED - invalid arg 'x-overflow'/);
    assert.equal(await exists(q), false);
  });
});

function escapeRe(s: string): string { return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); }

describe('bind, purge, delete', () => {
  test('bind and unbind (idempotent), binding to a missing exchange → 404', async () => {
    const q = uniq('bind');
    await ch.assertQueue(q, { exclusive: true });
    await ch.bindQueue(q, 'amq.direct', q);
    await ch.bindQueue(q, 'amq.direct', q); // same binding twice is fine
    assert.deepEqual(await routedTo(ch, 'amq.direct', q, [q]), [q]);
    await ch.unbindQueue(q, 'amq.direct', q);
    assert.deepEqual(await routedTo(ch, 'amq.direct', q, [q]), []);
    await ch.unbindQueue(q, 'amq.direct', q); // unbinding a missing binding is fine
    await expectChannelClose((await scratch()).bindQueue(q, uniq('nope'), 'k'), 404, /NOT_FOUND - no exchange '.*' in vhost '\/'/);
    await expectChannelClose((await scratch()).bindQueue(uniq('nope'), 'amq.direct', 'k'), 404, /NOT_FOUND - no queue '.*' in vhost '\/'/);
  });

  test('purge returns the number of ready messages removed; purge of a missing queue → 404', async () => {
    const q = uniq('purge');
    await ch.assertQueue(q, { exclusive: true });
    await publishConfirmed(q, 5);
    assert.equal((await ch.purgeQueue(q)).messageCount, 5);
    assert.equal((await ch.purgeQueue(q)).messageCount, 0);
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
    await expectChannelClose((await scratch()).purgeQueue(uniq('nope')), 404, /NOT_FOUND - no queue/);
  });

  test('delete if-empty / if-unused → 406; plain delete returns the message count', async () => {
    const q = uniq('del');
    await ch.assertQueue(q, { autoDelete: false });
    await publishConfirmed(q, 2);
    await expectChannelClose((await scratch()).deleteQueue(q, { ifEmpty: true }), 406,
      new RegExp(`PRECONDITION_FAILED - queue '${q}' in vhost '/' not empty`));
    const c = await channel(conn);
    await c.prefetch(1);
    await c.consume(q, () => undefined);
    await expectChannelClose((await scratch()).deleteQueue(q, { ifUnused: true }), 406,
      new RegExp(`PRECONDITION_FAILED - queue '${q}' in vhost '/' in use`));
    await c.close(); // the one unacked message goes back to ready
    assert.deepEqual(await ch.deleteQueue(q), { messageCount: 2 });
    assert.equal(await exists(q), false);
    assert.deepEqual(await ch.deleteQueue(q), { messageCount: 0 }, 'deleting a missing queue is ok');
  });
});
