// Channel lifecycle: many channels, channel.flow, soft errors (channel only) versus hard
// errors (whole connection), and channel-number misuse seen through raw frames.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import {
  channel, channelFlow, closeOf, connect, expectChannelClose, expectConnectionClose, uniq,
} from '../helpers/amqp.js';
import { RawClient, rawOpenChannel } from '../helpers/raw.js';
import { M, Writer, bodyFrame, methodFrame, parseClose } from '../helpers/wire.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

describe('channel lifecycle', () => {
  test('200 channels open, work and close on one connection; numbers are reusable', async () => {
    const conn = await connect(broker);
    try {
      for (let round = 0; round < 2; round++) {
        const chans = await Promise.all(Array.from({ length: 100 }, () => channel(conn)));
        const ids = new Set(chans.map((c) => (c as unknown as { ch: number }).ch));
        assert.equal(ids.size, 100, 'distinct channel numbers');
        const declared = await Promise.all(chans.map((c) => c.assertQueue('', { exclusive: true })));
        assert.equal(new Set(declared.map((d) => d.queue)).size, 100);
        await Promise.all(chans.map((c) => c.close()));
      }
    } finally { await conn.close(); }
  });

  test('a channel closed by the client can be reopened with the same number (raw)', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      raw.write(methodFrame(1, M.channelClose, new Writer().short(200).shortstr('bye').short(0).short(0).build()));
      await raw.nextMethod(M.channelCloseOk, 1);
      await raw.openChannel(1);
      assert.match(await raw.declareQueue(1, ''), /^amq\.gen-/);
    } finally { await raw.close(); }
  });
});

describe('channel.flow', () => {
  test('flow active=true is answered with flow-ok active=true', async () => {
    const conn = await connect(broker);
    try {
      const ch = await channel(conn);
      assert.equal(await channelFlow(ch, true), true);
      const q = await ch.assertQueue('', { exclusive: true });
      assert.equal(q.messageCount, 0, 'channel still usable after flow');
    } finally { await conn.close(); }
  });

  // RabbitMQ (and Warren) do not implement client-requested flow stop: it is a hard error.
  test('flow active=false → connection closed 540 NOT_IMPLEMENTED', async () => {
    const conn = await connect(broker);
    const closed = closeOf(conn);
    const ch = await channel(conn);
    channelFlow(ch, false).catch(() => undefined);
    await expectConnectionClose(closed, 540, /NOT_IMPLEMENTED - active=false/);
  });
});

describe('soft and hard errors', () => {
  test('a soft error closes only its channel; siblings keep working', async () => {
    const conn = await connect(broker);
    try {
      const bad = await channel(conn);
      const good = await channel(conn);
      const q = uniq('chan-soft');
      await good.assertQueue(q, { autoDelete: false });
      const badClosed = closeOf(bad);
      await expectChannelClose(bad.checkQueue(uniq('missing')), 404, /NOT_FOUND - no queue '.*' in vhost '\/'/);
      assert.equal((await badClosed)?.code, 404);
      good.sendToQueue(q, Buffer.from('still here'));
      const third = await channel(conn);
      const got = await waitForGet(third, q);
      assert.equal(got, 'still here');
      await good.deleteQueue(q);
    } finally { await conn.close(); }
  });

  test('a hard error closes the connection and every channel on it', async () => {
    const conn = await connect(broker);
    const closed = closeOf(conn);
    const a = await channel(conn);
    const b = await channel(conn);
    const aClosed = closeOf(a);
    const bClosed = closeOf(b);
    a.assertExchange(uniq('x'), 'nonsense').catch(() => undefined);
    await expectConnectionClose(closed, 503, /COMMAND_INVALID - unknown exchange type 'nonsense'/);
    await aClosed;
    await bClosed;
    await assert.rejects(async () => b.assertQueue(''), 'channel unusable after connection close');
  });
});

async function waitForGet(ch: Awaited<ReturnType<typeof channel>>, q: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = await ch.get(q, { noAck: true });
    if (m) return m.content.toString();
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no message');
}

describe('channel misuse (raw frames)', () => {
  async function expectHardClose(send: (raw: RawClient) => void | Promise<void>, code: number, text: RegExp): Promise<void> {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      await send(raw);
      const close = await raw.expectConnectionClose();
      assert.equal(close.code, code, close.text);
      assert.match(close.text, text);
    } finally { raw.destroy(); }
  }

  test('opening an open channel again → 504 CHANNEL_ERROR', async () => {
    await expectHardClose((raw) => raw.write(methodFrame(1, M.channelOpen, new Writer().shortstr('').build())),
      504, /^CHANNEL_ERROR - second 'channel.open' seen$/);
  });

  test('a method on a never-opened channel → 504 CHANNEL_ERROR', async () => {
    await expectHardClose((raw) => raw.write(methodFrame(7, M.queueDeclare,
      new Writer().short(0).shortstr('').bits(false, false, false, true, false).table({}).build())),
    504, /^CHANNEL_ERROR - expected 'channel.open'$/);
  });

  test('a method on a channel after it was closed → 504 CHANNEL_ERROR', async () => {
    await expectHardClose(async (raw) => {
      raw.write(methodFrame(1, M.channelClose, new Writer().short(200).shortstr('').short(0).short(0).build()));
      await raw.nextMethod(M.channelCloseOk, 1);
      raw.write(methodFrame(1, M.queueDeclare, new Writer().short(0).shortstr('').bits(false, false, false, true, false).table({}).build()));
    }, 504, /^CHANNEL_ERROR - expected 'channel.open'$/);
  });

  test('a content body with no publish → 505 UNEXPECTED_FRAME', async () => {
    await expectHardClose((raw) => raw.write(bodyFrame(1, Buffer.from('orphan'))), 505, /^UNEXPECTED_FRAME - /);
  });

  test('a method where a content header is due → 505 UNEXPECTED_FRAME', async () => {
    await expectHardClose((raw) => {
      raw.write(methodFrame(1, M.basicPublish, new Writer().short(0).shortstr('').shortstr('x').bits(false, false).build()));
      raw.write(methodFrame(1, M.channelFlow, new Writer().bits(true).build()));
    }, 505, /^UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead$/);
  });

  test('after a soft error the server waits for close-ok before reusing the channel', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    try {
      raw.write(methodFrame(1, M.queueDeclare, new Writer().short(0).shortstr(uniq('missing')).bits(true, false, false, false, false).table({}).build()));
      const close = parseClose(await raw.nextMethod(M.channelClose, 1));
      assert.equal(close.code, 404);
      assert.deepEqual([close.classId, close.methodId], [50, 10]);
      raw.write(methodFrame(1, M.channelCloseOk));
      await raw.openChannel(1);
      assert.match(await raw.declareQueue(1, ''), /^amq\.gen-/);
    } finally { await raw.close(); }
  });
});
