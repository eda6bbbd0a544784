// Queue arguments (x-*): TTLs, expiry, length limits and overflow modes, dead-lettering with
// x-death, priorities, single active consumer, delivery limits and x-queue-type.
//
// Timing rules use 100–300 ms values and poll with generous deadlines.
//
// x-delivery-limit: stock RabbitMQ 3.10 honours it only on quorum queues (classic queues
// ignore it), so against RabbitMQ that test declares x-queue-type=quorum. Warren honours it on
// every queue, so against Warren the same test runs on a plain queue.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelModel, ConfirmChannel, GetMessage, XDeath } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import {
  DURABLE_QUEUES, Inbox, channel, closeOf, confirmChannel, connect, eventually, expectChannelClose, texts, uniq,
} from '../helpers/amqp.js';
import { delay } from '../helpers/raw.js';

let broker: TestBroker;
let conn: ChannelModel;
let ch: ConfirmChannel;
const cleanup: string[] = [];
const track = (q: string): string => { cleanup.push(q); return q; };
before(async () => { broker = await startBroker(); conn = await connect(broker); ch = await confirmChannel(conn); });
after(async () => {
  const c = await confirmChannel(conn); // `ch` may have been closed by a failed assertion
  for (const q of cleanup) await c.deleteQueue(q).catch(() => undefined);
  await conn.close();
  await broker.stop();
});

async function publishAll(q: string, bodies: string[], opts: Parameters<ConfirmChannel['publish']>[3] = {}): Promise<void> {
  for (const b of bodies) ch.sendToQueue(q, Buffer.from(b), opts);
  await ch.waitForConfirms();
}

/** Drains a queue with basic.get (no-ack) and returns the messages in order. */
async function drain(q: string): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true })) out.push(m);
  return out;
}

/** Polls basic.get until a message arrives (dead-lettering is asynchronous). */
async function getOne(q: string, timeoutMs = 3000): Promise<GetMessage> {
  return eventually(async () => (await ch.get(q, { noAck: true })) || undefined, timeoutMs, `a message on ${q}`);
}

async function tempQueue(args: Record<string, unknown>, name = uniq('qa')): Promise<string> {
  await ch.assertQueue(name, { durable: DURABLE_QUEUES, autoDelete: false, arguments: args });
  return name;
}


describe('TTL and expiry', () => {
  test('x-message-ttl: messages expire from an idle queue', async () => {
    // Long enough for two confirms and a declare-ok to come back before they expire, on a loaded
    // machine and a cluster too (a durable confirm waits for the owners' replication and fsync).
    const q = track(await tempQueue({ 'x-message-ttl': 1000 }));
    await publishAll(q, ['a', 'b']);
    assert.equal((await ch.checkQueue(q)).messageCount, 2);
    await delay(1300);
    assert.deepEqual(await drain(q), []);
  });

  test('x-message-ttl: a waiting consumer still gets the message', async () => {
    const q = track(await tempQueue({ 'x-message-ttl': 150 }));
    const c = await channel(conn);
    const inbox = new Inbox();
    await c.consume(q, inbox.onMessage, { noAck: true });
    await publishAll(q, ['fresh']);
    assert.deepEqual(texts(await inbox.take(1)), ['fresh']);
    await c.close();
  });

  test('per-message expiration: expired messages are dropped, others kept; expiration is echoed', async () => {
    const q = track(await tempQueue({}));
    await publishAll(q, ['short'], { expiration: '100' });
    await publishAll(q, ['long'], { expiration: '60000' });
    await publishAll(q, ['forever']);
    await delay(300);
    const got = await drain(q);
    assert.deepEqual(texts(got), ['long', 'forever']);
    assert.equal(got[0]?.properties.expiration, '60000');
    assert.equal(got[1]?.properties.expiration, undefined);
  });

  test('the lower of queue TTL and per-message expiration wins', async () => {
    const q = track(await tempQueue({ 'x-message-ttl': 100 }));
    await publishAll(q, ['m'], { expiration: '60000' });
    await delay(300);
    assert.deepEqual(await drain(q), []);
  });

  test('invalid expiration → channel closed 406', async () => {
    const q = track(await tempQueue({}));
    const bad = await confirmChannel(conn);
    const closed = closeOf(bad);
    bad.sendToQueue(q, Buffer.from('x'), { expiration: 'soon' });
    await expectChannelClose(closed, 406, /PRECONDITION_FAILED - invalid expiration/);
  });

  test('x-expires: an unused queue is deleted after the timeout; a used one is not', async () => {
    const q = await tempQueue({ 'x-expires': 200 });
    const kept = track(await tempQueue({ 'x-expires': 200 }));
    const c = await channel(conn);
    await c.consume(kept, () => undefined);
    // A passive declare counts as use and restarts the timer, so look only once, well after it.
    await delay(800);
    await expectChannelClose((await channel(conn)).checkQueue(q), 404, /NOT_FOUND - no queue/);
    assert.equal((await ch.checkQueue(kept)).consumerCount, 1, 'a queue with a consumer does not expire');
    await c.close();
  });
});

