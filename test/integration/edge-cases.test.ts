// Edge cases real clients tripped over (issue 6): long reply texts, crossing channel.close,
// close-ok before the socket ends, nothing delivered after cancel-ok, confirms in ascending
// order, content errors reported against basic.publish, channel-0 method texts, queue types.
// Each is driven by amqplib or raw frames over TCP; the Go client's own suite covers two of them
// again (scripts/interop.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import {
  channel, closeOf, confirmChannel, connect, eventually, expectChannelClose, uniq,
} from '../helpers/amqp.js';
import { delay, rawOpenChannel } from '../helpers/raw.js';
import {
  M, Writer, argsOf, bodyFrame, headerFrame, isMethod, methodFrame, parseClose, type Frame,
} from '../helpers/wire.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

const passiveDeclare = (name: string): Buffer =>
  new Writer().short(0).shortstr(name).bits(true, false, false, false, false).table({}).build();
const channelClose = (): Buffer => new Writer().short(200).shortstr('bye').short(0).short(0).build();

describe('a channel answers in order', () => {
  test('declare, bind, publish and get pipelined in one write: the publish is routed by the bind', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      const q = uniq('pipelined');
      const batch: Buffer[] = [
        methodFrame(1, M.queueDeclare, new Writer().short(0).shortstr(q).bits(false, false, false, false, false).table({}).build()),
        methodFrame(1, M.queueBind, new Writer().short(0).shortstr(q).shortstr('amq.direct').shortstr(q).bits(false).table({}).build()),
      ];
      raw.write(Buffer.concat(batch));
      raw.publish(1, 'amq.direct', q, Buffer.from('routed by the bind'));
      raw.write(methodFrame(1, M.basicGet, new Writer().short(0).shortstr(q).bits(true).build()));
      raw.write(methodFrame(1, M.queueDelete, new Writer().short(0).shortstr(q).bits(false, false, false).build()));
      const order: string[] = [];
      const names: Array<[readonly [number, number], string]> = [[M.queueDeclareOk, 'declare-ok'], [M.queueBindOk, 'bind-ok'],
        [M.basicGetOk, 'get-ok'], [M.basicGetEmpty, 'get-empty'], [M.queueDeleteOk, 'delete-ok']];
      while (order.length < 4) {
        const f = await raw.nextFrame((x) => x.channel === 1 && x.type === 1);
        for (const [m, n] of names) if (isMethod(f, m)) order.push(n);
      }
      assert.deepEqual(order, ['declare-ok', 'bind-ok', 'get-ok', 'delete-ok']);
    } finally {
      await raw.close();
    }
  });
});

describe('a frame error behind a waiting method', () => {
  // Fuzz finding (connection target): a content body queued behind a declare that waits for the
  // metadata escaped as an exception instead of closing the connection with 505.
  test('an orphan body frame queued behind queue.declare closes the connection with 505', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      raw.write(Buffer.concat([
        methodFrame(1, M.queueDeclare, new Writer().short(0).shortstr('').bits(false, false, true, true, false).table({}).build()),
        bodyFrame(1, Buffer.from('orphan')),
      ]));
      const close = await raw.expectConnectionClose();
      assert.equal(close.code, 505);
      assert.equal(close.text, 'UNEXPECTED_FRAME - expected method frame, got non method frame instead');
    } finally {
      raw.destroy();
    }
    const { raw: other } = await rawOpenChannel(broker.host, broker.amqpPort);
    assert.match(await other.declareQueue(1, ''), /^amq\.gen-/);
    await other.close();
  });
});

