// FrameParser: a stream of every frame kind decodes identically however it is split; malformed input
// gives RabbitMQ's reply codes; encodeContent splits bodies by frame-max and reuses raw headers.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameParser, HEARTBEAT_FRAME, PROTOCOL_HEADER, encodeContent, encodeMethod,
} from '../../../src/amqp/index.js';
import type { Frame } from '../../../src/amqp/index.js';
import { AmqpError } from '../../../src/amqp/errors.js';
import { ALL_PROPERTIES, ALL_PROPERTIES_DECODED, EVERY_TYPE_TABLE, prng } from './fixtures.js';
import { defs } from './amqplib-defs.js';

const FRAME_MAX = 4096;
const PUBLISH = { ticket: 0, exchange: 'amq.topic', routingKey: 'a.b.c', mandatory: true, immediate: false };
const BODY = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));

/** method, content with all properties and a 3-frame body, content with an empty body, heartbeat. */
function sampleStream(): Buffer {
  return Buffer.concat([
    encodeMethod(0, 'connection.start', {
      versionMajor: 0, versionMinor: 9, serverProperties: { product: 'Warren', capabilities: { publisher_confirms: true } },
      mechanisms: Buffer.from('PLAIN AMQPLAIN'), locales: Buffer.from('en_US'),
    }),
    encodeContent(3, 'basic.publish', PUBLISH, ALL_PROPERTIES, BODY, FRAME_MAX),
    encodeContent(4, 'basic.publish', PUBLISH, {}, Buffer.alloc(0), FRAME_MAX),
    HEARTBEAT_FRAME,
    encodeMethod(3, 'basic.ack', { deliveryTag: 2 ** 52 + 1, multiple: true }),
  ]);
}

const STREAM = sampleStream();
const EXPECTED = new FrameParser(FRAME_MAX).push(STREAM);

function feed(parts: Buffer[]): Frame[] {
  const parser = new FrameParser(FRAME_MAX);
  return parts.flatMap((p) => parser.push(p));
}

function isAmqpError(code: number, pattern?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof AmqpError && e.replyCode === code && (pattern === undefined || pattern.test(e.message));
}

describe('FrameParser splitting', () => {
  test('the reference decode has every frame kind with the expected content', () => {
    assert.deepEqual(EXPECTED.map((f) => `${f.type}@${f.channel}`), ['1@0', '1@3', '2@3', '3@3', '3@3', '3@3', '1@4', '2@4', '8@0', '1@3']);
    const header = EXPECTED[2];
    assert.ok(header?.type === 2);
    assert.equal(header.bodySize, BODY.length);
    assert.deepEqual(header.properties, ALL_PROPERTIES_DECODED);
    const bodies = EXPECTED.filter((f): f is Extract<Frame, { type: 3 }> => f.type === 3);
    assert.deepEqual(Buffer.concat(bodies.map((b) => b.payload)), BODY);
    for (const b of bodies) assert.ok(b.payload.length <= FRAME_MAX - 8);
    const empty = EXPECTED[7];
    assert.ok(empty?.type === 2);
    assert.equal(empty.bodySize, 0);
    assert.deepEqual(Object.keys(empty.properties), []);
    const ack = EXPECTED[9];
    assert.ok(ack?.type === 1);
    assert.deepEqual(ack.method, { name: 'basic.ack', classId: 60, methodId: 80, args: { deliveryTag: 2 ** 52 + 1, multiple: true } });
  });

  test('split in two at every byte offset', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      assert.deepEqual(feed([STREAM.subarray(0, i), STREAM.subarray(i)]), EXPECTED, `split at ${i}`);
    }
  });

  test('fed one byte at a time', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < STREAM.length; i++) parts.push(STREAM.subarray(i, i + 1));
    assert.deepEqual(feed(parts), EXPECTED);
  });

  test('random multi-way splits (seeded), including empty chunks', () => {
    const rand = prng(0x5eed);
    for (let round = 0; round < 200; round++) {
      const parts: Buffer[] = [];
      let o = 0;
      while (o < STREAM.length) {
        const n = Math.floor(rand() * (rand() < 0.5 ? 16 : 3000));
        parts.push(STREAM.subarray(o, o + n));
        o += n;
      }
      assert.deepEqual(feed(parts), EXPECTED, `round ${round}`);
    }
  });

  test('frames wholly inside one chunk are views into it, not copies', () => {
    const chunk = Buffer.concat([STREAM]);
    const frames = new FrameParser(FRAME_MAX).push(chunk);
    const body = frames.find((f) => f.type === 3);
    assert.ok(body?.type === 3);
    assert.equal(body.payload.buffer, chunk.buffer);
    const header = frames.find((f) => f.type === 2);
    assert.ok(header?.type === 2);
    assert.equal(header.raw.buffer, chunk.buffer);
  });

  test('frameMaxBytes can be raised after tune-ok', () => {
    const parser = new FrameParser(FRAME_MAX);
    const big = encodeContent(1, 'basic.publish', PUBLISH, {}, Buffer.alloc(20_000, 1), 131_072);
    assert.throws(() => parser.push(big), isAmqpError(501));
    const fresh = new FrameParser(FRAME_MAX);
    fresh.frameMaxBytes = 131_072;
    assert.equal(fresh.push(big).length, 3);
  });
});

