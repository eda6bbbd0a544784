// Connection-level behaviour: protocol header negotiation, connection.start properties,
// SASL (PLAIN, AMQPLAIN), tune negotiation, vhost checks, both close directions, heartbeats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { channel, closeOf, connect, uniq, withTimeout } from '../helpers/amqp.js';
import { RawClient, delay } from '../helpers/raw.js';
import { FrameType, M, Writer, heartbeatFrame, methodFrame } from '../helpers/wire.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

describe('protocol header', () => {
  for (const [name, header] of [
    ['AMQP 0-9-0', Buffer.from('AMQP\x00\x00\x09\x00', 'latin1')],
    ['HTTP', Buffer.from('HTTP/1.1\r\n', 'latin1')],
  ] as const) {
    test(`${name} header is answered with AMQP 0-9-1 and the socket is closed`, async () => {
      const raw = await RawClient.open(broker.host, broker.amqpPort);
      raw.write(header);
      const reply = await raw.firstBytes(8);
      assert.deepEqual(reply, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
      await withTimeout(raw.ended, 3000, 'server to close the socket');
      assert.equal(raw.received.length, 8, 'nothing after the protocol header');
    });
  }
});

describe('connection.start', () => {
  test('server properties advertise the RabbitMQ capabilities clients look for', async () => {
    const conn = await connect(broker);
    try {
      const props = conn.connection.serverProperties as unknown as Record<string, unknown>;
      for (const key of ['product', 'version', 'platform']) assert.equal(typeof props[key], 'string', key);
      const caps = props['capabilities'] as Record<string, unknown>;
      for (const cap of ['publisher_confirms', 'exchange_exchange_bindings', 'basic.nack', 'consumer_cancel_notify',
        'connection.blocked', 'consumer_priorities', 'authentication_failure_close', 'per_consumer_qos', 'direct_reply_to']) {
        assert.equal(caps[cap], true, `capability ${cap}`);
      }
    } finally { await conn.close(); }
  });

  test('start offers version 0-9, PLAIN and AMQPLAIN, en_US; tune proposes 2047 / 131072 / 60', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    try {
      const { start, tune } = await raw.handshake();
      assert.equal(start.versionMajor, 0);
      assert.equal(start.versionMinor, 9);
      assert.ok(start.mechanisms.includes('PLAIN'), start.mechanisms.join(' '));
      assert.ok(start.mechanisms.includes('AMQPLAIN'), start.mechanisms.join(' '));
      assert.ok(start.locales.includes('en_US'));
      assert.deepEqual(tune, { channelMax: 2047, frameMaxBytes: 131072, heartbeatSec: 60 });
    } finally { await raw.close(); }
  });
});

describe('authentication', () => {
  test('PLAIN login works and the connection is usable', async () => {
    const conn = await connect(broker, {}, { credentials: amqp.credentials.plain('guest', 'guest') });
    try {
      const ch = await channel(conn);
      const q = await ch.assertQueue('', { exclusive: true });
      assert.match(q.queue, /^amq\.gen-/);
    } finally { await conn.close(); }
  });

  test('AMQPLAIN login works', async () => {
    const conn = await connect(broker, {}, { credentials: amqp.credentials.amqplain('guest', 'guest') });
    try {
      const ch = await channel(conn);
      assert.equal((await ch.assertQueue('', { exclusive: true })).messageCount, 0);
    } finally { await conn.close(); }
  });

  for (const [mech, creds] of [
    ['PLAIN', amqp.credentials.plain('guest', 'wrong')],
    ['AMQPLAIN', amqp.credentials.amqplain('guest', 'wrong')],
  ] as const) {
    test(`wrong password (${mech}) is refused with 403 ACCESS_REFUSED`, async () => {
      await assert.rejects(connect(broker, {}, { credentials: creds }), (e: Error) => {
        assert.match(e.message, /403 \(ACCESS-REFUSED\)/);
        assert.match(e.message, new RegExp(`ACCESS_REFUSED - Login was refused using authentication mechanism ${mech}`));
        return true;
      });
    });
  }

  test('unknown user is refused with 403', async () => {
    await assert.rejects(connect(broker, { username: uniq('nobody'), password: 'x' }), /403 \(ACCESS-REFUSED\)/);
  });
});

