// Malformed input over raw TCP. Each case opens its own connection to an open channel, sends
// one bad frame, and expects connection.close with the right reply code (and RabbitMQ's text
// where clients or people grep for it). After every case a second, fresh connection must
// still work: one bad client must never hurt the broker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { withTimeout } from '../helpers/amqp.js';
import { RawClient, rawOpenChannel, type HandshakeOptions } from '../helpers/raw.js';
import {
  FrameType, M, Writer, bodyFrame, encodeFrame, headerFrame, methodFrame, type CloseInfo,
} from '../helpers/wire.js';

let broker: TestBroker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker.stop(); });

const declareArgs = (): Buffer => new Writer().short(0).shortstr('').bits(false, false, false, true, false).table({}).build();

/** Sends `bad` after the handshake and returns the server's connection.close. */
async function closeAfter(bad: (raw: RawClient) => void | Promise<void>, opts: HandshakeOptions = {}): Promise<CloseInfo> {
  const { raw } = await rawOpenChannel(broker.host, broker.amqpPort, opts);
  try {
    await bad(raw);
    // After a frame error the stream is out of sync, so the server may never read our close-ok;
    // we do not wait for it to close the socket.
    return await raw.expectConnectionClose();
  } finally {
    raw.destroy();
    await assertBrokerHealthy();
  }
}

/** A fresh connection can still declare a queue. */
async function assertBrokerHealthy(): Promise<void> {
  const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
  try { assert.match(await raw.declareQueue(1, ''), /^amq\.gen-/); } finally { await raw.close(); }
}

describe('frame-level errors → 501 FRAME_ERROR', () => {
  test('bad frame-end octet', async () => {
    const close = await closeAfter((raw) => raw.write(encodeFrame(FrameType.method, 1,
      new Writer().short(50).short(10).raw(declareArgs()).build(), 0x00)));
    assert.equal(close.code, 501);
    assert.match(close.text, /^FRAME_ERROR - /);
  });

  test('frame larger than the negotiated frame_max', async () => {
    const close = await closeAfter((raw) => raw.write(encodeFrame(FrameType.body, 1, Buffer.alloc(200_000))));
    assert.equal(close.code, 501);
    assert.match(close.text, /^FRAME_ERROR - /);
  });

  test('frame larger than a lowered frame_max (8192)', async () => {
    const close = await closeAfter((raw) => raw.write(encodeFrame(FrameType.body, 1, Buffer.alloc(9000))), { frameMaxBytes: 8192 });
    assert.equal(close.code, 501);
  });

  test('unknown frame type', async () => {
    const close = await closeAfter((raw) => raw.write(encodeFrame(7, 1, Buffer.alloc(4))));
    assert.equal(close.code, 501);
    assert.match(close.text, /^FRAME_ERROR - /);
  });
});

describe('frame sequencing errors → 505 UNEXPECTED_FRAME', () => {
  test('content body without a header (and without a publish)', async () => {
    const close = await closeAfter((raw) => raw.write(bodyFrame(1, Buffer.from('orphan'))));
    assert.equal(close.code, 505);
    assert.match(close.text, /^UNEXPECTED_FRAME - /);
  });

  test('content header without a publish', async () => {
    const close = await closeAfter((raw) => raw.write(headerFrame(1, 3)));
    assert.equal(close.code, 505);
  });

  test('content body where the header is due', async () => {
    const close = await closeAfter((raw) => {
      raw.write(methodFrame(1, M.basicPublish, new Writer().short(0).shortstr('').shortstr('q').bits(false, false).build()));
      raw.write(bodyFrame(1, Buffer.from('no header')));
    });
    assert.equal(close.code, 505);
    assert.match(close.text, /^UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead$/);
  });

  test('heartbeat on a non-zero channel', async () => {
    const close = await closeAfter((raw) => raw.write(encodeFrame(FrameType.heartbeat, 1, Buffer.alloc(0))));
    assert.equal(close.code, 505);
  });
});

describe('channel errors → 504 CHANNEL_ERROR', () => {
  test('method on a channel that was never opened', async () => {
    const close = await closeAfter((raw) => raw.write(methodFrame(9, M.queueDeclare, declareArgs())));
    assert.equal(close.code, 504);
    assert.equal(close.text, "CHANNEL_ERROR - expected 'channel.open'");
    assert.deepEqual([close.classId, close.methodId], [50, 10]);
  });

  test('method on a closed channel', async () => {
    const close = await closeAfter(async (raw) => {
      raw.write(methodFrame(1, M.channelClose, new Writer().short(200).shortstr('').short(0).short(0).build()));
      await raw.nextMethod(M.channelCloseOk, 1);
      raw.write(methodFrame(1, M.queueDeclare, declareArgs()));
    });
    assert.equal(close.code, 504);
    assert.equal(close.text, "CHANNEL_ERROR - expected 'channel.open'");
  });

  test('a channel-class method on channel 0', async () => {
    const close = await closeAfter((raw) => raw.write(methodFrame(0, M.queueDeclare, declareArgs())));
    assert.equal(close.code, 504);
    assert.match(close.text, /^CHANNEL_ERROR - /);
  });
});

describe('channel_max', () => {
  // RabbitMQ enforces channel_max as a limit on the number of open channels (530); it accepts
  // channel numbers above channel_max as long as the count stays below it.
  test('opening more channels than the negotiated channel_max → 530 NOT_ALLOWED', async () => {
    const close = await closeAfter(async (raw) => {
      await raw.openChannel(2);
      raw.write(methodFrame(3, M.channelOpen, new Writer().shortstr('').build()));
    }, { channelMax: 2 });
    assert.equal(close.code, 530);
    assert.equal(close.text, 'NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)');
  });

  test('a channel number above channel_max is refused (Warren only)', async (t) => {
    if (!broker.isWarren) { t.skip('RabbitMQ 3.10 accepts channel numbers above channel_max'); return; }
    const close = await closeAfter((raw) => raw.write(methodFrame(3000, M.channelOpen, new Writer().shortstr('').build())),
      { channelMax: 10 });
    assert.ok([504, 530].includes(close.code), `code ${close.code}: ${close.text}`);
  });
});

describe('garbage', () => {
  test('an unknown method class drops the connection (with or without a close)', async () => {
    const { raw } = await rawOpenChannel(broker.host, broker.amqpPort);
    raw.write(methodFrame(1, [99, 10]));
    await withTimeout(raw.ended, 5000, 'connection to be dropped');
    raw.destroy();
    await assertBrokerHealthy();
  });

  test('random bytes instead of a protocol header get the protocol header back', async () => {
    const raw = await RawClient.open(broker.host, broker.amqpPort);
    raw.write(Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01', 'latin1')); // looks like a TLS ClientHello
    assert.deepEqual(await raw.firstBytes(8), Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    await withTimeout(raw.ended, 3000, 'socket close');
    await assertBrokerHealthy();
  });
});