describe('FrameParser malformed input', () => {
  const ack = encodeMethod(1, 'basic.ack', { deliveryTag: 1, multiple: false });

  test('a bad frame-end octet is 501 FRAME_ERROR', () => {
    const bad = Buffer.from(ack);
    bad[bad.length - 1] = 0x41;
    assert.throws(() => new FrameParser(FRAME_MAX).push(bad), isAmqpError(501, /invalid_frame_end_marker,65/));
    // ... also when it arrives in its own chunk.
    const parser = new FrameParser(FRAME_MAX);
    parser.push(bad.subarray(0, bad.length - 1));
    assert.throws(() => parser.push(bad.subarray(bad.length - 1)), isAmqpError(501));
  });

  test('an oversize frame is 501 FRAME_ERROR as soon as its header arrives', () => {
    const header = Buffer.from([3, 0, 1, 0, 0, 0x13, 0x89]); // body frame, payload 5001 > 4096
    assert.throws(() => new FrameParser(FRAME_MAX).push(header), isAmqpError(501, /type 3, all octets = <<>>: \{frame_too_large,5001,4088\}/));
    const parser = new FrameParser(FRAME_MAX);
    parser.push(header.subarray(0, 4));
    assert.throws(() => parser.push(header.subarray(4)), isAmqpError(501, /frame_too_large/));
  });

  test('payloads up to frame-max itself are accepted (RabbitMQ\'s 8-byte fudge for off-by-overhead clients)', () => {
    const payload = Buffer.alloc(FRAME_MAX, 7);
    const frame = Buffer.concat([Buffer.from([3, 0, 1, 0, 0, 0x10, 0x00]), payload, Buffer.from([0xce])]);
    assert.equal(new FrameParser(FRAME_MAX).push(frame).length, 1);
    const over = Buffer.concat([Buffer.from([3, 0, 1, 0, 0, 0x10, 0x01]), payload, Buffer.from([7, 0xce])]);
    assert.throws(() => new FrameParser(FRAME_MAX).push(over), isAmqpError(501));
  });

  test('an unknown frame type is 501 FRAME_ERROR', () => {
    const frame = Buffer.from([9, 0, 0, 0, 0, 0, 1, 0x2a, 0xce]);
    assert.throws(() => new FrameParser(FRAME_MAX).push(frame), isAmqpError(501, /^FRAME_ERROR - type 9, all octets = <<42>>: unknown_frame$/));
  });

  test('a heartbeat with a payload, a short method or header payload are 501', () => {
    assert.throws(() => new FrameParser(FRAME_MAX).push(Buffer.from([8, 0, 0, 0, 0, 0, 1, 0, 0xce])), isAmqpError(501));
    assert.throws(() => new FrameParser(FRAME_MAX).push(Buffer.from([1, 0, 0, 0, 0, 0, 3, 0, 60, 0, 0xce])), isAmqpError(501));
    assert.throws(() => new FrameParser(FRAME_MAX).push(Buffer.from([2, 0, 1, 0, 0, 0, 2, 0, 60, 0xce])), isAmqpError(501));
  });

  test('truncated method arguments are 501 FRAME_ERROR "cannot decode" with the method ids', () => {
    const publish = encodeMethod(1, 'basic.publish', PUBLISH);
    const payload = publish.subarray(7, publish.length - 1);
    for (let cut = 4; cut < payload.length; cut++) {
      const frame = Buffer.concat([Buffer.from([1, 0, 1, 0, 0, 0, cut]), payload.subarray(0, cut), Buffer.from([0xce])]);
      assert.throws(() => new FrameParser(FRAME_MAX).push(frame), (e: unknown) =>
        e instanceof AmqpError && e.replyCode === 501 && e.classId === 60 && e.methodId === 40 && /cannot decode <</.test(e.message), `cut ${cut}`);
    }
  });

  test('trailing bytes after the arguments are 501 too (RabbitMQ matches the whole payload)', () => {
    const frame = Buffer.concat([ack.subarray(0, ack.length - 1), Buffer.from([0, 0xce])]);
    frame.writeUInt32BE(frame.length - 8, 3);
    assert.throws(() => new FrameParser(FRAME_MAX).push(frame), isAmqpError(501));
  });

  test('an unknown class/method is 540 NOT_IMPLEMENTED with the ids set', () => {
    const frame = Buffer.from([1, 0, 1, 0, 0, 0, 4, 0, 60, 0, 41, 0xce]);
    assert.throws(() => new FrameParser(FRAME_MAX).push(frame), (e: unknown) =>
      e instanceof AmqpError && e.replyCode === 540 && e.classId === 60 && e.methodId === 41);
  });

  test('an unknown field type in method arguments is 502 with the method ids set', () => {
    const declare = encodeMethod(1, 'queue.declare', {
      ticket: 0, queue: 'q', passive: false, durable: true, exclusive: false, autoDelete: false, nowait: false, arguments: { a: 'b' },
    });
    const bad = Buffer.from(declare);
    bad[bad.indexOf(Buffer.from('a', 'latin1'), 20) + 1] = 0x51; // the tag after key "a": 'S' -> 'Q'
    assert.throws(() => new FrameParser(FRAME_MAX).push(bad), (e: unknown) =>
      e instanceof AmqpError && e.replyCode === 502 && e.classId === 50 && e.methodId === 10);
  });

  test('malformed content properties are 501', () => {
    const header = Buffer.from([2, 0, 1, 0, 0, 0, 15, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0x80, 0, 9, 0xce]);
    assert.throws(() => new FrameParser(FRAME_MAX).push(header), isAmqpError(501));
  });
});

