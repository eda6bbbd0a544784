// A frontend killed with kill -9: once the owners have not seen its session for the grace period
// (10 s), the metadata leader deletes its connections' exclusive queues, and the transient queue
// homed on an owner gives back what its consumer held, redelivered (the durable side is
// test/cluster/frontend-kill.test.ts). Through the other frontend, as a client would see it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { waitFor } from '../launcher/harness.js';
import { haproxyMissing, RealCluster } from './amqp-load.js';

let cluster: RealCluster | undefined;
after(async () => cluster?.stop());

test("a dead frontend's exclusive queues go and its transient consumers' messages come back", { skip: haproxyMissing, timeout: 180_000 }, async () => {
  cluster = await RealCluster.start();
  const state = cluster.state();
  const [a, b] = state.nodes.filter((n) => n.role === 'frontend');
  assert.ok(a?.amqp && b?.amqp && a.pid !== null);

  const doomed = await amqp.connect(a.amqp.replace('amqp://', 'amqp://guest:guest@'));
  doomed.on('error', () => {});
  const ch = await doomed.createChannel();
  ch.on('error', () => {});
  const excl = await ch.assertQueue('', { exclusive: true });
  await ch.assertQueue('transient-work', { durable: false });
  ch.sendToQueue('transient-work', Buffer.from('held'));
  await ch.prefetch(1);
  let held = false;
  await ch.consume('transient-work', () => { held = true; }, { noAck: false });
  await waitFor('the message held unacked', () => held, (h) => h, 10_000);

  const survivor = await amqp.connect(b.amqp.replace('amqp://', 'amqp://guest:guest@'));
  // Another connection may not even look at an exclusive queue (405), so ask the management API.
  const probe = async (): Promise<boolean> => {
    const res = await fetch(`${b.http}/api/queues/%2F/${encodeURIComponent(excl.queue)}`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    return res.status === 200;
  };
  assert.equal(await probe(), true, 'the exclusive queue exists while its frontend lives');

  const killedAt = Date.now();
  cluster.kill(a.id);
  await waitFor('the exclusive queue deleted', probe, (exists) => !exists, 60_000);
  const goneAfterMs = Date.now() - killedAt;

  const c2 = await survivor.createChannel();
  const back = await waitFor('the held message back', () => c2.get('transient-work', { noAck: true }), (m) => m !== false, 60_000);
  assert.ok(back !== false);
  assert.equal(back.content.toString(), 'held');
  assert.equal(back.fields.redelivered, true);
  const backAfterMs = Date.now() - killedAt;
  console.log(`exclusive queue gone ${goneAfterMs} ms after the kill, held message back after ${backAfterMs} ms`);
  assert.ok(goneAfterMs >= 9_000, 'not before the grace period');
  await survivor.close();
});
