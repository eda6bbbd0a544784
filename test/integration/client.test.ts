// src/client against a real broker (Warren in-process, or WARREN_TEST_URL, e.g. RabbitMQ on 5673):
// handshake, declare, confirmed publishes, consume with acks (single and multiple), multi-frame
// bodies, a server-side channel error (404) and close.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, ClientError, ClientErrorCode, type Connection } from '../../src/client/index.js';

function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error('timed out waiting'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('warren client', () => {
  let broker: TestBroker;
  let conn: Connection;
  before(async () => {
    broker = await startBroker();
    conn = await connect(broker.url, { heartbeatSec: 0, connectionName: 'client-test' });
  });
  after(async () => {
    await conn?.close();
    await broker?.stop();
  });

  test('negotiates tune values', () => {
    assert.equal(conn.heartbeatSec, 0);
    assert.ok(conn.frameMaxBytes >= 4096 && conn.frameMaxBytes <= 131_072, `frameMax ${conn.frameMaxBytes}`);
  });

  test('publish with confirms, consume, ack: every message arrives once, in order, bodies intact', async () => {
    const ch = await conn.createChannel();
    const { queue } = await ch.declareQueue('', { exclusive: true });
    await ch.confirmSelect();
    let acked = 0;
    let nacked = 0;
    ch.onConfirm = (n, ok) => { if (ok) acked += n; else nacked += n; };
    const got: Array<{ tag: number; body: string; type: string | undefined }> = [];
    const cch = await conn.createChannel();
    await cch.qos(20);
    // Ack every 5th delivery with multiple=true (prefetch 20 keeps the flow going), the rest at the end.
    await cch.consume(queue, (tag, redelivered, body, props) => {
      assert.equal(redelivered, false);
      got.push({ tag, body: body.toString(), type: props.type });
      if (got.length % 5 === 0) cch.ack(tag, true);
    });
    const n = 203;
    for (let i = 0; i < n; i++) ch.publish('', queue, Buffer.from(`msg-${i}`), { type: 't', deliveryMode: 1 });
    assert.equal(ch.unconfirmed, n);
    await waitFor(() => acked + nacked === n && got.length === n);
    assert.equal(acked, n);
    assert.equal(ch.unconfirmed, 0);
    assert.deepEqual(got.map((g) => g.body), Array.from({ length: n }, (_, i) => `msg-${i}`));
    assert.equal(got[0]?.type, 't');
    cch.ack(got.at(-1)!.tag, true);
    const left = await ch.declareQueue(queue, { passive: true });
    assert.equal(left.consumerCount, 1);
    await cch.close();
    await ch.close();
  });

  test('a body larger than frame-max is split and reassembled', async () => {
    const ch = await conn.createChannel();
    const { queue } = await ch.declareQueue('', { exclusive: true });
    const body = Buffer.alloc(conn.frameMaxBytes * 2 + 17);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    let received: Buffer | undefined;
    await ch.consume(queue, (_tag, _r, b) => { received = Buffer.from(b); }, { noAck: true });
    ch.publish('', queue, body);
    await waitFor(() => received !== undefined);
    assert.ok(received!.equals(body));
    await ch.close();
  });

  test('a server-side channel error rejects with replyCode 404 and closes only that channel', async () => {
    const ch = await conn.createChannel();
    let reported: ClientError | undefined;
    ch.onError = (e) => { reported = e; };
    const missing = `no-such-queue-${process.pid}-${Date.now()}`;
    await assert.rejects(ch.declareQueue(missing, { passive: true }), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.code, ClientErrorCode.ChannelClosed);
      assert.equal(err.replyCode, 404);
      assert.match(err.replyText, /NOT_FOUND/);
      return true;
    });
    assert.equal(reported?.replyCode, 404);
    assert.equal(ch.closed, true);
    assert.throws(() => ch.publish('', 'x', Buffer.alloc(1)), ClientError);
    // The connection and its other channels carry on.
    const other = await conn.createChannel();
    const { queue } = await other.declareQueue('', { exclusive: true });
    assert.ok(queue.length > 0);
    await other.close();
  });

  test('close() ends the connection; later operations fail', async () => {
    const c = await connect(broker.url, { heartbeatSec: 0 });
    const ch = await c.createChannel();
    await c.close();
    assert.equal(c.closed, true);
    await assert.rejects(c.createChannel(), ClientError);
    await assert.rejects(ch.qos(1), ClientError);
  });

  test('honours a negotiated heartbeat: an idle connection stays open past two intervals', async () => {
    const c = await connect(broker.url, { heartbeatSec: 1 });
    try {
      assert.equal(c.heartbeatSec, 1);
      let failed: Error | undefined;
      c.onError = (e) => { failed = e; };
      await new Promise((r) => setTimeout(r, 3500)); // the broker drops a peer silent for ~2 intervals
      assert.equal(failed, undefined);
      const ch = await c.createChannel();
      await ch.close();
    } finally {
      await c.close();
    }
  });

  test('a wrong password fails the handshake with 403 ACCESS_REFUSED', async () => {
    const u = new URL(broker.url);
    u.password = 'definitely-wrong';
    // The client announces authentication_failure_close, so the broker closes with a reason.
    await assert.rejects(connect(u.toString(), { heartbeatSec: 0, timeoutMs: 5000 }),
      (e: unknown) => e instanceof ClientError && e.replyCode === 403 && /ACCESS_REFUSED/.test(e.replyText));
  });
});