describe('reply texts longer than 255 bytes', () => {
  test('a 405 naming a long queue is cut to 255 bytes and closes only the channel', async () => {
    const name = `${uniq('locked')}-${'n'.repeat(200)}`;
    const owner = await connect(broker);
    const other = await connect(broker);
    try {
      await (await channel(owner)).assertQueue(name, { exclusive: true });
      const ch = await channel(other);
      const err = await expectChannelClose(ch.assertQueue(name, { exclusive: true }), 405,
        /RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '/);
      // amqplib wraps the server's text in its own words and quotes.
      const text = err.message.slice(err.message.indexOf('RESOURCE_LOCKED'), err.message.lastIndexOf('"'));
      if (broker.isWarren) {
        assert.equal(Buffer.byteLength(text), 255);
        assert.ok(text.endsWith('...'), text);
      }
      // The connection survives: a new channel on it works.
      await (await channel(other)).checkQueue(name).catch(() => undefined);
      const again = await channel(other);
      await again.assertQueue('', { exclusive: true });
    } finally {
      await other.close().catch(() => undefined);
      await owner.close();
    }
  });

  test('x-dead-letter-routing-key longer than a routing key can be is refused at declare (406)', async (t) => {
    if (!broker.isWarren) { t.skip('RabbitMQ 3.10 accepts it and fails later, when dead-lettering'); return; }
    const conn = await connect(broker);
    try {
      const ch = await channel(conn);
      await expectChannelClose(ch.assertQueue(uniq('dlrk'), {
        arguments: { 'x-dead-letter-exchange': 'amq.direct', 'x-dead-letter-routing-key': 'k'.repeat(300) },
      }), 406, /invalid arg 'x-dead-letter-routing-key' .*\{routing_key_too_long,300\}/);
      await (await channel(conn)).assertQueue('', { exclusive: true });
    } finally {
      await conn.close();
    }
  });
});

describe('crossing channel.close', () => {
  test('a client close crossing the server close is answered and the connection lives on', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      // A soft error (404) makes the server close channel 1; the client closes it too before
      // reading that close, then publishes on it, as a busy client does.
      raw.write(methodFrame(1, M.queueDeclare, passiveDeclare(uniq('missing'))));
      raw.write(methodFrame(1, M.channelClose, channelClose()));
      raw.publish(1, '', 'nowhere', Buffer.from('dropped'));
      const serverClose = parseClose(await raw.nextMethod(M.channelClose, 1));
      assert.equal(serverClose.code, 404);
      await raw.nextMethod(M.channelCloseOk, 1); // the answer to the client's close
      raw.write(methodFrame(1, M.channelCloseOk)); // the client's answer to the server's close
      // Other channels and the same channel number work afterwards.
      await raw.openChannel(2);
      assert.match(await raw.declareQueue(2, ''), /^amq\.gen-/);
      await raw.openChannel(1);
      assert.match(await raw.declareQueue(1, ''), /^amq\.gen-/);
      await assert.rejects(raw.nextMethod(M.connectionClose, 0, 200), /no matching frame/, 'no connection.close');
    } finally {
      await raw.close();
    }
  });

  test('amqplib: closing a channel the server is closing does not hurt the connection', async () => {
    const conn = await connect(broker);
    const connClosed = closeOf(conn);
    try {
      for (let i = 0; i < 20; i++) {
        const ch = await channel(conn);
        void ch.checkQueue(uniq('missing')).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
      const ch = await channel(conn);
      await ch.assertQueue('', { exclusive: true });
      const status = await Promise.race([connClosed.then(() => 'closed'), delay(100).then(() => 'open')]);
      assert.equal(status, 'open');
    } finally {
      await conn.close();
    }
  });
});

describe('connection.close-ok reaches the client before the socket ends', () => {
  test('20 connections closing at once each read close-ok, also with output queued', async () => {
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
      const q = await raw.declareQueue(1, '');
      if (i % 2 === 0) for (let k = 0; k < 50; k++) raw.publish(1, '', q, Buffer.alloc(2048, k));
      raw.write(methodFrame(0, M.connectionClose, new Writer().short(200).shortstr('bye').short(0).short(0).build()));
      await raw.nextMethod(M.connectionCloseOk, 0, 5000);
      raw.destroy(); // the client ends the socket once it has the close-ok (RabbitMQ waits for it)
    }));
  });
});

describe('basic.cancel-ok ends deliveries to that consumer', () => {
  test('deliveries held back by global prefetch go back to the queue, not to the cancelled tag', async () => {
    const conn = await connect(broker);
    const connClosed = closeOf(conn);
    try {
      const ch = await channel(conn);
      const [q1, q2] = [uniq('held-a'), uniq('held-b')];
      for (const q of [q1, q2]) {
        await ch.assertQueue(q, { autoDelete: false });
        for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(`${q}-${i}`));
      }
      await eventually(async () => ((await ch.checkQueue(q2)).messageCount === 3 ? true : undefined));
      await ch.prefetch(1, true); // one unacked delivery for the whole channel
      const first: Array<{ tag: number }> = [];
      const late: string[] = [];
      await ch.consume(q1, (m) => { if (m) first.push({ tag: m.fields.deliveryTag }); });
      await eventually(() => (first.length === 1 ? true : undefined));
      const c2 = await ch.consume(q2, (m) => { if (m) late.push(m.content.toString()); });
      await delay(100); // q2's delivery is now held: the channel is at its global limit
      await ch.cancel(c2.consumerTag);
      ch.ack({ fields: { deliveryTag: (first[0] as { tag: number }).tag } } as never);
      await delay(300);
      assert.deepEqual(late, [], 'nothing reaches the cancelled consumer');
      const counts = await ch.checkQueue(q2);
      if (broker.isWarren) assert.equal(counts.messageCount, 3, 'the held delivery is back in the queue');
      await ch.deleteQueue(q1);
      await ch.deleteQueue(q2);
      const status = await Promise.race([connClosed.then(() => 'closed'), delay(50).then(() => 'open')]);
      assert.equal(status, 'open');
    } finally {
      await conn.close().catch(() => undefined);
    }
  });
});

