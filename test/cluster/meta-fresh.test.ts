// Read-your-writes across frontends: what one frontend declared (and answered declare-ok for) is
// usable at once through the other, although the other's metadata is a cache fed by a stream. A
// lookup that fails on the cache waits for the leader's read point and is tried once more
// (Channel.onMethodFresh, Meta GetPlacement as the read point).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { haproxyMissing, RealCluster } from './amqp-load.js';

let cluster: RealCluster | undefined;
after(async () => cluster?.stop());

test('declared through one frontend, consumed, bound and got through the other at once', { skip: haproxyMissing, timeout: 180_000 }, async () => {
  // Frontend 102's cache trails the metadata leader by 300 ms: without the read point it would
  // answer 404 for what was just declared through 101.
  cluster = await RealCluster.start(1000, { WARREN_TEST_META_DELAY: '102=300' });
  const a = cluster.state().nodes.find((n) => n.id === 101);
  const b = cluster.state().nodes.find((n) => n.id === 102);
  assert.ok(a?.amqp && b?.amqp);
  const ca = await amqp.connect(a.amqp.replace('amqp://', 'amqp://guest:guest@'));
  const cb = await amqp.connect(b.amqp.replace('amqp://', 'amqp://guest:guest@'));
  const chA = await ca.createChannel();
  const chB = await cb.createChannel();
  chB.on('error', () => {}); // the last check closes it with 404
  const rounds = 20;
  for (let i = 0; i < rounds; i++) {
    const q = `fresh-q-${i}`;
    const x = `fresh-x-${i}`;
    await chA.assertQueue(q, { durable: i % 2 === 0 });
    await chA.assertExchange(x, 'fanout', { durable: false });
    // Lookups first (a change through B would itself bring B's cache up to date).
    assert.equal(await chB.get(q), false);
    await chB.consume(q, () => {}, { noAck: true });
    await chB.bindQueue(q, x, '');
  }
  // The retry is for lookups only: a queue that really does not exist is still 404.
  await assert.rejects(chB.checkQueue('fresh-never-declared'), /NOT_FOUND/);
  await ca.close();
  await cb.close().catch(() => {});
});
