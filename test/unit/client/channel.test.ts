// Channel frame handling without a socket: frames in through handleFrame (encoded by Warren's codec
// and decoded by its FrameParser, split at every byte offset), bytes out through a fake transport.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FrameParser, encodeContent, encodeMethod, type Frame } from '../../../src/amqp/index.js';
import { Channel, type ChannelTransport } from '../../../src/client/channel.js';
import { ClientError } from '../../../src/client/errors.js';
import { negotiateTune, parseAmqpUrl } from '../../../src/client/connection.js';

class FakeTransport implements ChannelTransport {
  readonly frameMaxBytes = 4096;
  readonly sent: Frame[] = [];
  released: number[] = [];
  private readonly parser = new FrameParser(0);
  write(buf: Buffer): boolean { this.sent.push(...this.parser.push(buf)); return true; }
  release(id: number): void { this.released.push(id); }
  methodNames(): string[] { return this.sent.flatMap((f) => (f.type === 1 ? [f.method.name] : [])); }
}

/** Feeds `bytes` to the channel through a parser, split at `split`. */
function feed(ch: Channel, bytes: Buffer, split: number): void {
  const p = new FrameParser(0);
  for (const f of [...p.push(bytes.subarray(0, split)), ...p.push(bytes.subarray(split))]) ch.handleFrame(f);
}

function delivery(tag: number, body: Buffer, frameMaxBytes: number): Buffer {
  return encodeContent(1, 'basic.deliver', { consumerTag: 'warren-client-1-1', deliveryTag: tag, redelivered: tag % 2 === 0,
    exchange: '', routingKey: 'q' }, { messageId: `m${tag}` }, body, frameMaxBytes);
}

async function consuming(t: FakeTransport): Promise<{ ch: Channel; got: Array<[number, boolean, string, string | undefined]> }> {
  const ch = new Channel(1, t);
  const got: Array<[number, boolean, string, string | undefined]> = [];
  const p = ch.consume('q', (tag, red, body, props) => got.push([tag, red, body.toString('hex'), props.messageId]));
  ch.handleFrame({ type: 1, channel: 1, method: { name: 'basic.consume-ok', classId: 60, methodId: 21, args: { consumerTag: 'warren-client-1-1' } } });
  assert.equal(await p, 'warren-client-1-1');
  return { ch, got };
}

describe('Channel deliveries', () => {
  test('a multi-frame delivery followed by an empty one, split at every byte offset', async () => {
    const body = Buffer.from(Array.from({ length: 9000 }, (_, i) => i % 256));
    const bytes = Buffer.concat([delivery(1, body, 4096), delivery(2, Buffer.alloc(0), 4096)]);
    for (let split = 0; split <= bytes.length; split += 97) {
      const { ch, got } = await consuming(new FakeTransport());
      feed(ch, bytes, split);
      assert.deepEqual(got, [[1, false, body.toString('hex'), 'm1'], [2, true, '', 'm2']], `split ${split}`);
    }
  });

  test('ack and nack encode the tag and multiple flag', async () => {
    const t = new FakeTransport();
    const { ch } = await consuming(t);
    ch.ack(7, true);
    ch.nack(8, false, false);
    const [ack, nack] = t.sent.slice(-2);
    assert.deepEqual(ack?.type === 1 && ack.method.args, { deliveryTag: 7, multiple: true });
    assert.deepEqual(nack?.type === 1 && nack.method.args, { deliveryTag: 8, multiple: false, requeue: false });
  });
});

describe('Channel confirms and errors', () => {
  test('basic.ack multiple reports how many publishes it settled', async () => {
    const t = new FakeTransport();
    const ch = new Channel(3, t);
    const selecting = ch.confirmSelect();
    ch.handleFrame({ type: 1, channel: 3, method: { name: 'confirm.select-ok', classId: 85, methodId: 11, args: {} } });
    await selecting;
    const settled: Array<[number, boolean]> = [];
    ch.onConfirm = (n, ok) => settled.push([n, ok]);
    for (let i = 0; i < 5; i++) ch.publish('', 'q', Buffer.from('x'));
    assert.equal(ch.unconfirmed, 5);
    const acks = Buffer.concat([encodeMethod(3, 'basic.ack', { deliveryTag: 3, multiple: true }),
      encodeMethod(3, 'basic.nack', { deliveryTag: 5, multiple: false, requeue: false })]);
    feed(ch, acks, 5);
    assert.deepEqual(settled, [[3, true], [1, false]]);
    assert.equal(ch.unconfirmed, 1);
    assert.deepEqual(t.methodNames().filter((n) => n === 'basic.publish').length, 5);
  });

  test('channel.close from the server rejects pending rpcs with its reply code and sends close-ok', async () => {
    const t = new FakeTransport();
    const ch = new Channel(2, t);
    let reported: ClientError | undefined;
    ch.onError = (e) => { reported = e; };
    const a = ch.declareQueue('missing', { passive: true });
    const b = ch.qos(10);
    feed(ch, encodeMethod(2, 'channel.close', { replyCode: 404, replyText: "NOT_FOUND - no queue 'missing'", classId: 50, methodId: 10 }), 3);
    for (const p of [a, b]) {
      await assert.rejects(p, (e: unknown) => e instanceof ClientError && e.replyCode === 404 && e.classId === 50);
    }
    assert.equal(reported?.replyText, "NOT_FOUND - no queue 'missing'");
    assert.deepEqual(t.methodNames(), ['queue.declare', 'basic.qos', 'channel.close-ok']);
    assert.deepEqual(t.released, [2]);
    assert.throws(() => ch.ack(1), ClientError);
  });

  test('an unexpected reply fails the channel instead of resolving the wrong call', async () => {
    const ch = new Channel(1, new FakeTransport());
    const p = ch.qos(1);
    ch.handleFrame({ type: 1, channel: 1, method: { name: 'queue.delete-ok', classId: 50, methodId: 41, args: { messageCount: 0 } } });
    await assert.rejects(p, /unexpected queue.delete-ok/);
    assert.equal(ch.closed, true);
  });
});

describe('connection helpers', () => {
  test('negotiateTune: smaller non-zero limit wins; heartbeat 0 turns heartbeats off', () => {
    assert.deepEqual(negotiateTune({ channelMax: 0, frameMax: 0, heartbeat: 60 }, { frameMaxBytes: 131072, heartbeatSec: 0 }),
      { channelMax: 2047, frameMax: 131072, heartbeat: 0 });
    assert.deepEqual(negotiateTune({ channelMax: 100, frameMax: 8192, heartbeat: 60 }, { frameMaxBytes: 131072, heartbeatSec: 10 }),
      { channelMax: 100, frameMax: 8192, heartbeat: 10 });
    assert.equal(negotiateTune({ channelMax: 0, frameMax: 0, heartbeat: 60 }, { frameMaxBytes: 4096 }).heartbeat, 60);
  });
  test('parseAmqpUrl: defaults, vhost decoding, TLS port', () => {
    assert.deepEqual(parseAmqpUrl('amqp://u:p%40ss@h:5673/%2Fv'),
      { tls: false, host: 'h', port: 5673, username: 'u', password: 'p@ss', vhost: '/v' });
    const d = parseAmqpUrl('amqps://h');
    assert.equal(d.port, 5671);
    assert.equal(d.vhost, '/');
    assert.equal(d.username, 'guest');
    assert.throws(() => parseAmqpUrl('http://h'));
  });
});