describe('tune', () => {
  test('client may lower frame_max: the server splits bodies to fit', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    try {
      await raw.handshake({ frameMaxBytes: 4096 });
      await raw.openChannel(1);
      const q = await raw.declareQueue(1, '');
      const body = Buffer.alloc(10_000, 7);
      raw.publish(1, '', q, body, 4096);
      const got = await raw.get(1, q);
      assert.ok(got, 'message is there');
      assert.deepEqual(got.body, body);
      assert.equal(got.bodyFrameSizes.length, 3);
      for (const size of got.bodyFrameSizes) assert.ok(size <= 4096, `body frame of ${size} bytes exceeds frame_max`);
    } finally { await raw.close(); }
  });

  test('amqplib negotiates lower frame_max and heartbeat and works', async () => {
    const conn = await connect(broker, { frameMax: 8192, heartbeat: 5 });
    try {
      const tuned = conn.connection as unknown as { frameMax: number; heartbeat: number };
      assert.equal(tuned.frameMax, 8192);
      assert.equal(tuned.heartbeat, 5);
      const ch = await channel(conn);
      const { queue } = await ch.assertQueue('', { exclusive: true });
      const body = Buffer.alloc(50_000, 1);
      ch.sendToQueue(queue, body);
      const m = await waitGet(ch, queue);
      assert.deepEqual(m, body);
    } finally { await conn.close(); }
  });
});

async function waitGet(ch: amqp.Channel, queue: string): Promise<Buffer> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.get(queue, { noAck: true });
    if (m) return m.content;
    await delay(10);
  }
  throw new Error('no message');
}

describe('connection.open', () => {
  test('unknown vhost → 530 NOT_ALLOWED "vhost nope not found"', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    try {
      await raw.handshake({ vhost: 'nope' }).catch(() => undefined);
      const close = await raw.expectConnectionClose();
      assert.equal(close.code, 530);
      assert.equal(close.text, 'NOT_ALLOWED - vhost nope not found');
      assert.deepEqual([close.classId, close.methodId], [10, 40]);
    } finally { raw.destroy(); }
  });
});

describe('connection.close', () => {
  // The spec leaves the TCP close to the peer that sent connection.close; RabbitMQ does not
  // close its side first, so we only assert the close-ok.
  test('client-initiated: the server answers close-ok', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    await raw.handshake();
    await raw.openChannel(1);
    raw.write(methodFrame(0, M.connectionClose, new Writer().short(200).shortstr('bye').short(0).short(0).build()));
    const ok = await raw.nextMethod(M.connectionCloseOk);
    assert.equal(ok.channel, 0);
    raw.destroy();
  });

  test('amqplib close resolves and emits close without error', async () => {
    const conn = await connect(broker);
    const closed = closeOf(conn);
    await conn.close();
    assert.equal(await closed, undefined);
  });

  test('server-initiated (hard error): close carries code, text and the failing method', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    await raw.handshake();
    await raw.openChannel(1);
    raw.write(methodFrame(1, M.channelOpen, new Writer().shortstr('').build()));
    const close = await raw.expectConnectionClose();
    assert.equal(close.code, 504);
    assert.deepEqual([close.classId, close.methodId], [20, 10]);
    await withTimeout(raw.ended, 3000, 'socket close after our close-ok');
  });
});

describe('heartbeats', () => {
  test('with heartbeat=1 the server sends heartbeat frames', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    try {
      await raw.handshake({ heartbeatSec: 1 });
      const keepAlive = setInterval(() => raw.write(heartbeatFrame()), 500);
      try {
        await raw.nextFrame((f) => f.type === FrameType.heartbeat, 3000);
        await raw.nextFrame((f) => f.type === FrameType.heartbeat, 3000);
      } finally { clearInterval(keepAlive); }
      assert.ok(raw.heartbeatsReceived >= 2);
      assert.equal(raw.closedByPeer, false, 'a client that heartbeats stays connected');
    } finally { await raw.close(); }
  });

  test('a silent client is disconnected after about two intervals', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    await raw.handshake({ heartbeatSec: 1 });
    const t0 = Date.now();
    await withTimeout(raw.ended, 6000, 'the server to drop a silent client');
    const elapsedMs = Date.now() - t0;
    assert.ok(elapsedMs >= 900, `dropped too early (${elapsedMs} ms)`);
    raw.destroy();
  });

  test('heartbeat 0 from the client disables heartbeats: no frames for 1.5 s', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    try {
      await raw.handshake({ heartbeatSec: 0 });
      await delay(1500);
      assert.equal(raw.heartbeatsReceived, 0);
      assert.equal(raw.closedByPeer, false);
    } finally { await raw.close(); }
  });
});
