// The basic class: qos, consume (exclusive, no-ack, tags, priorities, cancel and cancel
// notifications), mandatory returns, get, ack/nack/reject/recover, publisher confirms and tx.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import {
  DURABLE_QUEUES, Inbox, channel, closeOf, confirmChannel, connect, eventually, expectChannelClose, expectConnectionClose,
  texts, txCommit, txRollback, txSelect, uniq,
} from '../helpers/amqp.js';
import { delay } from '../helpers/raw.js';

let broker: TestBroker;
let conn: ChannelModel;
let ch: ConfirmChannel;
const durableQueues: string[] = [];
before(async () => { broker = await startBroker(); conn = await connect(broker); ch = await confirmChannel(conn); });
after(async () => {
  const c = await confirmChannel(conn);
  for (const q of durableQueues) await c.deleteQueue(q).catch(() => undefined);
  await conn.close();
  await broker.stop();
});

/**
 * A fresh queue: exclusive to this file's connection (deleted when it closes), or, in the durable
 * run, durable (partition-hosted) and deleted at the end.
 */
async function queue(args: Record<string, unknown> = {}): Promise<string> {
  if (!DURABLE_QUEUES) return (await ch.assertQueue(uniq('basic'), { exclusive: true, arguments: args })).queue;
  const q = (await ch.assertQueue(uniq('basic-d'), { durable: true, arguments: args })).queue;
  durableQueues.push(q);
  return q;
}

async function publish(q: string, bodies: string[]): Promise<void> {
  for (const b of bodies) ch.sendToQueue(q, Buffer.from(b));
  await ch.waitForConfirms();
}

