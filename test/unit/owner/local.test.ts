// The in-process owner: its flow signal to publishers and dead-letter republishing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalOwner } from '../../../src/owner/local.js';
import type { Delivery, Message } from '../../../src/owner/api.js';

const q = { vhost: '/', name: 'q' };
const msg = (text: string): Message => ({ exchange: '', routingKey: 'q', properties: {}, body: Buffer.from(text) });

function owner(route: (exchange: string, key: string) => string[] = () => []): LocalOwner {
  return new LocalOwner({ route: (_v, exchange, key) => route(exchange, key), onQueueDeleted: () => {}, nowMs: () => 1000 });
}

test('a backlogged queue with consumers asks publishers to yield; one without consumers does not', async () => {
  const o = owner();
  await o.declareQueue(q, { arguments: {}, autoDelete: false });
  const flags: boolean[] = [];
  for (let i = 0; i < 2500; i++) o.enqueue(q, msg(`m${i}`), (_outcome, backlogged) => flags.push(backlogged));
  assert.equal(flags.some(Boolean), false, 'no consumers: the queue buffers without flow');
  const delivered: Delivery[] = [];
  await o.consume(q, 'c1', { prefetch: 1, priority: 0, noAck: false, exclusive: false }, { deliver: (d) => delivered.push(d), cancelled: () => {} });
  assert.equal(delivered.length, 1);
  let backlogged = false;
  o.enqueue(q, msg('more'), (_outcome, b) => { backlogged = b; });
  assert.equal(backlogged, true, 'consumers are not keeping up with a 2500-message backlog');
  await o.purge(q);
  o.enqueue(q, msg('after purge'), (_outcome, b) => { backlogged = b; });
  assert.equal(backlogged, false);
  o.close();
});

test('dead-lettered messages are republished with the dead-letter exchange and routing key', async () => {
  const routed: string[] = [];
  const o = owner((exchange, key) => { routed.push(`${exchange}/${key}`); return ['dlq']; });
  await o.declareQueue(q, { arguments: { 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dead' }, autoDelete: false });
  await o.declareQueue({ vhost: '/', name: 'dlq' }, { arguments: {}, autoDelete: false });
  o.enqueue(q, msg('doomed'), () => {});
  const got = await o.get(q, 'getter', false);
  assert.ok(got);
  o.settle(q, 'getter', [got.delivery.msgId], 'discard');
  assert.deepEqual(routed, ['dlx/dead']);
  const dead = await o.get({ vhost: '/', name: 'dlq' }, 'getter', true);
  assert.ok(dead);
  assert.equal(dead.delivery.message.exchange, 'dlx');
  assert.equal(dead.delivery.message.routingKey, 'dead');
  assert.equal(Buffer.from(dead.delivery.message.body).toString(), 'doomed');
  o.close();
});

test("a gone session's consumers are cancelled and what they held comes back redelivered, to the others", async () => {
  const o = owner();
  await o.declareQueue(q, { arguments: {}, autoDelete: false });
  for (let i = 0; i < 4; i++) o.enqueue(q, msg(`m${i}`), () => {});
  const gone: Delivery[] = [];
  await o.consume(q, 'fe-a\0c1', { prefetch: 2, priority: 0, noAck: false, exclusive: false }, { deliver: (d) => gone.push(d), cancelled: () => {} });
  const other: Delivery[] = [];
  await o.consume(q, 'fe-b\0c1', { prefetch: 10, priority: 0, noAck: false, exclusive: false }, { deliver: (d) => other.push(d), cancelled: () => {} });
  assert.equal(gone.length, 2);
  assert.equal(other.length, 2);
  assert.equal(o.downByPrefix('fe-a\0'), 1);
  assert.deepEqual([...o.ownerIds()].filter((id) => id.startsWith('fe-a')), [], 'nothing of the gone session is left');
  assert.equal(other.length, 4, 'the held messages went to the remaining consumer');
  assert.deepEqual(other.slice(2).map((d) => [Buffer.from(d.message.body).toString(), d.redelivered]), gone.map((d) => [Buffer.from(d.message.body).toString(), true]));
  assert.equal(o.downByPrefix('fe-a\0'), 0);
  o.close();
});
