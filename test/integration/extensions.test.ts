// RabbitMQ extensions beyond AMQP 0-9-1 that clients rely on: direct reply-to, sender-selected
// distribution (CC/BCC headers), and connection.blocked under the memory alarm.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumeMessage } from 'amqplib';
import { channel, confirmChannel, connect, expectChannelClose, uniq, useBrokerConnection, withTimeout } from '../helpers/amqp.js';
import { startBroker } from '../helpers/broker.js';
import { skipOnCluster } from '../helpers/target.js';

const fixture = useBrokerConnection();


describe('direct reply-to', () => {
  test('an RPC round trip through amq.rabbitmq.reply-to, without any reply queue', async () => {
    const server = await channel(fixture.conn);
    const rpcQueue = uniq('rpc');
    await server.assertQueue(rpcQueue, { exclusive: true });
    await server.consume(rpcQueue, (m) => {
      if (m === null) return;
      assert.match(m.properties.replyTo, /^amq\.rabbitmq\.reply-to\..+/);
      server.sendToQueue(m.properties.replyTo, Buffer.from(`pong:${m.content.toString()}`), {
        correlationId: m.properties.correlationId,
      });
      server.ack(m);
    });

    const client = await channel(fixture.conn);
    const reply = new Promise<ConsumeMessage>((resolve) => {
      void client.consume('amq.rabbitmq.reply-to', (m) => { if (m) resolve(m); }, { noAck: true });
    });
    await new Promise((r) => setTimeout(r, 50));
    client.sendToQueue(rpcQueue, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c-1' });
    const m = await withTimeout(reply, 3000, 'direct reply');
    assert.equal(m.content.toString(), 'pong:ping');
    assert.equal(m.properties.correlationId, 'c-1');
    await server.close();
    await client.close();
  });

  test('publishing with reply-to amq.rabbitmq.reply-to without consuming from it → 406', async () => {
    const ch = await channel(fixture.conn);
    ch.sendToQueue(uniq('nobody'), Buffer.from('x'), { replyTo: 'amq.rabbitmq.reply-to' });
    await expectChannelClose(ch.checkQueue('amq.rabbitmq.reply-to').then(() => ch.assertQueue(uniq('after'))), 406,
      /PRECONDITION_FAILED - fast reply consumer does not exist/);
  });

  test('the reply consumer must be no-ack → 406', async () => {
    const ch = await channel(fixture.conn);
    await expectChannelClose(ch.consume('amq.rabbitmq.reply-to', () => {}, { noAck: false }), 406,
      /PRECONDITION_FAILED - reply consumer cannot acknowledge/);
  });
});

describe('sender-selected distribution', () => {
  test('CC and BCC headers add routing keys; BCC is stripped from what consumers see', async () => {
    const ch = await confirmChannel(fixture.conn);
    const [main, cc, bcc] = [uniq('main'), uniq('cc'), uniq('bcc')];
    for (const q of [main, cc, bcc]) {
      await ch.assertQueue(q, { exclusive: true });
      await ch.bindQueue(q, 'amq.direct', q);
    }
    ch.publish('amq.direct', main, Buffer.from('fan'), { headers: { CC: [cc], BCC: [bcc] } });
    await ch.waitForConfirms();
    for (const q of [main, cc, bcc]) {
      const m = await ch.get(q, { noAck: true });
      assert.ok(m, `message in ${q}`);
      assert.equal(m.content.toString(), 'fan');
      assert.deepEqual(m.properties.headers?.['CC'], [cc]);
      assert.equal(m.properties.headers?.['BCC'], undefined, 'BCC must not reach consumers');
    }
    await ch.close();
  });
});

describe('memory alarm', () => {
  test('over the high watermark a publishing connection gets connection.blocked and is not read', async (t) => {
    if (!fixture.broker.isWarren) { t.skip('needs a broker started with a tiny memory watermark'); return; }
    if (skipOnCluster(t, 'config overrides (a broker started with a tiny memoryHighWatermark)')) return;
    const low = await startBroker({ memoryHighWatermark: 0.000001 });
    try {
      const c = await connect(low);
      const blocked = new Promise<string>((resolve) => c.on('blocked', (reason: string) => resolve(reason)));
      const ch = await confirmChannel(c);
      // As in RabbitMQ, a connection is blocked once it publishes during the alarm.
      ch.sendToQueue(uniq('first'), Buffer.from('first'));
      assert.equal(await withTimeout(blocked, 3000, 'connection.blocked'), 'low on memory');
      ch.sendToQueue(uniq('held'), Buffer.from('held'));
      const confirmed = ch.waitForConfirms().then(() => 'confirmed', () => 'failed');
      const outcome = await Promise.race([confirmed, new Promise((r) => setTimeout(() => r('held'), 1000))]);
      assert.equal(outcome, 'held', 'a blocked publisher must not be read (its publish stays unconfirmed)');

      // Its heartbeats go unread while blocked; like RabbitMQ, Warren must not drop it for that.
      const hb = await connect(`${low.url}?heartbeat=1`);
      let closed = false;
      hb.on('close', () => { closed = true; });
      const hbBlocked = new Promise<string>((resolve) => hb.on('blocked', (reason: string) => resolve(reason)));
      const hch = await confirmChannel(hb);
      hch.sendToQueue(uniq('hb'), Buffer.from('x'));
      await withTimeout(hbBlocked, 3000, 'connection.blocked (heartbeat connection)');
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(closed, false, 'a blocked connection must survive missed heartbeat checks');
      // Closed by low.stop(): connection.close 320 reaches the client, which then stops its heartbeats.
    } finally {
      await low.stop();
    }
  });
});
