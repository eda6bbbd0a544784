// A frontend's RemoteOwner (src/cluster/remote-owner.ts) drops a delivery to an acking consumer decided by a partition
// leader of an earlier term than one it has already had deliveries from: a deposed leader that
// wakes up (a frozen process) may still send what it decided before its freeze, while the new
// leader has re-sent every checked-out message and the client may have acked it already. The
// chaos drill saw such copies arrive without the redelivered flag. Here a fake owner sends the
// deliveries over real gRPC in the order a thawed old leader would.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { RemoteOwner } from '../../src/cluster/remote-owner.js';
import type { Delivery } from '../../src/owner/api.js';
import { partitionOf } from '../../src/owner/durable.js';
import type { warren } from '../../src/proto/owner.js';
import { OWNER } from '../../src/rpc/contracts.js';
import { RpcServer } from '../../src/rpc/server.js';

const log = pino({ level: 'silent' });
const server = new RpcServer();
after(async () => server.close());

test('a delivery from an earlier leader term than one already seen for the partition is dropped', { timeout: 30_000 }, async () => {
  const q = { vhost: '/', name: 'terms' };
  const partition = partitionOf(q, 16);
  const delivery = (msgId: number, term: number): warren.v1.Delivery.$Properties => ({
    consumer: 'c1', queue: q.name, msgId, term, exchange: '', routingKey: q.name, header: new Uint8Array(), body: Buffer.from(`m${msgId} t${term}`),
  });
  server.bidi(OWNER.consume, (stream) => {
    stream.onData((req) => {
      if (!req.subscribe) return;
      assert.equal(req.subscribe.queue?.partition, partition);
      stream.write({ done: { requestId: req.subscribe.requestId ?? 0 } });
      // Term 5's leader delivers m1; term 6's leader re-sends m1 and delivers m2; then the deposed
      // term-5 leader, awake again, sends m3 it had decided before.
      stream.write({ deliveries: { deliveries: [delivery(1, 5)] } });
      stream.write({ deliveries: { deliveries: [delivery(1, 6), delivery(2, 6)] } });
      stream.write({ deliveries: { deliveries: [delivery(3, 5)] } });
      stream.write({ deliveries: { deliveries: [delivery(4, 6)] } });
    });
  });
  const port = await server.listen('127.0.0.1', 0);
  const owner = new RemoteOwner({
    owners: [{ id: 1, address: `127.0.0.1:${port}` }], partitions: 16, replicas: () => [1], session: 'fe-1-1', log, isDurable: () => true,
  });
  const got: Delivery[] = [];
  try {
    await owner.consume(q, 'c1', { prefetch: 10, priority: 0, noAck: false, exclusive: false }, { deliver: (d) => got.push(d), cancelled: () => {} });
    const deadline = Date.now() + 10_000;
    while (!got.some((d) => d.msgId === 4) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got.map((d) => Buffer.from(d.message.body).toString()), ['m1 t5', 'm2 t6', 'm4 t6'],
      'the re-sent m1 is a duplicate of a delivery the client has; the late m3 of term 5 is dropped');
  } finally {
    owner.close();
  }
});