const numbered = (n: number, prefix = 'm'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Time to let a broker deliver anything it was going to deliver (asserting absence). */
const SETTLE_MS = 250;

describe('basic.qos', () => {
  test('per-consumer prefetch caps unacked deliveries; acking releases more', async () => {
    const q = await queue();
    await publish(q, numbered(5));
    const c = await channel(conn);
    await c.prefetch(2);
    const inbox = new Inbox();
    await c.consume(q, inbox.onMessage);
    await inbox.take(2);
    await delay(SETTLE_MS);
    assert.equal(inbox.messages.length, 2);
    c.ack(inbox.messages[0] as Message);
    await inbox.take(3);
    await delay(SETTLE_MS);
    assert.equal(inbox.messages.length, 3);
    assert.deepEqual(texts(inbox.messages), ['m0', 'm1', 'm2']);
    await c.close();
  });

  test('global prefetch is shared by all consumers of the channel', async () => {
    const q1 = await queue();
    const q2 = await queue();
    await publish(q1, numbered(4));
    await publish(q2, numbered(4));
    const c = await channel(conn);
    await c.prefetch(3, true);
    const inbox = new Inbox();
    await c.consume(q1, inbox.onMessage);
    await c.consume(q2, inbox.onMessage);
    await inbox.take(3);
    await delay(SETTLE_MS);
    assert.equal(inbox.messages.length, 3, 'three unacked across both consumers');
    c.ackAll();
    await inbox.take(6);
    await c.close();
  });

  test('prefetch 0 means unlimited; no-ack consumers ignore prefetch', async () => {
    const q = await queue();
    await publish(q, numbered(20));
    const c = await channel(conn);
    await c.prefetch(1);
    const inbox = new Inbox();
    await c.consume(q, inbox.onMessage, { noAck: true });
    assert.equal((await inbox.take(20)).length, 20);
    assert.equal((await ch.checkQueue(q)).messageCount, 0, 'no-ack deliveries are settled at once');
    await c.close();
  });
});

describe('basic.consume', () => {
  test('generated consumer tags are amq.ctag-…; explicit tags are kept', async () => {
    const q = await queue();
    const c = await channel(conn);
    const a = await c.consume(q, () => undefined);
    const b = await c.consume(q, () => undefined, { consumerTag: 'my-tag' });
    assert.match(a.consumerTag, /^amq\.ctag-[A-Za-z0-9_-]{22}$/);
    assert.equal(b.consumerTag, 'my-tag');
    assert.equal((await ch.checkQueue(q)).consumerCount, 2);
    await c.close();
  });

  test('reusing a consumer tag on the channel is a hard error: 530 NOT_ALLOWED', async () => {
    const other = await connect(broker);
    const closed = closeOf(other);
    const c = await channel(other);
    const { queue: q } = await c.assertQueue('', { exclusive: true });
    await c.consume(q, () => undefined, { consumerTag: 'dup' });
    c.consume(q, () => undefined, { consumerTag: 'dup' }).catch(() => undefined);
    await expectConnectionClose(closed, 530, /NOT_ALLOWED - attempt to reuse consumer tag 'dup'/);
  });

  test('exclusive consumer: any second consumer → 403; exclusive when others exist → 403', async () => {
    const q = await queue();
    const c = await channel(conn);
    await c.consume(q, () => undefined, { exclusive: true });
    const text = new RegExp(`ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`);
    await expectChannelClose((await channel(conn)).consume(q, () => undefined), 403, text);
    const q2 = await queue();
    await c.consume(q2, () => undefined);
    await expectChannelClose((await channel(conn)).consume(q2, () => undefined, { exclusive: true }), 403,
      new RegExp(`ACCESS_REFUSED - queue '${q2}' in vhost '/' in exclusive use`));
    await c.close();
  });

  test('consumer priorities: the higher x-priority consumer is served first', async () => {
    const q = await queue();
    const lo = await channel(conn);
    const hi = await channel(conn);
    const loBox = new Inbox();
    const hiBox = new Inbox();
    await lo.consume(q, loBox.onMessage, { priority: 0 });
    await hi.consume(q, hiBox.onMessage, { arguments: { 'x-priority': 10 } });
    await publish(q, numbered(5));
    await hiBox.take(5);
    assert.equal(loBox.messages.length, 0);
    await hi.close(); // unacked messages go back and now reach the low-priority consumer
    const got = await loBox.take(5);
    assert.ok(got.every((m) => m.fields.redelivered));
    await lo.close();
  });

  test('cancel stops deliveries; cancelling an unknown tag is fine', async () => {
    const q = await queue();
    const c = await channel(conn);
    const inbox = new Inbox();
    const { consumerTag } = await c.consume(q, inbox.onMessage, { noAck: true });
    await publish(q, ['before']);
    await inbox.take(1);
    assert.deepEqual(await c.cancel(consumerTag), { consumerTag });
    await publish(q, ['after']);
    await delay(SETTLE_MS);
    assert.equal(inbox.messages.length, 1);
    assert.equal((await ch.checkQueue(q)).messageCount, 1);
    assert.deepEqual(await c.cancel('no-such-tag'), { consumerTag: 'no-such-tag' });
    await c.close();
  });

  test('queue deletion sends basic.cancel to its consumers (callback gets null)', async () => {
    const q = await queue();
    const c = await channel(conn);
    const inbox = new Inbox();
    await c.consume(q, inbox.onMessage);
    await ch.deleteQueue(q);
    await inbox.until(() => inbox.cancelled, 3000, 'consumer cancel notification');
    assert.equal((await c.assertQueue('', { exclusive: true })).consumerCount, 0, 'channel still open');
    await c.close();
  });
});

describe('basic.publish / basic.return', () => {
  test('mandatory unroutable → basic.return 312 NO_ROUTE with the message', async () => {
    const c = await channel(conn);
    const returned = new Promise<Message>((resolve) => c.once('return', resolve));
    c.publish('amq.direct', uniq('nowhere'), Buffer.from('bounce'), { mandatory: true, messageId: 'id-1' });
    const m = await returned;
    assert.equal(m.content.toString(), 'bounce');
    assert.equal(m.properties.messageId, 'id-1');
    const f = m.fields as unknown as { replyCode: number; replyText: string; exchange: string };
    assert.equal(f.replyCode, 312);
    assert.equal(f.replyText, 'NO_ROUTE');
    assert.equal(f.exchange, 'amq.direct');
    await c.close();
  });

  test('mandatory routable is not returned; non-mandatory unroutable is dropped silently', async () => {
    const q = await queue();
    let returns = 0;
    ch.on('return', () => { returns += 1; });
    ch.sendToQueue(q, Buffer.from('ok'), { mandatory: true });
    ch.publish('amq.direct', uniq('nowhere'), Buffer.from('lost'));
    await ch.waitForConfirms();
    await delay(SETTLE_MS);
    assert.equal(returns, 0);
    assert.equal((await ch.checkQueue(q)).messageCount, 1);
  });
});

describe('basic.get', () => {
  test('get-ok carries the remaining count; get-empty when drained', async () => {
    const q = await queue();
    await publish(q, ['a', 'b', 'c']);
    const first = await ch.get(q, { noAck: true });
    assert.ok(first);
    assert.equal(first.content.toString(), 'a');
    assert.equal(first.fields.messageCount, 2);
    assert.equal(first.fields.redelivered, false);
    assert.equal(first.fields.routingKey, q);
    assert.equal(first.fields.exchange, '');
    await ch.get(q, { noAck: true });
    const last = await ch.get(q, { noAck: true });
    assert.ok(last);
    assert.equal(last.fields.messageCount, 0);
    assert.equal(await ch.get(q, { noAck: true }), false);
  });
});

async function consumeAll(c: Channel, q: string, n: number): Promise<Message[]> {
  const inbox = new Inbox();
  await c.consume(q, inbox.onMessage);
  return inbox.take(n);
}

describe('acknowledgements', () => {
  test('ack multiple settles everything up to the tag', async () => {
    const q = await queue();
    await publish(q, numbered(4));
    const c = await channel(conn);
    const ms = await consumeAll(c, q, 4);
    c.ack(ms[2] as Message, true);
    await c.close(); // m3 unacked → requeued
    const left = await eventually(async () => (await ch.get(q, { noAck: true })) || undefined);
    assert.equal(left.content.toString(), 'm3');
    assert.equal(left.fields.redelivered, true);
    assert.equal(await ch.get(q, { noAck: true }), false);
  });

  test('nack requeue → redelivered first in original order; reject without requeue drops', async () => {
    const q = await queue();
    await publish(q, ['a', 'b', 'c']);
    const c = await channel(conn);
    const ms = await consumeAll(c, q, 3);
    await c.close();
    const c2 = await channel(conn);
    await c2.prefetch(10);
    const inbox = new Inbox();
    await c2.consume(q, inbox.onMessage);
    const again = await inbox.take(3);
    assert.deepEqual(texts(again), ['a', 'b', 'c']);
    assert.ok(again.every((m) => m.fields.redelivered));
    assert.equal(ms.length, 3);
    c2.reject(again[0] as Message, false);
    c2.nack(again[2] as Message, true, true); // b and c back to the queue
    const third = await inbox.take(5);
    assert.deepEqual(texts(third.slice(3)), ['b', 'c']);
    c2.ackAll();
    await c2.close();
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
  });

  test('acking an unknown delivery tag → 406 PRECONDITION_FAILED', async () => {
    const c = await channel(conn);
    const closed = closeOf(c);
    c.ack({ fields: { deliveryTag: 42 } } as Message);
    const err = await expectChannelClose(closed, 406, /PRECONDITION_FAILED - unknown delivery tag 42/);
    assert.deepEqual([err.classId, err.methodId], [60, 80], 'reported against basic.ack');
  });

  test('nacking an unknown delivery tag → 406 reported against basic.nack', async () => {
    const c = await channel(conn);
    const closed = closeOf(c);
    c.nack({ fields: { deliveryTag: 42 } } as Message, false, true);
    const err = await expectChannelClose(closed, 406, /PRECONDITION_FAILED - unknown delivery tag 42/);
    assert.deepEqual([err.classId, err.methodId], [60, 120]);
  });

  test('double ack → 406 unknown delivery tag', async () => {
    const q = await queue();
    await publish(q, ['x']);
    const c = await channel(conn);
    const closed = closeOf(c);
    const m = await eventually(async () => (await c.get(q)) || undefined);
    c.ack(m);
    c.ack(m);
    await expectChannelClose(closed, 406, /PRECONDITION_FAILED - unknown delivery tag 1/);
  });

  test('basic.recover redelivers unacked messages with redelivered=true', async () => {
    const q = await queue();
    await publish(q, ['r1', 'r2']);
    const c = await channel(conn);
    const inbox = new Inbox();
    await c.consume(q, inbox.onMessage);
    await inbox.take(2);
    await c.recover();
    const all = await inbox.take(4);
    assert.deepEqual(texts(all.slice(2)), ['r1', 'r2']);
    assert.ok(all.slice(2).every((m) => m.fields.redelivered));
    assert.ok(all.slice(0, 2).every((m) => !m.fields.redelivered));
    c.ackAll();
    await c.close();
  });
});

describe('publisher confirms', () => {
  test('1000 publishes in flight are all acked, in order of delivery tag', async () => {
    const q = await queue();
    const c = await confirmChannel(conn);
    let highestTag = 0;
    c.on('ack', (f: { deliveryTag: number }) => { assert.ok(f.deliveryTag > highestTag); highestTag = f.deliveryTag; });
    const acks = await Promise.all(numbered(1000).map((b) => new Promise<boolean>((resolve) => {
      c.sendToQueue(q, Buffer.from(b), {}, (err) => resolve(err === null));
    })));
    assert.equal(acks.filter(Boolean).length, 1000);
    assert.equal(highestTag, 1000);
    assert.equal((await ch.checkQueue(q)).messageCount, 1000);
    await ch.purgeQueue(q);
    await c.close();
  });

  test('unroutable messages are confirmed too (after the return when mandatory)', async () => {
    const c = await confirmChannel(conn);
    const events: string[] = [];
    c.on('return', () => events.push('return'));
    await new Promise<void>((resolve, reject) => c.publish('amq.direct', uniq('void'), Buffer.from('x'), { mandatory: true },
      (err) => { if (err) reject(err); else { events.push('ack'); resolve(); } }));
    assert.deepEqual(events, ['return', 'ack']);
    await c.close();
  });
});

describe('tx', () => {
  test('published messages appear only after commit; rollback discards them', async () => {
    const q = await queue();
    const t = await channel(conn);
    await txSelect(t);
    t.sendToQueue(q, Buffer.from('one'));
    t.sendToQueue(q, Buffer.from('two'));
    await delay(SETTLE_MS);
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
    await txCommit(t);
    assert.equal((await ch.checkQueue(q)).messageCount, 2);
    t.sendToQueue(q, Buffer.from('three'));
    await txRollback(t);
    await txCommit(t);
    assert.equal((await ch.checkQueue(q)).messageCount, 2);
    await t.close();
  });

  test('acks inside a transaction take effect on commit only', async () => {
    const q = await queue();
    await publish(q, ['acked-in-tx']);
    const t = await channel(conn);
    await txSelect(t);
    const m = await eventually(async () => (await t.get(q)) || undefined);
    t.ack(m);
    await txRollback(t); // the ack is discarded: the message stays unacked
    await t.close();
    const back = await eventually(async () => (await ch.get(q, { noAck: true })) || undefined);
    assert.equal(back.fields.redelivered, true);
    ch.sendToQueue(q, back.content);
    await ch.waitForConfirms();
    const t2 = await channel(conn);
    await txSelect(t2);
    const m2 = await eventually(async () => (await t2.get(q)) || undefined);
    t2.ack(m2);
    await txCommit(t2);
    await t2.close();
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
  });

  test('commit without select → 406', async () => {
    await expectChannelClose(txCommit(await channel(conn)), 406, /PRECONDITION_FAILED - channel is not transactional/);
  });
});