describe('publisher confirms in ascending sequence order', () => {
  test('x-overflow reject-publish: ack for 1-2 before the nack for 3', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      const q = uniq('overflow');
      raw.write(methodFrame(1, M.queueDeclare, new Writer().short(0).shortstr(q).bits(false, false, true, true, false)
        .table({ 'x-max-length': 2, 'x-overflow': 'reject-publish' }).build()));
      await raw.nextMethod(M.queueDeclareOk, 1);
      raw.write(methodFrame(1, M.confirmSelect, new Writer().bits(false).build()));
      await raw.nextMethod(M.confirmSelectOk, 1);
      for (let i = 1; i <= 3; i++) raw.publish(1, '', q, Buffer.from(`m${i}`));
      const seen: number[] = [];
      while (seen.length < 3) {
        const f: Frame = await raw.nextFrame((x) => x.channel === 1 && (isMethod(x, M.basicAck) || isMethod(x, M.basicNack)));
        const a = argsOf(f);
        const tag = Number(a.longlong());
        const multiple = (a.octet() & 1) === 1;
        const sign = isMethod(f, M.basicAck) ? 1 : -1;
        const from = multiple ? (seen.length === 0 ? 1 : Math.abs(seen[seen.length - 1] as number) + 1) : tag;
        for (let s = from; s <= tag; s++) seen.push(sign * s);
      }
      assert.deepEqual(seen, [1, 2, -3]);
    } finally {
      await raw.close();
    }
  });
});

describe('error texts and ids as RabbitMQ sends them', () => {
  test('a body frame where the header is due is reported against basic.publish (60/40)', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      raw.write(methodFrame(1, M.basicPublish, new Writer().short(0).shortstr('').shortstr('q').bits(false, false).build()));
      raw.write(bodyFrame(1, Buffer.from('no header')));
      const close = await raw.expectConnectionClose();
      assert.equal(close.code, 505);
      assert.deepEqual([close.classId, close.methodId], [60, 40]);
    } finally {
      raw.destroy();
    }
  });

  test('a method where a body is due: "expected content body" against basic.publish', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      raw.publish(1, '', 'q', Buffer.alloc(0));
      raw.write(methodFrame(1, M.basicPublish, new Writer().short(0).shortstr('').shortstr('q').bits(false, false).build()));
      raw.write(Buffer.concat([
        // header announcing 10 bytes, then a method instead of the body
        headerFrame(1, 10),
        methodFrame(1, M.queueDeclare, passiveDeclare('x')),
      ]));
      const close = await raw.expectConnectionClose();
      assert.equal(close.code, 505);
      assert.equal(close.text, 'UNEXPECTED_FRAME - expected content body, got non content body frame instead');
      assert.deepEqual([close.classId, close.methodId], [60, 40]);
    } finally {
      raw.destroy();
    }
  });

  test('a channel method on channel 0: 504 "unexpected method in connection state running"', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      raw.write(methodFrame(0, M.queueDeclare, passiveDeclare('x')));
      const close = await raw.expectConnectionClose();
      assert.equal(close.code, 504);
      assert.equal(close.text, 'CHANNEL_ERROR - unexpected method in connection state running');
      assert.deepEqual([close.classId, close.methodId], [50, 10]);
    } finally {
      raw.destroy();
    }
  });
});

describe('queue types', () => {
  test('x-queue-type stream is refused at declare with 406 (Warren has no streams)', async (t) => {
    if (!broker.isWarren) { t.skip('RabbitMQ 3.10 implements streams'); return; }
    const conn = await connect(broker);
    try {
      const ch = await channel(conn);
      await expectChannelClose(ch.assertQueue(uniq('stream'), { durable: true, arguments: { 'x-queue-type': 'stream' } }), 406,
        /invalid arg 'x-queue-type' for queue '.*' in vhost '\/': "unsupported queue type 'stream'"/);
    } finally {
      await conn.close();
    }
  });

  test('/api/queues reports the type each queue has', async (t) => {
    if (!broker.isWarren) { t.skip('uses the Warren management API helper'); return; }
    const conn = await connect(broker);
    const [classic, quorum] = [uniq('t-classic'), uniq('t-quorum')];
    try {
      const ch = await confirmChannel(conn);
      await ch.assertQueue(classic, { durable: true });
      await ch.assertQueue(quorum, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const res = await fetch(`http://${broker.host}:${broker.httpPort}/api/queues`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      });
      const list = await res.json() as Array<{ name: string; type: string }>;
      assert.equal(list.find((q) => q.name === classic)?.type, 'classic');
      assert.equal(list.find((q) => q.name === quorum)?.type, 'quorum');
      await ch.deleteQueue(classic);
      await ch.deleteQueue(quorum);
    } finally {
      await conn.close();
    }
  });
});