describe('encodeContent', () => {
  const methodLen = encodeMethod(1, 'basic.publish', PUBLISH).length;

  test('splits the body into frames of at most frame-max - 8 bytes', () => {
    const out = encodeContent(1, 'basic.publish', PUBLISH, { deliveryMode: 2 }, BODY, FRAME_MAX);
    const frames = new FrameParser(FRAME_MAX).push(out);
    const sizes = frames.filter((f) => f.type === 3).map((f) => (f.type === 3 ? f.payload.length : 0));
    assert.deepEqual(sizes, [4088, 4088, 1824]);
    const exact = encodeContent(1, 'basic.publish', PUBLISH, {}, Buffer.alloc(4088 * 2), FRAME_MAX);
    assert.equal(new FrameParser(FRAME_MAX).push(exact).filter((f) => f.type === 3).length, 2);
  });

  test('an empty body has no body frames', () => {
    const out = encodeContent(1, 'basic.publish', PUBLISH, {}, Buffer.alloc(0), FRAME_MAX);
    const frames = new FrameParser(FRAME_MAX).push(out);
    assert.deepEqual(frames.map((f) => f.type), [1, 2]);
    assert.equal(out.length, methodLen + 8 + 14);
  });

  test('frame-max 0 means one body frame', () => {
    const out = encodeContent(1, 'basic.publish', PUBLISH, {}, BODY, 0);
    assert.deepEqual(new FrameParser(0).push(out).map((f) => f.type), [1, 2, 3]);
  });

  test('the content header matches amqplib byte for byte', () => {
    const props = { ...ALL_PROPERTIES, headers: { a: 'x', nested: { b: true } } };
    const out = encodeContent(5, 'basic.publish', PUBLISH, props, Buffer.from('hi'), FRAME_MAX);
    const theirs = defs.encodeProperties(60, 5, 2, props);
    assert.equal(out.subarray(methodLen, methodLen + theirs.length).toString('hex'), theirs.toString('hex'));
  });

  test('a raw header is reused byte for byte; only body-size is rewritten', () => {
    const theirs = defs.encodeProperties(60, 1, 3, { contentType: 'text/plain', headers: { z: 'y' }, priority: 1 });
    const [received] = new FrameParser(FRAME_MAX).push(theirs);
    assert.ok(received?.type === 2);
    const same = encodeContent(1, 'basic.deliver',
      { consumerTag: 'c', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' }, received.raw, Buffer.from('abc'), FRAME_MAX);
    const deliverLen = encodeMethod(1, 'basic.deliver', { consumerTag: 'c', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' }).length;
    assert.equal(same.subarray(deliverLen, deliverLen + theirs.length).toString('hex'), theirs.toString('hex'));
    const resized = encodeContent(1, 'basic.deliver',
      { consumerTag: 'c', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' }, received.raw, Buffer.from('abcdef'), FRAME_MAX);
    const frames = new FrameParser(FRAME_MAX).push(resized);
    const header = frames[1];
    assert.ok(header?.type === 2);
    assert.equal(header.bodySize, 6);
    assert.deepEqual(header.properties, { contentType: 'text/plain', headers: { z: 'y' }, priority: 1 });
    assert.equal(received.raw.readUInt32BE(8), 3, 'the received header is not modified');
  });

  test('properties decode omits absent ones (exactOptionalPropertyTypes)', () => {
    const out = encodeContent(1, 'basic.publish', PUBLISH, { messageId: 'm', timestamp: 0 }, Buffer.alloc(0), FRAME_MAX);
    const header = new FrameParser(FRAME_MAX).push(out)[1];
    assert.ok(header?.type === 2);
    assert.deepEqual(Object.keys(header.properties), ['messageId', 'timestamp']);
  });
});

describe('constants', () => {
  test('protocol header and heartbeat bytes', () => {
    assert.equal(PROTOCOL_HEADER.toString('hex'), '414d515000000901');
    assert.equal(HEARTBEAT_FRAME.toString('hex'), '08000000000000ce');
    assert.deepEqual(new FrameParser(FRAME_MAX).push(HEARTBEAT_FRAME), [{ type: 8, channel: 0 }]);
  });

  test('EVERY_TYPE_TABLE fixture is used by the stream (guards the fixture wiring)', () => {
    assert.equal(ALL_PROPERTIES.headers, EVERY_TYPE_TABLE);
  });
});