describe('length limits and overflow', () => {
  test('x-max-length (default drop-head) keeps the newest messages', async () => {
    const q = track(await tempQueue({ 'x-max-length': 3 }));
    await publishAll(q, ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.equal((await ch.checkQueue(q)).messageCount, 3);
    assert.deepEqual(texts(await drain(q)), ['m3', 'm4', 'm5']);
  });

  test('x-max-length-bytes counts body bytes', async () => {
    const q = track(await tempQueue({ 'x-max-length-bytes': 10 }));
    await publishAll(q, ['aaaa', 'bbbb', 'cccc', 'dddd']);
    assert.deepEqual(texts(await drain(q)), ['cccc', 'dddd']);
  });

  test('x-overflow reject-publish: the overflowing publish is nacked and not enqueued', async () => {
    const q = track(await tempQueue({ 'x-max-length': 2, 'x-overflow': 'reject-publish' }));
    const results = await Promise.all(['a', 'b', 'c'].map((b) => new Promise<string>((resolve) => {
      ch.sendToQueue(q, Buffer.from(b), {}, (err) => resolve(err ? 'nack' : 'ack'));
    })));
    assert.deepEqual(results, ['ack', 'ack', 'nack']);
    assert.deepEqual(texts(await drain(q)), ['a', 'b']);
  });

  test('x-overflow reject-publish-dlx: nacked and dead-lettered (reason maxlen)', async () => {
    const dlq = track(await tempQueue({}));
    const q = track(await tempQueue({ 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx',
      'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq }));
    const results = await Promise.all(['a', 'b'].map((b) => new Promise<string>((resolve) => {
      ch.sendToQueue(q, Buffer.from(b), {}, (err) => resolve(err ? 'nack' : 'ack'));
    })));
    assert.deepEqual(results, ['ack', 'nack']);
    const dead = await getOne(dlq);
    assert.equal(dead.content.toString(), 'b');
    assert.equal(xDeath(dead)[0]?.reason, 'maxlen');
  });

  test('x-overflow drop-head dead-letters the dropped message (reason maxlen)', async () => {
    const dlq = track(await tempQueue({}));
    const q = track(await tempQueue({ 'x-max-length': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq }));
    await publishAll(q, ['old', 'new']);
    const dead = await getOne(dlq);
    assert.equal(dead.content.toString(), 'old');
    assert.equal(xDeath(dead)[0]?.reason, 'maxlen');
    assert.deepEqual(texts(await drain(q)), ['new']);
  });
});

function xDeath(m: GetMessage): XDeath[] {
  const d = m.properties.headers?.['x-death'];
  assert.ok(Array.isArray(d), 'x-death header present');
  return d;
}

describe('dead-lettering', () => {
  test('expired message → DLX with routing-key override; x-death records the history', async () => {
    const dlx = uniq('dlx');
    await ch.assertExchange(dlx, 'direct', { autoDelete: true });
    const dlq = track(await tempQueue({}));
    await ch.bindQueue(dlq, dlx, 'dead');
    const q = track(await tempQueue({ 'x-message-ttl': 100, 'x-dead-letter-exchange': dlx, 'x-dead-letter-routing-key': 'dead' }));
    ch.publish('amq.direct', 'nobody', Buffer.from('unroutable')); // noise: must not show up
    await ch.bindQueue(q, 'amq.direct', q);
    ch.publish('amq.direct', q, Buffer.from('doomed'), { headers: { keep: 'me' } });
    await ch.waitForConfirms();
    const dead = await getOne(dlq);
    assert.equal(dead.content.toString(), 'doomed');
    assert.equal(dead.fields.exchange, dlx);
    assert.equal(dead.fields.routingKey, 'dead');
    assert.equal(dead.properties.headers?.['keep'], 'me');
    const [d] = xDeath(dead);
    assert.ok(d);
    assert.equal(d.count, 1);
    assert.equal(d.reason, 'expired');
    assert.equal(d.queue, q);
    assert.equal(d.exchange, 'amq.direct');
    assert.deepEqual(d['routing-keys'], [q]);
    assert.equal(typeof d.time.value, 'number');
    assert.equal(dead.properties.headers?.['x-first-death-reason'], 'expired');
    assert.equal(dead.properties.headers?.['x-first-death-queue'], q);
    assert.equal(dead.properties.headers?.['x-first-death-exchange'], 'amq.direct');
    await ch.unbindQueue(q, 'amq.direct', q);
  });

  test('rejected (nack requeue=false) → reason rejected; original routing key kept without override', async () => {
    const dlx = uniq('dlx-fan');
    await ch.assertExchange(dlx, 'fanout', { autoDelete: true });
    const dlq = track(await tempQueue({}));
    await ch.bindQueue(dlq, dlx, '');
    const q = track(await tempQueue({ 'x-dead-letter-exchange': dlx }));
    ch.publish('amq.direct', 'orig-key', Buffer.from('no thanks'));
    await ch.bindQueue(q, 'amq.direct', 'orig-key');
    ch.publish('amq.direct', 'orig-key', Buffer.from('no thanks'));
    await ch.waitForConfirms();
    const m = await eventually(async () => (await ch.get(q, { noAck: false })) || undefined, 3000, 'message');
    ch.nack(m, false, false);
    const dead = await getOne(dlq);
    assert.equal(dead.content.toString(), 'no thanks');
    assert.equal(dead.fields.routingKey, 'orig-key');
    const [d] = xDeath(dead);
    assert.equal(d?.reason, 'rejected');
    assert.equal(d?.queue, q);
    assert.equal(d?.exchange, 'amq.direct');
    assert.deepEqual(d?.['routing-keys'], ['orig-key']);
    assert.deepEqual(await drain(q), []);
    await ch.unbindQueue(q, 'amq.direct', 'orig-key');
  });

  test('per-message expiration → x-death carries original-expiration and the message loses it', async () => {
    const dlq = track(await tempQueue({}));
    const q = track(await tempQueue({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq }));
    await publishAll(q, ['brief'], { expiration: '50' });
    const dead = await getOne(dlq);
    const [d] = xDeath(dead);
    assert.equal(d?.reason, 'expired');
    assert.equal(d?.['original-expiration'], '50');
    assert.equal(dead.properties.expiration, undefined);
  });

  test('dead-lettering twice through the same queue increments count', async () => {
    // q1 (ttl) → dlq1 via default exchange; then republish the dead message to q1 again.
    const dlq = track(await tempQueue({}));
    const q = track(await tempQueue({ 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq }));
    await publishAll(q, ['again']);
    const first = await getOne(dlq);
    ch.sendToQueue(q, first.content, { headers: first.properties.headers });
    await ch.waitForConfirms();
    const second = await getOne(dlq);
    const deaths = xDeath(second);
    assert.equal(deaths.length, 1, 'one entry per (queue, reason)');
    assert.equal(deaths[0]?.count, 2);
  });
});

describe('priorities', () => {
  test('x-max-priority: higher priority first, FIFO within a priority, above max treated as max', async () => {
    const q = track(await tempQueue({ 'x-max-priority': 5 }));
    const sends: Array<[string, number | undefined]> = [['p1', 1], ['none', undefined], ['p5a', 5], ['p3', 3], ['p9', 9], ['p5b', 5], ['p0', 0]];
    for (const [body, priority] of sends) ch.sendToQueue(q, Buffer.from(body), priority === undefined ? {} : { priority });
    await ch.waitForConfirms();
    assert.deepEqual(texts(await drain(q)), ['p5a', 'p9', 'p5b', 'p3', 'p1', 'none', 'p0']);
  });
});

describe('single active consumer', () => {
  test('only one consumer receives; the next takes over when it cancels', async () => {
    const q = track(await tempQueue({ 'x-single-active-consumer': true }));
    const c = await channel(conn);
    const first = new Inbox();
    const second = new Inbox();
    const t1 = (await c.consume(q, first.onMessage, { noAck: true })).consumerTag;
    await c.consume(q, second.onMessage, { noAck: true });
    await publishAll(q, ['a', 'b', 'c']);
    assert.deepEqual(texts(await first.take(3)), ['a', 'b', 'c']);
    await c.cancel(t1);
    await publishAll(q, ['d']);
    assert.deepEqual(texts(await second.take(1)), ['d']);
    assert.equal(first.messages.length, 3);
    await c.close();
  });
});

describe('x-delivery-limit', () => {
  test('a message requeued more often than the limit is dead-lettered', async () => {
    const dlq = track(await tempQueue({}));
    const name = uniq('limit');
    const args: Record<string, unknown> = { 'x-delivery-limit': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq };
    if (!broker.isWarren) args['x-queue-type'] = 'quorum';
    await ch.assertQueue(name, { durable: !broker.isWarren ? true : false, autoDelete: false, arguments: args });
    track(name);
    const c = await channel(conn);
    let deliveries = 0;
    await c.consume(name, (m) => { if (m) { deliveries += 1; c.nack(m, false, true); } });
    await publishAll(name, ['bouncy']);
    const dead = await getOne(dlq, 5000);
    assert.equal(dead.content.toString(), 'bouncy');
    assert.equal(deliveries, 3, 'delivered once plus `limit` redeliveries');
    await c.close();
  });
});

describe('x-queue-type', () => {
  test('classic and quorum are accepted; unknown types → 406', async () => {
    const classic = track(await tempQueue({ 'x-queue-type': 'classic' }));
    assert.equal((await ch.checkQueue(classic)).queue, classic);
    const quorum = track(uniq('quorum'));
    await ch.assertQueue(quorum, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await publishAll(quorum, ['replicated']);
    assert.equal((await getOne(quorum)).content.toString(), 'replicated');
    const bad = await confirmChannel(conn);
    await expectChannelClose(bad.assertQueue(uniq('bogus'), { arguments: { 'x-queue-type': 'bogus' } }), 406,
      /PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '.*' in vhost '\/': "unsupported queue type 'bogus'"/);
  });
});
